import { jobEventsKey } from '@rag/queue-contracts';
import { useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { JobEventsWriter } from './job-events.writer';

describe('JobEventsWriter (real Redis)', () => {
  const redis = useRedisSuite();

  const read = async (jobId: string) =>
    (await redis.client.xrange(jobEventsKey('t', jobId), '-', '+')).map(([, fields]) => ({ type: fields[1], data: JSON.parse(fields[3]) }));

  it('writes events in order, batching tokens, and expires the stream with the job', async () => {
    const writer = new JobEventsWriter(redis.client, 'job-1', { prefix: 't', retentionSeconds: 600, flushChars: 10, flushMs: 1000 });
    writer.emit('stage', { stage: 'generating' });
    for (const piece of ['New ', 'employees ', 'get ', '25 ', 'days ', '[1]']) writer.token(piece);
    writer.emit('done', { status: 'completed' });
    await writer.close();

    const events = await read('job-1');
    expect(events[0]).toEqual({ type: 'stage', data: { stage: 'generating' } });
    expect(events[events.length - 1]).toEqual({ type: 'done', data: { status: 'completed' } });
    const tokens = events.filter((e) => e.type === 'token').map((e) => e.data.text as string);
    expect(tokens.join('')).toBe('New employees get 25 days [1]');
    // Batched: fewer stream entries than pieces, none much over the flush size.
    expect(tokens.length).toBeLessThan(6);
    expect(tokens.length).toBeGreaterThan(1);
    const ttl = await redis.client.ttl(jobEventsKey('t', 'job-1'));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('flushes a small tail of tokens after the flush interval', async () => {
    const writer = new JobEventsWriter(redis.client, 'job-2', { prefix: 't', retentionSeconds: 60, flushChars: 1000, flushMs: 30 });
    writer.token('tail');
    await new Promise((r) => setTimeout(r, 150));
    expect(await read('job-2')).toEqual([{ type: 'token', data: { text: 'tail' } }]);
    await writer.close();
  });

  const execs = async () => Number(/cmdstat_exec:calls=(\d+)/.exec(await redis.client.info('commandstats'))?.[1] ?? 0);

  it('sends the events emitted in one turn of the event loop in one write, in order', async () => {
    await redis.client.config('RESETSTAT');
    const writer = new JobEventsWriter(redis.client, 'job-4', { prefix: 't', retentionSeconds: 60 });
    writer.emit('status', { status: 'active' });
    for (const stage of ['retrieving', 'generating']) writer.emit('stage', { stage });
    for (let n = 1; n <= 5; n++) writer.emit('citation', { n });
    writer.emit('done', { status: 'completed' });
    await writer.close();

    const events = await read('job-4');
    expect(events.map((e) => e.type)).toEqual(['status', 'stage', 'stage', 'citation', 'citation', 'citation', 'citation', 'citation', 'done']);
    expect(events.filter((e) => e.type === 'citation').map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5]);
    expect(await execs()).toBe(1);
  });

  it("writes many jobs' events through one connection together: what is emitted during a write goes in the next", async () => {
    await redis.client.config('RESETSTAT');
    const writers = Array.from({ length: 20 }, (_, n) => new JobEventsWriter(redis.client, `many-${n}`, { prefix: 't', retentionSeconds: 60 }));
    writers.forEach((w, n) => w.emit('status', { status: 'active', n }));
    // Emitted on the next turns, while the first write is in flight: they wait for it, then go out together.
    await new Promise((resolve) => setImmediate(resolve));
    writers.forEach((w, n) => w.emit('stage', { stage: 'retrieving', n }));
    await new Promise((resolve) => setImmediate(resolve));
    writers.forEach((w, n) => w.emit('done', { status: 'completed', n }));
    await Promise.all(writers.map((w) => w.close()));

    for (const [n] of writers.entries()) {
      const events = await read(`many-${n}`);
      expect(events.map((e) => [e.type, e.data.n])).toEqual([
        ['status', n],
        ['stage', n],
        ['done', n],
      ]);
      expect(await redis.client.ttl(jobEventsKey('t', `many-${n}`))).toBeGreaterThan(50);
    }
    // 60 events of 20 jobs: one write for the first turn's, at most one more for each later turn.
    expect(await execs()).toBeLessThanOrEqual(3);
    expect(await execs()).toBeGreaterThanOrEqual(1);
  });

  it('reports a failed write when closed', async () => {
    const broken = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const writer = new JobEventsWriter(broken, 'job-3', { prefix: 't', retentionSeconds: 60 });
    writer.emit('status', { status: 'active' });
    await expect(writer.close()).rejects.toThrow();
    broken.disconnect();
  });
});
