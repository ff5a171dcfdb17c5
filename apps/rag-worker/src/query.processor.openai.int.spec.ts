import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { OpenAIAnswerer, OpenAIEmbedder, createOpenAIClient } from '@rag/llm-client';
import { createLogger } from '@rag/observability';
import { JobName, QueueName, jobEventsKey, type QueryResult } from '@rag/queue-contracts';
import { LanceDbStore, ingestDocuments, ParsePool } from '@rag/retrieval';
import { startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import Redis from 'ioredis';
import { PassThrough } from 'node:stream';
import { JobEventsWriter } from '@rag/jobs';
import { queryProcessor } from './query.processor';
import { TEST_SIGNING, signedQuery } from './testing/signed-jobs';

const KEY = 'sk-worker-test-key';

// The processor with the OpenAI-compatible backends, against tools/fake-openai
// over real HTTP, a private redis-server and LanceDB in a temp folder.
describe('query processor with an OpenAI-compatible API', () => {
  // Documents are parsed in threads, as in the apps.
  const parser = new ParsePool();
  afterAll(() => parser.close());
  let redis: PrivateRedis;
  let data: TempDir;
  let fake: FakeOpenAI;
  let store: LanceDbStore;
  let queue: Bull.Queue;
  let events: Redis;
  const logs: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-worker-openai-');
    fake = await startFakeOpenAI({ dimension: 128, apiKey: KEY });
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    // No dimension configured: the embedder reads the model's size from the API's first answer,
    // the collection records it, and every question checks it (as with EMBEDDING_DIM unset).
    const embedder = new OpenAIEmbedder(client, { model: 'embed-model', batchSize: 2, baseUrl: fake.url });
    store = await LanceDbStore.open(data.path);
    const docs: Record<string, string> = {
      'security.md': '# Security\n\n## Passwords\n\nPasswords must be at least 14 characters long. Use the password manager.',
      'travel.md': '# Travel\n\n## Trains\n\nTrain travel is booked in second class for trips under four hours.',
      'food.md': '# Food\n\n## Lunch\n\nLunch is served from noon in the cafeteria on the ground floor.',
    };
    await ingestDocuments(
      { store, embedder, parser },
      Object.entries(docs).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant: 'default', collection: 'handbook', chunking: { size: 800, overlap: 0 }, embedBatch: 2 },
    );
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => logs.push(d.toString()));
    events = new Redis(redis.url);
    queue = new Bull(QueueName.Query, redis.url, { prefix: 'rag' });
    const answerer = new OpenAIAnswerer(client, { model: 'chat-model', maxTokens: 200, baseUrl: fake.url });
    void queue.process(
      JobName.Answer,
      2,
      queryProcessor({ store, embedder, answerer }, createLogger({ service: 'rag-worker', stream }), (id) => new JobEventsWriter(events, id, { prefix: 'rag', retentionSeconds: 60 }),
        { signing: TEST_SIGNING },
      ),
    );
  });

  afterAll(async () => {
    await queue?.close();
    events?.disconnect();
    await store?.close();
    await fake?.close();
    await redis?.stop();
    data?.remove();
  });

  beforeEach(() => fake.setOptions({ fault: null }));

  // Signed as the gateway signs them: the processor refuses unsigned jobs.
  const payload = (query: string) => signedQuery({ query, collection: 'handbook', top_k: 3, stream: true, request_id: 'r-1', tenant: 'default' });

  it('streams a grounded answer, stores the tokens with the job and maps citations', async () => {
    const job = await queue.add(JobName.Answer, payload('How long must passwords be?'), { attempts: 1 });
    const result = (await job.finished()) as QueryResult;
    expect(result.citations[0].source).toBe('security.md');
    expect(result.answer).toMatch(/14 characters.*\[1\]/);
    expect(result.backends).toEqual({ vector_store: 'lancedb', embedder: 'openai:embed-model:128', llm: 'openai' });
    expect(result.usage.completion_tokens).toBeGreaterThan(0);

    const entries = await events.xrange(jobEventsKey('rag', String(job.id)), '-', '+');
    const tokens = entries.filter(([, f]) => f[1] === 'token').map(([, f]) => (JSON.parse(f[3]) as { text: string }).text);
    expect(tokens.join('').trim()).toBe(result.answer);

    const chat = fake.requests.filter((r) => r.path === '/v1/chat/completions').pop();
    const body = chat?.body as { model: string; stream: boolean; messages: { role: string; content: string }[] };
    expect(body.model).toBe('chat-model');
    expect(body.stream).toBe(true);
    expect(body.messages[1].content).toContain('Passwords must be at least 14 characters long.');
    expect(body.messages[1].content).toMatch(/Question: How long must passwords be\?$/);
  });

  it('retries a job after a 429 from the chat API, then completes it', async () => {
    fake.setOptions({ fault: { kind: 'status429', endpoints: ['chat'], times: 1, retryAfterSeconds: 1 } });
    const job = await queue.add(JobName.Answer, payload('When is lunch served?'), { attempts: 3, backoff: 50 });
    const result = (await job.finished()) as QueryResult;
    expect(result.citations[0].source).toBe('food.md');
    const stored = await queue.getJob(job.id);
    expect(stored?.attemptsMade).toBe(1);
  });

  it('fails at once, without retries, when the API refuses the key', async () => {
    fake.setOptions({ apiKey: 'another-key' });
    try {
      const job = await queue.add(JobName.Answer, payload('How are trains booked?'), { attempts: 3, backoff: 50 });
      await expect(job.finished()).rejects.toThrow('check OPENAI_API_KEY');
      expect((await queue.getJob(job.id))?.attemptsMade).toBe(1);
      expect(logs.join('')).not.toContain(KEY);
    } finally {
      fake.setOptions({ apiKey: KEY });
    }
  });

  it('learns an unknown model\'s vector size with one request, and knows a well-known model\'s without asking', async () => {
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const unknown = new OpenAIEmbedder(client, { model: 'embed-model', batchSize: 8, baseUrl: fake.url });
    expect(() => unknown.dimension).toThrow('not known yet');
    const asked = () => fake.requests.filter((r) => r.path === '/v1/embeddings').length;
    const before = asked();
    await Promise.all([unknown.ready(), unknown.ready()]);
    await unknown.ready();
    expect(asked() - before).toBe(1);
    expect(unknown.dimension).toBe(128);
    expect(unknown.id).toBe('openai:embed-model:128');
    expect(await store.collectionInfo('default', 'handbook')).toMatchObject({ embedder: { id: 'openai:embed-model:128', dimension: 128 } });

    const known = new OpenAIEmbedder(client, { model: 'text-embedding-3-small', batchSize: 8, baseUrl: fake.url });
    const beforeKnown = asked();
    await known.ready();
    expect(known.dimension).toBe(1536);
    expect(asked()).toBe(beforeKnown);
    // This fake answers 128 numbers whatever the model: the published size is checked like a configured one.
    await expect(known.embed(['hello'])).rejects.toThrow('returned 128-dimensional vectors but its published size 1536; set EMBEDDING_DIM=128');
  });

  it('records a wrong embedding dimension as a permanent error that says what to set', async () => {
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const wrong = new OpenAIEmbedder(client, { model: 'embed-model', dimension: 64, batchSize: 8, baseUrl: fake.url });
    await expect(wrong.embed(['hello'])).rejects.toThrow('returned 128-dimensional vectors but EMBEDDING_DIM=64; set EMBEDDING_DIM=128');
  });
});
