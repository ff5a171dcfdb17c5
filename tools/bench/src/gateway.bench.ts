/**
 * The gateway under load while the workers are saturated: POST /v1/chat
 * throughput and p50/p99 latency at 64 and 256 connections (autocannon), side
 * by side with (a) a bare Express handler — the framework's own limit — and
 * (b) a synchronous server running the same pipeline inside the request with
 * a 1 s LLM, and (c) the original Python design rebuilt (FastAPI + RQ
 * enqueue under uvicorn, one process, no auth, no validation; skipped with
 * the install command when Debian's packages are absent). The gateway runs
 * with everything on, a stored API key included. The table is checked
 * against issue #19's goals. Also the resident memory of the gateway and a
 * worker (through tsx; the built bundles: the `memory` scenario) at rest and
 * under load. Each figure is the median of `--runs` runs (default 3).
 *
 *   npm run bench -- gateway [--runs N] [--seconds N]
 */
import { ApiKeyStore } from '@rag/auth';
import { startFakeOpenAI } from '@rag/fake-openai';
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import type { Child } from './child-process';
import { FASTAPI_RQ_INSTALL, findPythonStack, startFastapiRq } from './fastapi-rq';
import { gatewayGoals, goalsTable, type GatewayRow, type SystemKey } from './goals';
import { median, numberFlag, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, consuming, fakeLLM, ingestSample, listening } from './stack';

const CONNECTIONS = [64, 256];
const BODY = JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' });
/** A key stored in Redis (as `rag-ingest keys create` stores it), so every request is authenticated as in production. */
async function storedKey(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl);
  try {
    return (await new ApiKeyStore(redis, 'rag').create({ tenant: 'default', scopes: ['query'], name: 'bench' })).key;
  } finally {
    redis.disconnect();
  }
}

interface Load {
  requestsPerSecond: number;
  /** 2xx answers received in the run: 0 means the system never answered (its latencies are then 0, not fast). */
  answered: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function hammer(url: string, connections: number, seconds: number, headers: Record<string, string>): Promise<Load> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
    connections,
    duration: seconds,
  });
  return {
    requestsPerSecond: result.requests.average,
    answered: result['2xx'],
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
    let python: Child | undefined;
    const pythonStack = findPythonStack();
    try {
      await ingestSample(env);
      const apiKey = await storedKey(redis.url);
      const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, PORT: String(port), LOG_LEVEL: 'info' });
      const worker = startApp('apps/rag-worker/src/main.ts', { ...env, WORKER_METRICS_PORT: String(workerPort), LOG_LEVEL: 'info' });
      const bare = startApp('tools/bench/src/servers/bare-express.ts', { PORT: String(barePort) });
      const sync = startApp('tools/bench/src/servers/sync-pipeline.ts', { ...env, PORT: String(syncPort) });
      apps.push(gateway, worker, bare, sync);
      await Promise.all([...[gateway, bare, sync].map(listening), consuming(worker)]);

      const memory = { gateway_rest_mib: await rss(`http://127.0.0.1:${port}/metrics`), worker_rest_mib: await rss(`http://127.0.0.1:${workerPort}/metrics`) };
      const systems: { key: SystemKey; system: string; url: string; headers?: Record<string, string> }[] = [
        { key: 'gateway', system: 'queue gateway (this service)', url: `http://127.0.0.1:${port}/v1/chat`, headers: { authorization: `Bearer ${apiKey}` } },
        { key: 'bare-express', system: 'bare Express handler', url: `http://127.0.0.1:${barePort}/v1/chat` },
      ];
      if (pythonStack) {
        const started = await startFastapiRq(pythonStack, redis.url);
        python = started.server;
        systems.push({ key: 'fastapi-rq', system: 'original design: FastAPI + RQ enqueue (uvicorn, 1 process)', url: started.url });
      } else {
        process.stderr.write(`bench gateway: skipping FastAPI + RQ: no python3 with fastapi, uvicorn and rq (${FASTAPI_RQ_INSTALL})\n`);
      }
      systems.push({ key: 'synchronous', system: 'synchronous pipeline, 1 s LLM', url: `http://127.0.0.1:${syncPort}/v1/chat` });
      const rows: GatewayRow[] = [];
      for (const connections of CONNECTIONS) {
        for (const { key, system, url, headers } of systems) {
          process.stderr.write(`bench gateway: ${system} at ${connections} connections…\n`);
          const samples: Load[] = [];
          for (let i = 0; i < runs; i++) samples.push(await hammer(url, connections, seconds, headers ?? {}));
          const mid = (k: keyof Load) => median(samples.map((s) => s[k]));
          rows.push({
            system,
            key,
            connections,
            load: {
              requestsPerSecond: mid('requestsPerSecond'),
              answered: mid('answered'),
              p50: mid('p50'),
              p99: mid('p99'),
              non2xx: mid('non2xx'),
              errors: mid('errors'),
            },
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
      const of = (key: SystemKey, c: number) => rows.find((r) => r.key === key && r.connections === c)?.load.requestsPerSecond ?? NaN;
      /** a / b as `digits` decimals and `suffix`, or — when b answered nothing (a loaded machine: see `answered`). */
      const ratio = (a: number, b: number, digits: number, suffix: string, scale = 1) =>
        b > 0 && Number.isFinite(a / b) ? `${((a / b) * scale).toFixed(digits)}${suffix}` : '—';
      const latency = (r: GatewayRow, ms: number) => (r.load.answered === 0 ? 'no answer' : `${ms} ms`);
      const fastapiNote = pythonStack
        ? `The original design is servers/fastapi_rq.py under uvicorn with one worker process (the gateway is one process too), Python ${pythonStack.versions.python}, ` +
          `FastAPI ${pythonStack.versions.fastapi}, uvicorn ${pythonStack.versions.uvicorn}, RQ ${pythonStack.versions.rq}, enqueuing on the same redis-server.`
        : `The original design's row (FastAPI + RQ) was skipped: no python3 here imports fastapi, uvicorn and rq (\`${FASTAPI_RQ_INSTALL}\`).`;
      const lines = [
        `POST /v1/chat for ${seconds} s per run, median of ${runs} runs, autocannon on the same machine. One worker (concurrency 4) with a 1 s LLM ` +
          `(tools/fake-openai) stays saturated throughout: ${waiting} questions were still waiting at the end. The gateway authenticates every request ` +
          `with a key stored in Redis (as rag-ingest keys create stores it; the gateway's key cache, AUTH_CACHE_MS, on by default) and runs with validation, caps, the access log and metrics on. ${fastapiNote}`,
        '',
        '| system | connections | requests/s | p50 | p99 | non-2xx | errors |',
        '|---|---|---|---|---|---|---|',
        ...rows.map(
          (r) =>
            `| ${r.system} | ${r.connections} | ${r.load.requestsPerSecond.toFixed(0)} | ${latency(r, r.load.p50)} | ${latency(r, r.load.p99)} | ${r.load.non2xx} | ${r.load.errors} |`,
        ),
        '',
        ...CONNECTIONS.map(
          (c) =>
            `At ${c} connections the gateway accepts ${ratio(of('gateway', c), of('bare-express', c), 0, ' %', 100)} of a bare Express handler's rate, ` +
            (pythonStack ? `${ratio(of('gateway', c), of('fastapi-rq', c), 2, '×')} FastAPI + RQ's, ` : '') +
            `and ${ratio(of('gateway', c), of('synchronous', c), 0, '×')} the synchronous design's.`,
        ),
        '',
        ...goalsTable(gatewayGoals(rows)),
        '',
        `Resident memory through tsx (the built bundles: \`npm run bench -- memory\`): gateway ${memory.gateway_rest_mib.toFixed(0)} MiB at rest, ${(memory as Record<string, number>).gateway_load_mib.toFixed(0)} MiB after the load; ` +
          `worker ${memory.worker_rest_mib.toFixed(0)} MiB at rest, ${(memory as Record<string, number>).worker_load_mib.toFixed(0)} MiB busy.`,
      ];
      return {
        markdown: lines.join('\n'),
        data: {
          seconds,
          runs,
          rows,
          memory,
          waiting_at_end: waiting,
          fastapi_rq: pythonStack
            ? { uvicorn_workers: 1, versions: pythonStack.versions }
            : { skipped: `no python3 with fastapi, uvicorn and rq (${FASTAPI_RQ_INSTALL})` },
        },
      };
    } finally {
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await python?.stop('SIGKILL');
      await fake.close();
      await redis.stop();
      data.remove();
    }
  },
};
