import { runApp } from '@rag/testing';
import Redis from 'ioredis';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { CLI, useCliSuite } from './cli-suite.spec-helper';

// `rag-ingest keys …` as real processes against a private redis-server.
describe('rag-ingest keys', () => {
  let env: NodeJS.ProcessEnv;
  const suite = useCliSuite('rag-keys-');

  beforeAll(() => {
    env = { REDIS_URL: suite.redis.url, QUEUE_PREFIX: 'rag-cli', DATA_DIR: suite.data.path };
  });

  it('creates a key, prints it once, lists keys without it, and revokes', async () => {
    const created = await runApp(CLI, env, ['keys', 'create', '--tenant', 'acme', '--scopes', 'query,ingest', '--name', 'web app']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^rag_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown only now');
    const id = /created (key_[0-9a-f]+)/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    const listed = await runApp(CLI, env, ['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id}\tacme\tquery,ingest\tcreated `);
    expect(listed.stdout).toContain('active\tweb app');
    expect(listed.stdout).not.toContain(key);
    const json = await runApp(CLI, env, ['keys', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id, tenant: 'acme', scopes: ['query', 'ingest'], name: 'web app' })]);
    expect(json.stdout).not.toContain(key);

    const revoked = await runApp(CLI, env, ['keys', 'revoke', id!]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${id}`);
    const after = JSON.parse((await runApp(CLI, env, ['keys', 'list', '--json'])).stdout);
    expect(after[0].revoked_at).toEqual(expect.any(String));

    const client = new Redis(suite.redis.url);
    try {
      for (const k of await client.keys('*')) {
        const type = await client.type(k);
        const value =
          type === 'hash' ? JSON.stringify(await client.hgetall(k)) : type === 'string' ? await client.get(k) : (await client.smembers(k)).join(',');
        expect(`${k} ${value}`).not.toContain(key);
      }
    } finally {
      client.disconnect();
    }
  });

  it('says what is wrong with bad input and unknown ids', async () => {
    const badScope = await runApp(CLI, env, ['keys', 'create', '--tenant', 'acme', '--scopes', 'query,root']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('query, ingest, admin');
    const badTenant = await runApp(CLI, env, ['keys', 'create', '--tenant', 'Acme Inc', '--scopes', 'query']);
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr).toContain('tenant must be');
    const missing = await runApp(CLI, env, ['keys', 'revoke', 'key_nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('keys list');
    const noRedis = await runApp(CLI, { ...env, REDIS_URL: 'redis://127.0.0.1:1' }, ['keys', 'list']);
    expect(noRedis.code).toBe(1);
    expect(noRedis.stderr).toContain('cannot reach Redis');
  });

  it('grants the global operator scope (the CLI holds the Redis URL; the HTTP API never can)', async () => {
    const created = await runApp(CLI, env, ['keys', 'create', '--tenant', 'ops', '--scopes', 'operator', '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ tenant: 'ops', scopes: ['operator'] });
  });

  it('keeps the npm start dev key in DATA_DIR/dev-api-key (0600) and reuses it while Redis knows it', async () => {
    const first = await runApp(CLI, env, ['keys', 'dev-key']);
    expect(first.code).toBe(0);
    const file = path.join(suite.data.path, 'dev-api-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await runApp(CLI, env, ['keys', 'dev-key']);
    expect(again.stdout).toBe(first.stdout);
    // A fresh Redis does not know the kept key: a new one is made.
    const other = await runApp(CLI, { ...env, QUEUE_PREFIX: 'rag-cli-other' }, ['keys', 'dev-key']);
    expect(other.stdout.trim()).toMatch(/^rag_/);
    expect(other.stdout).not.toBe(first.stdout);
  });
});
