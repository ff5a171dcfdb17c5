import { loadConfig } from '@rag/config';
import { useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { ApiKeyInputError, ApiKeyStore, Authenticator, hashApiKey, openAuthenticator } from './index';

/** Every key name and every value (strings, hashes, sets) in Redis, as one text. */
async function dump(redis: Redis): Promise<string> {
  const parts: string[] = [];
  // Sorted: KEYS and SMEMBERS answer in hash-table order, which can change between two reads as Redis resizes its tables.
  for (const key of (await redis.keys('*')).sort()) {
    parts.push(key);
    const type = await redis.type(key);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    if (type === 'set') parts.push(...(await redis.smembers(key)).sort());
  }
  return parts.join('\n');
}

describe('API keys (real Redis)', () => {
  const redis = useRedisSuite();
  let store: ApiKeyStore;
  beforeAll(() => (store = new ApiKeyStore(redis.client, 'rag-test')));

  it('creates a random key, verifies it, and stores only its hash', async () => {
    const { key, record } = await store.create({ tenant: 'acme', scopes: ['query', 'ingest'], name: 'web' });
    expect(key).toMatch(/^rag_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ tenant: 'acme', scopes: ['query', 'ingest'], name: 'web' });
    expect(record.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(await store.verify(key)).toEqual(record);
    expect(await store.verify(`${key}x`)).toBeNull();
    expect(await store.verify('rag_nothing')).toBeNull();

    const everything = await dump(redis.client);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(key.slice(4));
    expect(everything).toContain(hashApiKey(key).toString('hex'));
    const second = await store.create({ tenant: 'acme', scopes: ['admin'] });
    expect(second.key).not.toBe(key);
  });

  it('lists keys without keys or hashes, and revokes at once', async () => {
    const { key, record } = await store.create({ tenant: 'beta', scopes: ['query'] });
    const listed = await store.list();
    expect(listed.map((r) => r.id)).toContain(record.id);
    expect(JSON.stringify(listed)).not.toContain(hashApiKey(key).toString('hex'));
    expect(JSON.stringify(listed)).not.toContain(key);

    const revoked = await store.revoke(record.id);
    expect(revoked?.revoked_at).toBeDefined();
    expect(await store.verify(key)).toBeNull();
    expect((await store.get(record.id))?.revoked_at).toBe(revoked?.revoked_at);
    expect((await store.revoke(record.id))?.revoked_at).toBe(revoked?.revoked_at);
    expect(await store.revoke('key_unknown')).toBeNull();
  });

  it('refuses bad tenants and scopes', async () => {
    await expect(store.create({ tenant: 'Bad Tenant', scopes: ['query'] })).rejects.toThrow(ApiKeyInputError);
    await expect(store.create({ tenant: 'ok', scopes: ['root'] })).rejects.toThrow('query, ingest, admin');
    await expect(store.create({ tenant: 'ok', scopes: [] })).rejects.toThrow(ApiKeyInputError);
  });

  it('grants the global operator scope only from the CLI or API_KEYS, never through the API', async () => {
    await expect(store.create({ tenant: 'acme', scopes: ['admin', 'operator'] })).rejects.toThrow('operator scope can only be granted from the CLI');
    await expect(store.create({ tenant: 'acme', scopes: ['operator'], grantedBy: 'api' })).rejects.toThrow(ApiKeyInputError);
    const { key } = await store.create({ tenant: 'ops', scopes: ['operator'], grantedBy: 'cli' });
    expect((await store.verify(key))?.scopes).toEqual(['operator']);
    const seeded = openAuthenticator(
      redis.client,
      loadConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-op', API_KEYS: 'ops:operator:seeded-operator-key-0123456789' }),
    );
    expect((await seeded.verify('seeded-operator-key-0123456789'))?.scopes).toEqual(['operator']);
  });

  it('verifies keys seeded from API_KEYS, held only as hashes', async () => {
    const seeded = 'seeded-key-0123456789abcdef';
    const config = loadConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-seed', API_KEYS: `acme:query+admin:${seeded}` });
    const before = await dump(redis.client);
    const auth = openAuthenticator(redis.client, config);
    expect(auth.seededCount).toBe(1);
    expect(await auth.required()).toBe(true);
    const principal = await auth.verify(seeded);
    expect(principal).toEqual({ key_id: expect.stringMatching(/^cfg_[0-9a-f]{16}$/), tenant: 'acme', scopes: ['query', 'admin'] });
    expect(await auth.verify('seeded-key-0123456789abcdeX')).toBeNull();
    expect(JSON.stringify(auth)).not.toContain(seeded);
    // Seeding writes nothing to Redis.
    expect(await dump(redis.client)).toBe(before);
  });

  it('turns auth on in auto mode when the first key is stored, and keeps it on after revocation', async () => {
    const fresh = new ApiKeyStore(redis.client, 'rag-auto');
    const auto = new Authenticator(fresh, 'auto');
    expect(await auto.required()).toBe(false);
    const { key, record } = await fresh.create({ tenant: 't', scopes: ['query'] });
    expect(await auto.required()).toBe(true);
    expect((await auto.verify(key))?.tenant).toBe('t');
    await fresh.revoke(record.id);
    expect(await auto.verify(key)).toBeNull();
    expect(await auto.required()).toBe(true);
    expect(await new Authenticator(fresh, 'auto').required()).toBe(false);
    expect(await new Authenticator(fresh, 'on').required()).toBe(true);
    expect(await new Authenticator(store, 'off').required()).toBe(false);
  });
});
