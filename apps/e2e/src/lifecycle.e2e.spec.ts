import { QueueName } from '@rag/queue-contracts';
import { json, runApp, type AppProcess } from '@rag/testing';
import Bull from 'bull';
import * as path from 'node:path';
import { CLI_MAIN, GATEWAY_MAIN, WORKER_MAIN, useStack } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');
const KEY = 'sk-lifecycle-key';

// Job lifecycle with real processes: idempotent resubmission, backpressure,
// cancelling waiting and active jobs, and an LLM outage that sends a job to
// the dead-letter queue, from which the CLI replays it after recovery.
describe('job lifecycle end to end', () => {
  const stack = useStack('rag-lifecycle-', { fakeOpenAI: { dimension: 64, apiKey: KEY } });
  let env: NodeJS.ProcessEnv;
  let worker: AppProcess | undefined;
  let queue: Bull.Queue;

  beforeAll(async () => {
    env = {
      ...stack.env,
      DATA_DIR: stack.data.path,
      ...stack.openAIEnv(KEY),
      JOB_ATTEMPTS: '3',
      JOB_BACKOFF_MS: '200',
      MAX_WAITING_JOBS: '5',
      BREAKER_FAILURES: '2',
      BREAKER_HALF_OPEN_MS: '500',
      WORKER_CONCURRENCY: '2',
    };
    const ingest = await runApp(CLI_MAIN, env, [CORPUS, '--collection', 'handbook', '--no-progress']);
    expect(ingest.code).toBe(0);
    await stack.startApp(GATEWAY_MAIN, env).waitForLog((l) => l.message === 'listening');
    queue = new Bull(QueueName.Query, stack.redis.url, { prefix: 'rag' });
    stack.onTeardown(() => queue.close());
  });

  const ask = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, collection: 'handbook' }),
    });
  const view = async (id: string, wait = 0) => json(await fetch(`${stack.base}/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}`));
  const waiting = () => queue.getWaitingCount();

  it('maps a retried request with the same Idempotency-Key to the same job', async () => {
    const first = await ask('How long are backups kept?', { 'idempotency-key': 'order-42' });
    const second = await ask('How long are backups kept?', { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const a = await json(first);
    expect((await json(second)).job_id).toBe(a.job_id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await waiting()).toBe(1);

    const other = await ask('A different question', { 'idempotency-key': 'order-42' });
    expect(other.status).toBe(422);
    expect((await json(other)).error.code).toBe('idempotency_key_reused');
    expect(await waiting()).toBe(1);
  });

  it('cancels a waiting job so that it never runs', async () => {
    const { job_id } = await json(await ask('Where is the bicycle room?'));
    // A client long-polling the job hears of the cancel at once, not when its wait runs out.
    const started = Date.now();
    const polled = view(job_id, 20);
    await new Promise((r) => setTimeout(r, 200));
    const cancelled = await fetch(`${stack.base}/v1/jobs/${job_id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect((await json(cancelled)).status).toBe('cancelled');
    expect((await polled).status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await view(job_id)).status).toBe('cancelled');
    expect(await queue.getJob(job_id)).toBeNull();
    expect(await waiting()).toBe(1);
  });

  it('answers 503 with Retry-After once MAX_WAITING_JOBS questions are waiting', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await ask(`Question number ${i} about parking permits`);
      statuses.push(res.status);
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toBe('5');
        expect((await json(res)).error.code).toBe('overloaded');
      } else {
        await json(res);
      }
    }
    // One job was already waiting: four more fit under the limit of five.
    expect(statuses).toEqual([202, 202, 202, 202, 503, 503]);
    expect(await waiting()).toBe(5);
  });

  it('runs the waiting jobs once a worker starts', async () => {
    worker = stack.startApp(WORKER_MAIN, env);
    await worker.waitForLog((l) => l.message === 'consuming');
    for (let i = 0; i < 100 && (await queue.getCompletedCount()) < 5; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await queue.getCompletedCount()).toBe(5);
  });

  it('stops an active job, LLM request included, when it is cancelled', async () => {
    // A slow stream: the whole answer would take several seconds.
    stack.fake.setOptions({ perTokenMs: 300 });
    try {
      const { job_id } = await json(await ask('When do production releases leave?'));
      let state = await view(job_id);
      for (let i = 0; i < 100 && state.status !== 'active'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = await view(job_id);
      }
      expect(state.status).toBe('active');
      await new Promise((r) => setTimeout(r, 400));
      const asked = Date.now();
      const res = await fetch(`${stack.base}/v1/jobs/${job_id}`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      expect((await json(res)).cancel_requested).toBe(true);
      const final = await view(job_id, 10);
      expect(final.status).toBe('cancelled');
      expect(final.result).toBeUndefined();
      // Stopped mid-stream: well before the slow answer could have finished.
      expect(Date.now() - asked).toBeLessThan(3000);
      // The worker's log line comes down its stdout pipe, which may arrive after the answer to the long-poll.
      expect(await worker?.waitForLog((l) => l.message === 'job cancelled' && l.job_id === job_id, 5000)).toBeDefined();
      const job = await queue.getJob(job_id);
      expect(job?.attemptsMade).toBe(1);
    } finally {
      stack.fake.setOptions({ perTokenMs: 0 });
    }
  });

  it('sends a job that exhausts its attempts during an LLM outage to the dead-letter queue, and replays it after recovery', async () => {
    stack.fake.setOptions({ fault: { kind: 'status500', endpoints: ['chat'] } });
    const { job_id } = await json(await ask('How much does a parking permit cost?'));
    let state = await view(job_id, 10);
    for (let i = 0; i < 5 && state.status !== 'failed'; i++) state = await view(job_id, 10);
    expect(state.status).toBe('failed');
    expect(state.attempts).toBe(3);
    expect(state.error.permanent).toBe(false);

    const listed = await runApp(CLI_MAIN, env, ['dlq', 'list', '--json']);
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.stdout);
    const letter = letters.items.find((d: { job_id: string }) => d.job_id === job_id);
    expect(letter.payload.query).toBe('How much does a parking permit cost?');
    expect(letter.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3]);
    expect(letter.attempts.every((a: { error: string }) => a.error.includes('500'))).toBe(true);

    const admin = await json(await fetch(`${stack.base}/v1/admin/dead-letters/${job_id}`));
    expect(admin.job_id).toBe(job_id);

    stack.fake.setOptions({ fault: null });
    const replay = await runApp(CLI_MAIN, env, ['dlq', 'replay', job_id]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`replayed ${job_id}`);
    const done = await view(job_id, 15);
    expect(done.status).toBe('completed');
    expect(done.result.citations[0].source).toBe('parking.html');
    // The chat breaker opened during the outage and closed again after recovery.
    const transitions = (worker?.logs() ?? []).filter((l) => l.message === 'circuit breaker changed state' && l.dependency === 'chat').map((l) => l.state);
    expect(transitions).toContain('open');
    expect(transitions[transitions.length - 1]).toBe('closed');
    const after = await runApp(CLI_MAIN, env, ['dlq', 'list', '--json']);
    expect(JSON.parse(after.stdout).items.some((d: { job_id: string }) => d.job_id === job_id)).toBe(false);
  });
});
