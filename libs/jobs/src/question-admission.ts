import { cancelKey, cancelledKey } from '@rag/queue-contracts';
import Bull, { type JobOptions, type Queue } from 'bull';
import { RedisScript } from './redis-script';

/** How many of a tenant's oldest entries one admission at the cap may re-examine. */
const PRUNE_BATCH = 200;

// The checks and the add in one script: no two requests (on one gateway or many) both pass a check only one may
// pass, and a question costs one round trip. The add is Bull 4.16's addJob-6.lua for a job with its own id and no
// delay, priority, LIFO or debounce (`admit` refuses those options): the job hash, the wait list (the paused list
// while the queue is paused), the id counter and the `waiting` event, as Bull's own add leaves them (tested side by side).
// KEYS: 1 Bull's wait list, 2 paused list, 3 meta-paused, 4 id counter, 5 the tenant's waiting questions (zset: job id → ms),
//       6 the idempotency record (→ fingerprint), 7 the job's Bull hash, 8 its cancel signal, 9 its cancelled record.
// ARGV: 1 job id, 2 request fingerprint ('' without an Idempotency-Key), 3 global cap, 4 tenant cap, 5 retention s,
//       6 Bull's job key prefix, 7 prune batch, 8 job name, 9 data (JSON), 10 options (JSON), 11 timestamp, 12 the queue's token.
// Redis's own clock (TIME) scores the tenant's entries, so gateways with skewed clocks agree.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
if ARGV[2] ~= '' then
  local held = redis.call('GET', KEYS[6])
  -- the key's job is in Bull, or cancelled (asked for, or removed and recorded)
  local live = redis.call('EXISTS', KEYS[7], KEYS[8], KEYS[9]) > 0
  if held and live then
    if held == ARGV[2] then return {'replay', 0} end
    return {'conflict', 0}
  end
  if live then return {'existing', 0} end
elseif redis.call('EXISTS', KEYS[7]) == 1 then
  return {'duplicate', 0}
end
local waiting = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
if waiting >= tonumber(ARGV[3]) then return {'overloaded', waiting} end
local own = redis.call('ZCARD', KEYS[5])
if own >= tonumber(ARGV[4]) then
  local oldest = redis.call('ZRANGE', KEYS[5], 0, tonumber(ARGV[7]) - 1)
  for i = 1, #oldest do
    local f = redis.call('HMGET', ARGV[6] .. oldest[i], 'timestamp', 'processedOn')
    -- started (processedOn), or gone (no job record)
    if f[2] or not f[1] then redis.call('ZREM', KEYS[5], oldest[i]) end
  end
  own = redis.call('ZCARD', KEYS[5])
  if own >= tonumber(ARGV[4]) then return {'tenant_full', own} end
end
if ARGV[2] ~= '' then redis.call('SET', KEYS[6], ARGV[2], 'EX', tonumber(ARGV[5])) end
redis.call('INCR', KEYS[4])
redis.call('HMSET', KEYS[7], 'name', ARGV[8], 'data', ARGV[9], 'opts', ARGV[10], 'timestamp', ARGV[11], 'delay', 0, 'priority', 0)
local target = KEYS[1]
if redis.call('EXISTS', KEYS[3]) == 1 then target = KEYS[2] end
redis.call('LPUSH', target, id)
redis.call('PUBLISH', KEYS[1] .. 'ing@' .. ARGV[12], id)
redis.call('ZADD', KEYS[5], now, id)
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[5]))
return {'admitted', own + 1}
`;
const admitScript = new RedisScript(ADMIT, 9);

/** What Bull stores of a new job (Job#toData): its payload and options as JSON, its options with Bull's defaults applied. */
interface BullJobData {
  name: string;
  data: string;
  opts: string;
  timestamp: number;
}

/** Bull's Job class, exported by the package but not by its typings: it applies the defaults Bull's own add stores. */
const BullJob = (Bull as unknown as { Job: new (queue: Queue, name: string, data: unknown, opts: JobOptions) => { toData(): BullJobData } }).Job;

export type AdmissionOutcome =
  /** Counted and added to the queue. */
  | 'admitted'
  /** The Idempotency-Key already stands for this same request: answer with its job, add nothing. */
  | 'replay'
  /** The Idempotency-Key stands for a different request. */
  | 'conflict'
  /** A job of this id exists from before its idempotency record (which expired): compare with its payload. */
  | 'existing'
  /** A job of this id exists and no Idempotency-Key was sent (a new random id cannot collide): nothing was added. */
  | 'duplicate'
  /** MAX_WAITING_JOBS questions are waiting. */
  | 'overloaded'
  /** The tenant's cap of waiting questions is reached. */
  | 'tenant_full';

export interface Admission {
  outcome: AdmissionOutcome;
  /** For `overloaded`, the questions waiting; for `tenant_full` and `admitted`, the tenant's (this one included). */
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

/** The job added once admitted, as `queue.add(name, data, opts)` would add it; `opts.jobId` is the request's job id. */
export interface AdmittedJob {
  name: string;
  data: object;
  opts: JobOptions;
}

/**
 * Admits questions to the queue: the idempotency key, the global cap and the
 * tenant's cap are checked and the job added to Bull in one Lua script, so no
 * two requests (on one gateway or many) both pass a check that only one of
 * them may pass, and nothing is ever counted without being in the queue. A
 * question costs one Redis round trip.
 *
 * Each tenant's waiting questions are a sorted set (score: when admitted).
 * Entries are not removed when a worker starts a job; instead, when a tenant
 * reaches its cap, its oldest entries are checked against Bull's job records
 * inside the script and those started or gone are dropped. The queue is
 * first in, first out, so the oldest are the ones most likely started: the
 * normal cost is one script call, and at the cap at most PRUNE_BATCH lookups.
 *
 * An idempotency record lives for the retention time and maps the key's
 * deterministic job id to the request's fingerprint. While the job, its
 * cancel signal or its cancelled record exists, the key replays it: a retry
 * never re-creates a job that was cancelled (the cancel route sets the signal
 * before it removes the job), nor overwrites one in flight. A record whose
 * job is gone (past its retention) is taken over by the next request.
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

  private idempotencyKey(jobId: string): string {
    return `${this.prefix}:idempotency:${jobId}`;
  }

  /** Checks `request` against the caps and its idempotency key and, admitted, adds `job` to the queue: one step. */
  async admit(request: AdmissionRequest, job: AdmittedJob): Promise<Admission> {
    const { tenant, jobId } = request;
    const { opts } = job;
    if (opts.jobId === undefined || String(opts.jobId) !== jobId) throw new Error(`the job's id ${String(opts.jobId)} is not the admitted ${jobId}`);
    if (opts.delay || opts.priority || opts.lifo || opts.repeat) throw new Error('admission adds jobs without delay, priority, LIFO or repeat');
    // Bull's own defaults and serialisation (attempts, backoff, timestamp), as its add stores them.
    const fields = new BullJob(this.queue, job.name, job.data, opts).toData();
    const keys = [
      this.queue.toKey('wait'),
      this.queue.toKey('paused'),
      this.queue.toKey('meta-paused'),
      this.queue.toKey('id'),
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
      this.queue.toKey(''),
      PRUNE_BATCH,
      fields.name,
      fields.data,
      fields.opts,
      fields.timestamp,
      (this.queue as unknown as { token: string }).token,
    ];
    const [outcome, waiting] = (await admitScript.run(this.queue.client, keys, args)) as [AdmissionOutcome, number];
    return { outcome, waiting: Number(waiting) };
  }

  /** Forgets a job that will never wait again (cancelled while waiting). */
  async removed(tenant: string, jobId: string): Promise<void> {
    await this.queue.client.zrem(this.tenantKey(tenant), jobId);
  }
}
