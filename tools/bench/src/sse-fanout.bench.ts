/**
 * The read side of SSE at scale: 1,000 subscribers on 1,000 jobs through one
 * JobEventsFanout (one blocking Redis connection), while another process
 * writes every job's tokens with the real JobEventsWriter, one event per job
 * every 50 ms (the writer's flush period, so about what a streaming model
 * produces). Measured in this process:
 *
 * - the RSS and heap added by the subscribers, idle and at the peak of the
 *   stream (against the same process before subscribing);
 * - the delay from a token's write (the writer's clock, before its XADD) to
 *   its delivery to the subscriber, formatted as an SSE frame: what the
 *   fan-out adds per token, Redis round trips included, HTTP excluded;
 * - the Redis connections this process holds.
 *
 *   npm run bench -- sse-fanout [--jobs N] [--tokens N] [--interval-ms N]
 *
 * (once registered in main.ts with its section in docs/benchmarks.md; until
 * then it runs on its own and prints its figures:
 * `npx tsx --tsconfig tsconfig.base.json tools/bench/src/sse-fanout.bench.ts`)
 */
import { JobEventsFanout, type JobEventsSubscription } from '@rag/jobs';
import { startApp, startRedis } from '@rag/testing';
import Redis from 'ioredis';
import { latencyStats, numberFlag, type Scenario } from './scenario';

const PREFIX = 'bench';
const MiB = 2 ** 20;

interface SseFanoutRun {
  subscribers: number;
  tokens_per_job: number;
  interval_ms: number;
  tokens_delivered: number;
  /** From the writer's emit (its own queueing and XADD round trip included) to delivery. */
  delay_ms: ReturnType<typeof latencyStats> & { max: number };
  /** From the XADD (the stream id's time, ms resolution) to delivery: the fan-out's own share. */
  delay_from_xadd_ms: ReturnType<typeof latencyStats> & { max: number };
  rss_mib: { before: number; idle_added: number; peak_added: number };
  heap_mib: { before: number; idle_added: number; peak_added: number };
  redis_connections: number;
  sse_bytes: number;
  /** XREAD calls the loop made, and Redis's own time per call. */
  xread: { calls: number; usec_per_call: number };
  duration_s: number;
}

async function run(jobs: number, tokens: number, intervalMs: number): Promise<SseFanoutRun> {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const fanout = new JobEventsFanout(client, { prefix: PREFIX, maxSubscribers: jobs });
  try {
    await client.ping();
    const memory = () => process.memoryUsage();
    const before = memory();
    const delays: number[] = [];
    const fromXadd: number[] = [];
    const now = () => performance.timeOrigin + performance.now();
    let sseBytes = 0;
    // What an SSE response does with each event, short of writing it to a socket.
    const consume = async (subscription: JobEventsSubscription) => {
      for await (const event of subscription) {
        const frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
        sseBytes += frame.length;
        if (event.type !== 'token') continue;
        const at = now();
        delays.push(at - (JSON.parse(event.data) as { sent_at: number }).sent_at);
        // A stream id starts with Redis's clock (ms) at the XADD: the delay from the write reaching Redis.
        fromXadd.push(at - Number(event.id.split('-')[0]));
      }
    };
    const consumers = Array.from({ length: jobs }, (_, n) => consume(fanout.subscribe(`bench-${n}`, '0')));
    while (fanout.streamCount < jobs) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const idle = memory();
    const connections = ((await client.client('LIST')) as string).trim().split('\n').length;

    process.stderr.write(`bench sse-fanout: ${jobs} subscribers, ${tokens} tokens each…\n`);
    let peak = idle;
    const sampler = setInterval(() => {
      const m = memory();
      if (m.rss > peak.rss) peak = m;
    }, 100);
    const started = Date.now();
    const writers = startApp('tools/bench/src/servers/job-event-writers.ts', {
      REDIS_URL: redis.url,
      JOBS: String(jobs),
      TOKENS: String(tokens),
      INTERVAL_MS: String(intervalMs),
      PREFIX,
    });
    try {
      await Promise.all(consumers);
      const exit = await writers.exited;
      if (exit.code !== 0) throw new Error(`the writers failed:\n${writers.lines.slice(-20).join('\n')}`);
    } finally {
      clearInterval(sampler);
      await writers.stop('SIGKILL');
    }
    const duration = (Date.now() - started) / 1000;
    const stats = await client.info('commandstats');
    const xread = /cmdstat_xread:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(stats);
    if (delays.length !== jobs * tokens) throw new Error(`${delays.length} tokens delivered of ${jobs * tokens}`);
    const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
    return {
      subscribers: jobs,
      tokens_per_job: tokens,
      interval_ms: intervalMs,
      tokens_delivered: delays.length,
      delay_ms: { ...latencyStats(delays), max: Math.max(...delays) },
      delay_from_xadd_ms: { ...latencyStats(fromXadd), max: Math.max(...fromXadd) },
      rss_mib: { before: mib(before.rss), idle_added: mib(idle.rss - before.rss), peak_added: mib(peak.rss - before.rss) },
      heap_mib: { before: mib(before.heapUsed), idle_added: mib(idle.heapUsed - before.heapUsed), peak_added: mib(peak.heapUsed - before.heapUsed) },
      redis_connections: connections,
      sse_bytes: sseBytes,
      xread: { calls: Number(xread?.[1] ?? NaN), usec_per_call: Number(xread?.[2] ?? NaN) },
      duration_s: Math.round(duration * 10) / 10,
    };
  } finally {
    await fanout.close();
    client.disconnect();
    await redis.stop();
  }
}

function markdown(r: SseFanoutRun): string {
  const ms = (v: number) => v.toFixed(1);
  return [
    `${r.subscribers} subscribers on ${r.subscribers} jobs through one JobEventsFanout; a separate process writes ${r.tokens_per_job} token events per job, one every ${r.interval_ms} ms (${Math.round((r.subscribers * 1000) / r.interval_ms)} events/s in all).`,
    '',
    '| | |',
    '|---|---|',
    `| Redis connections of the reading process | ${r.redis_connections} (shared + one blocking) |`,
    `| RSS added, subscribed and idle | ${r.rss_mib.idle_added} MiB (heap ${r.heap_mib.idle_added} MiB) |`,
    `| RSS added, peak while streaming | ${r.rss_mib.peak_added} MiB (heap ${r.heap_mib.peak_added} MiB) |`,
    `| Per token, XADD → delivery: median, p99 (max) | ${ms(r.delay_from_xadd_ms.p50)} ms, ${ms(r.delay_from_xadd_ms.p99)} ms (${ms(r.delay_from_xadd_ms.max)} ms) |`,
    `| Per token, writer's emit → delivery: median, p99 (max) | ${ms(r.delay_ms.p50)} ms, ${ms(r.delay_ms.p99)} ms (${ms(r.delay_ms.max)} ms) |`,
    `| Tokens delivered | ${r.tokens_delivered} in ${r.duration_s} s |`,
    `| XREAD calls (Redis time per call) | ${r.xread.calls} (${r.xread.usec_per_call} µs) |`,
  ].join('\n');
}

export const sseFanoutScenario: Scenario = {
  name: 'sse-fanout',
  async run(args) {
    const result = await run(numberFlag(args, '--jobs', 1000), numberFlag(args, '--tokens', 40), numberFlag(args, '--interval-ms', 50));
    return { markdown: markdown(result), data: result };
  },
};

if (require.main === module) {
  sseFanoutScenario.run(process.argv.slice(2)).then(
    (result) => process.stdout.write(`${result.markdown}\n\n${JSON.stringify(result.data, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
