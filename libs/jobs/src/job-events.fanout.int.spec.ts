import { jobEventsKey } from '@rag/queue-contracts';
import { openRedis } from '@rag/config';
import { startRedis, startRedisCluster, tempDir, useRedisSuite, type PrivateRedis, type PrivateRedisCluster, type TempDir } from '@rag/testing';
import Redis from 'ioredis';
import { JOB_EVENTS_CONNECTION, JobEventsFanout, type JobEventsFanoutOptions } from './job-events.fanout';
import {
  InvalidEventIdError,
  JobEventsUnavailableError,
  SubscriberLimitError,
  SubscriberTooSlowError,
  type JobEventsSubscription,
  type StreamedJobEvent,
} from './job-events.reader';
import { JobEventsWriter } from './job-events.writer';

const PREFIX = 't';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every event until the subscription ends (or fails: the error is returned with what came before it). */
async function drain(subscription: JobEventsSubscription): Promise<{ events: StreamedJobEvent[]; error?: unknown }> {
  const events: StreamedJobEvent[] = [];
  try {
    for await (const event of subscription) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

/** The next `n` events. */
async function take(subscription: JobEventsSubscription, n: number): Promise<StreamedJobEvent[]> {
  const events: StreamedJobEvent[] = [];
  while (events.length < n) {
    const next = await subscription.next();
    if (next.done) throw new Error(`subscription ended after ${events.length} of ${n} events`);
    events.push(next.value);
  }
  return events;
}

/** A question's events as the worker writes them: status, stages, tokens, a citation, done. */
async function answer(redis: Redis, jobId: string, words = ['New ', 'employees ', 'get ', '25 ', 'days.']): Promise<void> {
  const writer = new JobEventsWriter(redis, jobId, { prefix: PREFIX, retentionSeconds: 600, flushMs: 1, flushChars: 1 });
  writer.emit('status', { status: 'active', attempt: 1 });
  writer.emit('stage', { stage: 'retrieving' });
  writer.emit('stage', { stage: 'generating' });
  for (const word of words) {
    writer.token(word);
    await writer.close();
  }
  writer.emit('citation', { n: 1, doc: 'handbook.md' });
  writer.emit('done', { status: 'completed' });
  await writer.close();
}

const text = (events: StreamedJobEvent[]) =>
  events
    .filter((e) => e.type === 'token')
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('');

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('JobEventsFanout (real Redis, real JobEventsWriter)', () => {
  const redis = useRedisSuite();
  const fanouts: JobEventsFanout[] = [];
  const open = (options: Partial<JobEventsFanoutOptions> = {}, client: Redis = redis.client) => {
    const fanout = new JobEventsFanout(client, { prefix: PREFIX, ...options });
    fanouts.push(fanout);
    return fanout;
  };
  const closeFanouts = () => Promise.all(fanouts.splice(0).map((f) => f.close()));
  afterEach(closeFanouts);

  const stored = async (jobId: string) => (await redis.client.xrange(jobEventsKey(PREFIX, jobId), '-', '+')).map(([id]) => id);
  const connections = async () => ((await redis.client.client('LIST')) as string).trim().split('\n');

  it('replays a finished job from 0: every event once, in order, with its stream id, then ends', async () => {
    await answer(redis.client, 'replay');
    const { events, error } = await drain(open().subscribe('replay', '0'));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.id)).toEqual(await stored('replay'));
    expect(events[0]).toMatchObject({ type: 'status', data: JSON.stringify({ status: 'active', attempt: 1 }) });
    expect(events.map((e) => e.type)).toEqual(['status', 'stage', 'stage', 'token', 'token', 'token', 'token', 'token', 'citation', 'done']);
    expect(text(events)).toBe('New employees get 25 days.');
  });

  it('resumes after a Last-Event-ID with exactly the events after it', async () => {
    await answer(redis.client, 'resume');
    const ids = await stored('resume');
    const { events } = await drain(open().subscribe('resume', ids[4]));
    expect(events.map((e) => e.id)).toEqual(ids.slice(5));
    // After the last event there is nothing more: the client waits for events still to come.
    const late = open().subscribe('resume', ids[ids.length - 1]);
    const writer = new JobEventsWriter(redis.client, 'resume', { prefix: PREFIX, retentionSeconds: 60 });
    writer.emit('status', { status: 'cancelled' });
    await writer.close();
    expect((await drain(late)).events.map((e) => e.type)).toEqual(['status']);
  });

  it('refuses an id that is not a stream id before reading anything', () => {
    expect(() => open().subscribe('x', 'last')).toThrow(InvalidEventIdError);
  });

  it('delivers live events to a subscriber that is waiting on a blocked read', async () => {
    const fanout = open({ blockMs: 10_000 });
    const subscription = fanout.subscribe('live', '0');
    await until(() => fanout.streamCount === 1);
    await sleep(100);
    const [{ events }] = await Promise.all([drain(subscription), answer(redis.client, 'live')]);
    expect(events.map((e) => e.id)).toEqual(await stored('live'));
    expect(text(events)).toBe('New employees get 25 days.');
  });

  it('serves 200 subscribers on 200 jobs through one blocking connection', async () => {
    // Only the suite's shared client is left from earlier tests.
    await until(async () => (await connections()).length === 1);
    const fanout = open();
    const jobs = Array.from({ length: 200 }, (_, i) => `many-${i}`);
    const subscriptions = jobs.map((jobId) => fanout.subscribe(jobId, '0'));
    await until(() => fanout.streamCount === 200);
    const received = Promise.all(subscriptions.map(drain));
    await Promise.all(jobs.map((jobId, i) => answer(redis.client, jobId, [`job ${i} `, 'says ', 'hello'])));
    const results = await received;
    for (const [i, { events, error }] of results.entries()) {
      expect(error).toBeUndefined();
      expect(text(events)).toBe(`job ${i} says hello`);
      expect(events.map((e) => e.id)).toEqual(await stored(jobs[i]));
    }
    // The suite's shared client and one blocking connection, whatever the number of subscribers.
    const list = await connections();
    expect(list).toHaveLength(2);
    expect(list.filter((line) => line.includes(`name=${JOB_EVENTS_CONNECTION}`))).toHaveLength(1);
    expect(fanout.subscriberCount).toBe(0);
  });

  it('gives two subscribers of one job everything, whenever each joins', async () => {
    const fanout = open();
    const first = fanout.subscribe('shared', '0');
    await until(() => fanout.streamCount === 1);
    const writer = new JobEventsWriter(redis.client, 'shared', { prefix: PREFIX, retentionSeconds: 60 });
    writer.emit('status', { status: 'active', attempt: 1 });
    for (let i = 0; i < 5; i++) writer.emit('citation', { n: i });
    await writer.close();
    await take(first, 6);
    // The second joins mid-way, from the start: history, then the same live entries as the first.
    const second = fanout.subscribe('shared', '0');
    const both = Promise.all([drain(first), drain(second)]);
    await until(() => fanout.subscriberCount === 2);
    for (let i = 5; i < 10; i++) writer.emit('citation', { n: i });
    writer.emit('done', { status: 'completed' });
    await writer.close();
    const [rest, all] = await both;
    const ids = await stored('shared');
    expect(rest.events.map((e) => e.id)).toEqual(ids.slice(6));
    expect(all.events.map((e) => e.id)).toEqual(ids);
    expect(fanout.streamCount).toBe(0);
  });

  it('stops delivering on unsubscribe and frees the slot', async () => {
    const fanout = open({ maxSubscribers: 1 });
    const subscription = fanout.subscribe('leave', '0');
    await until(() => fanout.streamCount === 1);
    const writer = new JobEventsWriter(redis.client, 'leave', { prefix: PREFIX, retentionSeconds: 60 });
    writer.emit('status', { status: 'active', attempt: 1 });
    await writer.close();
    await take(subscription, 1);
    subscription.close();
    expect(fanout.subscriberCount).toBe(0);
    expect(fanout.streamCount).toBe(0);
    writer.emit('stage', { stage: 'generating' });
    await writer.close();
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
    // The slot is free again.
    const again = fanout.subscribe('leave', '0');
    expect((await take(again, 2)).map((e) => e.type)).toEqual(['status', 'stage']);
  });

  it('refuses the subscriber past the cap with a clear, retryable error', () => {
    const fanout = open({ maxSubscribers: 3 });
    for (let i = 0; i < 3; i++) fanout.subscribe(`cap-${i}`);
    expect(() => fanout.subscribe('cap-3')).toThrow(SubscriberLimitError);
    expect(() => fanout.subscribe('cap-3')).toThrow(/limit/);
  });

  it.each([
    ['error that is not retried', 'error', { code: 'llm_failed', message: 'no', permanent: true, will_retry: false }],
    ['cancellation', 'status', { status: 'cancelled' }],
  ] as const)('ends the subscription on an %s', async (_, type, payload) => {
    const jobId = `end-${type}`;
    const fanout = open();
    const subscription = fanout.subscribe(jobId);
    await until(() => fanout.streamCount === 1);
    const writer = new JobEventsWriter(redis.client, jobId, { prefix: PREFIX, retentionSeconds: 60 });
    writer.emit('status', { status: 'active', attempt: 1 });
    writer.emit(type, payload);
    await writer.close();
    const received = drain(subscription);
    writer.emit('stage', { stage: 'after the end' });
    await writer.close();
    expect((await received).events.map((e) => e.type)).toEqual(['status', type]);
    expect(fanout.subscriberCount).toBe(0);
  });

  it('passes a retried attempt through: the failed attempt, its marker, then the next attempt to the end', async () => {
    const fanout = open();
    const subscription = fanout.subscribe('retried');
    const writer = new JobEventsWriter(redis.client, 'retried', { prefix: PREFIX, retentionSeconds: 60, flushMs: 1 });
    writer.emit('status', { status: 'active', attempt: 1 });
    writer.token('Half an ');
    writer.emit('error', { code: 'llm_timeout', message: 'timed out', permanent: false, will_retry: true });
    writer.emit('status', { status: 'active', attempt: 2 });
    writer.token('A whole answer.');
    writer.emit('done', { status: 'completed' });
    await writer.close();
    const { events } = await drain(subscription);
    expect(events.map((e) => `${e.type} ${e.data}`)).toEqual([
      'status {"status":"active","attempt":1}',
      'token {"text":"Half an "}',
      'error {"code":"llm_timeout","message":"timed out","permanent":false,"will_retry":true}',
      'status {"status":"active","attempt":2}',
      'token {"text":"A whole answer."}',
      'done {"status":"completed"}',
    ]);
  });

  it('interrupts a blocked read for a new subscriber instead of waiting for the block timeout', async () => {
    const fanout = open({ blockMs: 10_000 });
    fanout.subscribe('idle-job');
    await until(() => fanout.streamCount === 1);
    // Let the loop block on the first stream.
    await sleep(200);
    const started = Date.now();
    const subscription = fanout.subscribe('prompt');
    await until(() => fanout.streamCount === 2);
    const [{ events }] = await Promise.all([drain(subscription), answer(redis.client, 'prompt')]);
    expect(events.at(-1)?.type).toBe('done');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reads more streams than one XREAD takes in batches', async () => {
    const fanout = open({ streamsPerRead: 3, pollMs: 5 });
    const jobs = Array.from({ length: 10 }, (_, i) => `batch-${i}`);
    const received = Promise.all(jobs.map((jobId) => drain(fanout.subscribe(jobId))));
    await until(() => fanout.streamCount === 10);
    await Promise.all(jobs.map((jobId) => answer(redis.client, jobId, [jobId])));
    expect((await received).map(({ events }) => text(events))).toEqual(jobs);
  });

  it('drops a subscriber that does not keep up, with a clear error, without slowing the others', async () => {
    const fanout = open({ maxBufferedBytes: 2048 });
    const slow = fanout.subscribe('busy');
    const fast = fanout.subscribe('busy');
    await until(() => fanout.streamCount === 1 && fanout.subscriberCount === 2);
    const writer = new JobEventsWriter(redis.client, 'busy', { prefix: PREFIX, retentionSeconds: 60 });
    // Ten reads of ten 120-byte events: the slow one passes 2 KiB unread after two of them.
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 10; i++) writer.emit('citation', { n: batch * 10 + i, text: 'x'.repeat(100) });
      await writer.close();
      expect(await take(fast, 10)).toHaveLength(10);
    }
    writer.emit('done', { status: 'completed' });
    await writer.close();
    expect((await drain(fast)).events.map((e) => e.type)).toEqual(['done']);
    await expect(slow.next()).rejects.toThrow(SubscriberTooSlowError);
    expect(fanout.subscriberCount).toBe(0);
  });

  it('replays a long history page by page as the subscriber reads it, never dropping it', async () => {
    const writer = new JobEventsWriter(redis.client, 'long', { prefix: PREFIX, retentionSeconds: 60 });
    for (let i = 0; i < 1000; i++) writer.emit('citation', { n: i, text: 'x'.repeat(100) });
    writer.emit('done', { status: 'completed' });
    await writer.close();
    const subscription = open({ maxBufferedBytes: 4096, entriesPerRead: 20 }).subscribe('long');
    const events: StreamedJobEvent[] = [];
    for await (const event of subscription) {
      events.push(event);
      if (events.length % 50 === 0) await sleep(1);
    }
    expect(events.map((e) => e.id)).toEqual(await stored('long'));
  });

  describe('when Redis goes away', () => {
    let server: PrivateRedis;
    let client: Redis;
    let dir: TempDir;
    const args = ['--appendonly', 'yes', '--appendfsync', 'always'];
    beforeEach(async () => {
      dir = tempDir('rag-fanout-redis-');
      server = await startRedis({ dir: dir.path, args });
      client = new Redis(server.url);
    });
    afterEach(async () => {
      await closeFanouts();
      client.disconnect();
      await server.stop();
      dir.remove();
    });

    it('resumes every subscriber where it was after a restart within the outage bound', async () => {
      const fanout = open({ outageMs: 30_000 }, client);
      const subscription = fanout.subscribe('restart');
      await until(() => fanout.streamCount === 1);
      const writer = new JobEventsWriter(client, 'restart', { prefix: PREFIX, retentionSeconds: 600 });
      writer.emit('status', { status: 'active', attempt: 1 });
      writer.emit('stage', { stage: 'generating' });
      await writer.close();
      const before = await take(subscription, 2);

      await server.stop('SIGTERM');
      await sleep(300);
      server = await startRedis({ port: server.port, dir: dir.path, args });
      await until(async () => (await client.ping().catch(() => '')) === 'PONG');
      writer.emit('citation', { n: 1 });
      writer.emit('done', { status: 'completed' });
      await writer.close();

      const { events, error } = await drain(subscription);
      expect(error).toBeUndefined();
      const ids = (await client.xrange(jobEventsKey(PREFIX, 'restart'), '-', '+')).map(([id]) => id);
      expect([...before, ...events].map((e) => e.id)).toEqual(ids);
      expect(events.map((e) => e.type)).toEqual(['citation', 'done']);
    });

    it('ends every subscription with a retryable error when Redis stays away past the bound', async () => {
      const fanout = open({ outageMs: 500 }, client);
      const subscriptions = [fanout.subscribe('gone-1'), fanout.subscribe('gone-2')];
      await until(() => fanout.streamCount === 2);
      const writer = new JobEventsWriter(client, 'gone-1', { prefix: PREFIX, retentionSeconds: 600 });
      writer.emit('status', { status: 'active', attempt: 1 });
      await writer.close();
      const [seen] = await take(subscriptions[0], 1);
      await server.stop('SIGKILL');
      const results = await Promise.all(subscriptions.map(drain));
      for (const { error } of results) expect(error).toBeInstanceOf(JobEventsUnavailableError);
      expect(fanout.subscriberCount).toBe(0);

      // Once Redis is back, the client reconnects with its Last-Event-ID and gets the rest.
      server = await startRedis({ port: server.port, dir: dir.path, args });
      await until(async () => (await client.ping().catch(() => '')) === 'PONG');
      writer.emit('done', { status: 'completed' });
      await writer.close();
      expect((await drain(fanout.subscribe('gone-1', seen.id))).events.map((e) => e.type)).toEqual(['done']);
    });
  });
});

describe('JobEventsFanout on a Redis Cluster', () => {
  const CLUSTER_PREFIX = '{t}';
  let cluster: PrivateRedisCluster;
  let client: Redis;
  let fanout: JobEventsFanout;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = openRedis({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: cluster.nodesSetting });
  });
  afterEach(() => fanout?.close());
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  const clusterAnswer = async (jobId: string) => {
    const writer = new JobEventsWriter(client, jobId, { prefix: CLUSTER_PREFIX, retentionSeconds: 600, flushMs: 1, flushChars: 1 });
    writer.emit('status', { status: 'active', attempt: 1 });
    writer.emit('done', { status: 'completed' });
    await writer.close();
  };

  // A block far longer than the test may take: only CLIENT UNBLOCK, sent on the node that holds the read, lets the new stream in.
  it('interrupts the blocked read, on the node serving the slot, for a new subscriber', async () => {
    fanout = new JobEventsFanout(client, { prefix: CLUSTER_PREFIX, blockMs: 120_000 });
    fanout.subscribe('idle-job');
    await until(() => fanout.streamCount === 1);
    await sleep(200);
    const subscription = fanout.subscribe('prompt');
    await until(() => fanout.streamCount === 2);
    const [{ events, error }] = await Promise.all([drain(subscription), clusterAnswer('prompt')]);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['status', 'done']);
  }, 15_000);
});
