import { useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { withJobSigningKey } from './job-signature';

describe('withJobSigningKey (real Redis)', () => {
  const redis = useRedisSuite();

  it('shares one generated key between processes when none is configured, and prefers a configured one', async () => {
    const gateway = await withJobSigningKey(redis.client, { JOB_SIGNING_KEY: '', QUEUE_PREFIX: 'sig' });
    const second = new Redis(redis.url);
    const worker = await withJobSigningKey(second, { JOB_SIGNING_KEY: '', QUEUE_PREFIX: 'sig' }).finally(() => second.disconnect());
    expect(gateway.JOB_SIGNING_KEY).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(worker.JOB_SIGNING_KEY).toBe(gateway.JOB_SIGNING_KEY);
    expect(await redis.client.get('sig:job-signing-key')).toBe(gateway.JOB_SIGNING_KEY);
    // Another deployment (prefix) has its own.
    expect((await withJobSigningKey(redis.client, { JOB_SIGNING_KEY: '', QUEUE_PREFIX: 'other' })).JOB_SIGNING_KEY).not.toBe(gateway.JOB_SIGNING_KEY);
    const configured = 'configured-job-signing-key-0123456789abcdef';
    expect((await withJobSigningKey(redis.client, { JOB_SIGNING_KEY: configured, QUEUE_PREFIX: 'sig' })).JOB_SIGNING_KEY).toBe(configured);
  });
});
