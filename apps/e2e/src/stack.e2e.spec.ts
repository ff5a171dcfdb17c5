import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { startFakeQdrant, type FakeQdrant } from '@rag/fake-qdrant';
import { QueueName, jobEventsKey } from '@rag/queue-contracts';
import { freePort, json, runApp, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import Redis from 'ioredis';
import * as path from 'node:path';
import { loggedJobIds } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');

interface JobView {
  job_id: string;
  status: string;
  attempts: number;
  result?: {
    answer: string;
    citations: { source: string; chunk: string; heading?: string }[];
    backends: Record<string, string>;
    timings: Record<string, number>;
  };
  error?: { message: string };
}

const OPENAI_KEY = 'sk-e2e-secret-key-123';

interface Backend {
  name: string;
  /** Extra environment for every process; may start servers it needs. */
  setup(): Promise<NodeJS.ProcessEnv>;
  teardown(): Promise<void>;
  expectedBackends: Record<string, string>;
  /** The extractive answerer quotes the sentence holding the fact; a model may word it its own way. */
  quotesFacts: boolean;
}

let fake: FakeOpenAI | undefined;
let qdrant: FakeQdrant | undefined;

const openAIEnv = (server: FakeOpenAI): NodeJS.ProcessEnv => ({
  LLM: 'openai',
  EMBEDDINGS: 'openai',
  OPENAI_BASE_URL: server.url,
  OPENAI_API_KEY: OPENAI_KEY,
  EMBEDDING_MODEL: 'fake-embed',
  EMBEDDING_DIM: '256',
  CHAT_MODEL: 'fake-chat',
});

const BACKENDS: Backend[] = [
  {
    name: 'embedded defaults (local embedder, extractive answers)',
    setup: async () => ({}),
    teardown: async () => undefined,
    expectedBackends: { vector_store: 'lancedb', embedder: 'local-hash-v4-2048', llm: 'extractive' },
    quotesFacts: true,
  },
  {
    name: 'OpenAI-compatible API (tools/fake-openai, streamed)',
    setup: async () => {
      fake = await startFakeOpenAI({ dimension: 256, apiKey: OPENAI_KEY, perTokenMs: 2 });
      return openAIEnv(fake);
    },
    teardown: async () => fake?.close(),
    expectedBackends: { vector_store: 'lancedb', embedder: 'openai:fake-embed:256', llm: 'openai' },
    quotesFacts: false,
  },
  {
    name: 'production backends (Qdrant over HTTP via tools/fake-qdrant, OpenAI-compatible API)',
    setup: async () => {
      fake = await startFakeOpenAI({ dimension: 256, apiKey: OPENAI_KEY, perTokenMs: 2 });
      qdrant = await startFakeQdrant();
      return { ...openAIEnv(fake), VECTOR_STORE: 'qdrant', QDRANT_URL: qdrant.url };
    },
    teardown: async () => {
      const invalid = qdrant?.invalid ?? [];
      const seen = qdrant?.requests.length ?? 0;
      await qdrant?.close();
      await fake?.close();
      // Every request the store sent matched Qdrant's published API.
      expect(invalid).toEqual([]);
      expect(seen).toBeGreaterThan(0);
    },
    expectedBackends: { vector_store: 'qdrant', embedder: 'openai:fake-embed:256', llm: 'openai' },
    quotesFacts: false,
  },
];

// The whole stack as a user runs it: a private redis-server, the CLI loading a
// corpus into LanceDB in a temp folder, the gateway and two worker processes;
// once on the embedded defaults and once against an OpenAI-compatible server.
describe.each(BACKENDS)('the stack end to end: $name', (backend) => {
  let redis: PrivateRedis;
  let data: TempDir;
  let env: NodeJS.ProcessEnv;
  let gateway: AppProcess;
  let workers: AppProcess[] = [];
  let base: string;
  let queue: Bull.Queue;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-e2e-');
    const port = await freePort();
    env = {
      REDIS_URL: redis.url,
      DATA_DIR: data.path,
      PORT: String(port),
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '1',
      NODE_ENV: 'test',
      ...(await backend.setup()),
    };
    base = `http://127.0.0.1:${port}`;

    const ingest = await runApp('apps/ingest-cli/src/main.ts', env, [CORPUS, '--collection', 'handbook', '--json']);
    expect(ingest.code).toBe(0);
    const summary = JSON.parse(ingest.stdout.trim().split('\n').pop() ?? '{}');
    expect(summary).toMatchObject({ collection: 'handbook', documents: 4, added: 4, unchanged: 0, skipped: 1 });
    expect(summary.failed).toEqual([]);
    // One chunk per section: deploy 2, database 2, parking 2, cafeteria (no headings) 1.
    expect(summary.chunks).toBe(7);

    gateway = startApp('apps/api-gateway/src/main.ts', env);
    workers = [startApp('apps/rag-worker/src/main.ts', env), startApp('apps/rag-worker/src/main.ts', env)];
    await gateway.waitForLog((l) => l.message === 'listening');
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.message === 'consuming')));
    queue = new Bull(QueueName.Query, redis.url, { prefix: 'rag' });
  });

  afterAll(async () => {
    await queue?.close();
    await Promise.all([gateway, ...workers].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await redis?.stop();
    await backend.teardown();
    data?.remove();
  });

  const readEvents = async (jobId: string) => {
    const client = new Redis(redis.url);
    try {
      const entries = await client.xrange(jobEventsKey('rag', jobId), '-', '+');
      return entries.map(([, fields]) => ({ type: fields[1], data: JSON.parse(fields[3]) as Record<string, unknown> }));
    } finally {
      client.disconnect();
    }
  };

  const ask = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, collection: 'handbook' }),
    });
    expect(res.status).toBe(202);
    return (await json(res)) as { job_id: string; status_url: string };
  };

  const waitFor = async (jobId: string): Promise<JobView> => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/v1/jobs/${jobId}?wait=10`);
      // Open long-polls are capped per client (MAX_LONG_POLLS_PER_CLIENT): back off as told, as any client must.
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        continue;
      }
      const view = (await res.json()) as JobView;
      if (['completed', 'failed', 'cancelled'].includes(view.status)) return view;
    }
    throw new Error(`job ${jobId} did not finish`);
  };

  it.each([
    { query: 'When do production releases leave?', source: 'guides/deploy.md', fact: 'Tuesday' },
    { query: 'How long are database backups kept?', source: 'guides/database.md', fact: '35 days' },
    { query: 'What time is lunch served in the cafeteria?', source: 'cafeteria.txt', fact: '11:45' },
    { query: 'How much does a parking permit cost?', source: 'parking.html', fact: '40 euros' },
    { query: 'How long does a rollback take?', source: 'guides/deploy.md', fact: 'four minutes' },
  ])('answers $query citing $source', async ({ query, source, fact }) => {
    const { job_id } = await ask(query);
    const view = await waitFor(job_id);
    expect(view.status).toBe('completed');
    const result = view.result!;
    if (backend.quotesFacts) expect(result.answer).toContain(fact);
    expect(result.answer).toMatch(/\[1\]/);
    expect(result.citations[0].source).toBe(source);
    expect(result.citations[0].chunk).toContain(fact);
    expect(result.backends).toEqual(backend.expectedBackends);
    expect(result.timings.total_ms).toBeGreaterThanOrEqual(result.timings.retrieve_ms);

    // The job's event stream holds its stages, the streamed answer and its citations.
    const events = await readEvents(job_id);
    expect(events.filter((e) => e.type === 'stage').map((e) => e.data.stage)).toEqual(['retrieving', 'generating']);
    if (!backend.quotesFacts) {
      const streamed = events
        .filter((e) => e.type === 'token')
        .map((e) => e.data.text as string)
        .join('');
      expect(streamed.trim()).toBe(result.answer);
    }
    expect(events.filter((e) => e.type === 'citation').map((e) => e.data.source)).toEqual(result.citations.map((c) => c.source));
    expect(events[events.length - 1].type).toBe('done');
  });

  it('spreads jobs over both workers and carries the request id into their logs', async () => {
    const accepted = await Promise.all(Array.from({ length: 16 }, (_, i) => ask(`Where is the bicycle room? (${i})`, { 'x-request-id': `e2e-req-${i}` })));
    const views = await Promise.all(accepted.map((a) => waitFor(a.job_id)));
    expect(views.map((v) => [v.status, v.result?.citations[0]?.source ?? v.result?.answer ?? v.error?.message])).toEqual(
      views.map(() => ['completed', 'parking.html']),
    );
    const completedBy = () => workers.map((w) => w.logs().filter((l) => l.message === 'job completed' && String(l.request_id).startsWith('e2e-req-')).length);
    // The workers' lines come down their stdout pipes, which may arrive after the jobs' states.
    for (let i = 0; i < 50 && completedBy().reduce((a, b) => a + b, 0) < 16; i++) await new Promise((r) => setTimeout(r, 100));
    expect(completedBy().reduce((a, b) => a + b, 0)).toBe(16);
    expect(completedBy().every((n) => n > 0)).toBe(true);
    const line = workers.flatMap((w) => w.logs()).find((l) => l.message === 'job completed' && l.job_id === accepted[3].job_id);
    expect(line?.request_id).toBe('e2e-req-3');
  });

  it('fails a question on an unknown collection at once, without retries', async () => {
    const res = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'anything', collection: 'no-such-collection' }),
    });
    const view = await waitFor((await json(res)).job_id);
    expect(view.status).toBe('failed');
    expect(view.attempts).toBe(1);
    expect(view.error?.message).toContain('no-such-collection');
  });

  it('answers bad requests with 4xx JSON and creates no job', async () => {
    const counts = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    const before = await counts();
    const cases: [RequestInit, number][] = [
      [{ body: JSON.stringify({ collection: 'handbook' }) }, 400],
      [{ body: JSON.stringify({ query: ['not', 'a', 'string'] }) }, 400],
      [{ body: JSON.stringify({ query: 'q', top_k: 'five' }) }, 400],
      [{ body: JSON.stringify({ query: 'q'.repeat(100 * 1024) }) }, 413],
      [{ body: '{not json' }, 400],
    ];
    for (const [init, status] of cases) {
      const res = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...init });
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(typeof body.error.message).toBe('string');
    }
    const unknown = await fetch(`${base}/v1/jobs/6f9619ff-8b86-4011-b42d-00cf4fc964ff`);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('job_not_found');
    expect(await counts()).toBe(before);
  });

  it('re-ingesting the unchanged corpus embeds nothing', async () => {
    const again = await runApp('apps/ingest-cli/src/main.ts', env, [CORPUS, '--collection', 'handbook', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({ added: 0, updated: 0, unchanged: 4, chunks: 0 });
  });

  it('never writes the API key to a log line or a job payload', async () => {
    const everything = [...gateway.lines, ...workers.flatMap((w) => w.lines)].join('\n');
    expect(everything).not.toContain(OPENAI_KEY);
    const jobs = await queue.getJobs(['completed', 'failed', 'waiting']);
    expect(jobs.length).toBeGreaterThan(0);
    expect(JSON.stringify(jobs.map((j) => j.data))).not.toContain(OPENAI_KEY);
    if (backend.expectedBackends.llm === 'openai' && fake) {
      const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions');
      expect(chats.length).toBeGreaterThan(0);
      expect(chats.every((r) => r.headers.authorization === `Bearer ${OPENAI_KEY}`)).toBe(true);
      expect(chats.every((r) => (r.body as { stream?: boolean }).stream === true)).toBe(true);
    }
  });

  it('stops workers and gateway cleanly on SIGTERM, finishing active jobs', async () => {
    const accepted = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(`How are backups stored? ${i}`)));
    await workers[0].waitForLog((l) => l.message === 'job started' && accepted.some((a) => a.job_id === l.job_id), 20_000).catch(() => undefined);
    const exits = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    // Nothing is left half-done: every job a worker had started, it finished before exiting; the others
    // are still queued (or, fetched by Bull at the moment of closing, returned by the stalled-job check).
    const started = loggedJobIds(workers, 'job started');
    const ended = new Set(loggedJobIds(workers, 'job completed', 'job attempt failed', 'job cancelled'));
    expect(started.filter((id) => !ended.has(id))).toEqual([]);
    const states = await Promise.all(accepted.map(async (a) => (await queue.getJob(a.job_id))?.getState()));
    expect(states.every((s) => s === 'completed' || s === 'waiting' || s === 'active')).toBe(true);
    expect((await gateway.stop('SIGTERM')).code).toBe(0);
  });
});
