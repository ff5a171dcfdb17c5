import type { Redis } from 'ioredis';

/**
 * Keys under `<prefix>:` meant to live without an expiry, and why:
 * - Bull's own keys (`<prefix>:rag-query:…`, `<prefix>:rag-ingest:…`, `<prefix>:rag-webhooks:…`):
 *   Bull manages them and removes finished jobs by age (removeOnComplete/removeOnFail).
 * - API keys (`<prefix>:auth:…`): they last until revoked.
 * - The generated job signing key (`<prefix>:job-signing-key`) and webhook signing secret
 *   (`<prefix>:webhook-signing-secret`): settings, one small key each.
 * Everything else the project writes must carry a TTL.
 */
const MEANT_TO_LAST = [/^[^:]+:rag-(query|ingest|webhooks):/, /^[^:]+:auth:/, /^[^:]+:(job-signing-key|webhook-signing-secret)$/];

/** Keys under `prefix` that have no expiry and are not meant to last: each one grows Redis for ever. */
export async function keysWithoutExpiry(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.filter((k) => !MEANT_TO_LAST.some((pattern) => pattern.test(k))));
  } while (cursor !== '0');
  const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));
  // -1: no expiry; -2: gone since the scan.
  return keys.filter((_, i) => ttls[i] === -1).sort();
}

/** Keys under `prefix` holding uploaded or queued document bytes. */
export async function documentBytesKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:ingest-content:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}
