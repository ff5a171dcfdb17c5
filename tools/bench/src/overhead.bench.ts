/**
 * Queue overhead: what our layers add to a question's latency, one question
 * at a time (no load), against the floors under them.
 *
 * 1. This service end to end: POST /v1/chat, then GET /v1/jobs/:id?wait=10
 *    until the answer — with the embedded defaults on a four-document
 *    collection, so the pipeline itself is a few milliseconds — minus the
 *    pipeline's own time (the job's retrieve_ms + generate_ms).
 * 2. Bull's raw round trip: queue.add → a processor that returns at once →
 *    the `completed` event, in one process.
 * 3. Redis's own round trip: `redis-benchmark -t ping` with one client.
 *
 *   npm run bench -- overhead [--samples N]
 */
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Bull from 'bull';
import { spawnSync } from 'node:child_process';
import { cpuTimeMs } from './child-process';
import { goalsTable } from './goals';
import { latencyStats, median, numberFlag, type Scenario } from './scenario';
import { benchEnv, consuming, ingestSample, listening, postQuestion } from './stack';

interface JobDone {
  status: string;
  created_at: string;
  started_at: string;
  finished_at: string;
  result: { timings: { retrieve_ms: number; generate_ms: number } };
}

type Stats = ReturnType<typeof latencyStats>;

interface OverheadRun {
  end_to_end: Stats;
  pipeline: Stats;
  ours: Stats;
  phases: Record<'accept' | 'pickup' | 'worker' | 'deliver', Stats>;
  bull_raw: Stats;
  /** The same client's POST to a bare Express handler: what one HTTP request costs here at all. */
  bare_post: Stats;
  /** The same, each POST followed by a pause as long as a question took (the service's own cadence: every process idles between requests). */
  bare_post_spaced: Stats;
  /** CPU time (user + system, every thread, /proc) per question or request: the gateway and worker over the questions, the bare handler back to back and spaced. */
  cpu_ms: { gateway: number; worker: number; bare: number; bare_spaced: number };
  redis_ping_ms: number;
}

/** One run: fresh redis-server, gateway and worker, `samples` questions one at a time. */
async function once(samples: number): Promise<OverheadRun> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-overhead-');
  const port = await freePort();
  const env = benchEnv(redis.url, data.path, { PORT: String(port), LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' });
  const apps: AppProcess[] = [];
  try {
    await ingestSample(env);
    const gateway = startApp('apps/api-gateway/src/main.ts', env);
    const worker = startApp('apps/rag-worker/src/main.ts', env);
    apps.push(gateway, worker);
    await Promise.all([listening(gateway), consuming(worker)]);

    process.stderr.write('bench overhead: end to end…\n');
    const endToEnd: number[] = [];
    const pipeline: number[] = [];
    // Where the time goes, from the client's clock and the job's own timestamps (same machine, millisecond resolution).
    const phases = { accept: [] as number[], pickup: [] as number[], worker: [] as number[], deliver: [] as number[] };
    const now = () => performance.timeOrigin + performance.now();
    const cpu = { gateway: 0, worker: 0, bare: 0, bare_spaced: 0 };
    const cpuOf = (app: AppProcess) => cpuTimeMs(app.child.pid ?? NaN);
    let [gatewayCpu, workerCpu] = [0, 0];
    for (let i = 0; i < samples + 20; i++) {
      if (i === 20) [gatewayCpu, workerCpu] = [cpuOf(gateway), cpuOf(worker)];
      const t0 = now();
      const accepted = (await (await postQuestion(port)).json()) as { job_id: string };
      const t1 = now();
      const done = (await (await fetch(`http://127.0.0.1:${port}/v1/jobs/${accepted.job_id}?wait=10`)).json()) as JobDone;
      const t2 = now();
      if (done.status !== 'completed') throw new Error(`job ended ${done.status}`);
      // The first 20 warm the processes up.
      if (i >= 20) {
        const work = done.result.timings.retrieve_ms + done.result.timings.generate_ms;
        const [created, started, finished] = [done.created_at, done.started_at, done.finished_at].map((t) => Date.parse(t));
        endToEnd.push(t2 - t0);
        pipeline.push(work);
        phases.accept.push(t1 - t0);
        phases.pickup.push(started - created);
        phases.worker.push(finished - started - work);
        phases.deliver.push(t2 - finished);
      }
    }
    cpu.gateway = (cpuOf(gateway) - gatewayCpu) / samples;
    cpu.worker = (cpuOf(worker) - workerCpu) / samples;
    const ours = endToEnd.map((ms, i) => ms - pipeline[i]);

    process.stderr.write('bench overhead: Bull raw…\n');
    const queue = new Bull('bench-raw', redis.url);
    const raw: number[] = [];
    try {
      // Completion is seen by the processing queue's own 'completed' event, registered before the add:
      // job.finished() checks the state and then subscribes, and misses a job completed in between.
      const waiting = new Map<string, () => void>();
      queue.on('completed', (job: Bull.Job) => waiting.get(String(job.id))?.());
      void queue.process(async () => 'ok');
      await queue.isReady();
      for (let i = 0; i < samples + 20; i++) {
        const jobId = `raw-${i}`;
        const done = new Promise<void>((resolve) => waiting.set(jobId, resolve));
        const t0 = performance.now();
        await queue.add({ i }, { jobId, removeOnComplete: true });
        await done;
        if (i >= 20) raw.push(performance.now() - t0);
        waiting.delete(jobId);
      }
    } finally {
      await queue.close();
    }

    process.stderr.write('bench overhead: bare Express POST…\n');
    const barePort = await freePort();
    const bare = startApp('tools/bench/src/servers/bare-express.ts', { PORT: String(barePort) });
    apps.push(bare);
    await listening(bare);
    /** `samples` POSTs after 20 to warm up, `pauseMs` apart; their latencies and the handler's CPU per request. */
    const bareSeries = async (pauseMs: number) => {
      const latencies: number[] = [];
      let before = 0;
      for (let i = 0; i < samples + 20; i++) {
        if (i === 20) before = cpuOf(bare);
        const t0 = now();
        await (await postQuestion(barePort)).json();
        if (i >= 20) latencies.push(now() - t0);
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      return { latencies, cpuMs: (cpuOf(bare) - before) / samples };
    };
    const backToBack = await bareSeries(0);
    const spaced = await bareSeries(Math.round(median(endToEnd)));
    [cpu.bare, cpu.bare_spaced] = [backToBack.cpuMs, spaced.cpuMs];

    process.stderr.write('bench overhead: Redis PING…\n');
    const bench = spawnSync('redis-benchmark', ['-p', String(redis.port), '-t', 'ping_mbulk', '-n', '20000', '-c', '1', '-q', '--csv'], { encoding: 'utf8' });
    // CSV: "test","rps","avg_latency_ms",…
    const row = bench.stdout.split('\n').find((l) => l.startsWith('"PING'));
    const pingMs = row ? Number(row.split(',')[2]?.replace(/"/g, '')) : NaN;

    const result: OverheadRun = {
      end_to_end: latencyStats(endToEnd),
      pipeline: latencyStats(pipeline),
      ours: latencyStats(ours),
      phases: {
        accept: latencyStats(phases.accept),
        pickup: latencyStats(phases.pickup),
        worker: latencyStats(phases.worker),
        deliver: latencyStats(phases.deliver),
      },
      bull_raw: latencyStats(raw),
      bare_post: latencyStats(backToBack.latencies),
      bare_post_spaced: latencyStats(spaced.latencies),
      cpu_ms: cpu,
      redis_ping_ms: pingMs,
    };
    return result;
  } finally {
    await Promise.all(apps.map((a) => a.stop('SIGKILL')));
    await redis.stop();
    data.remove();
  }
}

/** The median over runs of every figure (each run's own p50 and p99). */
function medianRun(runs: OverheadRun[]): OverheadRun {
  const m = (pick: (r: OverheadRun) => number) => median(runs.map(pick));
  const stats = (pick: (r: OverheadRun) => Stats): Stats => ({ p50: m((r) => pick(r).p50), p99: m((r) => pick(r).p99) });
  return {
    end_to_end: stats((r) => r.end_to_end),
    pipeline: stats((r) => r.pipeline),
    ours: stats((r) => r.ours),
    phases: {
      accept: stats((r) => r.phases.accept),
      pickup: stats((r) => r.phases.pickup),
      worker: stats((r) => r.phases.worker),
      deliver: stats((r) => r.phases.deliver),
    },
    bull_raw: stats((r) => r.bull_raw),
    bare_post: stats((r) => r.bare_post),
    bare_post_spaced: stats((r) => r.bare_post_spaced),
    cpu_ms: {
      gateway: m((r) => r.cpu_ms.gateway),
      worker: m((r) => r.cpu_ms.worker),
      bare: m((r) => r.cpu_ms.bare),
      bare_spaced: m((r) => r.cpu_ms.bare_spaced),
    },
    redis_ping_ms: m((r) => r.redis_ping_ms),
  };
}

export const overheadScenario: Scenario = {
  name: 'overhead',
  async run(args) {
    const samples = numberFlag(args, '--samples', 300);
    const count = numberFlag(args, '--runs', 3);
    const runs: OverheadRun[] = [];
    for (let run = 1; run <= count; run++) {
      process.stderr.write(`bench overhead: run ${run} of ${count}\n`);
      runs.push(await once(samples));
    }
    const result = medianRun(runs);
    const pingMs = result.redis_ping_ms;
    const f = (v: number) => `${v.toFixed(2)} ms`;
    const lines = [
      `${samples} questions one at a time (after 20 to warm up), embedded defaults, sample collection; Bull and Redis on the same private redis-server. Median of ${count} runs (each run's p50 and p99; every run in the JSON). The four phases overlap a little (the worker can start before the 202 reaches the client), so they add up to about the whole, not exactly.`,
      '',
      '| what | p50 | p99 |',
      '|---|---|---|',
      `| this service: POST, then long-poll until the answer | ${f(result.end_to_end.p50)} | ${f(result.end_to_end.p99)} |`,
      `| — of which the pipeline (retrieve + generate) | ${f(result.pipeline.p50)} | ${f(result.pipeline.p99)} |`,
      `| — our layers (HTTP, validation, queue, worker pickup, long-poll wake-up) | ${f(result.ours.p50)} | ${f(result.ours.p99)} |`,
      `| —— accept: POST /v1/chat until its 202 arrives (client clock) | ${f(result.phases.accept.p50)} | ${f(result.phases.accept.p99)} |`,
      `| —— pickup: job created → a worker starts it | ${f(result.phases.pickup.p50)} | ${f(result.phases.pickup.p99)} |`,
      `| —— worker: started → finished, less the pipeline | ${f(result.phases.worker.p50)} | ${f(result.phases.worker.p99)} |`,
      `| —— deliver: finished → the long-poll's answer arrives (client clock) | ${f(result.phases.deliver.p50)} | ${f(result.phases.deliver.p99)} |`,
      `| Bull alone: add → process → completed | ${f(result.bull_raw.p50)} | ${f(result.bull_raw.p99)} |`,
      `| a bare Express handler: POST until its answer arrives (same client), back to back | ${f(result.bare_post.p50)} | ${f(result.bare_post.p99)} |`,
      `| the same, each POST after a pause as long as a question took (the cadence above) | ${f(result.bare_post_spaced.p50)} | ${f(result.bare_post_spaced.p99)} |`,
      `| Redis alone: one PING round trip (redis-benchmark, 1 client) | ${f(pingMs)} | |`,
      '',
      `Our layers cost ${(result.ours.p50 / result.bull_raw.p50).toFixed(1)}× Bull's own round trip at the median (two HTTP requests, validation, the job view and events on top of it).`,
      '',
      '| CPU time (user + system, every thread, /proc) | per question or request |',
      '|---|---|',
      `| the gateway, over the questions above (a POST and a long-poll each) | ${f(result.cpu_ms.gateway)} |`,
      `| the worker, over the same questions (pipeline included) | ${f(result.cpu_ms.worker)} |`,
      `| the bare Express handler, POSTs back to back | ${f(result.cpu_ms.bare)} |`,
      `| the bare Express handler, POSTs at the questions' cadence | ${f(result.cpu_ms.bare_spaced)} |`,
      '',
      ...goalsTable([{ goal: 'our layers at the median, no load', target: '≤ 3 ms', measured: f(result.ours.p50), met: result.ours.p50 <= 3 }]),
    ];
    return { markdown: lines.join('\n'), data: { samples, runs: count, median: result, each_run: runs } };
  },
};
