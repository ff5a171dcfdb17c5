import { cancelKey, cancelledKey } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { RedisScript } from './redis-script';

/** How many of a tenant's oldest entries one admission at the cap may re-examine. */
const PRUNE_BATCH = 200;

/**
 * How long a reservation counts while its job is not in Bull yet. A gateway
 * adds the job right after reserving (milliseconds); one that died in between
 * leaves a reservation that lapses after this.
 */
export const RESERVATION_GRACE_MS = 30_000;

// KEYS: 1 Bull's wait list, 2 Bull's paused list, 3 reservations in flight (zset: job id → ms),
//       4 the tenant's waiting questions (zset: job id → ms), 5 the idempotency record (→ fingerprint),
//       6 the job's Bull hash, 7 its cancel signal, 8 its cancelled record.
// ARGV: 1 job id, 2 request fingerprint ('' without an Idempotency-Key), 3 global cap, 4 tenant cap,
//       5 retention s, 6 grace ms, 7 Bull's job key prefix, 8 prune batch.
// Redis's own clock (TIME), so gateways with skewed clocks agree.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local grace = tonumber(ARGV[6])
local id = ARGV[1]
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - grace)
if ARGV[2] ~= '' then
  local held = redis.call('GET', KEYS[5])
  -- the key's job is reserved, in Bull, or cancelled (asked for, or removed and recorded)
  local live = redis.call('ZSCORE', KEYS[3], id) or redis.call('EXISTS', KEYS[6], KEYS[7], KEYS[8]) > 0
  if held and live then
    if held == ARGV[2] then return {'replay', 0} end
    return {'conflict', 0}
  end
  if live then return {'existing', 0} end
end
local waiting = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3])
if waiting >= tonumber(ARGV[3]) then return {'overloaded', waiting} end
local own = redis.call('ZCARD', KEYS[4])
if own >= tonumber(ARGV[4]) then
  local oldest = redis.call('ZRANGE', KEYS[4], 0, tonumber(ARGV[8]) - 1)
  for i = 1, #oldest do
    local f = redis.call('HMGET', ARGV[7] .. oldest[i], 'timestamp', 'processedOn')
    -- started (processedOn), or gone: no job record and no reservation in flight
    if f[2] or (not f[1] and not redis.call('ZSCORE', KEYS[3], oldest[i])) then redis.call('ZREM', KEYS[4], oldest[i]) end
  end
  own = redis.call('ZCARD', KEYS[4])
  if own >= tonumber(ARGV[4]) then return {'tenant_full', own} end
end
if ARGV[2] ~= '' then redis.call('SET', KEYS[5], ARGV[2], 'EX', tonumber(ARGV[5])) end
redis.call('ZADD', KEYS[3], now, id)
redis.call('PEXPIRE', KEYS[3], grace * 2)
redis.call('ZADD', KEYS[4], now, id)
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[5]))
return {'admitted', own + 1}
`;
const admitScript = new RedisScript(ADMIT, 8);

export type AdmissionOutcome =
  /** Counted and reserved: add the job now, then call `added` (or `release` if the add fails). */
  | 'admitted'
  /** The Idempotency-Key already stands for this same request: answer with its job, add nothing. */
  | 'replay'
  /** The Idempotency-Key stands for a different request. */
  | 'conflict'
  /** A job of this id exists from before its idempotency record (which expired): compare with its payload. */
  | 'existing'
  /** MAX_WAITING_JOBS questions are waiting. */
  | 'overloaded'
  /** The tenant's cap of waiting questions is reached. */
  | 'tenant_full';

export interface Admission {
  outcome: AdmissionOutcome;
  /** For `overloaded`, the questions waiting; for `tenant_full` and `admitted`, the tenant's. */
  waiting: number;
}

export interface AdmissionRequest {
  tenant: string;
  jobId: string;
  /** A hash of what the request asks, with an Idempotency-Key; absent without one. */
  fingerprint?: string;
  maxWaiting: number;
  maxPerTenant: number;
}

/**
 * Admits questions to the queue: the idempotency key, the global cap and the
 * tenant's cap are checked and the place reserved in one Lua script, so no
 * two requests (on one gateway or many) both pass a check that only one of
 * them may pass. Bull's add is its own script and cannot join it, so the
 * reservation counts as waiting until the job is in Bull's wait list
 * (`added`) and is undone if the add fails (`release`).
 *
 * Each tenant's waiting questions are a sorted set (score: when admitted).
 * Entries are not removed when a worker starts a job; instead, when a tenant
 * reaches its cap, its oldest entries are checked against Bull's job records
 * inside the script and those started or gone (no record, no reservation in
 * flight) are dropped. The queue is
 * first in, first out, so the oldest are the ones most likely started: the
 * normal cost is one script call, and at the cap at most PRUNE_BATCH lookups.
 *
 * An idempotency record lives for the retention time and maps the key's
 * deterministic job id to the request's fingerprint. While the job, its
 * reservation, its cancel signal or its cancelled record exists, the key
 * replays it: a retry never re-creates a job that was cancelled (the cancel
 * route sets the signal before it removes the job), nor overwrites one in
 * flight. A record whose job never made it into Bull (the gateway died
 * between admission and add) is taken over once the reservation lapses.
 */
export class QuestionAdmission {
  constructor(
    private readonly queue: Queue,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  tenantKey(tenant: string): string {
    return `${this.prefix}:tenant-waiting:${tenant}`;
  }

  private reservationsKey(): string {
    return `${this.prefix}:admitting:${this.queue.name}`;
  }

  private idempotencyKey(jobId: string): string {
    return `${this.prefix}:idempotency:${jobId}`;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const { tenant, jobId } = request;
    const keys = [
      this.queue.toKey('wait'),
      this.queue.toKey('paused'),
      this.reservationsKey(),
      this.tenantKey(tenant),
      this.idempotencyKey(jobId),
      this.queue.toKey(jobId),
      cancelKey(this.prefix, jobId),
      cancelledKey(this.prefix, jobId),
    ];
    const args = [
      jobId,
      request.fingerprint ?? '',
      request.maxWaiting,
      request.maxPerTenant,
      this.retentionSeconds,
      RESERVATION_GRACE_MS,
      this.queue.toKey(''),
      PRUNE_BATCH,
    ];
    const [outcome, waiting] = (await admitScript.run(this.queue.client, keys, args)) as [AdmissionOutcome, number];
    return { outcome, waiting: Number(waiting) };
  }

  /** The admitted job is in Bull now, counted by its wait list: its reservation ends. */
  async added(jobId: string): Promise<void> {
    await this.queue.client.zrem(this.reservationsKey(), jobId);
  }

  /** The admitted job could not be added: its reservation, place and idempotency record are given back. */
  async release(tenant: string, jobId: string, keyed: boolean): Promise<void> {
    const multi = this.queue.client.multi().zrem(this.reservationsKey(), jobId).zrem(this.tenantKey(tenant), jobId);
    if (keyed) multi.del(this.idempotencyKey(jobId));
    await multi.exec();
  }

  /** Forgets a job that will never wait again (cancelled while waiting). */
  async removed(tenant: string, jobId: string): Promise<void> {
    await this.queue.client.zrem(this.tenantKey(tenant), jobId);
  }
}
