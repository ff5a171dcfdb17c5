/**
 * Resident memory of the gateway and the worker as their images run them:
 * `nx run-many -t build` makes the bundles the Dockerfiles ship
 * (dist/apps/<app>/main.cjs), each then runs as `node main.cjs` from its
 * folder with its image's ENV (read from docker/<app>.Dockerfile). RSS and
 * its peak come from /proc after start-up and again at rest, a few seconds
 * after the worker answered `--questions` questions through the gateway
 * (with a stored API key). The same apps through tsx (as the other scenarios
 * run them) are measured alongside for comparison. Checked against issue
 * #19's goal of at most 120 MiB at rest each.
 *
 *   npm run bench -- memory [--questions N] [--settle-seconds N] [--no-build]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { WORKSPACE_ROOT, freePort, imageEnv, startApp, startRedis, tempDir } from '@rag/testing';
import Redis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { answering, residentMemory, runCommand, startChild } from './child-process';
import { MEMORY_GOAL_MIB, verdict } from './goals';
import { numberFlag, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, consuming, fakeLLM, ingestSample, listening } from './stack';

const APPS = ['api-gateway', 'rag-worker'] as const;
type App = (typeof APPS)[number];
type Launch = 'bundle' | 'tsx';
const API_KEY = 'bench_memory_key_0123456789abcdef';

interface Measured {
  app: App;
  launch: Launch;
  startup: { rss_mib: number; peak_mib: number };
  rest: { rss_mib: number; peak_mib: number };
}

function build(): void {
  process.stderr.write('bench memory: nx run-many -t build -p api-gateway rag-worker…\n');
  const nx = path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx');
  const result = runCommand(nx, ['run-many', '-t', 'build', '-p', ...APPS, '--outputStyle=static'], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    timeoutMs: 600_000,
  });
  if (result.code !== 0)
    throw new Error(
      `building the apps failed (run it yourself: npx nx run-many -t build -p ${APPS.join(' ')}):\n${(result.stdout + result.stderr).slice(-3000)}`,
    );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts both apps one way, measures them after start-up and at rest after `questions` answers; stops them. */
async function measure(launch: Launch, env: NodeJS.ProcessEnv, redisUrl: string, questions: number, settleMs: number): Promise<Measured[]> {
  const [port, workerPort] = await Promise.all([freePort(), freePort()]);
  const gatewayEnv = { ...imageEnv('api-gateway'), ...env, HOST: '127.0.0.1', PORT: String(port) };
  const workerEnv = { ...imageEnv('rag-worker'), ...env, WORKER_METRICS_HOST: '127.0.0.1', WORKER_METRICS_PORT: String(workerPort) };
  const stops: (() => Promise<unknown>)[] = [];
  const pids: Record<App, number> = { 'api-gateway': NaN, 'rag-worker': NaN };
  const client = new Redis(redisUrl);
  try {
    if (launch === 'bundle') {
      for (const [app, appEnv, health] of [
        ['api-gateway', gatewayEnv, `http://127.0.0.1:${port}/healthz`],
        ['rag-worker', workerEnv, `http://127.0.0.1:${workerPort}/healthz`],
      ] as const) {
        const folder = path.join(WORKSPACE_ROOT, 'dist/apps', app);
        if (!fs.existsSync(path.join(folder, 'main.cjs')))
          throw new Error(`${folder}/main.cjs is missing: build it (npx nx run ${app}:build) or drop --no-build`);
        // The image's PATH only: nothing from the benchmark's own environment leaks in.
        const child = startChild(process.execPath, ['main.cjs'], { cwd: folder, env: { PATH: process.env.PATH, ...appEnv } });
        stops.push(() => child.stop('SIGKILL'));
        await answering(health, child);
        pids[app] = child.child.pid ?? NaN;
      }
    } else {
      const gateway = startApp('apps/api-gateway/src/main.ts', gatewayEnv);
      const worker = startApp('apps/rag-worker/src/main.ts', workerEnv);
      stops.push(
        () => gateway.stop('SIGKILL'),
        () => worker.stop('SIGKILL'),
      );
      await Promise.all([listening(gateway), consuming(worker)]);
      [pids['api-gateway'], pids['rag-worker']] = [gateway.child.pid ?? NaN, worker.child.pid ?? NaN];
    }
    await sleep(settleMs);
    const startup = { 'api-gateway': residentMemory(pids['api-gateway']), 'rag-worker': residentMemory(pids['rag-worker']) };
    const before = await client.zcard('rag:rag-query:completed');
    for (let i = 0; i < questions; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' }),
      });
      if (res.status !== 202) throw new Error(`POST /v1/chat answered ${res.status}: ${await res.text()}`);
    }
    for (const deadline = Date.now() + 120_000; ;) {
      if ((await client.zcard('rag:rag-query:failed')) > 0) throw new Error("a question failed (rag:rag-query:failed in the benchmark's redis-server)");
      if ((await client.zcard('rag:rag-query:completed')) - before >= questions) break;
      if (Date.now() > deadline) throw new Error(`${questions} questions not answered in 120 s`);
      await sleep(50);
    }
    await sleep(settleMs);
    return APPS.map((app) => ({ app, launch, startup: startup[app], rest: residentMemory(pids[app]) }));
  } finally {
    client.disconnect();
    for (const stop of stops) await stop();
  }
}

export const memoryScenario: Scenario = {
  name: 'memory',
  async run(args) {
    const questions = numberFlag(args, '--questions', 20);
    const settleMs = numberFlag(args, '--settle-seconds', 5) * 1000;
    if (!args.includes('--no-build')) build();
    const redis = await startRedis();
    const data = tempDir('rag-bench-memory-');
    const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: 50 });
    try {
      const env = benchEnv(redis.url, data.path, { ...fakeLLM(fake.url), LOG_LEVEL: 'info', API_KEYS: `default:query:${API_KEY}` });
      await ingestSample(env);
      const rows: Measured[] = [];
      for (const launch of ['bundle', 'tsx'] as const) {
        process.stderr.write(`bench memory: gateway and worker, ${launch === 'bundle' ? 'built bundles' : 'through tsx'}…\n`);
        rows.push(...(await measure(launch, env, redis.url, questions, settleMs)));
      }
      const mib = (n: number) => `${n.toFixed(0)} MiB`;
      const label: Record<Launch, string> = { bundle: '`node main.cjs` (built bundle, as in the image)', tsx: 'through tsx (as the other scenarios run it)' };
      const checked = rows.map((r) => ({ ...r, goal_met: r.launch === 'bundle' ? r.rest.rss_mib <= MEMORY_GOAL_MIB : null }));
      const lines = [
        `Resident set size (VmRSS from /proc) of each process ${settleMs / 1000} s after it is ready, and again ${settleMs / 1000} s after the worker answered ` +
          `${questions} questions (sample collection, LLM: tools/fake-openai after 50 ms, the gateway checking a stored API key); peak is VmHWM. ` +
          `The bundles are \`nx run-many -t build -p api-gateway rag-worker\`'s, run from dist/apps/<app> with their Dockerfile's ENV; ` +
          `the image installs the same package versions (its pruned lock file), so what the process loads is the same.`,
        '',
        `| process | how it runs | after start-up | at rest after ${questions} questions | peak | goal: ≤ ${MEMORY_GOAL_MIB} MiB at rest |`,
        '|---|---|---|---|---|---|',
        ...checked.map(
          (r) =>
            `| ${r.app} | ${label[r.launch]} | ${mib(r.startup.rss_mib)} | ${mib(r.rest.rss_mib)} | ${mib(r.rest.peak_mib)} | ${r.goal_met === null ? '—' : verdict(r.goal_met)} |`,
        ),
      ];
      return { markdown: lines.join('\n'), data: { questions, settle_seconds: settleMs / 1000, goal_mib: MEMORY_GOAL_MIB, rows: checked } };
    } finally {
      await fake.close();
      await redis.stop();
      data.remove();
    }
  },
};
