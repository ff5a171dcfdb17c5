import Redis from 'ioredis';
import { HttpError } from './http-error';
import { isRedisUnavailable, queueCall } from './queue-unavailable';

/** What a real ioredis client rejects a command with, no server involved. */
async function rejection(client: Redis): Promise<unknown> {
  client.on('error', () => undefined);
  try {
    await client.get('k');
  } catch (error) {
    return error;
  } finally {
    client.disconnect();
  }
  throw new Error('the command did not fail');
}

describe('isRedisUnavailable', () => {
  it("knows ioredis's errors for a client without a connection", async () => {
    // The gateway's fail-fast client: no offline queue.
    const offline = await rejection(new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null }));
    expect(isRedisUnavailable(offline)).toBe(true);
    const closed = new Redis({ port: 1, lazyConnect: true });
    closed.disconnect();
    expect(isRedisUnavailable(await rejection(closed))).toBe(true);
  });

  it("knows Redis's answers while a failover moves the master (Sentinel or Cluster), so they are a 503 to retry, not a 500", () => {
    for (const message of [
      "READONLY You can't write against a read only replica.",
      'NOREPLICAS Not enough good replicas to write.',
      'LOADING Redis is loading the dataset in memory',
      'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
    ])
      expect(isRedisUnavailable(Object.assign(new Error(message), { name: 'ReplyError' }))).toBe(true);
    expect(isRedisUnavailable(Object.assign(new Error('ERR unknown command'), { name: 'ReplyError' }))).toBe(false);
  });

  it('looks through causes, and leaves other errors alone', () => {
    expect(isRedisUnavailable(new Error('wrapped', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }) }))).toBe(
      true,
    );
    expect(isRedisUnavailable(new Error('boom'))).toBe(false);
    expect(isRedisUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRedisUnavailable('Connection is closed.')).toBe(false);
    expect(isRedisUnavailable(undefined)).toBe(false);
  });
});

describe('queueCall', () => {
  it('turns a failure into 503 queue_unavailable with Retry-After, and lets HTTP errors through', async () => {
    const error = await queueCall(() => Promise.reject(new Error('Connection is closed.'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 503, code: 'queue_unavailable', details: { retry_after_seconds: 5 } });
    const notFound = new HttpError(404, 'job_not_found', 'no such job');
    await expect(queueCall(() => Promise.reject(notFound))).rejects.toBe(notFound);
  });
});
