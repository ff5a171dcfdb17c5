import type { Config } from '@rag/config';
import { WorkerHeartbeats, type WorkerStatus } from '@rag/jobs';
import type { Output } from './ingest.command';
import { connectRedis } from './redis-connection';

const line = (w: WorkerStatus) =>
  [
    w.id,
    `pid ${w.pid}`,
    w.queues.map((q) => `${q.name} ${q.active}/${q.concurrency}`).join(', '),
    `version ${w.version}`,
    `started ${w.started_at}`,
    w.stale ? `STALE: not seen for ${w.age_seconds} s` : `seen ${w.age_seconds} s ago`,
  ].join('\t');

/**
 * Lists the workers by their heartbeats: what each consumes, jobs in flight
 * out of its concurrency, when it was last seen. Exits 1 when none is alive,
 * so scripts can check for one.
 */
export async function workersCommand(config: Config, opts: { json?: boolean }, io: Output): Promise<number> {
  let redis;
  try {
    redis = await connectRedis(config);
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
  try {
    const workers = await new WorkerHeartbeats(redis, { prefix: config.QUEUE_PREFIX, staleSeconds: config.WORKER_STALE_SECONDS }).list();
    const alive = workers.filter((w) => !w.stale).length;
    if (opts.json) io.out(JSON.stringify({ alive, stale_after_seconds: config.WORKER_STALE_SECONDS, workers }));
    else for (const w of workers) io.out(line(w));
    if (alive === 0) {
      io.err(
        `no worker alive (none seen in the last ${config.WORKER_STALE_SECONDS} s, WORKER_STALE_SECONDS): questions wait in the queue; ` +
          `start one (npm start, or the rag-worker image) with the same REDIS_URL and QUEUE_PREFIX (${config.QUEUE_PREFIX})`,
      );
      return 1;
    }
    if (!opts.json) io.err(`${alive} worker(s) alive`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
