import { isValidName } from '@rag/queue-contracts';
import type { Redis } from 'ioredis';
import { RedisKeyspace } from './redis-keyspace';

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
  /** The tenant named in the payload (null when it names none): whose admin may see and replay it. */
  tenant: string | null;
  payload: unknown;
  attempts: AttemptRecord[];
  final_error: string;
  final_error_code?: string;
  failed_at: string;
  /** How many times this job was replayed before it landed here again. */
  replays: number;
}

/** Whose dead letters a caller may touch: one tenant's (its admin) or every tenant's (an operator, the CLI). */
export type TenantScope = { tenant: string } | { all: true };
export const ALL_TENANTS: TenantScope = Object.freeze({ all: true });

export interface DeadLetterOptions {
  prefix: string;
  /** Attempt histories expire with the job record. */
  jobRetentionSeconds: number;
  /** Dead letters are kept longer: they are the evidence of what went wrong. */
  retentionSeconds: number;
  /** At most this many dead letters are kept (oldest dropped), in all and per tenant. */
  maxEntries: number;
}

/** The tenant a payload names, when it is one a tenant index can be keyed by. */
function tenantOf(payload: unknown): string | null {
  const tenant = typeof payload === 'object' && payload !== null ? (payload as { tenant?: unknown }).tenant : undefined;
  return isValidName(tenant) ? tenant : null;
}

/**
 * The dead-letter queue: jobs that failed for good, with their payload and
 * every attempt's error and timing, kept (bounded by age and count) until
 * they are replayed or purged. Indexed in all and per tenant, so a tenant's
 * admin reads, replays and purges only its own:
 *   <prefix>:dlq                   zset of every job id, by failure time
 *   <prefix>:dlq-tenant:<tenant>   zset of that tenant's job ids
 *   <prefix>:dlq-tenants           set of tenants with an index (for a purge of all)
 *   <prefix>:dlq:<job id>          the letter (JSON)
 */
export class DeadLetters extends RedisKeyspace<DeadLetterOptions> {
  private readonly indexKey = this.key('dlq');
  private readonly tenantsKey = this.key('dlq-tenants');

  private tenantIndexKey(tenant: string): string {
    return this.key('dlq-tenant', tenant);
  }

  private scopeIndexKey(scope: TenantScope): string {
    return 'tenant' in scope ? this.tenantIndexKey(scope.tenant) : this.indexKey;
  }

  private letterKey(jobId: string): string {
    return this.key('dlq', jobId);
  }

  private replaysKey(jobId: string): string {
    return this.key('dlq-replays', jobId);
  }

  private attemptsKey(jobId: string): string {
    return this.key('attempts', jobId);
  }

  async recordAttempt(jobId: string, attempt: AttemptRecord): Promise<void> {
    await this.redis.multi().rpush(this.attemptsKey(jobId), JSON.stringify(attempt)).expire(this.attemptsKey(jobId), this.options.jobRetentionSeconds).exec();
  }

  async attempts(jobId: string): Promise<AttemptRecord[]> {
    return (await this.redis.lrange(this.attemptsKey(jobId), 0, -1)).map((a) => JSON.parse(a) as AttemptRecord);
  }

  /** `tenant`: whose letter it is; by default the tenant its payload names (null: operators only). */
  async add(letter: Omit<DeadLetter, 'attempts' | 'replays' | 'tenant'> & { tenant?: string | null }): Promise<DeadLetter> {
    const [attempts, replays] = await Promise.all([this.attempts(letter.job_id), this.redis.get(this.replaysKey(letter.job_id))]);
    const tenant = letter.tenant !== undefined ? letter.tenant : tenantOf(letter.payload);
    const full: DeadLetter = { ...letter, tenant, attempts, replays: Number(replays ?? 0) };
    const { retentionSeconds, maxEntries } = this.options;
    const tx = this.redis.multi().set(this.letterKey(letter.job_id), JSON.stringify(full), 'EX', retentionSeconds);
    const indexes = tenant ? [this.indexKey, this.tenantIndexKey(tenant)] : [this.indexKey];
    for (const index of indexes) {
      tx.zadd(index, Date.parse(letter.failed_at), letter.job_id)
        .zremrangebyrank(index, 0, -(maxEntries + 1))
        .zremrangebyscore(index, 0, Date.now() - retentionSeconds * 1000)
        // Every letter it lists expires within retentionSeconds of the newest, and so does the index.
        .expire(index, retentionSeconds);
    }
    if (tenant) tx.sadd(this.tenantsKey, tenant).expire(this.tenantsKey, retentionSeconds);
    await tx.exec();
    return full;
  }

  /** The letter, if it exists and lies within the scope (another tenant's reads as absent). */
  async get(scope: TenantScope, jobId: string): Promise<DeadLetter | undefined> {
    return (await this.letters(scope, [jobId]))[0];
  }

  /** Newest first. */
  async list(scope: TenantScope, offset = 0, limit = 50): Promise<{ total: number; items: DeadLetter[] }> {
    const index = this.scopeIndexKey(scope);
    const [total, ids] = await Promise.all([this.redis.zcard(index), this.redis.zrevrange(index, offset, offset + limit - 1)]);
    if (ids.length === 0) return { total, items: [] };
    const letters = await this.letters(scope, ids);
    const items = letters.filter((l): l is DeadLetter => l !== undefined);
    // Expired, or (a job id reused) no longer this tenant's: out of the index.
    const gone = ids.filter((_, i) => !letters[i]);
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    return { total: total - gone.length, items };
  }

  /** The letters of these ids that exist and lie within the scope (undefined for the others), in order. */
  private async letters(scope: TenantScope, ids: string[]): Promise<(DeadLetter | undefined)[]> {
    const raw = ids.length > 0 ? await this.redis.mget(ids.map((id) => this.letterKey(id))) : [];
    return raw.map((r) => {
      if (!r) return undefined;
      const letter = JSON.parse(r) as DeadLetter;
      // Letters written before they carried a tenant name it in their payload.
      const tenant = letter.tenant !== undefined ? letter.tenant : tenantOf(letter.payload);
      return 'tenant' in scope && tenant !== scope.tenant ? undefined : { ...letter, tenant };
    });
  }

  /**
   * Takes a letter out for replay; the replay count goes with the job in case
   * it fails again. Of two callers taking the same letter, only one gets it.
   */
  async take(scope: TenantScope, jobId: string): Promise<DeadLetter | undefined> {
    const letter = await this.get(scope, jobId);
    if (!letter) return undefined;
    const tx = this.redis.multi().del(this.letterKey(jobId)).zrem(this.indexKey, jobId);
    if (letter.tenant) tx.zrem(this.tenantIndexKey(letter.tenant), jobId);
    const results = await tx.incr(this.replaysKey(jobId)).expire(this.replaysKey(jobId), this.options.retentionSeconds).exec();
    return results?.[0]?.[1] === 1 ? letter : undefined;
  }

  /** Deletes the scope's letters; returns how many were listed. */
  async purge(scope: TenantScope): Promise<number> {
    if ('tenant' in scope) {
      const index = this.tenantIndexKey(scope.tenant);
      const listed = await this.redis.zrange(index, 0, -1);
      // Only letters still this tenant's are deleted.
      const letters = await this.letters(scope, listed);
      const ids = listed.filter((_, i) => letters[i]);
      const tx = this.redis.multi();
      if (ids.length > 0) tx.del(...ids.map((id) => this.letterKey(id))).zrem(this.indexKey, ...ids);
      await tx.del(index).exec();
      return ids.length;
    }
    const tenants = await this.redis.smembers(this.tenantsKey);
    const indexes = [this.indexKey, ...tenants.map((t) => this.tenantIndexKey(t))];
    const ids = new Set((await Promise.all(indexes.map((index) => this.redis.zrange(index, 0, -1)))).flat());
    if (ids.size > 0) await this.redis.del(...[...ids].map((id) => this.letterKey(id)));
    await this.redis.del(...indexes, this.tenantsKey);
    return ids.size;
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
