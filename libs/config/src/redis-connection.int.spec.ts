import { startRedis, startRedisCluster, startRedisSentinel, type PrivateRedis, type PrivateRedisCluster, type PrivateRedisSentinel } from '@rag/testing';
import type { Redis } from 'ioredis';
import { duplicateRedis, isRedisCluster, openRedis, redisNodeFor } from './redis-connection';

// openRedis against real servers: one redis-server, a 3-master cluster, and a
// master with a replica behind a sentinel. REDIS_URL points where nothing
// listens whenever it should not be used.
const NOWHERE = 'redis://127.0.0.1:1';

describe('openRedis', () => {
  const opened: Redis[] = [];
  const track = (redis: Redis) => (opened.push(redis), redis);
  afterEach(() => opened.splice(0).forEach((r) => r.disconnect()));

  describe('one server (REDIS_URL)', () => {
    let server: PrivateRedis;
    beforeAll(async () => (server = await startRedis()));
    afterAll(() => server?.stop());

    it('connects to REDIS_URL with the options given, and duplicates with changed options', async () => {
      const redis = track(openRedis({ REDIS_URL: server.url }, { connectionName: 'first' }));
      expect(isRedisCluster(redis)).toBe(false);
      expect(await redis.client('GETNAME')).toBe('first');
      const copy = track(duplicateRedis(redis, { connectionName: 'second' }));
      expect(await copy.client('GETNAME')).toBe('second');
      expect(await redisNodeFor(redis, 'any')).toBe(redis);
    });
  });

  describe('a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
    let cluster: PrivateRedisCluster;
    beforeAll(async () => (cluster = await startRedisCluster()));
    afterAll(() => cluster?.stop());

    it('runs a MULTI and a script over keys of one hash tag, and refuses keys of two slots', async () => {
      const redis = track(openRedis({ REDIS_URL: NOWHERE, REDIS_CLUSTER_NODES: cluster.nodesSetting }));
      expect(isRedisCluster(redis)).toBe(true);
      expect(await redis.multi().set('{t}:a', '1').set('{t}:b', '2').exec()).toEqual([
        [null, 'OK'],
        [null, 'OK'],
      ]);
      expect(await redis.eval("return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])", 2, '{t}:a', '{t}:b')).toBe('12');
      await expect(redis.eval("return redis.call('GET', KEYS[1])", 2, 't:a', 'u:b')).rejects.toThrow(/CROSSSLOT/);
    });

    it("duplicates with the same nodes and changed options, and finds the connection to a key's master", async () => {
      const redis = track(openRedis({ REDIS_URL: NOWHERE, REDIS_CLUSTER_NODES: cluster.nodesSetting }, { connectionName: 'first' }));
      const copy = track(duplicateRedis(redis, { connectionName: 'second', lazyConnect: true }));
      expect(isRedisCluster(copy)).toBe(true);
      expect(copy.status).toBe('wait');
      await copy.set('{t}:c', '3');
      const node = await redisNodeFor(copy, '{t}:c');
      expect(node.options.port).toBe((await cluster.masterOf('{t}:c')).port);
      expect(await node.client('GETNAME')).toBe('second');
      expect(await node.get('{t}:c')).toBe('3');
    });
  });

  describe('Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME)', () => {
    let sentinel: PrivateRedisSentinel;
    beforeAll(async () => (sentinel = await startRedisSentinel()));
    afterAll(() => sentinel?.stop());

    it('connects to the master the sentinel names, and duplicates so', async () => {
      const settings = { REDIS_URL: NOWHERE, REDIS_SENTINELS: sentinel.sentinelsSetting, REDIS_SENTINEL_NAME: sentinel.name };
      const redis = track(openRedis(settings));
      await redis.set('k', 'v');
      expect(await redis.info('server')).toContain(`tcp_port:${sentinel.master.port}`);
      const copy = track(duplicateRedis(redis, { connectionName: 'copy' }));
      expect(await copy.info('server')).toContain(`tcp_port:${sentinel.master.port}`);
      expect(await copy.client('GETNAME')).toBe('copy');
    });
  });
});
