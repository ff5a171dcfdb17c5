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
import { WORKSPACE_ROOT, freePort, runApp, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Bull from 'bull';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { median, numberFlag, type Scenario } from './scenario';

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))];

export const overheadScenario: Scenario = {
  name: 'overhead',
  command: 'npm run bench -- overhead',
  async run(args) {
    const samples = numberFlag(args, '--samples', 300);
    const redis = await startRedis();
    const data = tempDir('rag-bench-overhead-');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { REDIS_URL: redis.url, DATA_DIR: path.join(data.path, 'data'), PORT: String(port), NODE_ENV: 'production', LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', INGEST_CONCURRENCY: '0' };
    const apps: AppProcess[] = [];
    try {
      const load = await runApp('apps/ingest-cli/src/main.ts', env, [path.join(WORKSPACE_ROOT, 'tools/dev-stack/sample-docs'), '--collection', 'sample', '--no-progress']);
      if (load.code !== 0) throw new Error(load.stderr);
      const gateway = startApp('apps/api-gateway/src/main.ts', env);
      const worker = startApp('apps/rag-worker/src/main.ts', env);
      apps.push(gateway, worker);
      await Promise.all([gateway.waitForLog((l) => l.message === 'listening', 60_000), worker.waitForLog((l) => l.message === 'consuming', 60_000)]);

      process.stderr.write('bench overhead: end to end…\n');
      const endToEnd: number[] = [];
      const pipeline: number[] = [];
      for (let i = 0; i < samples + 20; i++) {
        const t0 = performance.now();
        const accepted = (await (await fetch(`http://127.0.0.1:${port}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'How many vacation days do new employees get?', collection: 'sample' }) })).json()) as { job_id: string };
        const done = (await (await fetch(`http://127.0.0.1:${port}/v1/jobs/${accepted.job_id}?wait=10`)).json()) as { status: string; result: { timings: { retrieve_ms: number; generate_ms: number } } };
        const ms = performance.now() - t0;
        if (done.status !== 'completed') throw new Error(`job ended ${done.status}`);
        // The first 20 warm the processes up.
        if (i >= 20) {
          endToEnd.push(ms);
          pipeline.push(done.result.timings.retrieve_ms + done.result.timings.generate_ms);
        }
      }
      const ours = endToEnd.map((ms, i) => ms - pipeline[i]);

      process.stderr.write('bench overhead: Bull raw…\n');
      const queue = new Bull('bench-raw', redis.url);
      const raw: number[] = [];
      try {
        void queue.process(async () => 'ok');
        await queue.isReady();
        for (let i = 0; i < samples + 20; i++) {
          const t0 = performance.now();
          const job = await queue.add({ i }, { removeOnComplete: true });
          await job.finished();
          if (i >= 20) raw.push(performance.now() - t0);
        }
      } finally {
        await queue.close();
      }

      process.stderr.write('bench overhead: Redis PING…\n');
      const bench = spawnSync('redis-benchmark', ['-p', String(redis.port), '-t', 'ping_mbulk', '-n', '20000', '-c', '1', '-q', '--csv'], { encoding: 'utf8' });
      // CSV: "test","rps","avg_latency_ms",…
      const row = bench.stdout.split('\n').find((l) => l.startsWith('"PING'));
      const pingMs = row ? Number(row.split(',')[2]?.replace(/"/g, '')) : NaN;

      const stats = (v: number[]) => ({ p50: median(v), p99: p99(v) });
      const result = { samples, end_to_end: stats(endToEnd), pipeline: stats(pipeline), ours: stats(ours), bull_raw: stats(raw), redis_ping_ms: pingMs };
      const f = (v: number) => `${v.toFixed(2)} ms`;
      const lines = [
        `${samples} questions one at a time (after 20 to warm up), embedded defaults, sample collection; Bull and Redis on the same private redis-server.`,
        '',
        '| what | p50 | p99 |',
        '|---|---|---|',
        `| this service: POST, then long-poll until the answer | ${f(result.end_to_end.p50)} | ${f(result.end_to_end.p99)} |`,
        `| — of which the pipeline (retrieve + generate) | ${f(result.pipeline.p50)} | ${f(result.pipeline.p99)} |`,
        `| — our layers (HTTP, validation, queue, worker pickup, long-poll wake-up) | ${f(result.ours.p50)} | ${f(result.ours.p99)} |`,
        `| Bull alone: add → process → completed | ${f(result.bull_raw.p50)} | ${f(result.bull_raw.p99)} |`,
        `| Redis alone: one PING round trip (redis-benchmark, 1 client) | ${f(pingMs)} | |`,
        '',
        `Our layers cost ${(result.ours.p50 / result.bull_raw.p50).toFixed(1)}× Bull's own round trip at the median (two HTTP requests, validation, the job view and events on top of it).`,
      ];
      return { markdown: lines.join('\n'), data: result };
    } finally {
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await redis.stop();
      data.remove();
    }
  },
};
