import { runApp, startApp, type AppProcess } from '@rag/testing';
import * as path from 'node:path';
import { CLI, useCliSuite } from './cli-suite.spec-helper';

// `rag-ingest workers` against a private redis-server and a real worker process.
describe('rag-ingest workers', () => {
  let env: NodeJS.ProcessEnv;
  let worker: AppProcess | undefined;
  const suite = useCliSuite('rag-cli-workers-', () => worker?.stop('SIGKILL'));

  beforeAll(() => {
    env = {
      REDIS_URL: suite.redis.url,
      QUEUE_PREFIX: 'rag-cli-workers',
      DATA_DIR: path.join(suite.data.path, 'data'),
      WORKER_METRICS_PORT: '0',
      INGEST_CONCURRENCY: '0',
      WORKER_CONCURRENCY: '3',
    };
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
    expect(run.stdout).toMatch(
      new RegExp(`^\\S+:${worker.child.pid}:[0-9a-f]+\\tpid ${worker.child.pid}\\trag-query 0/3\\tversion \\S+\\tstarted \\S+\\tseen [\\d.]+ s ago\\n$`),
    );
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
