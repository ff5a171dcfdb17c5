import { JobMetrics, activeSpan, createLogger, createMetricsRegistry, shutdownTracing, startTracing } from '@rag/observability';
import { JobName, QueryJobPayload, QueueName, jobEventsKey } from '@rag/queue-contracts';
import { captureLogs, startRedis, type PrivateRedis } from '@rag/testing';
import type { Job, Queue } from 'bull';
import Redis from 'ioredis';
import { ALL_TENANTS, DeadLetters } from './dead-letters';
import { JobEventsWriter } from './job-events.writer';
import { JobRunner, type JobHandler, type RunningJob } from './job-runner';
import { signJob } from './job-signature';
import { openQueryQueue, queryJobOptions } from './queues';

const SIGNING = { JOB_SIGNING_KEY: 'job-runner-test-signing-key-0123456789' };
const TIMEOUT_MS = 300;
const TIMED_OUT = `job timed out after ${TIMEOUT_MS} ms; it will be retried (raise JOB_TIMEOUT_MS if answers are slow)`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The job runner on a real Bull queue (opened and given job options as the apps do) on a private redis-server.
describe('JobRunner (real Redis and Bull)', () => {
  let server: PrivateRedis;
  let client: Redis;
  let prefix = 0;
  const open: Queue[] = [];
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(open.map((q) => q.close()));
    client?.disconnect();
    await server?.stop();
  });

  /** A queue consumed by a runner of `run`, with everything the runner records, on a prefix of its own. */
  async function consume(run: JobHandler<QueryJobPayload, string>['run'], traced = false) {
    const config = {
      REDIS_URL: server.url,
      QUEUE_PREFIX: `runner${++prefix}`,
      JOB_ATTEMPTS: 2,
      JOB_BACKOFF_MS: 10,
      JOB_TIMEOUT_MS: TIMEOUT_MS,
      JOB_RETENTION_SECONDS: 60,
    };
    const queue = openQueryQueue(config);
    open.push(queue);
    const deadLetters = new DeadLetters(client, { prefix: config.QUEUE_PREFIX, jobRetentionSeconds: 60, retentionSeconds: 60, maxEntries: 10 });
    const registry = createMetricsRegistry('runner-test');
    const { stream, lines: logs } = captureLogs();
    const runner = new JobRunner(
      {
        queue: QueueName.Query,
        payload: QueryJobPayload,
        log: { started: 'job started', completed: 'job completed', failed: 'job attempt failed' },
        run,
        traced,
      },
      {
        logger: createLogger({ service: 'runner-test', stream }),
        signing: SIGNING,
        deadLetters,
        openEvents: (id) => new JobEventsWriter(client, id, { prefix: config.QUEUE_PREFIX, retentionSeconds: 60 }),
        timeoutMs: TIMEOUT_MS,
        metrics: { jobs: new JobMetrics(registry) },
      },
    );
    const failures: { attempt: number; message: string; after: number }[] = [];
    queue.on('failed', (job: Job, error: Error) =>
      failures.push({ attempt: job.attemptsMade, message: error.message, after: Date.now() - (job.processedOn ?? 0) }),
    );
    void queue.process(JobName.Answer, 1, runner.process);
    const add = async (
      id: string,
      data: Record<string, unknown> = { query: 'q', collection: 'c', top_k: 3, stream: false, request_id: `req-${id}`, tenant: 'acme' },
    ) => queue.add(JobName.Answer, signJob(SIGNING, QueueName.Query, data) as unknown as QueryJobPayload, queryJobOptions(config, id));
    const events = async (id: string) =>
      (await client.xrange(jobEventsKey(config.QUEUE_PREFIX, id), '-', '+')).map(([, f]) => ({
        type: f[1],
        data: JSON.parse(f[3]) as Record<string, unknown>,
      }));
    const outcomes = async () => (await registry.getSingleMetricAsString('rag_jobs_finished_total')).split('\n').filter((l) => !l.startsWith('#'));
    return { queue, deadLetters, add, failures, events, outcomes, logs };
  }

  it('fails an attempt whose work outlasts JOB_TIMEOUT_MS with JobTimeoutError (code job_timeout), at the deadline, and retries it', async () => {
    let attempts = 0;
    // The first attempt ignores its signal and runs ten times too long; the second is quick.
    const { add, failures, deadLetters, events, outcomes } = await consume(async (_payload, job: RunningJob) => {
      if (++attempts > 1) return 'answered';
      await sleep(TIMEOUT_MS * 10);
      job.events.token('late');
      return 'too late';
    });
    const job = await add('slow-1');
    expect(await job.finished()).toBe('answered');

    // The attempt failed with the runner's helpful message (not Bull's generic one), at the deadline, not when the work ended.
    expect(failures).toEqual([{ attempt: 1, message: TIMED_OUT, after: expect.any(Number) }]);
    expect(failures[0].after).toBeLessThan(TIMEOUT_MS * 5);
    expect(await deadLetters.attempts('slow-1')).toEqual([expect.objectContaining({ attempt: 1, code: 'job_timeout', error: TIMED_OUT, permanent: false })]);
    expect(await deadLetters.get(ALL_TENANTS, 'slow-1')).toBeUndefined();
    // The client read it as a retried timeout, then the answer; nothing of the abandoned attempt came after.
    await sleep(TIMEOUT_MS * 10);
    const stream = await events('slow-1');
    expect(stream.map((e) => e.type)).toEqual(['status', 'error', 'status']);
    expect(stream[1].data).toEqual({ code: 'job_timeout', message: TIMED_OUT, permanent: false, will_retry: true });
    expect(await outcomes()).toEqual(
      expect.arrayContaining([expect.stringMatching(/outcome="retried".* 1$/), expect.stringMatching(/outcome="completed".* 1$/)]),
    );
  }, 20_000);

  it('dead-letters a job whose last attempt timed out, whatever the use case threw when its signal fired', async () => {
    const { add, failures, deadLetters } = await consume(
      (_payload, job) => new Promise((_resolve, reject) => job.signal.addEventListener('abort', () => reject(new Error('socket hang up at 10.0.0.7')))),
    );
    const job = await add('slow-2');
    await expect(job.finished()).rejects.toThrow(TIMED_OUT);
    // Bull's local "failed" event may come after the job's global one that finished() waits for.
    for (let i = 0; i < 50 && failures.length < 2; i++) await sleep(20);
    expect(failures.map((f) => f.message)).toEqual([TIMED_OUT, TIMED_OUT]);
    expect(await deadLetters.get(ALL_TENANTS, 'slow-2')).toMatchObject({ final_error: TIMED_OUT, final_error_code: 'job_timeout', tenant: 'acme' });
  }, 20_000);

  it('fails an invalid payload at once, for good, without running the use case', async () => {
    let ran = false;
    const { add, queue, deadLetters, logs } = await consume(async () => {
      ran = true;
      return 'ran';
    });
    const job = await add('bad-1', { query: 'q', collection: 'c', top_k: 0, stream: false, request_id: 'req-bad', tenant: 'acme' });
    await expect(job.finished()).rejects.toThrow('invalid job payload: top_k');
    expect((await queue.getJob('bad-1'))?.attemptsMade).toBe(1);
    expect(ran).toBe(false);
    expect(await deadLetters.get(ALL_TENANTS, 'bad-1')).toMatchObject({ final_error_code: 'invalid_payload' });
    expect(logs.find((l) => l.message === 'job attempt failed')).toMatchObject({
      job_id: 'bad-1',
      request_id: 'req-bad',
      tenant: 'acme',
      permanent: true,
      will_retry: false,
    });
  });

  // The trace context rides in the signed payload: a worker joins the trace it names, and refuses a malformed
  // one as an invalid payload (before any span could be parented to it) instead of crashing.
  describe('with tracing on', () => {
    const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
    // Nothing listens on port 9 (discard): the spans are dropped, the runner's behaviour is what is checked.
    beforeAll(() => startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'runner-test' }, 'runner-test'));
    afterAll(() => shutdownTracing().catch(() => undefined));
    const data = (id: string, traceparent: unknown) => ({
      query: 'q',
      collection: 'c',
      top_k: 3,
      stream: false,
      request_id: `req-${id}`,
      tenant: 'acme',
      traceparent,
    });

    it('runs the job inside a span of the trace its traceparent names, and fails a malformed traceparent for good as an invalid payload', async () => {
      const seen: (string | undefined)[] = [];
      const { add, deadLetters } = await consume(async () => {
        seen.push(activeSpan().traceparent());
        return 'answered';
      }, true);
      expect(await (await add('traced-1', data('traced-1', `00-${TRACE}-00f067aa0ba902b7-01`))).finished()).toBe('answered');
      expect(seen).toEqual([expect.stringMatching(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`))]);
      expect(seen[0]).not.toContain('00f067aa0ba902b7');

      for (const [id, bad] of [
        ['traced-2', 'not-a-traceparent'],
        ['traced-3', `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`],
        ['traced-4', 42],
      ] as const) {
        await expect((await add(id, data(id, bad))).finished()).rejects.toThrow('invalid job payload: traceparent');
        expect(await deadLetters.get(ALL_TENANTS, id)).toMatchObject({ final_error_code: 'invalid_payload' });
      }
      expect(seen).toHaveLength(1);
      // The worker is still consuming.
      expect(await (await add('traced-5', data('traced-5', undefined))).finished()).toBe('answered');
    }, 20_000);
  });
});
