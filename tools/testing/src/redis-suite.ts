import Redis from 'ioredis';
import { startRedis, type PrivateRedis } from './redis-server';
import { startedFields } from './suite-fields';

export interface RedisSuite {
  /** The private server's URL, for more connections of the test's own. */
  readonly url: string;
  /** One connection shared by the suite's tests. */
  readonly client: Redis;
}

/**
 * A private redis-server and one client for the enclosing `describe`: started
 * before its tests, disconnected and stopped after them. Read its fields
 * inside hooks and tests (they exist only once the suite has started).
 */
export function useRedisSuite(): RedisSuite {
  let server: PrivateRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return startedFields<RedisSuite>('useRedisSuite', { url: () => server?.url, client: () => client });
}
