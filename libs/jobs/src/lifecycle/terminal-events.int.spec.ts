import { createLogger } from '@rag/observability';
import { JobName, QueryJobPayload, QueueName, jobEventsKey } from '@rag/queue-contracts';
import { useRedisSuite } from '@rag/testing';
import type { Job, Queue } from 'bull';
import { PassThrough } from 'node:stream';
import { DeadLetters } from '../dead-letters';
import { JobEventsFanout } from '../job-events.fanout';
import type { JobEventsSubscription, StreamedJobEvent } from '../job-events.reader';
import { JobRunner } from '../job-runner';
import { signJob } from '../job-signature';
import { MAX_STALLED_COUNT, STALLED_OUT, WORKER_LOST, openQueryQueue, queryJobOptions } from '../queues';
import { jobEventsOpener } from './job-events';
import { JobWaiter } from './job-waiter';
import { QueryJobs } from './query-jobs';

const SIGNING = { JOB_SIGNING_KEY: 'k'.repeat(32) };

/** Every event until the subscription ends, or undefined if it has not ended within `ms`. */
async function drainWithin(subscription: JobEventsSubscription, ms: number): Promise<StreamedJobEvent[] | undefined> {
  const events: StreamedJobEvent[] = [];
  const drained = (async () => {
    for await (const event of subscription) events.push(event);
    return events;
  })();
  const timedOut = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref());
  const result = await Promise.race([drained, timedOut]);
  subscription.close();
  return result;
}

// Jobs that no worker will ever end the events of: a waiting job cancelled (removed before any worker took
// it) and a job failed by Bull's stalled-job check (no processor ran). Their streams must still end, or
// every client following them (GET /v1/jobs/:id/events) would wait forever.
describe('terminal events of jobs no attempt ends (real Redis, Bull and the events fan-out)', () => {
  const redis = useRedisSuite();
  const opened: Queue[] = [];
  const fanouts: JobEventsFanout[] = [];
  let prefixes = 0;

  afterEach(async () => {
    await Promise.all(fanouts.splice(0).map((f) => f.close()));
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });

  function setUp() {
    const config = {
      ...SIGNING,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `te${++prefixes}`,
      JOB_RETENTION_SECONDS: 600,
      JOB_ATTEMPTS: 3,
      JOB_BACKOFF_MS: 50,
      MAX_WAITING_JOBS: 100,
      MAX_WAITING_JOBS_PER_TENANT: 100,
      FAIR_SHARE: 'on' as const,
    };
    const queue = openQueryQueue(config);
    opened.push(queue);
    const deadLetters = new DeadLetters(redis.client, { prefix: config.QUEUE_PREFIX, jobRetentionSeconds: 600, retentionSeconds: 600, maxEntries: 100 });
    const fanout = new JobEventsFanout(redis.client, { prefix: config.QUEUE_PREFIX });
    fanouts.push(fanout);
    return { config, queue, deadLetters, fanout };
  }

  it('ends the events of a waiting job cancelled before any worker took it with status cancelled', async () => {
    const { config, queue, deadLetters, fanout } = setUp();
    const waiter = new JobWaiter(queue, config.QUEUE_PREFIX);
    await waiter.whenReady();
    const jobs = new QueryJobs(queue, config, deadLetters, waiter);
    const queued = await jobs.enqueue({ query: 'q', collection: 'docs', top_k: 4, stream: true, request_id: 'req-1', tenant: 'acme' });
    const jobId = (queued as { jobId: string }).jobId;
    // A follower that subscribed while the job waited (its stream does not exist yet).
    const following = drainWithin(fanout.subscribe(jobId), 5000);
    expect((await jobs.cancel(jobId, 'acme')).outcome).toBe('cancelled');
    const events = await following;
    expect(events?.map((e) => [e.type, JSON.parse(e.data)])).toEqual([['status', { status: 'cancelled' }]]);
    // The stream expires with the job record.
    expect(await redis.client.ttl(jobEventsKey(config.QUEUE_PREFIX, jobId))).toBeGreaterThan(500);
  });

  it('ends the events of a job failed by the stalled-job check with a terminal error naming the lost worker', async () => {
    const { config, queue, deadLetters, fanout } = setUp();
    const logs = new PassThrough();
    const runner = new JobRunner(
      { queue: QueueName.Query, payload: QueryJobPayload, log: { completed: 'job completed', failed: 'job attempt failed' }, run: async () => 'never' },
      {
        logger: createLogger({ service: 'terminal-events-test', stream: logs }),
        signing: SIGNING,
        deadLetters,
        openEvents: jobEventsOpener(redis.client, config),
      },
    );
    const data = signJob(SIGNING, QueueName.Query, { query: 'q', collection: 'docs', top_k: 4, stream: true, request_id: 'req-2', tenant: 'acme' });
    const job = await queue.add(JobName.Answer, data as unknown as QueryJobPayload, queryJobOptions(config, 'stalled-1'));
    // An earlier attempt's events: the follower has read up to its failure.
    const earlier = jobEventsOpener(redis.client, config)('stalled-1');
    earlier.emit('status', { status: 'active', attempt: 1 });
    await earlier.close();
    // As the queue holds it after MAX_STALLED_COUNT workers died under it: active, unlocked, counted stalled that often.
    await queue.client
      .multi()
      .lrem(queue.toKey('wait'), 0, String(job.id))
      .lpush(queue.toKey('active'), String(job.id))
      .hset(queue.toKey(String(job.id)), 'stalledCounter', String(MAX_STALLED_COUNT))
      .sadd(queue.toKey('stalled'), String(job.id))
      .exec();
    const following = drainWithin(fanout.subscribe('stalled-1'), 15_000);
    const failed = new Promise<Error>((resolve) => queue.on('failed', (_job: Job, error: Error) => resolve(error)));
    queue.on('failed', runner.stalledOut);
    // A consumer starting runs the stalled-job check at once; its verdict fails the job.
    void queue.process(JobName.Answer, 1, runner.process);
    expect((await failed).message).toBe(STALLED_OUT);
    const events = await following;
    expect(events?.map((e) => e.type)).toEqual(['status', 'error']);
    expect(JSON.parse(events![1].data)).toEqual({
      code: WORKER_LOST,
      message: expect.stringMatching(/^job stalled more than allowable limit: its worker stopped/),
      permanent: false,
      will_retry: false,
    });
  }, 30_000);
});
