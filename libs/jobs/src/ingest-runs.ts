import type { Redis } from 'ioredis';

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
  failures: { doc_id: string; error: string }[];
}

const FAILURES_SHOWN = 1000;

/** The run's size and the counters whose sum says how many of its documents are done. */
const COUNTED = ['queued', 'added', 'updated', 'skipped', 'failed'] as const;

/**
 * Whether the count just made finished the run: the transaction read the
 * counters right after its own increment, and every increment adds one, so
 * exactly one of the workers recording a run's documents sees done == queued.
 */
function finishedBy(counters: unknown): boolean {
  if (!Array.isArray(counters)) return false;
  const [queued, ...done] = counters.map((v) => Number(v ?? 0));
  return queued > 0 && done.reduce((a, b) => a + b, 0) === queued;
}

/**
 * Redis-side bookkeeping of ingest runs: the bytes of queued documents (kept
 * by content hash until a worker loads them, and expiring), and per run its
 * counters and failures, which the CLI's progress bar, `rag-ingest status`
 * and the gateway read. Everything expires after `retentionSeconds`.
 */
export class IngestRuns {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  private runKey(runId: string): string {
    return `${this.prefix}:ingest-run:${runId}`;
  }

  private failuresKey(runId: string): string {
    return `${this.prefix}:ingest-run:${runId}:failures`;
  }

  contentKey(hash: string): string {
    return `${this.prefix}:ingest-content:${hash}`;
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
    await this.redis.hincrby(this.runKey(runId), 'queued', count);
  }

  /** Keeps a document's bytes until a worker loads them; identical files share one copy. */
  async putContent(hash: string, bytes: Buffer): Promise<void> {
    await this.redis.set(this.contentKey(hash), bytes, 'EX', this.retentionSeconds);
  }

  async getContent(hash: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.contentKey(hash));
  }

  /** Counts a loaded (or unchanged) document; true when it was the run's last one (see finishedBy). */
  async recordDone(runId: string, outcome: IngestOutcome, chunks: number): Promise<boolean> {
    const key = this.runKey(runId);
    const replies = await this.redis
      .multi()
      .hincrby(key, outcome === 'unchanged' ? 'skipped' : outcome, 1)
      .hincrby(key, 'chunks', chunks)
      .hmget(key, ...COUNTED)
      .exec();
    return finishedBy(replies?.[2]?.[1]);
  }

  /** Counts a failed document (`error` is shown to the tenant); true when it was the run's last one. */
  async recordFailed(runId: string, docId: string, error: string): Promise<boolean> {
    const failures = this.failuresKey(runId);
    const replies = await this.redis
      .multi()
      .hincrby(this.runKey(runId), 'failed', 1)
      .rpush(failures, JSON.stringify({ doc_id: docId, error }))
      .ltrim(failures, 0, FAILURES_SHOWN - 1)
      .expire(failures, this.retentionSeconds)
      .hmget(this.runKey(runId), ...COUNTED)
      .exec();
    return finishedBy(replies?.[4]?.[1]);
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
      failures: failures.map((f) => JSON.parse(f) as { doc_id: string; error: string }),
    };
  }
}
