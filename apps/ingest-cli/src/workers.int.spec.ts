import { runApp, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import * as path from 'node:path';

const CLI = 'apps/ingest-cli/src/main.ts';

// `rag-ingest workers` against a private redis-server and a real worker process.
describe('rag-ingest workers', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let env: NodeJS.ProcessEnv;
  let worker: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-cli-workers-');
    env = { REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-cli-workers', DATA_DIR: path.join(data.path, 'data'), WORKER_METRICS_PORT: '0', INGEST_CONCURRENCY: '0', WORKER_CONCURRENCY: '3' };
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await redis?.stop();
    data?.remove();
  });

  it('says that no worker is alive, and how to start one, with exit code 1', async () => {
    const run = await runApp(CLI, env, ['workers']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('no worker alive (none seen in the last 30 s, WORKER_STALE_SECONDS)');
    expect(run.stderr).toContain('QUEUE_PREFIX (rag-cli-workers)');
    const asJson = await runApp(CLI, env, ['workers', '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual({ alive: 0, stale_after_seconds: 30, workers: [] });
  });

  it('lists a running worker with its pid, queues and jobs in flight', async () => {
    worker = startApp('apps/rag-worker/src/main.ts', env);
    await worker.waitForLog((l) => l.message === 'consuming', 30_000);
    const run = await runApp(CLI, env, ['workers']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^\\S+:${worker.child.pid}:[0-9a-f]+\\tpid ${worker.child.pid}\\trag-query 0/3\\tversion \\S+\\tstarted \\S+\\tseen [\\d.]+ s ago\\n$`));
    expect(run.stderr).toContain('1 worker(s) alive');
    const listed = JSON.parse((await runApp(CLI, env, ['workers', '--json'])).stdout);
    expect(listed).toMatchObject({ alive: 1, workers: [{ pid: worker.child.pid, stale: false, queues: [{ name: 'rag-query', concurrency: 3, active: 0 }] }] });
  }, 60_000);

  it('fails with a clear message when Redis is unreachable', async () => {
    const run = await runApp(CLI, { ...env, REDIS_URL: 'redis://127.0.0.1:1' }, ['workers']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach Redis at REDIS_URL; start it or set REDIS_URL');
  });
});
