import { json, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import * as path from 'node:path';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const ADMIN_KEY = 'ops-admin-key-0123456789abcdef';
const QUERY_KEY = 'acme-query-key-0123456789abcdef';
const STALE_SECONDS = 5;

// The gateway's view of the workers, from the heartbeats real worker processes
// write to a private redis-server: /v1/admin/workers, rag_workers, /readyz.
describe('api-gateway: workers alive or gone (real Redis, real worker processes)', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let gateway: InProcessGateway;
  const workers: AppProcess[] = [];
  const env = () => ({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'wk',
    WORKER_STALE_SECONDS: String(STALE_SECONDS),
    DATA_DIR: path.join(data.path, 'data'),
    WORKER_METRICS_PORT: '0',
    NODE_ENV: 'test',
  });

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-gw-workers-');
    gateway = await startInProcessGateway(redis.url, { ...env(), API_KEYS: `ops:admin+operator:${ADMIN_KEY},acme:query:${QUERY_KEY}` });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await gateway?.close();
    await redis?.stop();
    data?.remove();
  });

  const admin = { authorization: `Bearer ${ADMIN_KEY}` };
  const listed = async () => json(await fetch(`${gateway.base}/v1/admin/workers`, { headers: admin }));
  const ready = async () => {
    const res = await fetch(`${gateway.base}/readyz`);
    return { status: res.status, body: await json(res) };
  };
  const gauge = async () => Number(/^rag_workers(?:\{[^}]*\})? (\d+)$/m.exec(await (await fetch(`${gateway.base}/metrics`)).text())?.[1]);
  const startWorker = async () => {
    const worker = startApp('apps/rag-worker/src/main.ts', env());
    workers.push(worker);
    await worker.waitForLog((l) => l.message === 'consuming', 30_000);
    return worker;
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('says degraded (still 200, with the reason) while no worker runs, and counts none', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.redis.ok).toBe(true);
    expect(body.workers).toEqual({ alive: 0 });
    expect(body.reasons).toEqual([expect.stringContaining(`no worker has been seen for ${STALE_SECONDS} s (WORKER_STALE_SECONDS)`)]);
    expect(await listed()).toEqual({ alive: 0, stale_after_seconds: STALE_SECONDS, workers: [] });
    expect(await gauge()).toBe(0);
  });

  it('lists a running worker (admin keys only), counts it, is ready, and forgets it when it stops gracefully', async () => {
    const worker = await startWorker();
    const body = await listed();
    expect(body.alive).toBe(1);
    expect(body.workers).toEqual([
      expect.objectContaining({
        pid: worker.child.pid,
        stale: false,
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        queues: [
          { name: 'rag-query', concurrency: 4, active: 0 },
          { name: 'rag-ingest', concurrency: 1, active: 0 },
        ],
      }),
    ]);
    expect(typeof body.workers[0].host).toBe('string');
    expect(Date.parse(body.workers[0].started_at)).not.toBeNaN();
    expect(Date.parse(body.workers[0].last_seen)).not.toBeNaN();
    expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready', workers: { alive: 1 } } });
    expect((await ready()).body.reasons).toBeUndefined();
    expect(await gauge()).toBe(1);
    const forbidden = await fetch(`${gateway.base}/v1/admin/workers`, { headers: { authorization: `Bearer ${QUERY_KEY}` } });
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).error.code).toBe('forbidden');

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await listed()).workers).toEqual([]);
    expect((await ready()).body.status).toBe('degraded');
  }, 60_000);

  it('marks a killed worker stale after WORKER_STALE_SECONDS, and is degraded again', async () => {
    const worker = await startWorker();
    expect((await listed()).alive).toBe(1);
    await worker.stop('SIGKILL');
    // Still listed (it said no goodbye), then stale once its last heartbeat is older than the limit.
    await until('the killed worker is listed as stale', async () =>
      (await listed()).workers.some((w: { pid: number; stale: boolean }) => w.pid === worker.child.pid && w.stale),
    );
    expect((await listed()).alive).toBe(0);
    expect(await gauge()).toBe(0);
    const { status, body } = await ready();
    expect([status, body.status]).toEqual([200, 'degraded']);
  }, 60_000);
});
