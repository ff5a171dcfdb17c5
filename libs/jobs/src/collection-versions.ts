import { JobName, QueueName, type DropVersionPayload } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import type { Redis } from 'ioredis';
import { signJob, type JobSigningConfig } from './job-signature';

/** One rebuild of a collection (RebuildState in @rag/retrieval). */
export interface RebuildRecord {
  run_id: string;
  tenant: string;
  collection: string;
  from_version: number;
  to_version: number;
  grace_seconds: number;
}

export type RebuildStateName = 'rebuilding' | 'switched' | 'failed' | 'old_version_dropped';

/** A rebuild as `GET /v1/collections/:name/reindex` and `rag-ingest reindex` show it. */
export interface RebuildView extends RebuildRecord {
  state: RebuildStateName;
  created_at: string;
  /** When the new version became the one in use. */
  switched_at?: string;
  /** When the old version is (or was) dropped. */
  drop_at?: string;
  /** Why it failed. */
  error?: string;
}

export interface CollectionVersionView {
  active_version: number;
  /** The rebuild under way, if any. */
  rebuilding?: { run_id: string; to_version: number };
  /** The collection's latest rebuild, while its record is kept (JOB_RETENTION_SECONDS). */
  last?: RebuildView;
}

/** Where the delayed drop of a replaced version is queued: the `rag-ingest` queue, signed like every job. */
export interface DropQueue {
  queue: Queue;
  signing: JobSigningConfig;
}

// KEYS: collection hash, the new run's record. ARGV: run id, from, to, record prefix, retention, then record field/value pairs.
const BEGIN = `
local holder = redis.call('HGET', KEYS[1], 'rebuild_run')
if holder and redis.call('EXISTS', ARGV[4] .. holder) == 1 then return 'busy' end
local active = tonumber(redis.call('HGET', KEYS[1], 'active') or '1')
if active ~= tonumber(ARGV[2]) then return 'moved' end
redis.call('HSET', KEYS[1], 'rebuild_run', ARGV[1], 'rebuild_to', ARGV[3], 'last_run', ARGV[1])
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return 'started'
`;

// KEYS: collection hash, record. ARGV: run id, to, switched at, drop at.
const COMPLETE = `
if redis.call('HGET', KEYS[1], 'rebuild_run') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'active', ARGV[2])
redis.call('HDEL', KEYS[1], 'rebuild_run', 'rebuild_to')
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'state', 'switched', 'switched_at', ARGV[3], 'drop_at', ARGV[4])
end
return 1
`;

// KEYS: collection hash, record. ARGV: run id, error.
const ABORT = `
if redis.call('HGET', KEYS[1], 'rebuild_run') == ARGV[1] then redis.call('HDEL', KEYS[1], 'rebuild_run', 'rebuild_to') end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'state', 'failed', 'error', ARGV[2]) end
return 1
`;

// KEYS: collection hash. ARGV: run id. A holder whose record expired holds nothing.
const RELEASE_STALE = `
if redis.call('HGET', KEYS[1], 'rebuild_run') == ARGV[1] then redis.call('HDEL', KEYS[1], 'rebuild_run', 'rebuild_to') end
return 1
`;

/**
 * The versions of every collection, in Redis, read by every process: which
 * version questions read (`active`, absent = 1: every collection made before
 * versions), and the rebuild under way, which holds the collection until it
 * switches or fails. One hash per tenant and collection
 * (`<prefix>:collection:<tenant>:<collection>`, kept while the collection
 * exists), and one record per rebuild (`<prefix>:reindex:<run id>`, kept
 * JOB_RETENTION_SECONDS; a rebuild whose record has expired holds nothing,
 * so a crashed rebuild cannot block writes for ever). The claim, the switch
 * and the release are Lua scripts: each is one step for every reader.
 */
export class CollectionVersions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
    private readonly drops?: DropQueue,
  ) {}

  private collectionKey(tenant: string, collection: string): string {
    return `${this.prefix}:collection:${tenant}:${collection}`;
  }

  private recordPrefix(): string {
    return `${this.prefix}:reindex:`;
  }

  private recordKey(runId: string): string {
    return `${this.recordPrefix()}${runId}`;
  }

  async activeVersion(tenant: string, collection: string): Promise<number> {
    const value = await this.redis.hget(this.collectionKey(tenant, collection), 'active');
    return value ? Number(value) : 1;
  }

  async rebuildInProgress(tenant: string, collection: string): Promise<{ run_id: string; to_version: number } | undefined> {
    const key = this.collectionKey(tenant, collection);
    const [runId, to] = await this.redis.hmget(key, 'rebuild_run', 'rebuild_to');
    if (!runId) return undefined;
    if (!(await this.redis.exists(this.recordKey(runId)))) {
      await this.redis.eval(RELEASE_STALE, 1, key, runId);
      return undefined;
    }
    return { run_id: runId, to_version: Number(to) };
  }

  async forget(tenant: string, collection: string): Promise<void> {
    await this.redis.del(this.collectionKey(tenant, collection));
  }

  async beginRebuild(state: RebuildRecord): Promise<'started' | 'busy' | 'moved'> {
    const record: Record<string, string> = {
      run_id: state.run_id,
      tenant: state.tenant,
      collection: state.collection,
      from_version: String(state.from_version),
      to_version: String(state.to_version),
      grace_seconds: String(state.grace_seconds),
      state: 'rebuilding',
      created_at: new Date().toISOString(),
    };
    const result = await this.redis.eval(
      BEGIN,
      2,
      this.collectionKey(state.tenant, state.collection),
      this.recordKey(state.run_id),
      state.run_id,
      state.from_version,
      state.to_version,
      this.recordPrefix(),
      this.retentionSeconds,
      ...Object.entries(record).flat(),
    );
    return result as 'started' | 'busy' | 'moved';
  }

  async completeRebuild(state: RebuildRecord): Promise<boolean> {
    const now = Date.now();
    const switched = await this.redis.eval(
      COMPLETE,
      2,
      this.collectionKey(state.tenant, state.collection),
      this.recordKey(state.run_id),
      state.run_id,
      state.to_version,
      new Date(now).toISOString(),
      new Date(now + state.grace_seconds * 1000).toISOString(),
    );
    return Number(switched) === 1;
  }

  async abortRebuild(state: RebuildRecord, error: string): Promise<void> {
    await this.redis.eval(ABORT, 2, this.collectionKey(state.tenant, state.collection), this.recordKey(state.run_id), state.run_id, error.slice(0, 2000));
  }

  async rebuildOf(runId: string): Promise<RebuildRecord | undefined> {
    const view = await this.view(runId);
    if (!view) return undefined;
    const { run_id, tenant, collection, from_version, to_version, grace_seconds } = view;
    return { run_id, tenant, collection, from_version, to_version, grace_seconds };
  }

  /** A rebuild as it stands, while its record is kept. */
  async view(runId: string): Promise<RebuildView | undefined> {
    const fields = await this.redis.hgetall(this.recordKey(runId));
    if (!fields.run_id) return undefined;
    return {
      run_id: fields.run_id,
      tenant: fields.tenant,
      collection: fields.collection,
      from_version: Number(fields.from_version),
      to_version: Number(fields.to_version),
      grace_seconds: Number(fields.grace_seconds),
      state: fields.state as RebuildStateName,
      created_at: fields.created_at,
      ...(fields.switched_at ? { switched_at: fields.switched_at } : {}),
      ...(fields.drop_at ? { drop_at: fields.drop_at } : {}),
      ...(fields.error ? { error: fields.error } : {}),
    };
  }

  /** The collection's version in use, its rebuild under way and its latest rebuild. */
  async describe(tenant: string, collection: string): Promise<CollectionVersionView> {
    const [active, lastRun] = await this.redis.hmget(this.collectionKey(tenant, collection), 'active', 'last_run');
    const rebuilding = await this.rebuildInProgress(tenant, collection);
    const last = lastRun ? await this.view(lastRun) : undefined;
    return { active_version: active ? Number(active) : 1, ...(rebuilding ? { rebuilding } : {}), ...(last ? { last } : {}) };
  }

  /** Queues the drop of the version the rebuild replaced, `grace_seconds` from now (a delayed job on the ingest queue). */
  async scheduleDrop(state: RebuildRecord): Promise<void> {
    if (!this.drops) throw new Error('no queue to schedule the drop of the old version on');
    const payload: DropVersionPayload = { run_id: state.run_id, tenant: state.tenant, collection: state.collection, version: state.from_version };
    await this.drops.queue.add(JobName.DropCollectionVersion, signJob(this.drops.signing, QueueName.Ingest, payload), {
      jobId: `drop-version:${state.run_id}`,
      delay: state.grace_seconds * 1000,
      attempts: 5,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: this.retentionSeconds },
      removeOnFail: { age: this.retentionSeconds },
    });
  }

  /** Records that a rebuild's old version is gone. */
  async markDropped(runId: string): Promise<void> {
    const key = this.recordKey(runId);
    if (await this.redis.exists(key)) await this.redis.hset(key, 'state', 'old_version_dropped');
  }
}
