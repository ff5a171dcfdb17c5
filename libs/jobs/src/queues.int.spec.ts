import { duplicateRedis } from '@rag/config';
import { startRedis, type PrivateRedis } from '@rag/testing';
import type { Queue } from 'bull';
import { Redis } from 'ioredis';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { QuestionAdmission } from './question-admission';
import { openQueryQueue, queryJobOptions, type QueueOpenOptions } from './queues';

const OPTIONS = { JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 1000, JOB_RETENTION_SECONDS: 600 };
const BIG = 1_000_000;

/** Counts the writes made on `redis`'s socket while `run` runs (each still goes to Redis: the count only watches). */
async function socketWrites<T>(redis: Redis, run: () => Promise<T>): Promise<{ writes: number; result: T }> {
  const stream = (redis as unknown as { stream: Writable }).stream;
  const write = stream.write;
  let writes = 0;
  stream.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
    writes += 1;
    return write.apply(this, args);
  } as Writable['write'];
  try {
    const result = await run();
    return { writes, result };
  } finally {
    stream.write = write;
  }
}

describe('openQueryQueue: the command connection (real Redis, real Bull queue)', () => {
  let redis: PrivateRedis;
  let probe: Redis;
  const opened: Queue[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    probe = new Redis(redis.url);
  });

  afterAll(async () => {
    probe?.disconnect();
    await Promise.all(opened.map((q) => q.close()));
    await redis?.stop();
  });

  async function open(prefix: string, options: QueueOpenOptions): Promise<{ queue: Queue; admission: QuestionAdmission }> {
    const queue = openQueryQueue(
      { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '', QUEUE_PREFIX: prefix },
      options,
    );
    opened.push(queue);
    await queue.isReady();
    // Fail-fast commands are refused until the command connection is up (the gateway waits for it the same way).
    if (queue.client.status !== 'ready') await once(queue.client, 'ready');
    return { queue, admission: new QuestionAdmission(queue, prefix, 600, true) };
  }

  /** Admits `count` questions in one event-loop turn, as a gateway does when many requests arrive together; the writes that took. */
  async function burst(queue: Queue, admission: QuestionAdmission, count: number, tag: string): Promise<number> {
    const { writes, result: outcomes } = await socketWrites(queue.client, () =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          admission.admit(
            { tenant: 'acme', jobId: `${tag}-${i}`, maxWaiting: BIG, maxPerTenant: BIG },
            { name: 'answer', data: { tenant: 'acme', jobId: `${tag}-${i}` }, opts: queryJobOptions(OPTIONS, `${tag}-${i}`) },
          ),
        ),
      ),
    );
    expect(outcomes.every((o) => o.outcome === 'admitted')).toBe(true);
    return writes;
  }

  it('with autoPipelining, questions admitted in one turn reach Redis in one write, each with its own reply', async () => {
    const { queue, admission } = await open('batched', { failFast: true, autoPipelining: true });
    // The first burst on a fresh server is refused (NOSCRIPT) and sent again in full: one more write (the next test).
    await burst(queue, admission, 1, 'warm');
    expect(await burst(queue, admission, 40, 'b')).toBe(1);
    expect(await queue.getWaitingCount()).toBe(41);
  });

  it('without it, each question is a write of its own (what the option saves)', async () => {
    const { queue, admission } = await open('unbatched', { failFast: true });
    expect(await burst(queue, admission, 40, 'u')).toBe(40);
  });

  it('a script Redis has forgotten (SCRIPT FLUSH) is sent again for each batched command: no question fails', async () => {
    const { queue, admission } = await open('flushed', { failFast: true, autoPipelining: true });
    await probe.script('FLUSH');
    // One write for the ten, refused as one, and one for the ten sent in full.
    expect(await burst(queue, admission, 10, 'f')).toBe(2);
    expect(await queue.getWaitingCount()).toBe(10);
  });

  it('connections duplicated from it (blocking reads, subscriptions) do not batch', async () => {
    const { queue } = await open('dup', { failFast: true, autoPipelining: true });
    expect(queue.client.options.enableAutoPipelining).toBe(true);
    const blocking = duplicateRedis(queue.client, { lazyConnect: true });
    expect(blocking.options.enableAutoPipelining).toBe(false);
    blocking.disconnect();
  });
});
