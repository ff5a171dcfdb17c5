import type { Redis } from 'ioredis';
import { Limits } from '@rag/queue-contracts';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Job provenance. A worker runs a job as the tenant its payload names, so a
 * payload must come from one of our producers (gateway, CLI, replay), never
 * from whoever could put a job on a queue. Each producer signs the queue name
 * and the whole payload (tenant included) with a key the gateway, workers and
 * CLI share; a worker refuses a job whose signature does not verify.
 */
export interface JobSigningConfig {
  JOB_SIGNING_KEY: string;
}

/** A payload with its signature (base64url HMAC-SHA256). */
export type Signed<T> = T & { signature: string };

const VERSION = 'v1';

/** JSON with object keys sorted and undefined fields dropped: the same bytes before and after Bull stores the payload. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function keyOf(config: JobSigningConfig): string {
  // Never sign with an empty key: that would be a signature anyone can make.
  if (config.JOB_SIGNING_KEY.length < 32) throw new Error('no job signing key: open the config with withJobSigningKey() before queueing or consuming jobs');
  return config.JOB_SIGNING_KEY;
}

function mac(key: string, queue: string, payload: object): Buffer {
  const { signature: _ignored, ...rest } = payload as { signature?: unknown };
  return createHmac('sha256', key)
    .update(`rag-job ${VERSION}\n${queue}\n${canonical(rest)}`)
    .digest();
}

/** The payload with its signature, for `queue`; a signature it already carries is replaced. */
export function signJob<T extends object>(config: JobSigningConfig, queue: string, payload: T): Signed<T> {
  const { signature: _old, ...rest } = payload as T & { signature?: unknown };
  return { ...(rest as unknown as T), signature: mac(keyOf(config), queue, rest).toString('base64url') };
}

/** Whether `data` was signed for `queue` with this key (false for anything that is not a signed object). */
export function verifyJob(config: JobSigningConfig, queue: string, data: unknown): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const given = (data as { signature?: unknown }).signature;
  if (typeof given !== 'string' || !Limits.jobSignaturePattern.test(given)) return false;
  const expected = mac(keyOf(config), queue, data);
  return timingSafeEqual(Buffer.from(given, 'base64url'), expected);
}

/** Plain words for a refused job: the tenant sees them, and so does the dead letter. */
export const JOB_REFUSED = 'job refused: not queued by the gateway';

/**
 * The config with its job signing key: JOB_SIGNING_KEY when set, else one
 * random key shared through Redis (created by the first process to start,
 * read by every other). Call once at start, before any job is queued or run.
 */
export async function withJobSigningKey<C extends JobSigningConfig & { QUEUE_PREFIX: string }>(redis: Redis, config: C): Promise<C> {
  if (config.JOB_SIGNING_KEY !== '') return config;
  const shared = await sharedRandomSecret(redis, `${config.QUEUE_PREFIX}:job-signing-key`, 'JOB_SIGNING_KEY');
  return Object.freeze({ ...config, JOB_SIGNING_KEY: shared });
}

/**
 * A random secret shared through Redis at `key`: created by the first
 * process to ask (SET NX), read by every other. `setting` is the variable
 * that replaces it, named in the error when the stored one is unusable.
 */
export async function sharedRandomSecret(redis: Redis, key: string, setting: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
  const shared = await redis.get(key);
  if (!shared || shared.length < 32) throw new Error(`the secret in Redis (${key}) is missing or too short; delete it and restart, or set ${setting}`);
  return shared;
}
