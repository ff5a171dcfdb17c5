/**
 * The gateway under load while the workers are saturated: POST /v1/chat
 * throughput and p50/p99 latency at 64 and 256 connections (autocannon), side
 * by side with (a) a bare Express handler — the framework's own limit — and
 * (b) a synchronous server running the same pipeline inside the request with
 * a 1 s LLM, the design the queue replaced. Also the resident memory of the
 * gateway and a worker at rest and under load. Each figure is the median of
 * `--runs` runs (default 3).
 *
 *   npm run bench -- gateway [--runs N] [--seconds N]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import autocannon from 'autocannon';
import { median, numberFlag, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, consuming, fakeLLM, ingestSample, listening } from './stack';

const CONNECTIONS = [64, 256];
const BODY = JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' });

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function hammer(url: string, connections: number, seconds: number): Promise<Load> {
  const result = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections, duration: seconds });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function rss(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes'));
  return Number(line?.split(' ').pop() ?? NaN) / 2 ** 20;
}

export const gatewayScenario: Scenario = {
  name: 'gateway',
  async run(args) {
    const runs = numberFlag(args, '--runs', 3);
    const seconds = numberFlag(args, '--seconds', 10);
    const redis = await startRedis();
    const data = tempDir('rag-bench-gateway-');
    const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: 1000 });
    const [port, barePort, syncPort, workerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const env = benchEnv(redis.url, data.path, {
      ...fakeLLM(fake.url),
      LOG_LEVEL: 'warn',
      MAX_WAITING_JOBS: '100000000',
      MAX_WAITING_JOBS_PER_TENANT: '100000000',
      JOB_RETENTION_SECONDS: '60',
      WORKER_CONCURRENCY: '4',
    });
    const apps: AppProcess[] = [];
    try {
      await ingestSample(env);
      const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, PORT: String(port), LOG_LEVEL: 'info' });
      const worker = startApp('apps/rag-worker/src/main.ts', { ...env, WORKER_METRICS_PORT: String(workerPort), LOG_LEVEL: 'info' });
      const bare = startApp('tools/bench/src/servers/bare-express.ts', { PORT: String(barePort) });
      const sync = startApp('tools/bench/src/servers/sync-pipeline.ts', { ...env, PORT: String(syncPort) });
      apps.push(gateway, worker, bare, sync);
      await Promise.all([...[gateway, bare, sync].map(listening), consuming(worker)]);

      const memory = { gateway_rest_mib: await rss(`http://127.0.0.1:${port}/metrics`), worker_rest_mib: await rss(`http://127.0.0.1:${workerPort}/metrics`) };
      const systems = [
        ['queue gateway (this service)', `http://127.0.0.1:${port}/v1/chat`],
        ['bare Express handler', `http://127.0.0.1:${barePort}/v1/chat`],
        ['synchronous pipeline, 1 s LLM', `http://127.0.0.1:${syncPort}/v1/chat`],
      ] as const;
      const rows: { system: string; connections: number; load: Load }[] = [];
      for (const connections of CONNECTIONS) {
        for (const [system, url] of systems) {
          process.stderr.write(`bench gateway: ${system} at ${connections} connections…\n`);
          const samples: Load[] = [];
          for (let i = 0; i < runs; i++) samples.push(await hammer(url, connections, seconds));
          const mid = (key: keyof Load) => median(samples.map((s) => s[key]));
          rows.push({
            system,
            connections,
            load: { requestsPerSecond: mid('requestsPerSecond'), p50: mid('p50'), p99: mid('p99'), non2xx: mid('non2xx'), errors: mid('errors') },
          });
        }
      }
      Object.assign(memory, {
        gateway_load_mib: await rss(`http://127.0.0.1:${port}/metrics`),
        worker_load_mib: await rss(`http://127.0.0.1:${workerPort}/metrics`),
      });
      const waiting = Number(
        (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
          .split('\n')
          .find((l) => l.startsWith('rag_queue_jobs{') && l.includes('state="waiting"') && l.includes('rag-query'))
          ?.split(' ')
          .pop(),
      );
      const of = (system: string, c: number) => rows.find((r) => r.system === system && r.connections === c)?.load.requestsPerSecond ?? NaN;
      const lines = [
        `POST /v1/chat for ${seconds} s per run, median of ${runs} runs, autocannon on the same machine. One worker (concurrency 4) with a 1 s LLM ` +
          `(tools/fake-openai) stays saturated throughout: ${waiting} questions were still waiting at the end.`,
        '',
        '| system | connections | requests/s | p50 | p99 | non-2xx | errors |',
        '|---|---|---|---|---|---|---|',
        ...rows.map(
          (r) =>
            `| ${r.system} | ${r.connections} | ${r.load.requestsPerSecond.toFixed(0)} | ${r.load.p50} ms | ${r.load.p99} ms | ${r.load.non2xx} | ${r.load.errors} |`,
        ),
        '',
        ...CONNECTIONS.map(
          (c) =>
            `At ${c} connections the gateway accepts ${((of(systems[0][0], c) / of(systems[1][0], c)) * 100).toFixed(0)} % of a bare Express handler's rate, and ` +
            `${(of(systems[0][0], c) / of(systems[2][0], c)).toFixed(0)}× the synchronous design's.`,
        ),
        '',
        `Resident memory: gateway ${memory.gateway_rest_mib.toFixed(0)} MiB at rest, ${(memory as Record<string, number>).gateway_load_mib.toFixed(0)} MiB after the load; ` +
          `worker ${memory.worker_rest_mib.toFixed(0)} MiB at rest, ${(memory as Record<string, number>).worker_load_mib.toFixed(0)} MiB busy.`,
      ];
      return { markdown: lines.join('\n'), data: { seconds, runs, rows, memory, waiting_at_end: waiting } };
    } finally {
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await fake.close();
      await redis.stop();
      data.remove();
    }
  },
};
