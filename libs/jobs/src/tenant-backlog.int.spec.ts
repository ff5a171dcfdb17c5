import { startRedis, type PrivateRedis } from '@rag/testing';
import Bull from 'bull';
import { TenantBacklog } from './tenant-backlog';

describe('TenantBacklog (real Redis, real Bull queue)', () => {
  let redis: PrivateRedis;
  let queue: Bull.Queue;
  let backlog: TenantBacklog;

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Bull('rag-query', redis.url, { prefix: 'tb' });
    await queue.isReady();
    backlog = new TenantBacklog(queue, 'tb', 600);
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  const add = async (tenant: string, id: string) => {
    await queue.add('answer', { tenant }, { jobId: id });
    await backlog.added(tenant, id);
  };

  it('counts each tenant separately and refuses at the cap', async () => {
    for (const id of ['a1', 'a2', 'a3']) await add('acme', id);
    await add('globex', 'g1');
    expect(await backlog.check('acme', 3)).toEqual({ waiting: 3, allowed: false });
    expect(await backlog.check('acme', 4)).toEqual({ waiting: 3, allowed: true });
    expect(await backlog.check('globex', 3)).toEqual({ waiting: 1, allowed: true });
    expect(await backlog.check('initech', 1)).toEqual({ waiting: 0, allowed: true });
    expect(await queue.client.ttl(backlog.key('acme'))).toBeGreaterThan(590);
  });

  it('at the cap, drops jobs a worker has started or that are gone, and keeps those still waiting', async () => {
    await add('acme', 'a4');
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
    expect(await queue.client.zcard(backlog.key('acme'))).toBe(4);
    expect(await backlog.check('acme', 4)).toEqual({ waiting: 1, allowed: true });
    expect(await queue.client.zrange(backlog.key('acme'), 0, -1)).toEqual(['a4']);
    holding = false;
    release.forEach((r) => r());
  });

  it('forgets a removed job at once', async () => {
    await backlog.added('hooli', 'h1');
    await backlog.added('hooli', 'h2');
    await backlog.removed('hooli', 'h1');
    expect(await queue.client.zrange(backlog.key('hooli'), 0, -1)).toEqual(['h2']);
  });
});
