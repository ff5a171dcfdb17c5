import { randomBytes } from 'node:crypto';
import { RedisKeyspace } from './redis-keyspace';

/** What a worker says about itself when it starts. */
export interface WorkerIdentity {
  host: string;
  pid: number;
  version: string;
  /** Queues it consumes and how many jobs of each it runs at once. */
  queues: { name: string; concurrency: number }[];
}

/** One worker as the last heartbeat it wrote describes it. */
export interface WorkerStatus {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: { name: string; concurrency: number; active: number }[];
  started_at: string;
  last_seen: string;
  /** Seconds since that heartbeat, by Redis's clock. */
  age_seconds: number;
  /** Not seen for `staleSeconds`: hung, cut off from Redis, or dead without a goodbye. */
  stale: boolean;
}

export interface WorkerHeartbeatOptions {
  prefix: string;
  /** A worker not seen for this long counts as gone (WORKER_STALE_SECONDS). */
  staleSeconds: number;
}

/**
 * Workers announce themselves in Redis: each writes its identity, queues and
 * active jobs every few seconds to its own key (expiring) and its last-seen
 * time to a sorted set (expiring, pruned on every write and read), and
 * deletes both on a graceful stop. The gateway and the CLI read the list; a
 * worker that dies without a goodbye drops out once its key expires.
 */
export class WorkerHeartbeats extends RedisKeyspace<WorkerHeartbeatOptions> {
  private readonly indexKey = this.key('workers');

  private workerKey(id: string): string {
    return this.key('worker', id);
  }

  /** Keys outlive staleness, so a hung worker is listed as stale for a while before it drops out. */
  private get ttlSeconds(): number {
    return Math.max(10, this.options.staleSeconds * 2);
  }

  /** Beats well inside the staleness window, at most every 5 s. */
  get intervalMs(): number {
    return Math.max(500, Math.min(5000, Math.floor((this.options.staleSeconds * 1000) / 3)));
  }

  private async nowMs(): Promise<number> {
    // Redis's clock, not this machine's: gateways and workers on other hosts agree on ages.
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Starts announcing this worker; call `stop()` on shutdown. Rejects if the first beat cannot be written. */
  async start(identity: WorkerIdentity): Promise<WorkerHeartbeat> {
    const id = `${identity.host}:${identity.pid}:${randomBytes(3).toString('hex')}`;
    const heartbeat = new WorkerHeartbeat(
      id,
      identity,
      (status) => this.write(status),
      () => this.remove(id),
      this.intervalMs,
    );
    await heartbeat.beat();
    heartbeat.startTimer();
    return heartbeat;
  }

  private async write(status: Omit<WorkerStatus, 'last_seen' | 'age_seconds' | 'stale'>): Promise<void> {
    const now = await this.nowMs();
    const ttl = this.ttlSeconds;
    await this.redis
      .pipeline()
      .set(this.workerKey(status.id), JSON.stringify({ ...status, last_seen: new Date(now).toISOString() }), 'EX', ttl)
      .zadd(this.indexKey, now, status.id)
      .zremrangebyscore(this.indexKey, '-inf', now - ttl * 1000)
      .expire(this.indexKey, ttl)
      .exec();
  }

  private async remove(id: string): Promise<void> {
    await this.redis.pipeline().del(this.workerKey(id)).zrem(this.indexKey, id).exec();
  }

  /** Every worker whose heartbeat has not expired, most recently seen first. */
  async list(): Promise<WorkerStatus[]> {
    const now = await this.nowMs();
    await this.redis.zremrangebyscore(this.indexKey, '-inf', now - this.ttlSeconds * 1000);
    const ids = await this.redis.zrevrange(this.indexKey, 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.get(this.workerKey(id));
    const raw = ((await pipeline.exec()) ?? []).map(([, value]) => value as string | null);
    const gone = ids.filter((_, i) => raw[i] === null);
    if (gone.length > 0) await this.redis.zrem(this.indexKey, ...gone);
    return raw.flatMap((value) => {
      if (value === null) return [];
      const status = JSON.parse(value) as Omit<WorkerStatus, 'age_seconds' | 'stale'>;
      const age = Math.max(0, (now - Date.parse(status.last_seen)) / 1000);
      return [{ ...status, age_seconds: Math.round(age * 10) / 10, stale: age > this.options.staleSeconds }];
    });
  }

  /** Workers seen within `staleSeconds`. */
  async aliveCount(): Promise<number> {
    return (await this.list()).filter((w) => !w.stale).length;
  }
}

/** This worker's own heartbeat: counts its active jobs and writes them every few seconds. */
export class WorkerHeartbeat {
  private readonly active = new Map<string, number>();
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();
  private onError: (error: unknown) => void = () => undefined;

  constructor(
    readonly id: string,
    private readonly identity: WorkerIdentity,
    private readonly write: (status: Omit<WorkerStatus, 'last_seen' | 'age_seconds' | 'stale'>) => Promise<void>,
    private readonly remove: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** Called with every failed beat (Redis down); the next beat tries again. */
  onBeatError(handler: (error: unknown) => void): this {
    this.onError = handler;
    return this;
  }

  /** Wraps a processor so the heartbeat counts its jobs in flight. */
  track<J, R>(queue: string, processor: (job: J) => Promise<R>): (job: J) => Promise<R> {
    return async (job) => {
      this.active.set(queue, (this.active.get(queue) ?? 0) + 1);
      try {
        return await processor(job);
      } finally {
        this.active.set(queue, (this.active.get(queue) ?? 1) - 1);
      }
    };
  }

  async beat(): Promise<void> {
    await this.write({
      id: this.id,
      host: this.identity.host,
      pid: this.identity.pid,
      version: this.identity.version,
      queues: this.identity.queues.map((q) => ({ ...q, active: this.active.get(q.name) ?? 0 })),
      started_at: this.startedAt,
    });
  }

  /** @internal started by WorkerHeartbeats.start after the first beat. */
  startTimer(): void {
    this.timer = setInterval(() => {
      if (!this.stopped) this.inFlight = this.beat().catch((error: unknown) => this.onError(error));
    }, this.intervalMs);
    // The heartbeat alone never keeps a process alive.
    this.timer.unref();
  }

  /** Stops beating and removes this worker from the list (a graceful goodbye). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // A beat still being written would otherwise put this worker back after the goodbye.
    await this.inFlight;
    await this.remove();
  }
}
