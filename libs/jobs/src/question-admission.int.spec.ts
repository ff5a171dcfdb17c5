import { cancelKey, cancelledKey } from '@rag/queue-contracts';
import { startRedis, type PrivateRedis } from '@rag/testing';
import Bull from 'bull';
import { QuestionAdmission, type AdmissionRequest } from './question-admission';

describe('QuestionAdmission (real Redis, real Bull queue)', () => {
  let redis: PrivateRedis;
  let queue: Bull.Queue;
  let admission: QuestionAdmission;
  const BIG = 1_000_000;

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Bull('rag-query', redis.url, { prefix: 'qa' });
    await queue.isReady();
    admission = new QuestionAdmission(queue, 'qa', 600);
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  const ask = (tenant: string, jobId: string, more: Partial<AdmissionRequest> = {}) =>
    admission.admit({ tenant, jobId, maxWaiting: BIG, maxPerTenant: BIG, ...more });

  /** Admits and adds, as the gateway does. */
  const add = async (tenant: string, id: string, cap = BIG) => {
    const admitted = await ask(tenant, id, { maxPerTenant: cap });
    if (admitted.outcome === 'admitted') {
      await queue.add('answer', { tenant }, { jobId: id });
      await admission.added(id);
    }
    return admitted;
  };

  it('counts each tenant separately and refuses at the cap', async () => {
    for (const id of ['a1', 'a2', 'a3']) expect((await add('acme', id, 3)).outcome).toBe('admitted');
    await add('globex', 'g1');
    expect(await ask('acme', 'a9', { maxPerTenant: 3 })).toEqual({ outcome: 'tenant_full', waiting: 3 });
    expect(await ask('globex', 'g9', { maxPerTenant: 2 })).toEqual({ outcome: 'admitted', waiting: 2 });
    await admission.release('globex', 'g9', false);
    expect(await queue.client.zrange(admission.tenantKey('globex'), 0, -1)).toEqual(['g1']);
    expect(await queue.client.ttl(admission.tenantKey('acme'))).toBeGreaterThan(590);
  });

  it('at the cap, drops jobs a worker has started or that are gone, and keeps those still waiting or just reserved', async () => {
    await add('acme', 'a4');
    // Reserved a moment ago, not in Bull yet (its gateway is between the admission and the add): it still counts.
    expect((await ask('acme', 'a5')).outcome).toBe('admitted');
    // A worker takes the two oldest jobs (a1, a2) and holds them; a3 is cancelled (removed).
    const release: Array<() => void> = [];
    const taken: string[] = [];
    let holding = true;
    void queue.process('answer', 2, (job) => {
      taken.push(String(job.id));
      return holding ? new Promise<void>((resolve) => release.push(resolve)) : Promise.resolve();
    });
    for (let i = 0; i < 200 && taken.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(taken.sort()).toEqual(['a1', 'a2']);
    await (await queue.getJob('a3'))!.remove();
    expect(await queue.client.zcard(admission.tenantKey('acme'))).toBe(5);
    expect(await ask('acme', 'a6', { maxPerTenant: 5 })).toEqual({ outcome: 'admitted', waiting: 3 });
    expect(await queue.client.zrange(admission.tenantKey('acme'), 0, -1)).toEqual(['a4', 'a5', 'a6']);
    holding = false;
    release.forEach((r) => r());
    await queue.pause(true);
    await admission.release('acme', 'a5', false);
    await admission.release('acme', 'a6', false);
  });

  it('counts reservations not yet added against the global cap', async () => {
    await queue.empty();
    await queue.add('answer', { tenant: 'x' }, { jobId: 'w1' });
    expect((await ask('x', 'r1', { maxWaiting: 3 })).outcome).toBe('admitted');
    expect((await ask('y', 'r2', { maxWaiting: 3 })).outcome).toBe('admitted');
    expect(await ask('z', 'r3', { maxWaiting: 3 })).toEqual({ outcome: 'overloaded', waiting: 3 });
    await admission.release('x', 'r1', false);
    await admission.release('y', 'r2', false);
    expect((await ask('z', 'r3', { maxWaiting: 3 })).outcome).toBe('admitted');
    await admission.release('z', 'r3', false);
  });

  it('admits exactly the cap when many ask at once over several connections', async () => {
    const queues = [queue, new Bull('rag-query', redis.url, { prefix: 'qa' }), new Bull('rag-query', redis.url, { prefix: 'qa' })];
    try {
      await Promise.all(queues.map((q) => q.isReady()));
      const admissions = queues.map((q) => new QuestionAdmission(q, 'qa', 600));
      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            admissions[i % admissions.length].admit({ tenant: `burst${round}`, jobId: `b${round}-${i}`, maxWaiting: BIG, maxPerTenant: 5 }),
          ),
        );
        expect(outcomes.filter((o) => o.outcome === 'admitted')).toHaveLength(5);
        expect(outcomes.filter((o) => o.outcome === 'tenant_full')).toHaveLength(55);
      }
    } finally {
      await Promise.all(queues.slice(1).map((q) => q.close()));
    }
  });

  describe('idempotency keys', () => {
    const keyed = (jobId: string, fingerprint: string) => ask('hooli', jobId, { fingerprint });

    it('replays the same request, refuses a different one, while the job is reserved, queued or cancelled', async () => {
      expect((await keyed('k1', 'body-a')).outcome).toBe('admitted');
      // Reserved, not yet added: a second request with the key must not make a second job.
      expect((await keyed('k1', 'body-a')).outcome).toBe('replay');
      expect((await keyed('k1', 'body-b')).outcome).toBe('conflict');
      await queue.add('answer', { tenant: 'hooli' }, { jobId: 'k1' });
      await admission.added('k1');
      expect((await keyed('k1', 'body-a')).outcome).toBe('replay');
      // Cancelled while waiting: the job is removed, its cancelled record stays, and the key keeps pointing at it.
      await queue.client.set(cancelKey('qa', 'k1'), '1', 'EX', 600);
      await (await queue.getJob('k1'))!.remove();
      await queue.client.set(cancelledKey('qa', 'k1'), '{}', 'EX', 600);
      await queue.client.del(cancelKey('qa', 'k1'));
      expect((await keyed('k1', 'body-a')).outcome).toBe('replay');
    });

    it('admits with only one of many concurrent requests carrying one key', async () => {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => keyed('k2', i % 2 ? 'body-a' : 'body-b')));
      const admitted = outcomes.filter((o) => o.outcome === 'admitted');
      expect(admitted).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'replay')).toHaveLength(9);
      expect(outcomes.filter((o) => o.outcome === 'conflict')).toHaveLength(10);
      await admission.release('hooli', 'k2', true);
    });

    it('starts afresh once a failed add was released, and past a record whose job was never added', async () => {
      expect((await keyed('k3', 'body-a')).outcome).toBe('admitted');
      await admission.release('hooli', 'k3', true);
      expect((await keyed('k3', 'body-b')).outcome).toBe('admitted');
      // The gateway died after the admission: once the reservation lapses, the record points at nothing.
      await queue.client.zrem('qa:admitting:rag-query', 'k3');
      expect((await keyed('k3', 'body-c')).outcome).toBe('admitted');
      await admission.release('hooli', 'k3', true);
    });

    it('keeps the key on a job whose cancel was asked for, before the cancelled record is written', async () => {
      expect((await keyed('k5', 'body-a')).outcome).toBe('admitted');
      await queue.add('answer', { tenant: 'hooli' }, { jobId: 'k5' });
      await admission.added('k5');
      // The cancel route's order: the signal first, then the removal, then the record.
      await queue.client.set(cancelKey('qa', 'k5'), '1', 'EX', 600);
      await (await queue.getJob('k5'))!.remove();
      expect((await keyed('k5', 'body-a')).outcome).toBe('replay');
      expect((await keyed('k5', 'body-b')).outcome).toBe('conflict');
    });

    it('says `existing` for a job kept longer than its idempotency record', async () => {
      await queue.add('answer', { tenant: 'hooli' }, { jobId: 'k4' });
      expect((await keyed('k4', 'body-a')).outcome).toBe('existing');
    });
  });
});
