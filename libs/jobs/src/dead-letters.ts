import type { Redis } from 'ioredis';

export interface AttemptRecord {
  attempt: number;
  started_at: string;
  duration_ms: number;
  /** What the tenant was told (never a library's text: the detail is in the worker's log). */
  error: string;
  /** The stable code of the failure (`llm_auth_failed`, `internal_error`); absent in records written before codes. */
  code?: string;
  permanent: boolean;
}

export interface DeadLetter {
  job_id: string;
  queue: string;
  job_name: string;
  payload: unknown;
  attempts: AttemptRecord[];
  final_error: string;
  final_error_code?: string;
  failed_at: string;
  /** How many times this job was replayed before it landed here again. */
  replays: number;
}

export interface DeadLetterOptions {
  prefix: string;
  /** Attempt histories expire with the job record. */
  jobRetentionSeconds: number;
  /** Dead letters are kept longer: they are the evidence of what went wrong. */
  retentionSeconds: number;
  /** At most this many dead letters are kept (oldest dropped). */
  maxEntries: number;
}

/**
 * The dead-letter queue: jobs that failed for good, with their payload and
 * every attempt's error and timing, kept (bounded by age and count) until
 * they are replayed or purged.
 */
export class DeadLetters {
  constructor(
    private readonly redis: Redis,
    private readonly options: DeadLetterOptions,
  ) {}

  private get indexKey(): string {
    return `${this.options.prefix}:dlq`;
  }

  private letterKey(jobId: string): string {
    return `${this.options.prefix}:dlq:${jobId}`;
  }

  private replaysKey(jobId: string): string {
    return `${this.options.prefix}:dlq-replays:${jobId}`;
  }

  private attemptsKey(jobId: string): string {
    return `${this.options.prefix}:attempts:${jobId}`;
  }

  async recordAttempt(jobId: string, attempt: AttemptRecord): Promise<void> {
    await this.redis.multi().rpush(this.attemptsKey(jobId), JSON.stringify(attempt)).expire(this.attemptsKey(jobId), this.options.jobRetentionSeconds).exec();
  }

  async attempts(jobId: string): Promise<AttemptRecord[]> {
    return (await this.redis.lrange(this.attemptsKey(jobId), 0, -1)).map((a) => JSON.parse(a) as AttemptRecord);
  }

  async add(letter: Omit<DeadLetter, 'attempts' | 'replays'>): Promise<DeadLetter> {
    const [attempts, replays] = await Promise.all([this.attempts(letter.job_id), this.redis.get(this.replaysKey(letter.job_id))]);
    const full: DeadLetter = { ...letter, attempts, replays: Number(replays ?? 0) };
    await this.redis
      .multi()
      .set(this.letterKey(letter.job_id), JSON.stringify(full), 'EX', this.options.retentionSeconds)
      .zadd(this.indexKey, Date.parse(letter.failed_at), letter.job_id)
      .zremrangebyrank(this.indexKey, 0, -(this.options.maxEntries + 1))
      .zremrangebyscore(this.indexKey, 0, Date.now() - this.options.retentionSeconds * 1000)
      // Every letter it lists expires within retentionSeconds of the newest, and so does the index.
      .expire(this.indexKey, this.options.retentionSeconds)
      .exec();
    return full;
  }

  async get(jobId: string): Promise<DeadLetter | undefined> {
    const raw = await this.redis.get(this.letterKey(jobId));
    return raw ? (JSON.parse(raw) as DeadLetter) : undefined;
  }

  /** Newest first. */
  async list(offset = 0, limit = 50): Promise<{ total: number; items: DeadLetter[] }> {
    const [total, ids] = await Promise.all([this.redis.zcard(this.indexKey), this.redis.zrevrange(this.indexKey, offset, offset + limit - 1)]);
    if (ids.length === 0) return { total, items: [] };
    const raw = await this.redis.mget(ids.map((id) => this.letterKey(id)));
    const items = raw.flatMap((r) => (r ? [JSON.parse(r) as DeadLetter] : []));
    const gone = ids.filter((_, i) => !raw[i]);
    if (gone.length > 0) await this.redis.zrem(this.indexKey, ...gone);
    return { total: total - gone.length, items };
  }

  /** Takes a letter out for replay; the replay count goes with the job in case it fails again. */
  async take(jobId: string): Promise<DeadLetter | undefined> {
    const letter = await this.get(jobId);
    if (!letter) return undefined;
    await this.redis
      .multi()
      .del(this.letterKey(jobId))
      .zrem(this.indexKey, jobId)
      .incr(this.replaysKey(jobId))
      .expire(this.replaysKey(jobId), this.options.retentionSeconds)
      .exec();
    return letter;
  }

  async purge(): Promise<number> {
    const ids = await this.redis.zrange(this.indexKey, 0, -1);
    if (ids.length > 0) await this.redis.del(...ids.map((id) => this.letterKey(id)));
    await this.redis.del(this.indexKey);
    return ids.length;
  }
}

/** The dead letters of a deployment, configured from its settings. */
export function openDeadLetters(
  redis: Redis,
  config: { QUEUE_PREFIX: string; JOB_RETENTION_SECONDS: number; DEAD_LETTER_RETENTION_SECONDS: number; DEAD_LETTER_MAX: number },
): DeadLetters {
  return new DeadLetters(redis, {
    prefix: config.QUEUE_PREFIX,
    jobRetentionSeconds: config.JOB_RETENTION_SECONDS,
    retentionSeconds: config.DEAD_LETTER_RETENTION_SECONDS,
    maxEntries: config.DEAD_LETTER_MAX,
  });
}
