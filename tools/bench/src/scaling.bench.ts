/**
 * The scaling drill: a steady stream of questions arrives while worker
 * processes are added one by one up to --max-workers, then taken away one by
 * one with SIGTERM (as an autoscaler does), then the stream stops and the
 * backlog drains. Throughput is recorded for every worker count on the way up
 * and down; at the end every accepted question must have been completed
 * exactly once (Bull's completed set against the 202s, the workers' own
 * `job completed` log lines against both). The LLM is tools/fake-openai
 * answering after --llm-ms, so the ceiling is workers × concurrency / LLM time
 * until the cores run out.
 *
 *   npm run bench -- scaling [--max-workers N] [--rate N] [--step-seconds N] [--llm-ms N]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { numberFlag, type Scenario } from './scenario';
import { benchEnv, consuming, fakeLLM, ingestSample, listening, postQuestion } from './stack';

const CONCURRENCY = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Step {
  direction: 'up' | 'down';
  workers: number;
  seconds: number;
  completed: number;
  perSecond: number;
}

export const scalingScenario: Scenario = {
  name: 'scaling',
  async run(args) {
    const maxWorkers = numberFlag(args, '--max-workers', 8);
    const rate = numberFlag(args, '--rate', 40);
    const stepSeconds = numberFlag(args, '--step-seconds', 8);
    const llmMs = numberFlag(args, '--llm-ms', 200);
    const redis = await startRedis();
    const data = tempDir('rag-bench-scaling-');
    const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: llmMs });
    const port = await freePort();
    const env = benchEnv(redis.url, data.path, {
      ...fakeLLM(fake.url),
      PORT: String(port),
      LOG_LEVEL: 'info',
      EMBEDDINGS: 'local',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_METRICS_PORT: '0',
      MAX_WAITING_JOBS: '1000000',
      MAX_WAITING_JOBS_PER_TENANT: '1000000',
    });
    const client = new Redis(redis.url);
    const gateway = startApp('apps/api-gateway/src/main.ts', env);
    const workers: AppProcess[] = [];
    const stopped: AppProcess[] = [];
    const accepted = new Set<string>();
    let refused = 0;
    let sending = true;
    try {
      await ingestSample(env);
      await listening(gateway);
      // The stream: `rate` questions a second, each POST on its own (a slow answer does not slow the stream).
      const stream = (async () => {
        const started = performance.now();
        const inFlight = new Set<Promise<void>>();
        for (let sent = 0; sending; sent++) {
          const due = started + (sent * 1000) / rate;
          if (due > performance.now()) await sleep(due - performance.now());
          const post = postQuestion(port)
            .then(async (res) => {
              if (res.status === 202) accepted.add(((await res.json()) as { job_id: string }).job_id);
              else refused++;
            })
            .catch(() => void refused++)
            .finally(() => inFlight.delete(post));
          inFlight.add(post);
        }
        await Promise.all(inFlight);
      })();

      const completed = () => client.zcard('rag:rag-query:completed');
      const steps: Step[] = [];
      const hold = async (direction: Step['direction']) => {
        const [c0, t0] = [await completed(), performance.now()];
        await sleep(stepSeconds * 1000);
        const [c1, t1] = [await completed(), performance.now()];
        const seconds = (t1 - t0) / 1000;
        steps.push({ direction, workers: workers.length, seconds, completed: c1 - c0, perSecond: (c1 - c0) / seconds });
        process.stderr.write(`bench scaling: ${workers.length} worker(s), ${direction}: ${((c1 - c0) / seconds).toFixed(1)}/s\n`);
      };
      for (let n = 1; n <= maxWorkers; n++) {
        const worker = startApp('apps/rag-worker/src/main.ts', env);
        workers.push(worker);
        await consuming(worker);
        await hold('up');
      }
      while (workers.length > 1) {
        // As an autoscaler takes a pod away: SIGTERM, and the worker finishes its active jobs before it exits.
        const leaving = workers.pop() as AppProcess;
        stopped.push(leaving);
        await leaving.stop('SIGTERM');
        await hold('down');
      }
      sending = false;
      await stream;
      const deadline = Date.now() + 600_000;
      while ((await completed()) < accepted.size && Date.now() < deadline) {
        if ((await client.zcard('rag:rag-query:failed')) > 0) break;
        await sleep(200);
      }

      // Exactly once: every accepted question is in Bull's completed set, and one worker logged completing it, once.
      const done = new Set(await client.zrange('rag:rag-query:completed', 0, -1));
      const failed = await client.zcard('rag:rag-query:failed');
      const lost = [...accepted].filter((id) => !done.has(id)).length;
      const completions = new Map<string, number>();
      for (const worker of [...workers, ...stopped]) {
        for (const line of worker.logs()) {
          if (line.message === 'job completed' && typeof line.job_id === 'string') completions.set(line.job_id, (completions.get(line.job_id) ?? 0) + 1);
        }
      }
      const twice = [...completions.values()].filter((n) => n > 1).length;
      const unlogged = [...accepted].filter((id) => !completions.has(id)).length;
      const exits = stopped.map((w) => w.child.exitCode);
      const figures = {
        rate,
        step_seconds: stepSeconds,
        llm_ms: llmMs,
        concurrency: CONCURRENCY,
        steps,
        accepted: accepted.size,
        refused,
        completed: done.size,
        failed,
        lost,
        completed_twice: twice,
        completions_not_logged: unlogged,
        sigterm_exit_codes: exits,
      };
      const peak = Math.max(...steps.map((s) => s.perSecond));
      const lines = [
        `A stream of ${rate} questions a second (POST /v1/chat) on the sample collection; worker processes (concurrency ${CONCURRENCY}, LLM answering after ${llmMs} ms, ` +
          `tools/fake-openai) added one every ${stepSeconds} s up to ${maxWorkers}, then stopped one every ${stepSeconds} s with SIGTERM down to one; then the stream stops and the backlog drains. ` +
          `Completed questions a second over each step (Bull's completed set), against the ceiling workers × ${CONCURRENCY} / ${llmMs / 1000} s.`,
        '',
        '| step | workers | completed/s | ceiling |',
        '|---|---|---|---|',
        ...steps.map(
          (s) =>
            `| ${s.direction === 'up' ? 'adding' : 'removing'} | ${s.workers} | ${s.perSecond.toFixed(1)} | ${Math.min(rate, (s.workers * CONCURRENCY * 1000) / llmMs).toFixed(0)}/s |`,
        ),
        '',
        `Peak ${peak.toFixed(1)}/s. Accepted ${accepted.size} questions (${refused} refused); completed ${done.size}, failed ${failed}, lost ${lost}, ` +
          `completed twice ${twice}, completed without a worker's log line ${unlogged}; the ${stopped.length} workers stopped with SIGTERM exited with ${[...new Set(exits)].join(', ')}.`,
      ];
      if (lost > 0 || twice > 0 || failed > 0) lines.push('', '**The drill failed: a question was lost, failed or answered twice.**');
      return { markdown: lines.join('\n'), data: figures };
    } finally {
      sending = false;
      client.disconnect();
      await Promise.all([gateway, ...workers].map((a) => a.stop('SIGKILL')));
      await fake.close();
      await redis.stop();
      data.remove();
    }
  },
};
