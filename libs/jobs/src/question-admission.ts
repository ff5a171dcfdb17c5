import { cancelKey, cancelledKey } from '@rag/queue-contracts';
import Bull, { type JobOptions, type Queue } from 'bull';
import { RedisScript } from './redis-script';

/** How many of a tenant's oldest entries one admission at the cap may re-examine. */
const PRUNE_BATCH = 200;
/** At most this many jobs ahead of a fair-share insert are lifted off the list's right end and put back (when fewer than walking passes); beyond, the list is walked. */
const LIFT_LIMIT = 1000;

/**
 * The least time the scheduler's state (a tenant's waiting set and tag, the fair-share clock) lasts after the
 * tenant's last question, whatever JOB_RETENTION_SECONDS is: it describes questions still waiting, which can wait
 * longer than a short retention. Lapsed while they wait, the tenant's next question would be tagged as a newcomer's
 * and overtake its own waiting ones (each such insert a walk of the list), and its cap would count from zero.
 */
const STATE_FLOOR_SECONDS = 86_400;

// The checks and the add in one script: no two requests (on one gateway or many) both pass a check only one may
// pass, and a question costs one round trip. The add is Bull 4.16's addJob-6.lua for a job with its own id and no
// delay, LIFO or debounce (`admit` refuses those options): the job hash, the wait list (the paused list while the
// queue is paused), the id counter and the `waiting` event, as Bull's own add leaves them (tested side by side).
// With fair share on, the job's priority is its tenant's tag and it is inserted as Bull's addJobWithPriority inserts
// (the `priority` zset, then its place in the list); off, it is pushed first in, first out with priority 0.
// KEYS: 1 Bull's wait list, 2 paused list, 3 meta-paused, 4 id counter, 5 the tenant's waiting questions (zset: job id → ms),
//       6 the idempotency record (→ fingerprint), 7 the job's Bull hash, 8 its cancel signal, 9 its cancelled record,
//       10 Bull's priority zset, 11 the fair-share clock (hash: clock, top), 12 the tenant's last tag, 13 Bull's active list.
// ARGV: 1 job id, 2 request fingerprint ('' without an Idempotency-Key), 3 global cap, 4 tenant cap, 5 retention s,
//       6 Bull's job key prefix, 7 prune batch, 8 job name, 9 data (JSON), 10 options (JSON), 11 timestamp, 12 the queue's token,
//       13 fair share ('1' on), 14 lift limit, 15 how long the scheduler's own state lasts after a question (s): the
//       tenant's waiting set, its tag and the clock, which must outlive the questions they order (STATE_FLOOR_SECONDS).
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
local target = KEYS[1]
if redis.call('EXISTS', KEYS[3]) == 1 then target = KEYS[2] end
-- Where Bull's addJobWithPriority puts a job: behind every waiting job of a lower or equal tag (workers take from the right).
local function insert(job, prio)
  redis.call('ZADD', KEYS[10], prio, job)
  local len = redis.call('LLEN', target)
  local before = math.min(redis.call('ZCOUNT', KEYS[10], 0, prio) - 1, len)
  if before == 0 then
    redis.call('RPUSH', target, job)
  elseif before <= tonumber(ARGV[14]) and before < len - before then
    -- Fewer to pass than to walk (a tenant with little waiting): lift them off the right end and put them back.
    local ahead = redis.call('RPOP', target, before)
    local back = {job}
    for i = #ahead, 1, -1 do back[#back + 1] = ahead[i] end
    redis.call('RPUSH', target, unpack(back))
  else
    -- Bull's own insert: LINDEX and LINSERT walk the list to the pivot.
    redis.call('LINSERT', target, 'BEFORE', redis.call('LINDEX', target, len - before), job)
  end
end
local tag = 0
if ARGV[13] == '1' then
  -- A worker that waited on an empty queue takes a job (BRPOPLPUSH) a round trip before its moveToActive drops it from
  -- the priority set: more in the set than in the list means such jobs, which sit in the active list; drop them now.
  if redis.call('ZCARD', KEYS[10]) > redis.call('LLEN', target) then
    local active = redis.call('LRANGE', KEYS[13], 0, -1)
    for i = 1, #active do redis.call('ZREM', KEYS[10], active[i]) end
  end
  -- Start-time fair queuing. The clock is the tag at the head of the queue (the lowest waiting; once none waits, the
  -- highest given), never going back; a tenant's tag is one past its last, and never behind the clock. Tags start at 2:
  -- priority 1 is a replayed dead letter's (QuestionProducer#replay), ahead of every question.
  local clock = redis.call('HMGET', KEYS[11], 'clock', 'top')
  local top = tonumber(clock[2]) or 0
  local head = redis.call('ZRANGE', KEYS[10], 0, 0, 'WITHSCORES')
  local v = math.max(tonumber(clock[1]) or 0, tonumber(head[2]) or top)
  tag = math.max(v, (tonumber(redis.call('GET', KEYS[12])) or 1) + 1)
  redis.call('HSET', KEYS[11], 'clock', v, 'top', math.max(top, tag))
  -- Renewed by every admission, so it outlives every tenant's tag; once it lapses (no question for that long), the
  -- clock is read again from the lowest tag still waiting.
  redis.call('EXPIRE', KEYS[11], tonumber(ARGV[15]))
  redis.call('SET', KEYS[12], tag, 'EX', tonumber(ARGV[15]))
  -- Questions queued without a tag (before fair share was turned on, or by a gateway with it off) wait behind every
  -- tagged one: each admission takes the oldest of them, just behind the tagged ones, and queues it at the clock's tag,
  -- so they move up at least as fast as questions arrive instead of waiting for the queue to empty.
  local untagged = redis.call('LINDEX', target, -(redis.call('ZCARD', KEYS[10]) + 1))
  if untagged and not redis.call('ZSCORE', KEYS[10], untagged) then
    local at = math.max(v, 2)
    redis.call('LREM', target, -1, untagged)
    redis.call('HSET', ARGV[6] .. untagged, 'priority', at)
    insert(untagged, at)
  end
end
redis.call('INCR', KEYS[4])
redis.call('HMSET', KEYS[7], 'name', ARGV[8], 'data', ARGV[9], 'opts', ARGV[10], 'timestamp', ARGV[11], 'delay', 0, 'priority', tag)
if tag == 0 then
  redis.call('LPUSH', target, id)
else
  insert(id, tag)
end
redis.call('PUBLISH', KEYS[1] .. 'ing@' .. ARGV[12], id)
redis.call('ZADD', KEYS[5], now, id)
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[15]))
return {'admitted', own + 1}
`;
const admitScript = new RedisScript(ADMIT, 13);

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
 * inside the script and those started or gone are dropped. A tenant's own
 * questions start first in, first out, so its oldest are the ones most likely
 * started: the normal cost is one script call, and at the cap at most
 * PRUNE_BATCH lookups.
 *
 * Fair share (start-time fair queuing): each question gets a tag, one past
 * its tenant's previous tag but never behind the clock (the lowest tag still
 * waiting), and the tag is its Bull priority, so workers take the lowest
 * first. A tenant with 2,000 waiting holds tags clock … clock+1999; another
 * tenant's question gets the clock's tag and starts after at most one
 * question of each tenant. Workers change nothing: Bull's moveToActive
 * already drops a started job from the priority set, and a retried job comes
 * back with its own (old, so early) tag. The insert walks the wait list
 * (LINDEX and LINSERT, as Bull's own prioritized add): linear in the
 * waiting questions, measured in docs/benchmarks.md ("fairness").
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
    /** Queue by each tenant's place in line (FAIR_SHARE=on); false: first in, first out across tenants. */
    private readonly fairShare = true,
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
    if (opts.delay || opts.priority || opts.lifo || opts.repeat)
      throw new Error('admission adds jobs without delay, priority, LIFO or repeat (fair share sets the priority)');
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
      this.queue.toKey('priority'),
      `${this.prefix}:fair-share`,
      `${this.prefix}:fair-share:${tenant}`,
      this.queue.toKey('active'),
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
      this.fairShare ? '1' : '0',
      LIFT_LIMIT,
      Math.max(this.retentionSeconds, STATE_FLOOR_SECONDS),
    ];
    const [outcome, waiting] = (await admitScript.run(this.queue.client, keys, args)) as [AdmissionOutcome, number];
    return { outcome, waiting: Number(waiting) };
  }

  /** Forgets a job that will never wait again (cancelled while waiting). */
  async removed(tenant: string, jobId: string): Promise<void> {
    await this.queue.client.zrem(this.tenantKey(tenant), jobId);
  }
}
