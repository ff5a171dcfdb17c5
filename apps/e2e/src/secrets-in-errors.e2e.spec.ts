import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { jobEventsKey } from '@rag/queue-contracts';
import { freePort, json, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

// Issue #14, part 4: a provider that quotes the API key in its 401 body (the
// fake does, as some providers do) used to put the key in the worker's log
// lines through the error's cause. The key is not key-shaped, so only the
// configured-secret masking can catch it. Tenants get a code and a safe line;
// the key is in no log line, dead letter, job view, job event or ingest run.
describe('a provider error that echoes the API key', () => {
  const KEY = `provider-credential-${randomBytes(12).toString('hex')}`;
  let redis: PrivateRedis;
  let data: TempDir;
  let fake: FakeOpenAI;
  let gateway: AppProcess;
  let worker: AppProcess;
  let base: string;

  const upload = async (collection: string, name: string, text: string): Promise<string> => {
    const body = new FormData();
    body.append('file', new Blob([text]), name);
    const res = await fetch(`${base}/v1/collections/${collection}/documents`, { method: 'POST', body });
    expect(res.status).toBe(202);
    return (await json(res)).status_url as string;
  };
  const finishedRun = async (statusUrl: string) => {
    let run = await json(await fetch(`${base}${statusUrl}`));
    for (let i = 0; i < 120 && !run.finished; i++) run = (await new Promise((r) => setTimeout(r, 250)), await json(await fetch(`${base}${statusUrl}`)));
    return run;
  };

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-secrets-');
    fake = await startFakeOpenAI({ dimension: 64, apiKey: KEY });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      REDIS_URL: redis.url,
      DATA_DIR: path.join(data.path, 'data'),
      PORT: String(port),
      NODE_ENV: 'test',
      WORKER_METRICS_PORT: '0',
      LLM: 'openai',
      EMBEDDINGS: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: KEY,
      EMBEDDING_DIM: '64',
      JOB_ATTEMPTS: '3',
      JOB_BACKOFF_MS: '100',
    };
    gateway = startApp('apps/api-gateway/src/main.ts', env);
    worker = startApp('apps/rag-worker/src/main.ts', env);
    await Promise.all([gateway.waitForLog((l) => l.message === 'listening'), worker.waitForLog((l) => l.message === 'consuming')]);
    const seeded = await finishedRun(await upload('handbook', 'leave.md', '# Leave\n\nNew employees get 25 vacation days per year.'));
    expect(seeded).toMatchObject({ status: 'completed', added: 1 });
  });

  afterAll(async () => {
    await Promise.all([gateway, worker].filter((p): p is AppProcess => p !== undefined).map((p) => p.stop('SIGKILL')));
    await fake?.close();
    await redis?.stop();
    data?.remove();
  });

  it('fails a question and a document with llm_auth_failed, and the key shows nowhere', async () => {
    // The provider starts refusing the key (rotated, revoked), quoting it back.
    fake.setOptions({ fault: { kind: 'status401', endpoints: ['chat'] } });
    const asked = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'How many vacation days?', collection: 'handbook' }) });
    const { job_id } = await json(asked);
    const view = await json(await fetch(`${base}/v1/jobs/${job_id}?wait=30`));
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'llm_auth_failed', message: expect.stringContaining('OPENAI_API_KEY') });
    // Permanent: one attempt, then the dead-letter queue.
    expect(view.attempts).toBe(1);
    const letter = await json(await fetch(`${base}/v1/admin/dead-letters/${job_id}`));
    expect(letter).toMatchObject({ job_id, final_error_code: 'llm_auth_failed', attempts: [expect.objectContaining({ code: 'llm_auth_failed' })] });
    const events = new Redis(redis.url);
    const stream = await events.xrange(jobEventsKey('rag', job_id), '-', '+').finally(() => events.disconnect());
    const errorEvent = stream.map(([, fields]) => fields).find((f) => f[1] === 'error');
    expect(JSON.parse(errorEvent?.[3] ?? '{}')).toMatchObject({ code: 'llm_auth_failed' });

    fake.setOptions({ fault: { kind: 'status401', endpoints: ['embeddings'] } });
    const run = await finishedRun(await upload('handbook', 'travel.md', '# Travel\n\nTrains are booked in second class.'));
    expect(run).toMatchObject({ status: 'completed_with_failures', failed: 1, failures: [expect.objectContaining({ doc_id: 'travel.md', code: 'llm_auth_failed' })] });

    // The provider did quote the key: the test is not vacuous.
    const chat = fake.requests.filter((r) => r.path === '/v1/chat/completions').pop();
    expect(chat?.headers.authorization).toBe(`Bearer ${KEY}`);
    // The operator still reads what happened, key masked.
    const failedLine = worker.logs().find((l) => l.message === 'job attempt failed' && l.job_id === job_id);
    expect(failedLine?.error).toEqual(expect.stringContaining('Incorrect API key provided: ***'));
    expect(worker.logs().find((l) => l.message === 'document ingest failed')?.error).toEqual(expect.stringContaining('Incorrect API key provided: ***'));

    for (const [where, text] of [
      ['job view', JSON.stringify(view)],
      ['dead letter', JSON.stringify(letter)],
      ['dead-letter list', JSON.stringify(await json(await fetch(`${base}/v1/admin/dead-letters`)))],
      ['job events', JSON.stringify(stream)],
      ['ingest run', JSON.stringify(run)],
      ['worker log', worker.lines.join('')],
      ['gateway log', gateway.lines.join('')],
    ]) {
      expect({ where, leaked: text.includes(KEY) }).toEqual({ where, leaked: false });
    }
  });
});
