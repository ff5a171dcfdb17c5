import { useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { WorkerHeartbeats } from './worker-heartbeats';

const identity = (pid: number) => ({
  host: 'box-1',
  pid,
  version: '1.2.3',
  queues: [
    { name: 'rag-query', concurrency: 4 },
    { name: 'rag-ingest', concurrency: 1 },
  ],
});

describe('WorkerHeartbeats (real Redis)', () => {
  const redis = useRedisSuite();

  it('lists a running worker with its identity, queues and jobs in flight, and forgets it on a graceful stop', async () => {
    const heartbeats = new WorkerHeartbeats(redis.client, { prefix: 'hb1', staleSeconds: 30 });
    const heartbeat = await heartbeats.start(identity(4242));
    let release!: () => void;
    const running = heartbeat.track('rag-query', () => new Promise<string>((resolve) => (release = () => resolve('done'))))({});
    await heartbeat.beat();
    const [worker] = await heartbeats.list();
    expect(worker).toMatchObject({
      id: heartbeat.id,
      host: 'box-1',
      pid: 4242,
      version: '1.2.3',
      stale: false,
      queues: [
        { name: 'rag-query', concurrency: 4, active: 1 },
        { name: 'rag-ingest', concurrency: 1, active: 0 },
      ],
    });
    expect(Date.parse(worker.last_seen)).toBeGreaterThan(Date.now() - 10_000);
    expect(worker.age_seconds).toBeLessThan(5);
    release();
    expect(await running).toBe('done');
    await heartbeat.beat();
    expect((await heartbeats.list())[0].queues[0].active).toBe(0);
    expect(await heartbeats.aliveCount()).toBe(1);

    await heartbeat.stop();
    expect(await heartbeats.list()).toEqual([]);
    expect(await redis.client.keys('hb1:*')).toEqual([]);
  });

  it('gives every key it writes an expiry', async () => {
    const heartbeats = new WorkerHeartbeats(redis.client, { prefix: 'hb2', staleSeconds: 30 });
    const heartbeat = await heartbeats.start(identity(1));
    const keys = await redis.client.keys('hb2:*');
    expect(keys.sort()).toEqual(['hb2:worker:' + heartbeat.id, 'hb2:workers']);
    for (const key of keys) {
      const ttl = await redis.client.ttl(key);
      expect([key, ttl > 0 && ttl <= 60]).toEqual([key, true]);
    }
    await heartbeat.stop();
  });

  it('marks a worker that stopped beating as stale, then drops it once its key expires', async () => {
    const heartbeats = new WorkerHeartbeats(redis.client, { prefix: 'hb3', staleSeconds: 5 });
    const live = await heartbeats.start(identity(1));
    // A crashed worker: it beat once over its own connection, then the connection died with it, no goodbye.
    const crashedClient = new Redis(redis.url);
    const crashed = await new WorkerHeartbeats(crashedClient, { prefix: 'hb3', staleSeconds: 5 }).start(identity(2));
    const beatErrors: unknown[] = [];
    crashed.onBeatError((error) => beatErrors.push(error));
    crashedClient.disconnect();
    const deadline = Date.now() + 20_000;
    let listed = await heartbeats.list();
    while (Date.now() < deadline && !listed.some((w) => w.pid === 2 && w.stale)) {
      await new Promise((r) => setTimeout(r, 500));
      listed = await heartbeats.list();
    }
    expect(listed.map((w) => [w.pid, w.stale]).sort()).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(await heartbeats.aliveCount()).toBe(1);
    expect(beatErrors.length).toBeGreaterThan(0);
    // Its key lapses after twice the stale time; the index forgets it on the next read.
    await redis.client.del(`hb3:worker:${crashed.id}`);
    expect((await heartbeats.list()).map((w) => w.pid)).toEqual([1]);
    expect(await redis.client.zrange('hb3:workers', 0, -1)).toEqual([live.id]);
    await live.stop();
  }, 30_000);

  it('counts none alive when the only worker is stale', async () => {
    const heartbeats = new WorkerHeartbeats(redis.client, { prefix: 'hb4', staleSeconds: 5 });
    expect(await heartbeats.aliveCount()).toBe(0);
    // A heartbeat written 6 s ago by Redis's clock.
    const [seconds] = await redis.client.time();
    const seen = Number(seconds) * 1000 - 6000;
    await redis.client.set(
      'hb4:worker:old',
      JSON.stringify({
        id: 'old',
        host: 'h',
        pid: 9,
        version: 'v',
        queues: [],
        started_at: new Date(seen).toISOString(),
        last_seen: new Date(seen).toISOString(),
      }),
      'EX',
      10,
    );
    await redis.client.zadd('hb4:workers', seen, 'old');
    const [old] = await heartbeats.list();
    expect(old).toMatchObject({ id: 'old', stale: true });
    expect(old.age_seconds).toBeGreaterThanOrEqual(6);
    expect(await heartbeats.aliveCount()).toBe(0);
  });
});
