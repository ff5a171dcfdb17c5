import { keysWithoutExpiry, useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { CancelSignals, JobCancelledError, requestCancel } from './cancel-signals';
import { ALL_TENANTS, DeadLetters } from './dead-letters';

describe('DeadLetters and CancelSignals (real Redis)', () => {
  const redis = useRedisSuite();

  const letter = (id: string, at: number) => ({
    job_id: id,
    queue: 'rag-query',
    job_name: 'answer',
    payload: { query: id },
    final_error: 'boom',
    failed_at: new Date(at).toISOString(),
  });

  it('keeps attempts with the letter, lists newest first, and is bounded by count', async () => {
    const dlq = new DeadLetters(redis.client, { prefix: 'a', jobRetentionSeconds: 60, retentionSeconds: 3600, maxEntries: 3 });
    await dlq.recordAttempt('j1', { attempt: 1, started_at: 'x', duration_ms: 5, error: 'timeout', permanent: false });
    await dlq.recordAttempt('j1', { attempt: 2, started_at: 'y', duration_ms: 7, error: '500', permanent: false });
    const now = Date.now();
    await dlq.add(letter('j1', now - 4000));
    for (const [i, id] of ['j2', 'j3', 'j4'].entries()) await dlq.add(letter(id, now - 3000 + i * 1000));
    const { total, items } = await dlq.list(ALL_TENANTS);
    expect(total).toBe(3);
    expect(items.map((d) => d.job_id)).toEqual(['j4', 'j3', 'j2']);
    expect(await dlq.get(ALL_TENANTS, 'j2')).toMatchObject({ payload: { query: 'j2' }, attempts: [], replays: 0 });
    // j1 was the oldest and was dropped from the index when the fourth arrived.
    expect(items.some((d) => d.job_id === 'j1')).toBe(false);
    const j1 = await dlq.get(ALL_TENANTS, 'j1');
    expect(j1?.attempts.map((a) => a.error)).toEqual(['timeout', '500']);
    // Every key it wrote expires, the index included.
    expect(await keysWithoutExpiry(redis.client, 'a')).toEqual([]);
  });

  it('counts replays of a job that fails again, and purges', async () => {
    const dlq = new DeadLetters(redis.client, { prefix: 'b', jobRetentionSeconds: 60, retentionSeconds: 3600, maxEntries: 10 });
    await dlq.add(letter('r1', Date.now()));
    expect((await dlq.take(ALL_TENANTS, 'r1'))?.job_id).toBe('r1');
    expect(await dlq.get(ALL_TENANTS, 'r1')).toBeUndefined();
    expect(await dlq.take(ALL_TENANTS, 'r1')).toBeUndefined();
    await dlq.add(letter('r1', Date.now()));
    expect((await dlq.get(ALL_TENANTS, 'r1'))?.replays).toBe(1);
    expect(await dlq.purge(ALL_TENANTS)).toBe(1);
    expect((await dlq.list(ALL_TENANTS)).total).toBe(0);
  });

  it("scopes every operation to a tenant: one tenant's admin never lists, reads, takes or purges another's", async () => {
    const dlq = new DeadLetters(redis.client, { prefix: 'd', jobRetentionSeconds: 60, retentionSeconds: 3600, maxEntries: 2 });
    const owned = (id: string, tenant: string | undefined, at: number) => ({ ...letter(id, at), payload: { query: id, ...(tenant ? { tenant } : {}) } });
    const now = Date.now();
    await dlq.add(owned('a1', 'acme', now - 3000));
    await dlq.add(owned('g1', 'globex', now - 2000));
    await dlq.add(owned('a2', 'acme', now - 1000));
    // No tenant (or one that is no tenant name): operators only.
    await dlq.add(owned('n1', undefined, now - 500));
    await dlq.add({ ...owned('x1', 'acme', now - 400), tenant: null });
    const acme = { tenant: 'acme' };
    expect((await dlq.list(acme)).items.map((d) => [d.job_id, d.tenant])).toEqual([
      ['a2', 'acme'],
      ['a1', 'acme'],
    ]);
    expect((await dlq.list({ tenant: 'globex' })).items.map((d) => d.job_id)).toEqual(['g1']);
    expect(await dlq.get(acme, 'g1')).toBeUndefined();
    expect(await dlq.get(acme, 'n1')).toBeUndefined();
    expect(await dlq.get(acme, 'x1')).toBeUndefined();
    expect(await dlq.get(ALL_TENANTS, 'x1')).toMatchObject({ tenant: null });
    expect(await dlq.take(acme, 'g1')).toBeUndefined();
    expect(await dlq.get(ALL_TENANTS, 'g1')).toMatchObject({ tenant: 'globex' });
    // Each index is bounded by count (2 here), the tenant's own included.
    await dlq.add(owned('a3', 'acme', now - 100));
    expect((await dlq.list(acme)).items.map((d) => d.job_id)).toEqual(['a3', 'a2']);
    expect(await dlq.purge(acme)).toBe(2);
    expect((await dlq.list(acme)).total).toBe(0);
    expect(await dlq.get(ALL_TENANTS, 'g1')).toBeDefined();
    expect((await dlq.list({ tenant: 'globex' })).total).toBe(1);
    expect(await keysWithoutExpiry(redis.client, 'd')).toEqual([]);
    await dlq.purge(ALL_TENANTS);
    expect((await dlq.list({ tenant: 'globex' })).total).toBe(0);
    expect(await redis.client.exists('d:dlq', 'd:dlq-tenant:acme', 'd:dlq-tenant:globex', 'd:dlq-tenants')).toBe(0);
  });

  it('aborts a tracked job when its cancellation is published, and at once when it was asked for before', async () => {
    const subscriber = new Redis(redis.url);
    const signals = new CancelSignals(subscriber, redis.client, 'c');
    await signals.start();
    try {
      const running = await signals.track('job-a');
      expect(running.aborted).toBe(false);
      await requestCancel(redis.client, 'c', 'job-a', 60);
      for (let i = 0; i < 50 && !running.aborted; i++) await new Promise((r) => setTimeout(r, 10));
      expect(running.aborted).toBe(true);
      expect(running.reason).toBeInstanceOf(JobCancelledError);

      await requestCancel(redis.client, 'c', 'job-b', 60);
      expect((await signals.track('job-b')).aborted).toBe(true);
      expect((await signals.track('job-c')).aborted).toBe(false);
      signals.release('job-a');
      signals.release('job-b');
      signals.release('job-c');
      expect(signals.tracked).toBe(0);
    } finally {
      subscriber.disconnect();
    }
  });
});
