import { useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { ApiKeyStore, Authenticator, authCache, type TrackedCache } from './index';

const PREFIX = 'rag-cache-test';

/** How many times Redis has run `command` since it started (INFO commandstats). */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

/** Polls `check` every 5 ms until it holds, for at most `withinMs`; returns how long it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`still not true after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The gateway's API key cache (AUTH_CACHE_MS) against a private redis-server: Redis's own client-side caching
// invalidations (CLIENT TRACKING … BCAST) keep it exact, whichever process writes the keys.
describe('the API key cache (real Redis, CLIENT TRACKING)', () => {
  const redis = useRedisSuite();
  /** Another process's connection: the CLI creating and revoking keys. */
  let cli: ApiKeyStore;
  let cliConnection: Redis;
  let gatewayConnection: Redis;
  let cache: TrackedCache;
  let auth: Authenticator;
  const states: string[] = [];

  beforeAll(async () => {
    cliConnection = new Redis(redis.url);
    cli = new ApiKeyStore(cliConnection, PREFIX);
    gatewayConnection = new Redis(redis.url);
    cache = authCache(gatewayConnection, { AUTH_CACHE_MS: 60_000, QUEUE_PREFIX: PREFIX }, (live, reason) => states.push(`${live}:${reason}`))!;
    await cache.start();
    auth = new Authenticator(new ApiKeyStore(gatewayConnection, PREFIX), 'auto', [], cache);
  });
  afterAll(async () => {
    await cache?.close();
    gatewayConnection?.disconnect();
    cliConnection?.disconnect();
  });

  it('verifies a known key once from Redis, then from memory', async () => {
    expect(cache.isLive).toBe(true);
    const { key, record } = await cli.create({ tenant: 'acme', scopes: ['query'] });
    await within(1000, async () => (await auth.verify(key)) !== null);
    const before = [await calls(redis.client, 'get'), await calls(redis.client, 'hgetall')];
    for (let i = 0; i < 20; i++) expect(await auth.verify(key)).toEqual({ key_id: record.id, tenant: 'acme', scopes: ['query'] });
    expect([await calls(redis.client, 'get'), await calls(redis.client, 'hgetall')]).toEqual(before);
  });

  it('never keeps an unknown key: each one is read from Redis', async () => {
    const before = await calls(redis.client, 'get');
    for (let i = 0; i < 5; i++) expect(await auth.verify(`rag_unknown_key_${i}_0123456789abcdef`)).toBeNull();
    expect(await calls(redis.client, 'get')).toBe(before + 5);
  });

  it('stops a key revoked by another process within a second (in practice the next request after the write)', async () => {
    const { key, record } = await cli.create({ tenant: 'acme', scopes: ['query'] });
    await within(1000, async () => (await auth.verify(key)) !== null);
    expect(await auth.verify(key)).not.toBeNull();
    await cli.revoke(record.id);
    const tookMs = await within(1000, async () => (await auth.verify(key)) === null);
    expect(tookMs).toBeLessThan(1000);
    expect(await auth.verify(key)).toBeNull();
  });

  it('reads from Redis while its invalidations cannot arrive, so a revocation then is not missed; then caches again', async () => {
    const { key, record } = await cli.create({ tenant: 'beta', scopes: ['query'] });
    await within(1000, async () => (await auth.verify(key)) !== null);
    // The invalidations' connection is cut (a network blip): the cache stops being used at once.
    await redis.client.client('KILL', 'TYPE', 'pubsub');
    await within(1000, async () => !cache.isLive);
    await cli.revoke(record.id);
    expect(await auth.verify(key)).toBeNull();
    // ioredis reconnects; tracking is armed again towards the new connection, and a new key is cached.
    await within(5000, async () => cache.isLive);
    const again = await cli.create({ tenant: 'beta', scopes: ['ingest'] });
    await within(1000, async () => (await auth.verify(again.key)) !== null);
    const before = await calls(redis.client, 'get');
    expect(await auth.verify(again.key)).toMatchObject({ tenant: 'beta', scopes: ['ingest'] });
    expect(await calls(redis.client, 'get')).toBe(before);
    await cli.revoke(again.record.id);
    await within(1000, async () => (await auth.verify(again.key)) === null);
    expect(states).toEqual(expect.arrayContaining([expect.stringMatching(/^false:/), 'true:tracking armed']));
  });

  it('turns auth on when the first key is stored, read from memory while none is', async () => {
    // A new authenticator (not latched yet), and no active key left: the other tests' keys are gone.
    const tracked = new Authenticator(new ApiKeyStore(gatewayConnection, PREFIX), 'auto', [], cache);
    await redis.client.del(`${PREFIX}:auth:active`);
    await within(1000, async () => !(await tracked.required()));
    const before = await calls(redis.client, 'scard');
    expect(await tracked.required()).toBe(false);
    expect(await calls(redis.client, 'scard')).toBe(before);
    await cli.create({ tenant: 'gamma', scopes: ['query'] });
    await within(1000, () => tracked.required());
  });
});
