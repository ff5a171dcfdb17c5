import { useRedisSuite } from '@rag/testing';
import Bull, { type Job, type Queue } from 'bull';
import { QuestionAdmission } from './question-admission';
import { openQueryQueue, queryJobOptions } from './queues';

const BIG = 1_000_000;
const OPTIONS = { JOB_ATTEMPTS: 2, JOB_BACKOFF_MS: 10, JOB_RETENTION_SECONDS: 600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fair share: the order in which a real Bull worker (concurrency 1) takes
 * the questions admitted, whatever the tenants' backlogs.
 */
describe('QuestionAdmission with fair share (real Redis, real Bull queue and worker)', () => {
  const redis = useRedisSuite();
  const opened: Queue[] = [];
  let prefixes = 0;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });

  /** A gateway's queue and admission, and a worker's queue, under a prefix of their own. */
  function setUp(retentionSeconds = 600, maxPerTenant = BIG) {
    const prefix = `fair${++prefixes}`;
    const queue = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
    const worker = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
    opened.push(queue, worker);
    const admission = new QuestionAdmission(queue, prefix, retentionSeconds, true);
    const admit = async (tenant: string, jobId: string) =>
      (await admission.admit({ tenant, jobId, maxWaiting: BIG, maxPerTenant }, { name: 'answer', data: { tenant }, opts: queryJobOptions(OPTIONS, jobId) }))
        .outcome;
    const ask = async (tenant: string, jobId: string) => expect(await admit(tenant, jobId)).toBe('admitted');
    const askMany = async (tenant: string, count: number) => {
      for (let i = 0; i < count; i++) await ask(tenant, `${tenant}${i}`);
    };
    /** Starts the worker (one job at a time); `started` lists the job ids in the order it took them. */
    const work = (handle: (job: Job) => Promise<void> = async () => undefined) => {
      const started: string[] = [];
      void worker.process('answer', 1, async (job: Job) => {
        started.push(String(job.id));
        await handle(job);
      });
      return started;
    };
    return { prefix, queue, worker, admit, ask, askMany, work };
  }

  const until = async (done: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 500 && !(await done()); i++) await sleep(20);
    expect(await done()).toBe(true);
  };
  const ids = (tenant: string, count: number) => Array.from({ length: count }, (_, i) => `${tenant}${i}`);

  it("starts another tenant's question second, not behind a tenant's 200 waiting", async () => {
    const { askMany, ask, work } = setUp();
    await askMany('a', 200);
    await ask('b', 'b0');
    const started = work();
    await until(() => started.length === 201);
    // Within the first 1 + (number of tenants) jobs: exactly second, right behind the head of the line.
    expect(started.slice(0, 3)).toEqual(['a0', 'b0', 'a1']);
    expect(started.filter((id) => id.startsWith('a'))).toEqual(ids('a', 200));
  });

  it("inserts each job where Bull's own prioritized add puts it, lifting a few off the end or walking the list", async () => {
    const { prefix, queue, ask } = setUp();
    // A's 1,100 then more of A's go past the lift limit (walked); the others' pass a few (lifted).
    const asked: string[] = [];
    const plan = [...ids('a', 1100), ...ids('b', 3), 'c0', ...ids('a', 1105).slice(1100), ...ids('d', 4), ...ids('b', 6).slice(3)];
    for (const id of plan) {
      await ask(id[0], id);
      asked.push(id);
    }
    const bulls = new Bull('rag-query', redis.url, { prefix: `${prefix}-bull` });
    opened.push(bulls);
    for (const id of asked) await bulls.add('answer', {}, { jobId: id, priority: Number(await queue.client.hget(queue.toKey(id), 'priority')) });
    const ours = await queue.client.lrange(queue.toKey('wait'), 0, -1);
    expect(ours).toHaveLength(asked.length);
    expect(ours).toEqual(await bulls.client.lrange(bulls.toKey('wait'), 0, -1));
  });

  it('moves questions queued without fair share up one per admission, in their order, instead of behind every new one', async () => {
    const { prefix, queue, askMany, work } = setUp();
    // Queued first in, first out (a gateway with FAIR_SHARE=off, or before it was turned on): no tag.
    const unfair = new QuestionAdmission(queue, prefix, 600, false);
    for (const id of ids('old', 5)) {
      const { outcome } = await unfair.admit(
        { tenant: 'o', jobId: id, maxWaiting: BIG, maxPerTenant: BIG },
        { name: 'answer', data: { tenant: 'o' }, opts: queryJobOptions(OPTIONS, id) },
      );
      expect(outcome).toBe('admitted');
    }
    await askMany('a', 10);
    const started = work();
    await until(() => started.length === 15);
    // Each of A's admissions queued one of them at the clock's tag, ahead of A's later questions.
    expect(started).toEqual(['old0', 'a0', 'old1', 'old2', 'old3', 'old4', ...ids('a', 10).slice(1)]);
    expect(await queue.client.zcard(queue.toKey('priority'))).toBe(0);
  });

  it("keeps no state that never expires: the clock, each tenant's tag and waiting set lapse a day after its last question", async () => {
    const { prefix, queue, ask } = setUp();
    await ask('a', 'a0');
    for (const key of [`${prefix}:fair-share`, `${prefix}:fair-share:a`, `${prefix}:tenant-waiting:a`]) {
      const ttl = await queue.client.ttl(key);
      expect(ttl).toBeGreaterThan(86_390);
      expect(ttl).toBeLessThanOrEqual(86_400);
    }
  });

  // A retention shorter than the wait (JOB_RETENTION_SECONDS=60 with a backlog, as the gateway benchmark runs) must not
  // end the scheduler's state of questions that still wait.
  it("keeps a tenant's order when its questions wait longer than the retention", async () => {
    const { ask, work } = setUp(1);
    await ask('a', 'a0');
    await ask('a', 'a1');
    await sleep(2100);
    await ask('a', 'a2');
    const started = work();
    await until(() => started.length === 3);
    expect(started).toEqual(['a0', 'a1', 'a2']);
  });

  it("keeps counting a tenant's waiting questions against its cap when they wait longer than the retention", async () => {
    const { admit } = setUp(1, 2);
    expect([await admit('a', 'a0'), await admit('a', 'a1')]).toEqual(['admitted', 'admitted']);
    await sleep(2100);
    expect(await admit('a', 'a2')).toBe('tenant_full');
  });

  it('serves tenants round robin, each in its own order', async () => {
    const { askMany, work } = setUp();
    await askMany('a', 6);
    await askMany('c', 3);
    await askMany('b', 1);
    const started = work();
    await until(() => started.length === 10);
    expect(started).toEqual(['a0', 'c0', 'b0', 'a1', 'c1', 'a2', 'c2', 'a3', 'a4', 'a5']);
  });

  it('puts a question asked while the worker works through a backlog right behind the head of the line', async () => {
    const { askMany, ask, work } = setUp();
    await askMany('a', 50);
    const release: Array<() => void> = [];
    let holding = true;
    const started = work(() => (holding ? new Promise<void>((resolve) => release.push(resolve)) : Promise.resolve()));
    for (let taken = 1; taken <= 10; taken++) {
      await until(() => started.length === taken);
      if (taken < 10) release[taken - 1]();
    }
    // a9 runs; a10 heads the line. B asks now.
    await ask('b', 'b0');
    release[9]();
    await until(() => started.length === 11);
    release[10]();
    await until(() => started.length === 12);
    expect(started.slice(10)).toEqual(['a10', 'b0']);
    holding = false;
    release.slice(11).forEach((r) => r());
    await until(() => started.length === 51);
    expect(started.filter((id) => id.startsWith('a'))).toEqual(ids('a', 50));
  });

  it("keeps a single tenant's questions first in, first out, across a busy and an idle queue", async () => {
    const { ask, work } = setUp();
    const started = work();
    const asked: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 15; i++) {
        asked.push(`s${round}-${i}`);
        await ask('s', `s${round}-${i}`);
      }
      // Rounds 0 and 2 let the worker drain the queue (idle); 1 and 3 ask again while it works.
      if (round % 2 === 0) await until(() => started.length === asked.length);
    }
    await until(() => started.length === asked.length);
    expect(started).toEqual(asked);
  });

  it('runs a failed attempt again after its backoff, by its own place in line, and leaves no priority behind', async () => {
    const { queue, askMany, work } = setUp();
    await askMany('a', 5);
    await askMany('b', 2);
    const failedOnce = new Set<string>();
    const started = work(async (job) => {
      if (String(job.id) === 'a0' && !failedOnce.has('a0')) {
        failedOnce.add('a0');
        throw new Error('a passing failure');
      }
    });
    await until(() => started.length === 8);
    expect(started.filter((id) => id === 'a0')).toHaveLength(2);
    await until(async () => (await queue.getCompletedCount()) === 7);
    // Bull counts the failed attempt; the second one completed it.
    expect((await queue.getJob('a0'))!.attemptsMade).toBe(1);
    // Bull's moveToActive took every started job out of the priority set: the clock is free to move on.
    expect(await queue.client.zcard(queue.toKey('priority'))).toBe(0);
  });

  it('fills the paused list in the same order, and the worker follows it once resumed', async () => {
    const { queue, askMany, work } = setUp();
    await queue.pause();
    await askMany('a', 4);
    await askMany('b', 2);
    expect(await queue.client.llen(queue.toKey('wait'))).toBe(0);
    const started = work();
    await queue.resume();
    await until(() => started.length === 6);
    expect(started).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'a3']);
  });
});
