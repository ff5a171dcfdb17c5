/**
 * Streamed answers at scale, over HTTP: N clients (1,000 by default) follow N
 * queued questions with `GET /v1/jobs/:id/events` on ONE gateway process
 * while another process writes every job's events with the real
 * JobEventsWriter (a status, then one token per job every 50 ms, then done),
 * as N workers streaming answers would. No worker runs: the questions stay
 * queued, so the gateway's only work is relaying. Measured:
 *
 * - the gateway's resident memory (its own /metrics) before the clients
 *   connect, with all of them connected and idle, and at the peak of the
 *   stream: what one SSE client costs;
 * - the delay per token from its write (the writer's clock, before its XADD)
 *   and from its XADD (the stream id's time) to its arrival at the client,
 *   parsed from the socket: what the gateway (fan-out, SSE framing, HTTP)
 *   adds, to be read beside the `sse-fanout` scenario's in-process figure;
 * - the Redis connections the gateway holds while serving them.
 *
 *   npm run bench -- sse-clients [--clients N] [--tokens N] [--interval-ms N]
 */
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import Redis from 'ioredis';
import { latencyStats, numberFlag, type Scenario } from './scenario';
import { benchEnv, listening, postQuestion } from './stack';

const PREFIX = 'rag';

interface SseClientsRun {
  clients: number;
  tokens_per_job: number;
  interval_ms: number;
  tokens_received: number;
  delay_ms: ReturnType<typeof latencyStats> & { max: number };
  delay_from_xadd_ms: ReturnType<typeof latencyStats> & { max: number };
  gateway_rss_mib: { before: number; connected: number; peak: number };
  kib_per_client: { connected: number; peak: number };
  gateway_redis_connections: number;
  duration_s: number;
}

async function rss(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes'));
  return Number(line?.split(' ').pop() ?? NaN) / 2 ** 20;
}

/** One SSE client: resolves once the response's headers arrived; `ended` once the stream closed. */
function follow(port: number, jobId: string, onToken: (id: string, data: string) => void): Promise<{ ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/v1/jobs/${jobId}/events`, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`events of ${jobId}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let cut = buffered.indexOf('\n\n'); cut >= 0; cut = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          if (!block.includes('event: token')) continue;
          const id = /^id: (.*)$/m.exec(block)?.[1] ?? '';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
          onToken(id, data);
        }
      });
      resolve({ ended: new Promise<void>((r) => res.on('close', r).on('end', r)) });
    });
    req.on('error', reject);
  });
}

async function run(clients: number, tokens: number, intervalMs: number): Promise<SseClientsRun> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-sse-');
  const port = await freePort();
  const env = benchEnv(redis.url, data.path, {
    PORT: String(port),
    // Info, as in production (an access line per request); also how the bench sees it listen.
    LOG_LEVEL: 'info',
    QUEUE_PREFIX: PREFIX,
    MAX_WAITING_JOBS: '100000000',
    MAX_WAITING_JOBS_PER_TENANT: '100000000',
    // One client address follows every stream here: the per-client cap would stop it at 10.
    MAX_LONG_POLLS_PER_CLIENT: '0',
    SSE_MAX_CLIENTS: String(clients + 100),
  });
  let gateway: AppProcess | undefined;
  let writers: AppProcess | undefined;
  const client = new Redis(redis.url);
  try {
    gateway = startApp('apps/api-gateway/src/main.ts', env);
    await listening(gateway);
    const ids: string[] = [];
    for (let i = 0; i < clients; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => postQuestion(port)));
      for (const res of batch) {
        if (res.status !== 202) throw new Error(`POST /v1/chat answered ${res.status}: ${await res.text()}`);
        ids.push(((await res.json()) as { job_id: string }).job_id);
      }
    }
    const idsFile = path.join(data.path, 'job-ids.txt');
    fs.writeFileSync(idsFile, ids.join('\n'));
    const before = await rss(port);

    const now = () => performance.timeOrigin + performance.now();
    const delays: number[] = [];
    const fromXadd: number[] = [];
    const onToken = (id: string, payload: string) => {
      const at = now();
      delays.push(at - (JSON.parse(payload) as { sent_at: number }).sent_at);
      fromXadd.push(at - Number(id.split('-')[0]));
    };
    const streams: { ended: Promise<void> }[] = [];
    for (let i = 0; i < clients; i += 100) streams.push(...(await Promise.all(ids.slice(i, i + 100).map((id) => follow(port, id, onToken)))));
    await new Promise((r) => setTimeout(r, 1000));
    const connected = await rss(port);
    const connections = ((await client.client('LIST')) as string).trim().split('\n').length - 1; // less this process's own

    process.stderr.write(`bench sse-clients: ${clients} clients connected, ${tokens} tokens each…\n`);
    let peak = connected;
    const sampler = setInterval(() => {
      rss(port).then(
        (v) => (peak = Math.max(peak, v)),
        () => undefined,
      );
    }, 250);
    const started = Date.now();
    writers = startApp('tools/bench/src/servers/job-event-writers.ts', {
      REDIS_URL: redis.url,
      JOBS: String(clients),
      TOKENS: String(tokens),
      INTERVAL_MS: String(intervalMs),
      PREFIX,
      JOB_IDS_FILE: idsFile,
    });
    try {
      await Promise.all(streams.map((s) => s.ended));
      const exit = await writers.exited;
      if (exit.code !== 0) throw new Error(`the writers failed:\n${writers.lines.slice(-20).join('\n')}`);
    } finally {
      clearInterval(sampler);
    }
    const duration = (Date.now() - started) / 1000;
    if (delays.length !== clients * tokens) throw new Error(`${delays.length} tokens received of ${clients * tokens}`);
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      clients,
      tokens_per_job: tokens,
      interval_ms: intervalMs,
      tokens_received: delays.length,
      delay_ms: { ...latencyStats(delays), max: Math.max(...delays) },
      delay_from_xadd_ms: { ...latencyStats(fromXadd), max: Math.max(...fromXadd) },
      gateway_rss_mib: { before: round(before), connected: round(connected), peak: round(peak) },
      kib_per_client: { connected: round(((connected - before) * 1024) / clients), peak: round(((peak - before) * 1024) / clients) },
      gateway_redis_connections: connections,
      duration_s: round(duration),
    };
  } finally {
    await writers?.stop('SIGKILL');
    await gateway?.stop();
    client.disconnect();
    await redis.stop();
    data.remove();
  }
}

function markdown(r: SseClientsRun): string {
  const ms = (v: number) => v.toFixed(1);
  return [
    `${r.clients} clients follow ${r.clients} queued questions with \`GET /v1/jobs/:id/events\` on one gateway process; a separate process writes ${r.tokens_per_job} token events per job, one every ${r.interval_ms} ms (${Math.round((r.clients * 1000) / r.interval_ms)} events/s in all), through the real JobEventsWriter.`,
    '',
    '| | |',
    '|---|---|',
    `| Gateway RSS: before, ${r.clients} clients connected, peak while streaming | ${r.gateway_rss_mib.before} MiB, ${r.gateway_rss_mib.connected} MiB, ${r.gateway_rss_mib.peak} MiB |`,
    `| Per client, connected / at the peak | ${r.kib_per_client.connected} KiB / ${r.kib_per_client.peak} KiB |`,
    `| Redis connections the gateway holds | ${r.gateway_redis_connections} |`,
    `| Per token, XADD → client: median, p99 (max) | ${ms(r.delay_from_xadd_ms.p50)} ms, ${ms(r.delay_from_xadd_ms.p99)} ms (${ms(r.delay_from_xadd_ms.max)} ms) |`,
    `| Per token, writer's emit → client: median, p99 (max) | ${ms(r.delay_ms.p50)} ms, ${ms(r.delay_ms.p99)} ms (${ms(r.delay_ms.max)} ms) |`,
    `| Tokens received | ${r.tokens_received} in ${r.duration_s} s |`,
  ].join('\n');
}

export const sseClientsScenario: Scenario = {
  name: 'sse-clients',
  async run(args) {
    const result = await run(numberFlag(args, '--clients', 1000), numberFlag(args, '--tokens', 40), numberFlag(args, '--interval-ms', 50));
    return { markdown: markdown(result), data: result };
  },
};
