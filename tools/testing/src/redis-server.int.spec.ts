import { ping, startRedis } from './redis-server';

describe('startRedis', () => {
  it('starts a private redis-server on a free port and stops it', async () => {
    const a = await startRedis();
    const b = await startRedis();
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.url).toBe(`redis://127.0.0.1:${a.port}`);
      expect(await ping(a.port)).toBe(true);
      expect(await ping(b.port)).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(await ping(a.port)).toBe(false);
  });

  it('passes extra arguments to redis-server', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'yes'] });
    try {
      const { default: Redis } = await import('ioredis');
      const client = new Redis(redis.url);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      client.disconnect();
    } finally {
      await redis.stop();
    }
  });
});
