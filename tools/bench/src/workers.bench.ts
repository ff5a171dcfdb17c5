/**
 * Worker scaling: completed questions per second with 1, 2 and 4 worker
 * processes at concurrencies 4, 16 and 64 (--concurrencies), and the workers'
 * CPU time per completed question (all their threads, from /proc), the LLM being tools/fake-openai
 * answering after a fixed 200 ms (so the figures measure this system, not a
 * model). Every run: its own redis-server, the sample collection, one
 * gateway; all questions are submitted over HTTP first, then the workers
 * start and the clock runs until the last one completes.
 *
 * Each configuration runs --runs times (3 by default); the table shows the
 * median rate, the JSON every run.
 *
 *   npm run bench -- workers [--jobs N] [--llm-ms N] [--runs N] [--concurrencies 4,16,64]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { cpuTimeMs } from './child-process';
import { median, numberFlag, type Scenario } from './scenario';
import { benchEnv, consuming, fakeLLM, ingestSample, listening, postQuestion } from './stack';

const QUESTIONS = [
  'How many vacation days do new employees get?',
  'Who approves travel expenses?',
  'How often must passwords change?',
  'What happens on the first day?',
];

interface Result {
  workers: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  /** The workers' CPU time (user + system, every thread) from their start of work to the last completion, per question. */
  cpuMsPerQuestion: number;
}

async function measure(workers: number, concurrency: number, JOBS: number, LLM_MS: number): Promise<Result> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-workers-');
  const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: LLM_MS });
  const port = await freePort();
  const env = benchEnv(redis.url, data.path, {
    ...fakeLLM(fake.url),
    PORT: String(port),
    LOG_LEVEL: 'warn',
    EMBEDDINGS: 'local',
    WORKER_CONCURRENCY: String(concurrency),
    WORKER_METRICS_PORT: '0',
    MAX_WAITING_JOBS: String(JOBS * 2),
    MAX_WAITING_JOBS_PER_TENANT: String(JOBS * 2),
  });
  const apps: AppProcess[] = [];
  const client = new Redis(redis.url);
  try {
    await ingestSample(env);
    const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, LOG_LEVEL: 'info' });
    apps.push(gateway);
    await listening(gateway);
    for (let i = 0; i < JOBS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, JOBS - i) }, (_, j) =>
          postQuestion(port, QUESTIONS[(i + j) % QUESTIONS.length]).then((r) => {
            if (r.status !== 202) throw new Error(`enqueue answered ${r.status}`);
          }),
        ),
      );
    }
    const started: AppProcess[] = [];
    for (let i = 0; i < workers; i++) started.push(startApp('apps/rag-worker/src/main.ts', { ...env, LOG_LEVEL: 'info' }));
    apps.push(...started);
    await Promise.all(started.map(consuming));
    const cpuAt = () => started.reduce((sum, app) => sum + cpuTimeMs(app.child.pid ?? NaN), 0);
    const cpu0 = cpuAt();
    const t0 = performance.now();
    for (;;) {
      const completed = await client.zcard('rag:rag-query:completed');
      const failed = await client.zcard('rag:rag-query:failed');
      if (failed > 0) throw new Error(`${failed} jobs failed`);
      if (completed >= JOBS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    return { workers, concurrency, seconds, perSecond: JOBS / seconds, cpuMsPerQuestion: (cpuAt() - cpu0) / JOBS };
  } finally {
    client.disconnect();
    await Promise.all(apps.map((a) => a.stop('SIGKILL')));
    await fake.close();
    await redis.stop();
    data.remove();
  }
}

export const workersScenario: Scenario = {
  name: 'workers',
  async run(args) {
    const jobs = numberFlag(args, '--jobs', 1000);
    const llmMs = numberFlag(args, '--llm-ms', 200);
    const runs = numberFlag(args, '--runs', 3);
    const at = args.indexOf('--concurrencies');
    const concurrencies = (at >= 0 ? args[at + 1] : '4,16,64').split(',').map(Number);
    if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--concurrencies takes whole numbers, e.g. 4,16,64');
    const results: (Result & { runs_per_second: number[] })[] = [];
    for (const concurrency of concurrencies) {
      for (const workers of [1, 2, 4]) {
        const each: Result[] = [];
        for (let run = 1; run <= runs; run++) {
          process.stderr.write(`bench workers: ${workers} worker(s) × concurrency ${concurrency}, run ${run} of ${runs}…\n`);
          each.push(await measure(workers, concurrency, jobs, llmMs));
        }
        const perSecond = median(each.map((r) => r.perSecond));
        const cpuMsPerQuestion = median(each.map((r) => r.cpuMsPerQuestion));
        results.push({ workers, concurrency, seconds: jobs / perSecond, perSecond, cpuMsPerQuestion, runs_per_second: each.map((r) => r.perSecond) });
      }
    }
    const base = (c: number) => results.find((r) => r.workers === 1 && r.concurrency === c)?.perSecond ?? NaN;
    const rows = results.map((r) => {
      const ratio = r.perSecond / base(r.concurrency);
      return { ...r, vs_one_worker: ratio, efficiency: ratio / r.workers, ceiling_per_second: (r.workers * r.concurrency) / (llmMs / 1000) };
    });
    const lines = [
      `${jobs} questions on the sample collection, LLM answering after ${llmMs} ms (tools/fake-openai), local embedder, LanceDB; median of ${runs} runs per row (every run in the JSON).`,
      '',
      '| workers × concurrency | completed/s | vs 1 worker | scaling efficiency | ceiling (workers × concurrency / LLM time) | worker CPU per question |',
      '|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.workers} × ${r.concurrency} | ${r.perSecond.toFixed(1)} | ${r.vs_one_worker.toFixed(2)}× | ${(r.efficiency * 100).toFixed(0)} % | ${r.ceiling_per_second.toFixed(0)}/s | ${r.cpuMsPerQuestion.toFixed(1)} ms |`,
      ),
      '',
      'Worker CPU per question: user + system time of the worker processes (every thread: LanceDB, the embedder, the LLM client, Bull, events, logs) from their start of work to the last completion, divided by the questions, median of the runs.',
    ];
    return { markdown: lines.join('\n'), data: { jobs, llm_ms: llmMs, runs, rows } };
  },
};
