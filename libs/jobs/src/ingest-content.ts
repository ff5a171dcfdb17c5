import type { Redis } from 'ioredis';
import { ingestJobId } from './queues';

/** One queued document whose bytes wait in Redis: the fields of its ingest job that name it. */
export interface ContentRef {
  tenant: string;
  run_id: string;
  doc_id: string;
  /** Read only to find bytes stored under the old, shared by-hash key. */
  content_hash?: string;
}

export interface PendingCheck {
  /** Whether the bytes were stored. */
  stored: boolean;
  /** The tenant's bytes waiting in Redis (after this document, when stored). */
  pending: number;
}

// Takes a document out of its tenant's count (KEYS[1] entries, KEYS[2] bytes);
// touches the hash only when the document is in it, so it never creates a key.
const FORGET = `
local function forget(member)
  local b = redis.call('HGET', KEYS[2], member)
  if b then
    redis.call('HDEL', KEYS[2], member)
    redis.call('HINCRBY', KEYS[2], 'total', -tonumber(b))
  end
  redis.call('ZREM', KEYS[1], member)
end
`;

// Entries whose time is up are dropped from the count (their bytes expired with the
// same TTL): a worker that died before deleting bytes cannot leak the count. Redis's
// own clock (TIME), so gateways and workers with skewed clocks agree.
const PRUNE = `${FORGET}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
for _, member in ipairs(expired) do forget(member) end
`;

// KEYS: entries (zset member → expiry ms), bytes (hash member → bytes, and 'total').
// ARGV: member, bytes, ttl seconds, cap. Returns {stored 0|1, pending}.
const RESERVE = `${PRUNE}
local bytes = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0') - old
if total + bytes > tonumber(ARGV[4]) then return {0, total + old} end
redis.call('ZADD', KEYS[1], now + ttl * 1000, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], bytes)
redis.call('HSET', KEYS[2], 'total', total + bytes)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {1, total + bytes}
`;

// KEYS: entries, bytes, then one content key per member. ARGV: the members.
const RELEASE = `${FORGET}
for i, member in ipairs(ARGV) do
  redis.call('DEL', KEYS[i + 2])
  forget(member)
end
return 0
`;

const PENDING = `${PRUNE}
return tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
`;

/**
 * The bytes of queued documents, waiting in Redis until a worker loads them,
 * and each tenant's total of such bytes, so one tenant cannot fill Redis.
 *
 * Each document of each run has its own key (tenant, and the document's job
 * id), never shared: deleting one document's bytes once it is loaded or has
 * failed for good cannot take them from another job, run or tenant (identical
 * files are stored once per document; they count against the sender's cap
 * anyway). A tenant's count is a sorted set (document → when its bytes
 * expire) plus a hash (document → bytes, and the total), changed only by Lua
 * scripts, so a check and its reservation are atomic; entries past their
 * expiry are pruned at every check. Every key written carries a TTL.
 */
export class IngestContent {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  key(ref: ContentRef): string {
    return `${this.prefix}:ingest-content:${ref.tenant}:${ingestJobId(ref.run_id, ref.doc_id)}`;
  }

  /** Before per-document keys, bytes waited under their hash; read for jobs queued then. */
  private legacyKey(hash: string): string {
    return `${this.prefix}:ingest-content:${hash}`;
  }

  private accountKeys(tenant: string): [string, string] {
    return [`${this.prefix}:ingest-pending:${tenant}`, `${this.prefix}:ingest-pending-bytes:${tenant}`];
  }

  /** Stores a document's bytes if the tenant's pending bytes stay within `maxPending`; otherwise stores nothing. */
  async put(ref: ContentRef, bytes: Buffer, maxPending: number): Promise<PendingCheck> {
    const [stored, pending] = (await this.redis.eval(
      RESERVE,
      2,
      ...this.accountKeys(ref.tenant),
      ingestJobId(ref.run_id, ref.doc_id),
      bytes.length,
      this.ttlSeconds,
      maxPending,
    )) as [number, number];
    if (stored !== 1) return { stored: false, pending };
    try {
      await this.redis.set(this.key(ref), bytes, 'EX', this.ttlSeconds);
    } catch (error) {
      await this.drop([ref]).catch(() => undefined);
      throw error;
    }
    return { stored: true, pending };
  }

  async get(ref: ContentRef): Promise<Buffer | null> {
    const bytes = await this.redis.getBuffer(this.key(ref));
    if (bytes || !ref.content_hash) return bytes;
    return this.redis.getBuffer(this.legacyKey(ref.content_hash));
  }

  /** Deletes documents' bytes and frees them from their tenants' counts (loaded, failed for good, or refused). */
  async drop(refs: ContentRef[]): Promise<void> {
    const byTenant = new Map<string, ContentRef[]>();
    for (const ref of refs) byTenant.set(ref.tenant, [...(byTenant.get(ref.tenant) ?? []), ref]);
    for (const [tenant, list] of byTenant) {
      for (let i = 0; i < list.length; i += 500) {
        const batch = list.slice(i, i + 500);
        await this.redis.eval(
          RELEASE,
          2 + batch.length,
          ...this.accountKeys(tenant),
          ...batch.map((r) => this.key(r)),
          ...batch.map((r) => ingestJobId(r.run_id, r.doc_id)),
        );
      }
    }
  }

  /** The tenant's bytes waiting in Redis for a worker. */
  async pending(tenant: string): Promise<number> {
    return Number(await this.redis.eval(PENDING, 2, ...this.accountKeys(tenant)));
  }
}
