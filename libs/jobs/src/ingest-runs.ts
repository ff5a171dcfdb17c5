import type { Redis } from 'ioredis';
import { IngestContent, type ContentRef, type PendingCheck } from './ingest-content';

export interface IngestRunInfo {
  run_id: string;
  tenant: string;
  collection: string;
  /** Documents sent to the queue in this run. */
  queued: number;
  /** Documents found unchanged before queueing (not sent). */
  unchanged: number;
  created_at: string;
}

export type IngestOutcome = 'added' | 'updated' | 'unchanged';

export interface IngestRunStatus extends IngestRunInfo {
  /** Documents loaded by the workers so far, by outcome. */
  added: number;
  updated: number;
  /** Unchanged before queueing plus those a worker found unchanged. */
  skipped: number;
  /** Queued documents finished so far: loaded, found unchanged by a worker, or failed. */
  done: number;
  failed: number;
  chunks: number;
  /** Every queued document is done (loaded, unchanged or failed). */
  finished: boolean;
  status: 'running' | 'completed' | 'completed_with_failures';
  /** `code`: the failure's stable code (absent in runs recorded before codes). */
  failures: { doc_id: string; error: string; code?: string }[];
}

const FAILURES_SHOWN = 1000;

/** The run's size and the counters whose sum says how many of its documents are done. */
const COUNTED = ['queued', 'added', 'updated', 'skipped', 'failed'] as const;
const HMGET_COUNTED = `redis.call('HMGET', KEYS[1], ${COUNTED.map((f) => `'${f}'`).join(', ')})`;

// Counters change only while their run exists: an increment on a run that has
// expired would otherwise recreate it as a hash with no TTL, kept for ever.
// Both scripts answer the counters as they are right after their own change (see finishedBy).
// ARGV: field, increment, field, increment, ...
const INCREMENT_IF_RUN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return ${HMGET_COUNTED}
`;

// KEYS: run, failures. ARGV: failure (JSON), failures kept, retention seconds.
const FAIL_IF_RUN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'failed', 1)
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return ${HMGET_COUNTED}
`;

/**
 * Whether the count just made finished the run: the script read the counters
 * right after its own increment, and every increment adds one, so exactly one
 * of the workers recording a run's documents sees done == queued. A run that
 * no longer exists finishes nothing.
 */
function finishedBy(counters: unknown): boolean {
  if (!Array.isArray(counters)) return false;
  const [queued, ...done] = counters.map((v) => Number(v ?? 0));
  return queued > 0 && done.reduce((a, b) => a + b, 0) === queued;
}

/**
 * Redis-side bookkeeping of ingest runs: the bytes of queued documents (one
 * key per document, deleted once it is loaded or has failed for good, counted
 * per tenant; see IngestContent), and per run its counters and failures,
 * which the CLI's progress bar, `rag-ingest status` and the gateway read.
 * Everything expires after `retentionSeconds`.
 */
export class IngestRuns {
  private readonly content: IngestContent;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.content = new IngestContent(redis, prefix, retentionSeconds);
  }

  private runKey(runId: string): string {
    return `${this.prefix}:ingest-run:${runId}`;
  }

  private failuresKey(runId: string): string {
    return `${this.prefix}:ingest-run:${runId}:failures`;
  }

  async create(info: IngestRunInfo): Promise<void> {
    const key = this.runKey(info.run_id);
    await this.redis
      .multi()
      .hset(key, { ...info, queued: String(info.queued), unchanged: String(info.unchanged), added: '0', updated: '0', skipped: '0', failed: '0', chunks: '0' })
      .expire(key, this.retentionSeconds)
      .exec();
  }

  /** Counts more documents queued into an existing run (a run can be filled in batches). */
  async addQueued(runId: string, count: number): Promise<void> {
    await this.redis.eval(INCREMENT_IF_RUN, 1, this.runKey(runId), 'queued', count);
  }

  /**
   * Keeps a document's bytes until a worker loads them, if the tenant's bytes
   * waiting in Redis stay within `maxPendingBytes`; otherwise stores nothing
   * and says so.
   */
  async putContent(ref: ContentRef, bytes: Buffer, maxPendingBytes: number): Promise<PendingCheck> {
    return this.content.put(ref, bytes, maxPendingBytes);
  }

  async getContent(ref: ContentRef): Promise<Buffer | null> {
    return this.content.get(ref);
  }

  /** Deletes the bytes of documents that no job needs any more: loaded, failed for good, or never queued. */
  async dropContent(refs: ContentRef[]): Promise<void> {
    await this.content.drop(refs);
  }

  /** The tenant's bytes waiting in Redis for a worker. */
  async pendingBytes(tenant: string): Promise<number> {
    return this.content.pending(tenant);
  }

  /** Counts a loaded (or unchanged) document; true when it was the run's last one (see finishedBy). */
  async recordDone(runId: string, outcome: IngestOutcome, chunks: number): Promise<boolean> {
    return finishedBy(await this.redis.eval(INCREMENT_IF_RUN, 1, this.runKey(runId), outcome === 'unchanged' ? 'skipped' : outcome, 1, 'chunks', chunks));
  }

  /** Counts a failed document (`error` and `code` are shown to the tenant); true when it was the run's last one. */
  async recordFailed(runId: string, docId: string, error: string, code?: string): Promise<boolean> {
    return finishedBy(
      await this.redis.eval(
        FAIL_IF_RUN,
        2,
        this.runKey(runId),
        this.failuresKey(runId),
        JSON.stringify({ doc_id: docId, error, ...(code ? { code } : {}) }),
        FAILURES_SHOWN,
        this.retentionSeconds,
      ),
    );
  }

  async get(runId: string): Promise<IngestRunStatus | undefined> {
    const [[, fields], [, failures]] = (await this.redis.multi().hgetall(this.runKey(runId)).lrange(this.failuresKey(runId), 0, -1).exec()) as [
      [unknown, Record<string, string>],
      [unknown, string[]],
    ];
    if (!fields || !fields.run_id) return undefined;
    const n = (name: string) => Number(fields[name] ?? 0);
    const done = n('added') + n('updated') + n('skipped') + n('failed');
    const finished = done >= n('queued');
    return {
      run_id: fields.run_id,
      tenant: fields.tenant,
      collection: fields.collection,
      queued: n('queued'),
      unchanged: n('unchanged'),
      created_at: fields.created_at,
      added: n('added'),
      updated: n('updated'),
      skipped: n('skipped') + n('unchanged'),
      done,
      failed: n('failed'),
      chunks: n('chunks'),
      finished,
      status: !finished ? 'running' : n('failed') > 0 ? 'completed_with_failures' : 'completed',
      failures: failures.map((f) => JSON.parse(f) as { doc_id: string; error: string; code?: string }),
    };
  }
}
