import { JobName, QueueName, cancelKey, type QueryJobPayload } from '@rag/queue-contracts';
import { monitorRequests, useRedisSuite } from '@rag/testing';
import type { Job, Queue } from 'bull';
import { ALL_TENANTS, DeadLetters, type AttemptRecord } from '../dead-letters';
import { verifyJob } from '../job-signature';
import { openQueryQueue } from '../queues';
import { JobWaiter } from './job-waiter';
import { QueryJobs } from './query-jobs';
import type { QuestionDraft, QuestionProducerConfig } from './question-producer';

const SIGNING = { JOB_SIGNING_KEY: 'k'.repeat(32) };

describe('QueryJobs: the lifecycle of a question (real Redis, real Bull queues)', () => {
  const redis = useRedisSuite();
  const opened: Queue[] = [];
  let prefixes = 0;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });

  /** A gateway's side (queue, dead letters, waiter, lifecycle) and a worker's queue, under a prefix of their own. */
  async function setUp(overrides: Partial<QuestionProducerConfig> = {}) {
    const config: QuestionProducerConfig = {
      ...SIGNING,
      QUEUE_PREFIX: `lc${++prefixes}`,
      JOB_RETENTION_SECONDS: 600,
      JOB_ATTEMPTS: 1,
      JOB_BACKOFF_MS: 50,
      MAX_WAITING_JOBS: 100,
      MAX_WAITING_JOBS_PER_TENANT: 100,
      FAIR_SHARE: 'on',
      ...overrides,
    };
    const queue = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: config.QUEUE_PREFIX });
    const worker = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: config.QUEUE_PREFIX });
    opened.push(queue, worker);
    const deadLetters = new DeadLetters(redis.client, { prefix: config.QUEUE_PREFIX, jobRetentionSeconds: 600, retentionSeconds: 600, maxEntries: 100 });
    const waiter = new JobWaiter(queue, config.QUEUE_PREFIX);
    await waiter.whenReady();
    return { config, queue, worker, deadLetters, jobs: new QueryJobs(queue, config, deadLetters, waiter) };
  }

  const draft = (tenant: string, query = 'how many vacation days?'): QuestionDraft => ({
    query,
    collection: 'docs',
    top_k: 4,
    stream: false,
    request_id: 'req-1',
    tenant,
  });

  /** Resolves with the job once Bull has failed it for good. */
  const failedForGood = (queue: Queue, jobId: string) =>
    new Promise<void>((resolve) => {
      const check = async () => ((await queue.getJob(jobId))?.finishedOn ? resolve() : setTimeout(() => void check(), 20));
      void check();
    });

  /** A processor that fails as a worker does: it records the attempt, then throws (discarding the job when permanent). */
  const failing = (deadLetters: DeadLetters, record: (job: Job) => Omit<AttemptRecord, 'attempt' | 'started_at' | 'duration_ms'>) => async (job: Job) => {
    const attempt = record(job);
    await deadLetters.recordAttempt(String(job.id), { attempt: job.attemptsMade + 1, started_at: new Date().toISOString(), duration_ms: 1, ...attempt });
    if (attempt.permanent) job.discard();
    throw new Error(attempt.error);
  };

  /** One question of tenant acme whose worker fails every attempt as `record` says, read once Bull has failed it for good. */
  async function failedQuestion(overrides: Partial<QuestionProducerConfig>, record: Parameters<typeof failing>[1]) {
    const { jobs, worker, queue, deadLetters } = await setUp(overrides);
    const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
    void worker.process(JobName.Answer, failing(deadLetters, record));
    await failedForGood(queue, jobId);
    return { jobs, jobId };
  }

  describe('enqueue', () => {
    it('queues a signed question with the question options, and replays an Idempotency-Key', async () => {
      const { jobs, queue, config } = await setUp({ JOB_ATTEMPTS: 3 });
      const first = await jobs.enqueue(draft('acme'), 'key-1');
      expect(first.outcome).toBe('queued');
      const jobId = (first as { jobId: string }).jobId;
      const job = await queue.getJob(jobId);
      expect(verifyJob(config, QueueName.Query, job?.data)).toBe(true);
      expect(job?.name).toBe(JobName.Answer);
      expect(job?.opts).toMatchObject({ attempts: 3, removeOnFail: { age: 600 } });
      expect(await jobs.enqueue(draft('acme'), 'key-1')).toEqual({ outcome: 'replayed', jobId });
      expect(await jobs.enqueue(draft('acme', 'something else'), 'key-1')).toEqual({ outcome: 'conflict', jobId });
      // The generation settings are part of what was asked: the same key with another max_tokens or temperature is another request.
      expect(await jobs.enqueue({ ...draft('acme'), max_tokens: 50 }, 'key-1')).toEqual({ outcome: 'conflict', jobId });
      expect(await jobs.enqueue({ ...draft('acme'), temperature: 0.7 }, 'key-1')).toEqual({ outcome: 'conflict', jobId });
      expect(await jobs.enqueue({ ...draft('acme'), callback_url: 'https://hooks.example.com/rag' }, 'key-1')).toEqual({ outcome: 'conflict', jobId });
      const tuned = await jobs.enqueue({ ...draft('acme'), max_tokens: 50 }, 'key-2');
      expect(await jobs.enqueue({ ...draft('acme'), max_tokens: 50 }, 'key-2')).toEqual({ outcome: 'replayed', jobId: (tuned as { jobId: string }).jobId });
      // Another tenant's same key is another job.
      expect(await jobs.enqueue(draft('globex'), 'key-1')).toMatchObject({ outcome: 'queued', jobId: expect.not.stringMatching(jobId) });
    });

    it('replays a dead letter ahead of the questions waiting (with fair share, a job without a priority would wait behind them all)', async () => {
      const { jobs, queue, deadLetters } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      const job = (await queue.getJob(jobId))!;
      await job.remove();
      await deadLetters.add({
        job_id: jobId,
        queue: QueueName.Query,
        job_name: JobName.Answer,
        payload: job.data,
        final_error: 'x',
        failed_at: new Date().toISOString(),
      });
      for (let i = 0; i < 5; i++) await jobs.enqueue(draft('globex'));
      expect((await jobs.replay(ALL_TENANTS, jobId))?.job_id).toBe(jobId);
      // The worker takes the wait list's last entry first.
      expect(await queue.client.lindex(queue.toKey('wait'), -1)).toBe(jobId);
    });

    it('refuses beyond the tenant cap and the global cap instead of queueing', async () => {
      const { jobs, queue } = await setUp({ MAX_WAITING_JOBS: 3, MAX_WAITING_JOBS_PER_TENANT: 2 });
      for (let i = 0; i < 2; i++) expect((await jobs.enqueue(draft('acme'))).outcome).toBe('queued');
      expect(await jobs.enqueue(draft('acme'))).toEqual({ outcome: 'tenant_full', waiting: 2, limit: 2 });
      expect((await jobs.enqueue(draft('globex'))).outcome).toBe('queued');
      expect(await jobs.enqueue(draft('initech'))).toEqual({ outcome: 'overloaded', waiting: 3 });
      expect(await queue.getWaitingCount()).toBe(3);
    });
  });

  describe('read', () => {
    /** The requests `client` sends Redis while `run` runs (a MULTI … EXEC block counted once). */
    async function requestsFrom(client: Queue['client'], run: () => Promise<unknown>): Promise<number> {
      const port = `:${(client as unknown as { stream: { localPort: number } }).stream.localPort}`;
      const { requests } = await monitorRequests(redis.url, run, (source) => (source.endsWith(port) ? 'client' : undefined));
      return requests.get('client') ?? 0;
    }

    it('reads a job, its state and a cancelled record in one round trip, waiting, completed or cancelled', async () => {
      const { jobs, worker, queue } = await setUp();
      const waiting = ((await jobs.enqueue(draft('acme'))) as { jobId: string }).jobId;
      expect(await requestsFrom(queue.client, async () => expect(await jobs.view(waiting, 'acme')).toMatchObject({ status: 'queued' }))).toBe(1);
      await jobs.cancel(waiting, 'acme');
      expect(await requestsFrom(queue.client, async () => expect(await jobs.view(waiting, 'acme')).toMatchObject({ status: 'cancelled' }))).toBe(1);
      const done = ((await jobs.enqueue(draft('acme'))) as { jobId: string }).jobId;
      void worker.process(JobName.Answer, async () => ({ answer: 'ok', citations: [] }));
      expect(await jobs.wait(done, 'acme', 5)).toMatchObject({ status: 'completed', result: { answer: 'ok' } });
      expect(await requestsFrom(queue.client, async () => expect(await jobs.view(done, 'acme')).toMatchObject({ status: 'completed' }))).toBe(1);
      // Another tenant's job reads as absent, in one round trip too.
      expect(await requestsFrom(queue.client, async () => expect(await jobs.view(done, 'globex')).toBeUndefined())).toBe(1);
    });

    it("takes a failed job's permanence from the worker's record, not from its attempt count", async () => {
      // One attempt allowed: the old guess (attempts made < attempts allowed) calls every such failure retryable.
      const { jobs, jobId } = await failedQuestion({ JOB_ATTEMPTS: 1 }, () => ({
        error: 'collection "docs" does not exist',
        code: 'collection_not_found',
        permanent: true,
      }));
      expect((await jobs.view(jobId, 'acme'))?.error).toEqual({ code: 'collection_not_found', message: 'collection "docs" does not exist', permanent: true });
    });

    it('reads a retryable failure that used up its attempts as not permanent', async () => {
      const { jobs, jobId } = await failedQuestion({ JOB_ATTEMPTS: 2 }, () => ({ error: 'the LLM provider timed out', code: 'llm_timeout', permanent: false }));
      expect(await jobs.view(jobId, 'acme')).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'llm_timeout', permanent: false } });
    });

    it('falls back to the attempt count for a job no worker recorded (discarded with attempts left: permanent)', async () => {
      const { jobs, worker, queue } = await setUp({ JOB_ATTEMPTS: 3 });
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      void worker.process(JobName.Answer, async (job: Job) => {
        job.discard();
        throw new Error('bad payload');
      });
      await failedForGood(queue, jobId);
      expect(await jobs.view(jobId, 'acme')).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'internal_error', message: 'bad payload', permanent: true },
      });
    });

    it('shows a job its worker recorded as cancelled as cancelled, and a recorded failure as failed even when a cancel was asked for', async () => {
      const { jobs, worker, queue, deadLetters, config } = await setUp();
      const stopped = (await jobs.enqueue(draft('acme', 'stopped'))) as { jobId: string };
      const broke = (await jobs.enqueue(draft('acme', 'broke'))) as { jobId: string };
      void worker.process(
        JobName.Answer,
        failing(deadLetters, (job) =>
          (job.data as QueryJobPayload).query === 'stopped'
            ? { error: `job ${job.id} was cancelled`, code: 'cancelled', permanent: true }
            : { error: 'the vector store refused the request', code: 'vector_store_refused', permanent: true },
        ),
      );
      await Promise.all([failedForGood(queue, stopped.jobId), failedForGood(queue, broke.jobId)]);
      // No cancel key for the first: the record alone says it was cancelled.
      expect(await redis.client.exists(cancelKey(config.QUEUE_PREFIX, stopped.jobId))).toBe(0);
      expect(await jobs.view(stopped.jobId, 'acme')).toMatchObject({ status: 'cancelled', error: undefined });
      // A cancel asked for as the job failed for another reason: the worker's record says what happened.
      await redis.client.set(cancelKey(config.QUEUE_PREFIX, broke.jobId), '1');
      expect(await jobs.view(broke.jobId, 'acme')).toMatchObject({ status: 'failed', error: { code: 'vector_store_refused' } });
    });

    it('reads a failed job with no record as cancelled when its cancel was asked for', async () => {
      const { jobs, worker, queue, config } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      await redis.client.set(cancelKey(config.QUEUE_PREFIX, jobId), '1');
      void worker.process(JobName.Answer, async () => {
        throw new Error('aborted');
      });
      await failedForGood(queue, jobId);
      expect(await jobs.view(jobId, 'acme')).toMatchObject({ status: 'cancelled', error: undefined });
    });

    it("answers another tenant's job as unknown", async () => {
      const { jobs } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      expect(await jobs.view(jobId, 'acme')).toMatchObject({ job_id: jobId, status: 'queued', attempts: 0 });
      expect(await jobs.view(jobId, 'globex')).toBeUndefined();
      expect(await jobs.cancel(jobId, 'globex')).toEqual({ outcome: 'not_found' });
      expect(await jobs.view('00000000-0000-4000-8000-000000000000', 'acme')).toBeUndefined();
    });
  });

  describe('wait', () => {
    it('returns the current view when the wait runs out, and wakes when the job completes', async () => {
      const { jobs, worker } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      let started = Date.now();
      expect((await jobs.wait(jobId, 'acme', 0.3))?.status).toBe('queued');
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      started = Date.now();
      const waited = jobs.wait(jobId, 'acme', 10);
      void worker.process(JobName.Answer, async () => ({ answer: 'done', citations: [] }));
      expect(await waited).toMatchObject({ status: 'completed', result: { answer: 'done' } });
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('stops waiting when its signal aborts', async () => {
      const { jobs } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      const gone = new AbortController();
      const started = Date.now();
      setTimeout(() => gone.abort(), 100);
      expect((await jobs.wait(jobId, 'acme', 10, gone.signal))?.status).toBe('queued');
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('cancel', () => {
    it('removes a waiting job, records it cancelled, gives back its place, and wakes its waiting readers', async () => {
      const { jobs, queue, config } = await setUp({ MAX_WAITING_JOBS_PER_TENANT: 1 });
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      expect((await jobs.enqueue(draft('acme'))).outcome).toBe('tenant_full');
      const started = Date.now();
      const waiting = jobs.wait(jobId, 'acme', 10);
      await new Promise((r) => setTimeout(r, 100));
      const cancelled = await jobs.cancel(jobId, 'acme');
      expect(cancelled).toMatchObject({ outcome: 'cancelled', view: { job_id: jobId, status: 'cancelled', finished_at: expect.any(String) } });
      expect(await waiting).toMatchObject({ status: 'cancelled' });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await queue.getJob(jobId)).toBeNull();
      expect(await redis.client.exists(cancelKey(config.QUEUE_PREFIX, jobId))).toBe(1);
      // Read back from its record (its tenant's only); a second cancel answers the same.
      expect(await jobs.view(jobId, 'acme')).toMatchObject({ status: 'cancelled' });
      expect(await jobs.view(jobId, 'globex')).toBeUndefined();
      expect(await jobs.cancel(jobId, 'acme')).toMatchObject({ outcome: 'cancelled', view: { status: 'cancelled' } });
      // Its place is free again.
      expect((await jobs.enqueue(draft('acme'))).outcome).toBe('queued');
    });

    it("wakes the readers waiting on another gateway's queue and waiter (Bull publishes no event for a removed job)", async () => {
      const { jobs, config, deadLetters } = await setUp();
      const otherQueue = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: config.QUEUE_PREFIX });
      opened.push(otherQueue);
      const otherWaiter = new JobWaiter(otherQueue, config.QUEUE_PREFIX);
      await otherWaiter.whenReady();
      const otherGateway = new QueryJobs(otherQueue, config, deadLetters, otherWaiter);
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      const waiting = otherGateway.wait(jobId, 'acme', 20);
      await new Promise((r) => setTimeout(r, 100));
      expect((await jobs.cancel(jobId, 'acme')).outcome).toBe('cancelled');
      let timer: NodeJS.Timeout | undefined;
      const woken = await Promise.race([waiting, new Promise((r) => (timer = setTimeout(() => r('still waiting'), 5000)))]);
      clearTimeout(timer);
      expect(woken).toMatchObject({ job_id: jobId, status: 'cancelled' });
    }, 8000);

    it('signals a running job, and refuses to cancel a finished one', async () => {
      const { jobs, worker, queue, config } = await setUp();
      const { jobId } = (await jobs.enqueue(draft('acme'))) as { jobId: string };
      let finish!: () => void;
      const running = new Promise<void>((resolve) => {
        void worker.process(JobName.Answer, async () => {
          resolve();
          await new Promise<void>((r) => (finish = r));
          return { answer: 'done', citations: [] };
        });
      });
      await running;
      expect(await jobs.cancel(jobId, 'acme')).toMatchObject({ outcome: 'requested', view: { status: 'active' } });
      expect(await redis.client.exists(cancelKey(config.QUEUE_PREFIX, jobId))).toBe(1);
      finish();
      await jobs.wait(jobId, 'acme', 5);
      expect(await jobs.cancel(jobId, 'acme')).toMatchObject({ outcome: 'finished', view: { status: 'completed' } });
      expect(await queue.getJob(jobId)).not.toBeNull();
    });
  });
});
