import type { Queue } from 'bull';

/** How many of a tenant's oldest entries one check may re-examine. */
const PRUNE_BATCH = 200;

export interface BacklogCheck {
  /** The tenant's jobs still waiting for a worker, as counted by this check. */
  waiting: number;
  allowed: boolean;
}

/**
 * Counts each tenant's questions that no worker has started yet, so one
 * tenant cannot fill the shared queue. The gateway records every job it adds
 * in a sorted set per tenant (score: when it was added). Entries are not
 * removed when a worker starts a job; instead, when a tenant reaches its cap,
 * its oldest entries are checked against Bull's job records and those already
 * started (or gone) are dropped. The queue is first in, first out, so the
 * oldest entries are the ones most likely started: the normal cost is one
 * ZCARD, and at the cap at most PRUNE_BATCH lookups in one round trip.
 */
export class TenantBacklog {
  constructor(
    private readonly queue: Queue,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  key(tenant: string): string {
    return `${this.prefix}:tenant-waiting:${tenant}`;
  }

  /** Whether the tenant may add one more job with `cap` allowed waiting. */
  async check(tenant: string, cap: number): Promise<BacklogCheck> {
    const redis = this.queue.client;
    const key = this.key(tenant);
    let waiting = await redis.zcard(key);
    if (waiting < cap) return { waiting, allowed: true };
    const oldest = await redis.zrange(key, 0, PRUNE_BATCH - 1);
    const pipeline = redis.pipeline();
    for (const id of oldest) pipeline.hmget(this.queue.toKey(id), 'timestamp', 'processedOn');
    const lookups = (await pipeline.exec()) ?? [];
    // No job record (no timestamp): removed, or finished and expired. processedOn set: a worker took it.
    const started = oldest.filter((_, i) => {
      const [error, fields] = lookups[i] ?? [];
      if (error || !Array.isArray(fields)) return false;
      const [timestamp, processedOn] = fields as (string | null)[];
      return timestamp === null || processedOn !== null;
    });
    if (started.length > 0) waiting = (await redis.multi().zrem(key, ...started).zcard(key).exec())?.[1]?.[1] as number;
    return { waiting, allowed: waiting < cap };
  }

  /** Records a job just added to the queue for `tenant`. */
  async added(tenant: string, jobId: string): Promise<void> {
    const key = this.key(tenant);
    await this.queue.client.multi().zadd(key, Date.now(), jobId).expire(key, this.retentionSeconds).exec();
  }

  /** Forgets a job that will never wait again (cancelled while waiting). */
  async removed(tenant: string, jobId: string): Promise<void> {
    await this.queue.client.zrem(this.key(tenant), jobId);
  }
}
