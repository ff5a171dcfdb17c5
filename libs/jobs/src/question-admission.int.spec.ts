import { cancelKey, cancelledKey } from '@rag/queue-contracts';
import { startRedis, type PrivateRedis } from '@rag/testing';
import Bull from 'bull';
import { QuestionAdmission, type AdmissionRequest } from './question-admission';
import { queryJobOptions } from './queues';

const OPTIONS = { JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 1000, JOB_RETENTION_SECONDS: 600 };

describe.each([
  ['first in, first out', false],
  ['fair share', true],
])('QuestionAdmission, %s (real Redis, real Bull queue)', (_mode, fairShare) => {
  let redis: PrivateRedis;
  let queue: Bull.Queue;
  let admission: QuestionAdmission;
  const BIG = 1_000_000;

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Bull('rag-query', redis.url, { prefix: 'qa' });
    await queue.isReady();
    admission = new QuestionAdmission(queue, 'qa', 600, fairShare);
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  /** Admits (and so adds) job `jobId` of `tenant`, as the gateway does. */
  const ask = (tenant: string, jobId: string, more: Partial<AdmissionRequest> = {}, on = admission) =>
    on.admit(
      { tenant, jobId, maxWaiting: BIG, maxPerTenant: BIG, ...more },
      { name: 'answer', data: { tenant, jobId }, opts: queryJobOptions(OPTIONS, jobId) },
    );
  const waitingIds = async () => (await queue.getWaiting()).map((j) => String(j.id)).sort();

  it('adds the job exactly as Bull’s own add does: its record, the wait list (paused: the paused list), the id counter, the event', async () => {
    const data = { tenant: 'acme', query: 'héllo "world"', nested: { list: [1, 2], none: null } };
    const opts = queryJobOptions(OPTIONS, 'mine');
    // Bull's `waiting` event, as its own add publishes it (the channel Bull's queues listen on for global:waiting).
    const events: string[] = [];
    const listener = queue.client.duplicate();
    listener.on('pmessage', (_pattern: string, _channel: string, id: string) => events.push(id));
    await listener.psubscribe('qa:rag-query:waiting@*');
    // With fair share, Bull's own prioritized add of the priority (tag) our job gets: the first tag, 2.
    await queue.add('answer', data, { ...opts, jobId: 'bulls', ...(fairShare ? { priority: 2 } : {}) });
    const counter = Number(await queue.client.get('qa:rag-query:id'));
    expect(await admission.admit({ tenant: 'acme', jobId: 'mine', maxWaiting: BIG, maxPerTenant: BIG }, { name: 'answer', data, opts })).toEqual({
      outcome: 'admitted',
      waiting: 1,
    });
    expect(Number(await queue.client.get('qa:rag-query:id'))).toBe(counter + 1);
    const [bulls, mine] = await Promise.all([queue.client.hgetall('qa:rag-query:bulls'), queue.client.hgetall('qa:rag-query:mine')]);
    const comparable = (h: Record<string, string>) => {
      const { timestamp, opts: o, ...rest } = h;
      // Bull keeps a priority in the options too; Bull reads it from the record's own field, compared here.
      const { priority: _priority, ...parsed } = JSON.parse(o) as Record<string, unknown>;
      expect(Number(timestamp)).toBe(parsed.timestamp);
      return { ...rest, opts: { ...parsed, jobId: 'id', timestamp: 0 } };
    };
    expect(comparable(mine)).toEqual(comparable(bulls));
    // Bull reads the job back as it reads its own: same data, options (attempts, backoff, retention) and state.
    const [theirs, ours] = await Promise.all([queue.getJob('bulls'), queue.getJob('mine')]);
    expect(ours!.data).toEqual(theirs!.data);
    expect({ ...ours!.opts, jobId: 'id', timestamp: 0 }).toEqual({ ...theirs!.opts, jobId: 'id', timestamp: 0, priority: undefined });
    expect(await ours!.getState()).toBe('waiting');
    expect(await queue.client.lrange('qa:rag-query:wait', 0, -1)).toEqual(['mine', 'bulls']);
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['bulls', 'mine']);
    listener.disconnect();

    // Paused, the job goes to the paused list, as Bull's add puts it; a worker then runs it with its data.
    await queue.pause();
    await ask('acme', 'paused-1');
    expect(await queue.client.lrange('qa:rag-query:paused', 0, -1)).toContain('paused-1');
    const ran: unknown[] = [];
    void queue.process('answer', 1, async (job) => {
      ran.push(job.data);
    });
    await queue.resume();
    for (let i = 0; i < 200 && ran.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual(expect.arrayContaining([data, { tenant: 'acme', jobId: 'paused-1' }]));
    expect(await (await queue.getJob('mine'))!.getState()).toBe('completed');
    await queue.pause(true);
    await queue.empty();
    await queue.client.del(admission.tenantKey('acme'));
  });

  it('refuses options its add does not implement, and a job id that is not the request’s', async () => {
    const admit = (opts: Bull.JobOptions) =>
      admission.admit({ tenant: 'acme', jobId: 'x', maxWaiting: BIG, maxPerTenant: BIG }, { name: 'answer', data: {}, opts });
    await expect(admit({ jobId: 'x', delay: 10 })).rejects.toThrow(/delay, priority/);
    await expect(admit({ jobId: 'x', priority: 2 })).rejects.toThrow(/delay, priority/);
    await expect(admit({ jobId: 'y' })).rejects.toThrow(/not the admitted x/);
    expect(await queue.getJob('x')).toBeNull();
  });

  it('counts each tenant separately and refuses at the cap', async () => {
    for (const id of ['a1', 'a2', 'a3']) expect((await ask('acme', id, { maxPerTenant: 3 })).outcome).toBe('admitted');
    await ask('globex', 'g1');
    expect(await ask('acme', 'a9', { maxPerTenant: 3 })).toEqual({ outcome: 'tenant_full', waiting: 3 });
    expect(await queue.getJob('a9')).toBeNull();
    expect(await ask('globex', 'g9', { maxPerTenant: 2 })).toEqual({ outcome: 'admitted', waiting: 2 });
    expect(await queue.client.zrange(admission.tenantKey('globex'), 0, -1)).toEqual(['g1', 'g9']);
    expect(await queue.client.ttl(admission.tenantKey('acme'))).toBeGreaterThan(590);
    await (await queue.getJob('g9'))!.remove();
    await (await queue.getJob('g1'))!.remove();
  });

  it('at the cap, drops jobs a worker has started or that are gone, and keeps those still waiting', async () => {
    await ask('acme', 'a4');
    // A worker takes the two oldest jobs (a1, a2) and holds them; a3 is cancelled (removed).
    const release: Array<() => void> = [];
    const taken: string[] = [];
    let holding = true;
    const worker = new Bull('rag-query', redis.url, { prefix: 'qa' });
    void worker.process('answer', 2, (job) => {
      taken.push(String(job.id));
      return holding ? new Promise<void>((resolve) => release.push(resolve)) : Promise.resolve();
    });
    for (let i = 0; i < 200 && taken.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(taken.sort()).toEqual(['a1', 'a2']);
    await (await queue.getJob('a3'))!.remove();
    expect(await queue.client.zcard(admission.tenantKey('acme'))).toBe(4);
    expect(await ask('acme', 'a5', { maxPerTenant: 4 })).toEqual({ outcome: 'admitted', waiting: 2 });
    expect(await queue.client.zrange(admission.tenantKey('acme'), 0, -1)).toEqual(['a4', 'a5']);
    holding = false;
    release.forEach((r) => r());
    await worker.pause(true);
    await worker.close();
  });

  it('counts the questions waiting, paused ones included, against the global cap', async () => {
    await queue.empty();
    await queue.add('answer', { tenant: 'x' }, { jobId: 'w1' });
    expect((await ask('x', 'r1', { maxWaiting: 3 })).outcome).toBe('admitted');
    expect((await ask('y', 'r2', { maxWaiting: 3 })).outcome).toBe('admitted');
    expect(await ask('z', 'r3', { maxWaiting: 3 })).toEqual({ outcome: 'overloaded', waiting: 3 });
    expect(await queue.getJob('r3')).toBeNull();
    await queue.pause();
    expect(await ask('z', 'r3', { maxWaiting: 3 })).toEqual({ outcome: 'overloaded', waiting: 3 });
    await queue.resume();
    await (await queue.getJob('r2'))!.remove();
    expect((await ask('z', 'r3', { maxWaiting: 3 })).outcome).toBe('admitted');
    expect(await waitingIds()).toEqual(['r1', 'r3', 'w1']);
    await queue.empty();
  });

  it('admits and adds exactly the cap when many ask at once over several connections', async () => {
    const queues = [queue, new Bull('rag-query', redis.url, { prefix: 'qa' }), new Bull('rag-query', redis.url, { prefix: 'qa' })];
    try {
      await Promise.all(queues.map((q) => q.isReady()));
      const admissions = queues.map((q) => new QuestionAdmission(q, 'qa', 600, fairShare));
      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.all(
          Array.from({ length: 60 }, (_, i) => ask(`burst${round}`, `b${round}-${i}`, { maxPerTenant: 5 }, admissions[i % admissions.length])),
        );
        expect(outcomes.filter((o) => o.outcome === 'admitted')).toHaveLength(5);
        expect(outcomes.filter((o) => o.outcome === 'tenant_full')).toHaveLength(55);
        expect((await waitingIds()).filter((id) => id.startsWith(`b${round}-`))).toHaveLength(5);
      }
    } finally {
      await Promise.all(queues.slice(1).map((q) => q.close()));
      await queue.empty();
    }
  });

  it('never overwrites a job whose id is taken when no Idempotency-Key was sent', async () => {
    await queue.add('answer', { tenant: 'other' }, { jobId: 'taken' });
    expect(await ask('acme', 'taken')).toEqual({ outcome: 'duplicate', waiting: 0 });
    expect((await queue.getJob('taken'))!.data).toEqual({ tenant: 'other' });
    await queue.empty();
  });

  describe('idempotency keys', () => {
    const keyed = (jobId: string, fingerprint: string) => ask('hooli', jobId, { fingerprint });

    it('replays the same request, refuses a different one, while the job is queued or cancelled', async () => {
      expect((await keyed('k1', 'body-a')).outcome).toBe('admitted');
      expect((await keyed('k1', 'body-a')).outcome).toBe('replay');
      expect((await keyed('k1', 'body-b')).outcome).toBe('conflict');
      // Cancelled while waiting: the job is removed, its cancelled record stays, and the key keeps pointing at it.
      await queue.client.set(cancelKey('qa', 'k1'), '1', 'EX', 600);
      await (await queue.getJob('k1'))!.remove();
      await queue.client.set(cancelledKey('qa', 'k1'), '{}', 'EX', 600);
      await queue.client.del(cancelKey('qa', 'k1'));
      expect((await keyed('k1', 'body-a')).outcome).toBe('replay');
      expect(await queue.getJob('k1')).toBeNull();
    });

    it('admits and adds with only one of many concurrent requests carrying one key', async () => {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => keyed('k2', i % 2 ? 'body-a' : 'body-b')));
      const admitted = outcomes.filter((o) => o.outcome === 'admitted');
      expect(admitted).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'replay')).toHaveLength(9);
      expect(outcomes.filter((o) => o.outcome === 'conflict')).toHaveLength(10);
      expect((await waitingIds()).filter((id) => id === 'k2')).toHaveLength(1);
    });

    it('takes over a record whose job is gone (past its retention)', async () => {
      expect((await keyed('k3', 'body-a')).outcome).toBe('admitted');
      await (await queue.getJob('k3'))!.remove();
      expect((await keyed('k3', 'body-b')).outcome).toBe('admitted');
      expect((await queue.getJob('k3'))!.data).toEqual({ tenant: 'hooli', jobId: 'k3' });
      expect((await keyed('k3', 'body-b')).outcome).toBe('replay');
    });

    it('keeps the key on a job whose cancel was asked for, before the cancelled record is written', async () => {
      expect((await keyed('k5', 'body-a')).outcome).toBe('admitted');
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
