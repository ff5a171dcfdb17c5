/**
 * Writers for the sse-fanout benchmark, in their own process (as workers
 * are): JOBS jobs each write `status`, TOKENS token events INTERVAL_MS apart
 * (the JobEventsWriter's flush period), then `done`, through one Redis
 * connection. Each token carries the wall-clock time it was written.
 */
import { JobEventsWriter } from '@rag/jobs';
import Redis from 'ioredis';
import { readFileSync } from 'node:fs';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const jobs = Number(env('JOBS'));
const tokens = Number(env('TOKENS'));
const intervalMs = Number(env('INTERVAL_MS'));
const prefix = env('PREFIX');
/** The jobs' ids, one a line (real jobs the gateway knows), or `bench-<n>` when no file is given. */
const ids = process.env.JOB_IDS_FILE ? readFileSync(process.env.JOB_IDS_FILE, 'utf8').split('\n').filter(Boolean) : undefined;
const redis = new Redis(env('REDIS_URL'));
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function job(n: number): Promise<void> {
  const writer = new JobEventsWriter(redis, ids?.[n] ?? `bench-${n}`, { prefix, retentionSeconds: 600 });
  // Spread the jobs over one interval, as answers that started at different times.
  await sleep((n / jobs) * intervalMs);
  writer.emit('status', { status: 'active', attempt: 1 });
  for (let i = 0; i < tokens; i++) {
    // An unbatched token event, so the time in it is when it was written.
    writer.emit('token', { text: 'word ', sent_at: now() });
    await sleep(intervalMs);
  }
  writer.emit('done', { status: 'completed' });
  await writer.close();
}

void (async () => {
  await redis.ping();
  process.stdout.write(`${JSON.stringify({ message: 'writing' })}\n`);
  await Promise.all(Array.from({ length: jobs }, (_, n) => job(n)));
  process.stdout.write(`${JSON.stringify({ message: 'written', events: jobs * (tokens + 2) })}\n`);
  redis.disconnect();
})();
