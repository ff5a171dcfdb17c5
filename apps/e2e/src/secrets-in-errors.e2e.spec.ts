import { jobEventsKey } from '@rag/queue-contracts';
import { json, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { finishedRun, uploadFiles, useStack } from './support/stack';

// Issue #14, part 4: a provider that quotes the API key in its 401 body (the
// fake does, as some providers do) used to put the key in the worker's log
// lines through the error's cause. The key is not key-shaped, so only the
// configured-secret masking can catch it. Tenants get a code and a safe line;
// the key is in no log line, dead letter, job view, job event or ingest run.
describe('a provider error that echoes the API key', () => {
  const KEY = `provider-credential-${randomBytes(12).toString('hex')}`;
  const stack = useStack('rag-secrets-', { fakeOpenAI: { dimension: 64, apiKey: KEY } });
  let gateway: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    const env = { ...stack.env, WORKER_METRICS_PORT: '0', ...stack.openAIEnv(KEY), JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '100' };
    ({
      gateway,
      workers: [worker],
    } = await stack.startGatewayAndWorkers(env));
    const seeded = await finishedRun(
      stack.base,
      await uploadFiles(stack.base, 'handbook', [['leave.md', '# Leave\n\nNew employees get 25 vacation days per year.']]),
    );
    expect(seeded).toMatchObject({ status: 'completed', added: 1 });
  });

  it('fails a question and a document with llm_auth_failed, and the key shows nowhere', async () => {
    const { base, fake, redis } = stack;
    // The provider starts refusing the key (rotated, revoked), quoting it back.
    fake.setOptions({ fault: { kind: 'status401', endpoints: ['chat'] } });
    const asked = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'How many vacation days?', collection: 'handbook' }),
    });
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
    const run = await finishedRun(base, await uploadFiles(base, 'handbook', [['travel.md', '# Travel\n\nTrains are booked in second class.']]));
    expect(run).toMatchObject({
      status: 'completed_with_failures',
      failed: 1,
      failures: [expect.objectContaining({ doc_id: 'travel.md', code: 'llm_auth_failed' })],
    });

    // The provider did quote the key: the test is not vacuous.
    const chat = fake.requests.filter((r) => r.path === '/v1/chat/completions').pop();
    expect(chat?.headers.authorization).toBe(`Bearer ${KEY}`);
    // The operator still reads what happened, key masked (the lines come down the worker's stdout pipe, which may
    // arrive after the job's state).
    const failedLine = await worker.waitForLog((l) => l.message === 'job attempt failed' && l.job_id === job_id, 5000);
    expect(failedLine.error).toEqual(expect.stringContaining('Incorrect API key provided: ***'));
    const ingestLine = await worker.waitForLog((l) => l.message === 'document ingest failed', 5000);
    expect(ingestLine.error).toEqual(expect.stringContaining('Incorrect API key provided: ***'));

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
