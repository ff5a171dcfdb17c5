/**
 * Where an accepted question's CPU goes in the gateway, against the bare
 * Express handler: both under the gateway scenario's load (POST /v1/chat,
 * 64 connections, a key stored in Redis, no worker), each profiled with
 * `--cpu-prof`. The samples taken while the load ran are put in components
 * by the code that owns them (the package, or our library, nearest the top of
 * the stack; Node's own frames count for their caller), and each
 * component's share of the busy samples times the CPU a request cost
 * (/proc, every thread) gives its microseconds per request.
 *
 *   npm run bench -- gateway-profile [--seconds N]
 */
import { ApiKeyStore } from '@rag/auth';
import { freePort, imageEnv, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpuTimeMs } from './child-process';
import { numberFlag, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, listening } from './stack';

const CONNECTIONS = 64;
const BODY = JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' });

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Components, by the package (or folder of ours) that owns a frame. */
const OWNERS: [RegExp, string][] = [
  [/node_modules\/(class-validator|class-transformer|validator)\//, 'validation (class-validator, class-transformer)'],
  [/node_modules\/(ioredis|redis-parser|@ioredis|cluster-key-slot|standard-as-callback|denque)\//, 'Redis client (ioredis)'],
  [/node_modules\/(bull|lodash|cron-parser|p-timeout)\//, 'Bull job record (bull, lodash)'],
  [/node_modules\/(winston|winston-transport|logform|safe-stable-stringify|triple-beam|@colors|fecha|readable-stream)\//, 'logging (winston)'],
  [/node_modules\/prom-client\//, 'metrics (prom-client)'],
  [/node_modules\/helmet\//, 'security headers (helmet)'],
  [
    /node_modules\/(express|router|body-parser|raw-body|type-is|parseurl|path-to-regexp|finalhandler|send|content-type|media-typer|mime-types|accepts|negotiator|iconv-lite|bytes|on-finished|encodeurl|escape-html|etag|fresh|range-parser|cookie|qs|vary|depd|statuses|http-errors|setprototypeof|merge-descriptors|utils-merge|ee-first|unpipe|destroy|proxy-addr|forwarded|ipaddr.js|content-disposition|debug|ms|is-promise)\//,
    'Express (routing, body, response)',
  ],
  [/\/libs\/jobs\/src\/job-signature/, 'job signing (HMAC of the payload)'],
  [/\/libs\/jobs\/src\//, 'job lifecycle (admission)'],
  [/\/libs\/auth\/src\//, 'authentication (key cache)'],
  [/\/libs\/observability\/src\//, 'logging (winston)'],
  [/\/libs\/(queue-contracts|config|core|llm-client)\/src\//, 'validation (class-validator, class-transformer)'],
  [/\/apps\/api-gateway\/src\//, 'gateway routes and middleware'],
  [/\/tools\/bench\/src\/servers\//, 'bare handler'],
];
const ASYNC_CONTEXT = 'request context (AsyncLocalStorage hooks)';
const NODE_HTTP = 'Node: HTTP parsing and sockets (no caller of ours)';
const GC = 'garbage collection';
const OTHER = 'other (V8, microtasks, timers)';

function owner(url: string): string | undefined {
  for (const [pattern, name] of OWNERS) if (pattern.test(url)) return name;
  return undefined;
}

/** Samples taken between `from` and `to` (µs, CLOCK_MONOTONIC as V8 stamps them) by component; idle samples left out. */
function componentsOf(profile: CpuProfile, from: number, to: number): Map<string, number> {
  const parent = new Map<number, number>();
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string | undefined>();
  const classify = (id: number): string | undefined => {
    if (memo.has(id)) return memo.get(id);
    const { functionName, url } = frames.get(id) ?? { functionName: '(root)', url: '' };
    let result: string | undefined;
    if (functionName === '(idle)') result = undefined;
    else if (functionName === '(garbage collector)') result = GC;
    else if (functionName === '(program)') result = OTHER;
    else if (/async_hooks/.test(url)) result = ASYNC_CONTEXT;
    else {
      const own = owner(url);
      const up = parent.get(id);
      result = own ?? (up === undefined || frames.get(up)?.functionName === '(root)' ? NODE_HTTP : (classify(up) ?? NODE_HTTP));
    }
    memo.set(id, result);
    return result;
  };
  const counts = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    if (at < from || at > to) return;
    const component = classify(id);
    if (component) counts.set(component, (counts.get(component) ?? 0) + 1);
  });
  return counts;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

interface Profiled {
  requests_per_second: number;
  requests: number;
  cpu_us_per_request: number;
  /** µs per request, by component. */
  components: Record<string, number>;
}

async function profileUnderLoad(app: AppProcess, dir: string, url: string, headers: Record<string, string>, seconds: number): Promise<Profiled> {
  const pid = app.child.pid;
  if (pid === undefined) throw new Error(`${url}: its process did not start`);
  const hammer = (duration: number, connections: number) =>
    autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY, connections, duration });
  await hammer(2, 16);
  const [cpu0, from] = [cpuTimeMs(pid), monotonicUs()];
  const load = await hammer(seconds, CONNECTIONS);
  const [cpu1, to] = [cpuTimeMs(pid), monotonicUs()];
  if (load.non2xx + load.errors > 0) {
    const sample = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY });
    throw new Error(`${url}: ${load.non2xx} non-2xx answers and ${load.errors} errors under load; one now: ${sample.status} ${await sample.text()}`);
  }
  // The profile is written when the process exits.
  await app.stop('SIGTERM');
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader thread writes one too).
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
  if (!file) throw new Error(`no CPU profile in ${dir}: ${app.lines.slice(-5).join('\n')}`);
  const counts = componentsOf(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, from, to);
  const busy = [...counts.values()].reduce((a, b) => a + b, 0);
  const perRequest = ((cpu1 - cpu0) * 1000) / load.requests.total;
  return {
    requests_per_second: load.requests.average,
    requests: load.requests.total,
    cpu_us_per_request: perRequest,
    components: Object.fromEntries([...counts].map(([name, n]) => [name, (perRequest * n) / busy])),
  };
}

export const gatewayProfileScenario: Scenario = {
  name: 'gateway-profile',
  async run(args) {
    const seconds = numberFlag(args, '--seconds', 15);
    const redis = await startRedis();
    const data = tempDir('rag-bench-gateway-profile-');
    const apps: AppProcess[] = [];
    try {
      const client = new Redis(redis.url);
      const { key: apiKey } = await new ApiKeyStore(client, 'rag')
        .create({ tenant: 'default', scopes: ['query'], name: 'bench' })
        .finally(() => client.disconnect());
      const [port, barePort] = await Promise.all([freePort(), freePort()]);
      const profiles = { gateway: path.join(data.path, 'gateway'), bare: path.join(data.path, 'bare') };
      const profiling = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      const image = imageEnv('api-gateway');
      const env = benchEnv(redis.url, data.path, {
        ...image,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        MAX_WAITING_JOBS: '100000000',
        MAX_WAITING_JOBS_PER_TENANT: '100000000',
        JOB_RETENTION_SECONDS: '60',
      });
      process.stderr.write('bench gateway-profile: the gateway…\n');
      const gateway = startApp('apps/api-gateway/src/main.ts', env, [], profiling(profiles.gateway));
      apps.push(gateway);
      await listening(gateway);
      const ours = await profileUnderLoad(gateway, profiles.gateway, `http://127.0.0.1:${port}/v1/chat`, { authorization: `Bearer ${apiKey}` }, seconds);
      process.stderr.write('bench gateway-profile: the bare Express handler…\n');
      const bare = startApp('tools/bench/src/servers/bare-express.ts', { PORT: String(barePort) }, [], profiling(profiles.bare));
      apps.push(bare);
      await listening(bare);
      const floor = await profileUnderLoad(bare, profiles.bare, `http://127.0.0.1:${barePort}/v1/chat`, {}, seconds);

      const names = [...new Set([...Object.keys(ours.components), ...Object.keys(floor.components)])].sort(
        (a, b) => (ours.components[b] ?? 0) - (floor.components[b] ?? 0) - ((ours.components[a] ?? 0) - (floor.components[a] ?? 0)),
      );
      const us = (v: number | undefined) => (v ? v.toFixed(1) : '—');
      const budget = floor.cpu_us_per_request / 0.6;
      const required = [
        'validation (class-validator, class-transformer)',
        'Redis client (ioredis)',
        'Bull job record (bull, lodash)',
        'job signing (HMAC of the payload)',
        ASYNC_CONTEXT,
      ];
      const requiredUs = required.reduce((sum, name) => sum + (ours.components[name] ?? 0) - (floor.components[name] ?? 0), 0);
      const markdown = [
        `POST /v1/chat at ${CONNECTIONS} connections for ${seconds} s after 2 s of warm-up, one at a time: the gateway (through tsx with its image's ENV, ` +
          `a key stored in Redis, validation, caps, signing, the access log and metrics; no worker) and the bare Express handler, each run with ` +
          "`--cpu-prof`. CPU per request is the process's user + system time over the load (/proc, every thread) divided by the requests answered; " +
          "a component's share is that of the main thread's busy samples taken during the load, the sample owned by the package or our library " +
          "nearest the top of its stack (Node's own frames count for their caller).",
        '',
        `| | the gateway | bare Express handler |`,
        `|---|---|---|`,
        `| requests/s under the profiler | ${ours.requests_per_second.toFixed(0)} | ${floor.requests_per_second.toFixed(0)} |`,
        `| CPU per request | ${ours.cpu_us_per_request.toFixed(0)} µs | ${floor.cpu_us_per_request.toFixed(0)} µs |`,
        '',
        '| component (µs of CPU per request) | the gateway | bare Express handler | the gateway adds |',
        '|---|---|---|---|',
        ...names.map(
          (n) => `| ${n} | ${us(ours.components[n])} | ${us(floor.components[n])} | ${((ours.components[n] ?? 0) - (floor.components[n] ?? 0)).toFixed(1)} |`,
        ),
        '',
        `At 60 % of the bare handler's rate (issue #19) a request may cost at most ${budget.toFixed(0)} µs, ` +
          `${(budget - floor.cpu_us_per_request).toFixed(0)} µs more than the bare handler's ${floor.cpu_us_per_request.toFixed(0)}; the gateway adds ` +
          `${(ours.cpu_us_per_request - floor.cpu_us_per_request).toFixed(0)}, of which ${requiredUs.toFixed(0)} µs are in the parts every accepted question needs whatever else changes: ` +
          'validating the body (class-validator), the Redis client, the Bull job record, signing the payload and the request context that puts the request id on every log line.',
      ].join('\n');
      return { markdown, data: { seconds, connections: CONNECTIONS, gateway: ours, bare: floor, budget_us: budget, required_us: requiredUs } };
    } finally {
      await Promise.all(apps.map((a) => a.stop('SIGKILL').catch(() => undefined)));
      await redis.stop();
      data.remove();
    }
  },
};
