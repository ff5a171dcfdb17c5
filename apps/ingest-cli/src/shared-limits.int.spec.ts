import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { runApp } from '@rag/testing';
import Redis from 'ioredis';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI, useCliSuite } from './cli-suite.spec-helper';

const KEY = 'sk-cli-limits-test';

// A direct load with an OpenAI-compatible embedder and LLM_RPM set spends the
// same Redis budget as the workers: the CLI process, a private redis-server,
// tools/fake-openai over HTTP.
describe('rag-ingest embeddings within the shared limits', () => {
  let fake: FakeOpenAI;
  const suite = useCliSuite('rag-cli-limits-', () => fake?.close());

  beforeAll(async () => {
    fake = await startFakeOpenAI({ dimension: 64, apiKey: KEY });
  });

  it('counts every embeddings request in the shared per-minute budget, in batches of EMBEDDING_BATCH', async () => {
    const docs = path.join(suite.data.path, 'docs');
    mkdirSync(docs, { recursive: true });
    for (let i = 0; i < 5; i++)
      writeFileSync(path.join(docs, `d${i}.md`), `# Doc ${i}\n\n${Array.from({ length: 6 }, (_, s) => `Section ${s}. `.repeat(200)).join('\n\n')}`);
    const env = {
      DATA_DIR: path.join(suite.data.path, 'data'),
      REDIS_URL: suite.redis.url,
      QUEUE_PREFIX: 'clilim',
      EMBEDDINGS: 'openai',
      EMBEDDING_MODEL: 'embed-model',
      EMBEDDING_DIM: '64',
      EMBEDDING_BATCH: '4',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: KEY,
      LLM_RPM: '1000',
    };
    const run = await runApp(CLI, env, [docs, '--collection', 'limits', '--json', '--no-progress']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    const embedCalls = fake.requests.filter((r) => r.path.endsWith('/embeddings'));
    // Five identical documents, each embedded in batches of four chunks.
    const perDocument = summary.chunks / 5;
    expect(Number.isInteger(perDocument) && perDocument > 4).toBe(true);
    expect(embedCalls.length).toBe(5 * Math.ceil(perDocument / 4));
    for (const call of embedCalls) expect((call.body as { input: string[] }).input.length).toBeLessThanOrEqual(4);
    const client = new Redis(suite.redis.url);
    try {
      const keys = await client.keys('clilim:llm:rpm*');
      expect(keys.length).toBe(1);
      expect(Number(await client.get(keys[0]))).toBe(embedCalls.length);
    } finally {
      client.disconnect();
    }
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });
});
