import { API_KEY_SCOPES, isRedisCluster, parseApiKeysSetting, type ApiKeyScope, type AuthMode, type Config } from '@rag/config';
import type { Redis, RedisOptions } from 'ioredis';
import { createHash } from 'node:crypto';
import { hashApiKey, sameHash } from './api-key';
import { ApiKeyStore } from './api-key.store';
import { TrackedCache, type TrackedCacheOptions } from './tracked-cache';

/** Who is calling: the key's id (null with auth off), its tenant and scopes. */
export interface Principal {
  key_id: string | null;
  tenant: string;
  scopes: ApiKeyScope[];
}

/** With auth off, every caller is the `default` tenant with every scope. */
export const OPEN_PRINCIPAL: Principal = Object.freeze({ key_id: null, tenant: 'default', scopes: [...API_KEY_SCOPES] });

interface SeededKey {
  id: string;
  hash: Buffer;
  tenant: string;
  scopes: ApiKeyScope[];
}

/**
 * Decides whether a key is needed and whose a key is. Keys from API_KEYS are
 * held as hashes and compared in constant time; stored keys are looked up by
 * hash in Redis, or, with a `cache`, in memory kept exact by Redis's
 * invalidations (TrackedCache), so revocation still takes effect on the next
 * request after it reaches this process.
 */
export class Authenticator {
  private readonly seeded: SeededKey[];
  private latched: boolean;

  constructor(
    readonly store: ApiKeyStore,
    readonly mode: AuthMode,
    seeded: { tenant: string; scopes: ApiKeyScope[]; key: string }[] = [],
    private readonly cache?: TrackedCache,
  ) {
    this.seeded = seeded.map((s) => ({
      // A stable id that reveals nothing usable about the key.
      id: `cfg_${createHash('sha256').update(`api-key-id\n${s.key}`).digest('hex').slice(0, 16)}`,
      hash: hashApiKey(s.key),
      tenant: s.tenant,
      scopes: s.scopes,
    }));
    this.latched = mode === 'on' || (mode === 'auto' && this.seeded.length > 0);
  }

  get seededCount(): number {
    return this.seeded.length;
  }

  /**
   * Whether requests need a key. In `auto` mode it turns on when the first key
   * is stored and then stays on, so revoking every key never opens the gateway.
   */
  async required(): Promise<boolean> {
    if (this.mode === 'off') return false;
    if (this.latched) return true;
    const load = async () => ({ active: await this.store.hasActiveKeys() });
    const keys = this.cache ? await this.cache.get('active', load) : await load();
    if (keys?.active) this.latched = true;
    return this.latched;
  }

  /** The principal of a plain key, or null for an unknown or revoked one. */
  async verify(key: string): Promise<Principal | null> {
    const digest = hashApiKey(key);
    let match: SeededKey | undefined;
    // Every seeded key is compared, so the time taken does not say which one matched.
    for (const s of this.seeded) if (sameHash(s.hash, digest) && !match) match = s;
    if (match) return { key_id: match.id, tenant: match.tenant, scopes: match.scopes };
    const lookup = async (): Promise<Principal | null> => {
      const record = await this.store.verify(key);
      return record ? { key_id: record.id, tenant: record.tenant, scopes: record.scopes } : null;
    };
    // Cached by the key's hash, never the key; unknown keys are not kept (anyone can send any number of them).
    return this.cache ? this.cache.get(`key:${digest.toString('hex')}`, lookup) : lookup();
  }
}

/** The authenticator as an app builds it from its configuration; the gateway gives it a cache (authCache). */
export function openAuthenticator(redis: Redis, config: Pick<Config, 'AUTH' | 'API_KEYS' | 'QUEUE_PREFIX'>, cache?: TrackedCache): Authenticator {
  return new Authenticator(new ApiKeyStore(redis, config.QUEUE_PREFIX), config.AUTH, parseApiKeysSetting(config.API_KEYS), cache);
}

/**
 * The gateway's cache of stored keys (AUTH_CACHE_MS; none at 0): two
 * connections of its own beside `redis`, tracking every key under
 * `<QUEUE_PREFIX>:auth:`; none on a Redis Cluster. Start it, and close it on shutdown.
 */
export function authCache(
  redis: Redis,
  config: Pick<Config, 'AUTH_CACHE_MS' | 'QUEUE_PREFIX'>,
  onStateChange?: TrackedCacheOptions['onStateChange'],
): TrackedCache | undefined {
  // On a Cluster, tracking and its invalidations would have to be on the one node owning the keys' slot, and follow it
  // across failovers: keys are read from Redis instead (two reads per request with a stored key).
  if (config.AUTH_CACHE_MS === 0 || isRedisCluster(redis)) return undefined;
  const connection = (name: string, extra: Partial<RedisOptions> = {}) =>
    // Commands fail at once while disconnected: a read then goes to Redis through the main connection, or fails there.
    redis.duplicate({ connectionName: name, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false, ...extra });
  return new TrackedCache(connection('rag-auth-cache'), connection('rag-auth-invalidations', { autoResubscribe: false }), {
    prefix: `${config.QUEUE_PREFIX}:auth:`,
    ttlMs: config.AUTH_CACHE_MS,
    onStateChange,
  });
}

/** Addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
