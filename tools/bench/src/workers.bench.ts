/**
 * Worker scaling: completed questions per second with 1, 2 and 4 worker
 * processes at a few concurrencies each, the LLM being tools/fake-openai
 * answering after a fixed 200 ms (so the figures measure this system, not a
 * model). Every run: its own redis-server, the sample collection, one
 * gateway; all questions are submitted over HTTP first, then the workers
 * start and the clock runs until the last one completes.
 *
 *   npx nx run bench:workers [-- --jobs N] [-- --llm-ms N]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { WORKSPACE_ROOT, freePort, runApp, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import * as os from 'node:os';
import * as path from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const JOBS = flag('--jobs', 400);
const LLM_MS = flag('--llm-ms', 200);
const QUESTIONS = ['How many vacation days do new employees get?', 'Who approves travel expenses?', 'How often must passwords change?', 'What happens on the first day?'];

interface Result {
  workers: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
}

async function scenario(workers: number, concurrency: number): Promise<Result> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-workers-');
  const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: LLM_MS });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: redis.url,
    DATA_DIR: path.join(data.path, 'data'),
    PORT: String(port),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    LLM: 'openai',
    EMBEDDINGS: 'local',
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'bench',
    WORKER_CONCURRENCY: String(concurrency),
    INGEST_CONCURRENCY: '0',
    WORKER_METRICS_PORT: '0',
    MAX_WAITING_JOBS: String(JOBS * 2),
    MAX_WAITING_JOBS_PER_TENANT: String(JOBS * 2),
  };
  const apps: AppProcess[] = [];
  const client = new Redis(redis.url);
  try {
    const load = await runApp('apps/ingest-cli/src/main.ts', env, [path.join(WORKSPACE_ROOT, 'tools/dev-stack/sample-docs'), '--collection', 'sample', '--no-progress']);
    if (load.code !== 0) throw new Error(load.stderr);
    const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, LOG_LEVEL: 'info' });
    apps.push(gateway);
    await gateway.waitForLog((l) => l.message === 'listening', 60_000);
    for (let i = 0; i < JOBS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, JOBS - i) }, (_, j) =>
          fetch(`http://127.0.0.1:${port}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUESTIONS[(i + j) % QUESTIONS.length], collection: 'sample' }) }).then((r) => {
            if (r.status !== 202) throw new Error(`enqueue answered ${r.status}`);
          }),
        ),
      );
    }
    const started: AppProcess[] = [];
    for (let i = 0; i < workers; i++) started.push(startApp('apps/rag-worker/src/main.ts', { ...env, LOG_LEVEL: 'info' }));
    apps.push(...started);
    await Promise.all(started.map((w) => w.waitForLog((l) => l.message === 'consuming', 60_000)));
    const t0 = performance.now();
    for (;;) {
      const completed = await client.zcard('rag:rag-query:completed');
      const failed = await client.zcard('rag:rag-query:failed');
      if (failed > 0) throw new Error(`${failed} jobs failed`);
      if (completed >= JOBS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    return { workers, concurrency, seconds, perSecond: JOBS / seconds };
  } finally {
    client.disconnect();
    await Promise.all(apps.map((a) => a.stop('SIGKILL')));
    await fake.close();
    await redis.stop();
    data.remove();
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const concurrency of [4, 16]) {
    for (const workers of [1, 2, 4]) {
      process.stderr.write(`bench: ${workers} worker(s) × concurrency ${concurrency}…\n`);
      results.push(await scenario(workers, concurrency));
    }
  }
  const cpu = os.cpus();
  const base = (c: number) => results.find((r) => r.workers === 1 && r.concurrency === c)?.perSecond ?? NaN;
  const lines = [
    `${JOBS} questions on the sample collection, LLM answering after ${LLM_MS} ms (tools/fake-openai), local embedder, LanceDB; ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| workers × concurrency | completed/s | vs 1 worker | scaling efficiency | ceiling (workers × concurrency / LLM time) |',
    '|---|---|---|---|---|',
    ...results.map((r) => {
      const ratio = r.perSecond / base(r.concurrency);
      const ceiling = (r.workers * r.concurrency) / (LLM_MS / 1000);
      return `| ${r.workers} × ${r.concurrency} | ${r.perSecond.toFixed(1)} | ${ratio.toFixed(2)}× | ${((ratio / r.workers) * 100).toFixed(0)} % | ${ceiling.toFixed(0)}/s |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
