import { openRedis, type Config } from '@rag/config';
import type { Redis } from 'ioredis';

/** A Redis connection for one command: fails within 5 s, saying what to do, instead of retrying for ever. */
export async function connectRedis(config: Config): Promise<Redis> {
  const redis = openRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await Promise.race([redis.connect(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000).unref())]);
  } catch (error) {
    redis.disconnect();
    throw new Error('cannot reach Redis at REDIS_URL; start it or set REDIS_URL', { cause: error });
  }
  return redis;
}
