import { ApiKeyStore } from '@rag/auth';
import type { QueryJobPayload } from '@rag/queue-contracts';
import { json, runApp, startApp, startRedis, type PrivateRedis } from '@rag/testing';
import type Bull from 'bull';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const ADMIN_KEY = 'ops-admin-key-0123456789abcdef';

// Keys, scopes, tenancy of jobs, headers and limits, against the gateway
// in-process on a private redis-server.
describe('api-gateway auth and tenancy (real Redis)', () => {
  let redis: PrivateRedis;
  const opened: InProcessGateway[] = [];

  async function gateway(env: Record<string, string>): Promise<{ base: string; queue: Bull.Queue<QueryJobPayload>; store: ApiKeyStore }> {
    const started = await startInProcessGateway(redis.url, env);
    opened.push(started);
    return { base: started.base, queue: started.queue, store: started.keys };
  }

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const gateway of opened) await gateway.close();
    await redis?.stop();
  });

  describe('with keys', () => {
    let base: string;
    let queue: Bull.Queue<QueryJobPayload>;
    let keyA: string;
    let keyB: string;
    let ingestOnly: string;
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    const ask = (key: string | undefined, body: unknown = { query: 'How many vacation days?' }, extra: Record<string, string> = {}) =>
      fetch(`${base}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? bearer(key) : {}), ...extra },
        body: JSON.stringify(body),
      });

    beforeAll(async () => {
      const gw = await gateway({ QUEUE_PREFIX: 'rag-auth', API_KEYS: `ops:admin:${ADMIN_KEY}` });
      base = gw.base;
      queue = gw.queue;
      keyA = (await gw.store.create({ tenant: 'tenant-a', scopes: ['query'] })).key;
      keyB = (await gw.store.create({ tenant: 'tenant-b', scopes: ['query', 'ingest'] })).key;
      ingestOnly = (await gw.store.create({ tenant: 'tenant-a', scopes: ['ingest'] })).key;
    });

    it('leaves /healthz and /readyz open', async () => {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    });

    it('answers 401 JSON with WWW-Authenticate for a missing, malformed or unknown key', async () => {
      const missing = await ask(undefined);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="rag"');
      expect((await json(missing)).error.code).toBe('unauthorized');
      for (const header of [`Bearer ${keyA}x`, `Basic ${keyA}`, 'Bearer', `Bearer ${'rag_'.padEnd(600, 'a')}`]) {
        const res = await ask(undefined, { query: 'q' }, { authorization: header });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
        const body = await json(res);
        expect(body.error.code).toBe('unauthorized');
        expect(JSON.stringify(body)).not.toContain(keyA);
      }
      for (const [method, path] of [
        ['GET', '/v1/jobs/00000000-0000-4000-8000-000000000000'],
        ['DELETE', '/v1/jobs/00000000-0000-4000-8000-000000000000'],
        ['GET', '/v1/admin/dead-letters'],
        ['POST', '/chat?query=hi'],
        ['GET', '/job-status?job_id=x'],
      ]) {
        expect((await fetch(`${base}${path}`, { method })).status).toBe(401);
      }
    });

    it("answers 403 JSON for a key without the route's scope", async () => {
      const noQuery = await ask(ingestOnly);
      expect(noQuery.status).toBe(403);
      expect((await json(noQuery)).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('"query"') });
      expect((await ask(ADMIN_KEY)).status).toBe(403);
      expect((await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000`, { headers: bearer(ingestOnly) })).status).toBe(403);
      const notAdmin = await fetch(`${base}/v1/admin/dead-letters`, { headers: bearer(keyA) });
      expect(notAdmin.status).toBe(403);
      expect((await json(notAdmin)).error.message).toContain('"admin"');
      expect((await fetch(`${base}/v1/admin/dead-letters`, { method: 'DELETE', headers: bearer(keyB) })).status).toBe(403);
      expect((await fetch(`${base}/chat?query=hi`, { method: 'POST', headers: bearer(ingestOnly) })).status).toBe(403);
    });

    it('lets an admin key (seeded from API_KEYS) use the dead-letter routes', async () => {
      const res = await fetch(`${base}/v1/admin/dead-letters`, { headers: bearer(ADMIN_KEY) });
      expect(res.status).toBe(200);
      expect((await json(res)).total).toBe(0);
    });

    it('takes the tenant from the key, never from the body, and keeps keys out of the payload', async () => {
      const res = await ask(keyA, { query: 'whose job?' });
      expect(res.status).toBe(202);
      const { job_id } = await json(res);
      const job = await queue.getJob(job_id);
      expect(job?.data.tenant).toBe('tenant-a');
      expect(JSON.stringify(job?.data)).not.toContain(keyA.slice(4));
      const spoof = await ask(keyA, { query: 'q', tenant: 'tenant-b' });
      expect(spoof.status).toBe(400);
    });

    it("answers another tenant's job id with the same 404 as an unknown id, for reads and cancels", async () => {
      const { job_id } = await json(await ask(keyA, { query: 'tenant a only' }));
      const unknown = await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000`, { headers: bearer(keyB) });
      const unknownBody = await json(unknown);
      expect(unknown.status).toBe(404);

      const own = await fetch(`${base}/v1/jobs/${job_id}`, { headers: bearer(keyA) });
      expect(own.status).toBe(200);
      const foreign = await fetch(`${base}/v1/jobs/${job_id}`, { headers: bearer(keyB) });
      expect(foreign.status).toBe(404);
      expect(await json(foreign)).toEqual(unknownBody);
      const foreignWait = await fetch(`${base}/v1/jobs/${job_id}?wait=1`, { headers: bearer(keyB) });
      expect(foreignWait.status).toBe(404);
      const compat = await fetch(`${base}/job-status?job_id=${job_id}`, { headers: bearer(keyB) });
      expect(compat.status).toBe(404);
      expect(await json(compat)).toEqual(unknownBody);

      const cancelForeign = await fetch(`${base}/v1/jobs/${job_id}`, { method: 'DELETE', headers: bearer(keyB) });
      expect(cancelForeign.status).toBe(404);
      expect(await json(cancelForeign)).toEqual(unknownBody);
      expect(await queue.getJob(job_id)).not.toBeNull();

      const cancelled = await fetch(`${base}/v1/jobs/${job_id}`, { method: 'DELETE', headers: bearer(keyA) });
      expect(cancelled.status).toBe(200);
      expect((await json(cancelled)).status).toBe('cancelled');
      // The cancelled record (the job itself is gone) is still A's alone.
      const afterB = await fetch(`${base}/v1/jobs/${job_id}`, { headers: bearer(keyB) });
      expect(afterB.status).toBe(404);
      expect(await json(afterB)).toEqual(unknownBody);
      const afterA = await json(await fetch(`${base}/v1/jobs/${job_id}`, { headers: bearer(keyA) }));
      expect(afterA).toMatchObject({ job_id, status: 'cancelled' });
      expect(afterA).not.toHaveProperty('tenant');
      expect((await fetch(`${base}/v1/jobs/${job_id}`, { method: 'DELETE', headers: bearer(keyB) })).status).toBe(404);
    });

    it('gives two tenants with the same Idempotency-Key two different jobs', async () => {
      const a = await json(await ask(keyA, { query: 'same' }, { 'idempotency-key': 'order-42' }));
      const b = await json(await ask(keyB, { query: 'same' }, { 'idempotency-key': 'order-42' }));
      expect(a.job_id).not.toBe(b.job_id);
      const again = await ask(keyA, { query: 'same' }, { 'idempotency-key': 'order-42' });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect((await json(again)).job_id).toBe(a.job_id);
      expect((await queue.getJob(b.job_id))?.data.tenant).toBe('tenant-b');
    });

    it('verifies a stored key from memory after its first request (AUTH_CACHE_MS): no Redis read of the key per request', async () => {
      const calls = async (command: string) => {
        const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await queue.client.info('commandstats'));
        return match ? Number(match[1]) : 0;
      };
      const bearerOf = bearer(keyA);
      const read = () => fetch(`${base}/v1/me`, { headers: bearerOf });
      expect((await read()).status).toBe(200);
      const before = [await calls('get'), await calls('hgetall')];
      for (let i = 0; i < 10; i++) expect((await read()).status).toBe(200);
      expect([await calls('get'), await calls('hgetall')]).toEqual(before);
    });

    it('refuses a revoked key on the next request', async () => {
      const store = new ApiKeyStore(queue.client, 'rag-auth');
      const { key, record } = await store.create({ tenant: 'tenant-c', scopes: ['query'] });
      expect((await ask(key)).status).toBe(202);
      await store.revoke(record.id);
      expect((await ask(key)).status).toBe(401);
    });

    it("sends helmet's security headers and no CORS headers by default", async () => {
      const res = await fetch(`${base}/healthz`, { headers: { origin: 'https://evil.example.com' } });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${base}/v1/chat`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
    });
  });

  it('allows exactly the origins in CORS_ORIGINS, preflights included', async () => {
    const { base } = await gateway({ QUEUE_PREFIX: 'rag-cors', CORS_ORIGINS: 'https://app.example.com' });
    const preflight = await fetch(`${base}/v1/chat`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = await fetch(`${base}/healthz`, { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('vary')).toContain('Origin');
    const other = await fetch(`${base}/healthz`, { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits requests per key per minute with 429, Retry-After and a JSON error', async () => {
    const { base, store } = await gateway({ QUEUE_PREFIX: 'rag-limit', RATE_LIMIT_PER_MINUTE: '3' });
    const one = (await store.create({ tenant: 'one', scopes: ['query'] })).key;
    const two = (await store.create({ tenant: 'two', scopes: ['query'] })).key;
    const read = (key: string) => fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 3; i++) expect((await read(one)).status).toBe(404);
    const limited = await read(one);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = await json(limited);
    expect(body.error.code).toBe('rate_limited');
    expect(JSON.stringify(body)).not.toMatch(/stack|at \w+ \(/);
    expect((await read(two)).status).toBe(404);
    // Health checks are never limited.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("caps each tenant's waiting questions with 429 and Retry-After, leaving other tenants unaffected", async () => {
    const { base, store, queue } = await gateway({ QUEUE_PREFIX: 'rag-cap', MAX_WAITING_JOBS_PER_TENANT: '3' });
    const one = (await store.create({ tenant: 'one', scopes: ['query'] })).key;
    const two = (await store.create({ tenant: 'two', scopes: ['query'] })).key;
    const ask = (key: string, query: string) =>
      fetch(`${base}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query }),
      });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await ask(one, `question ${i}`);
      expect(res.status).toBe(202);
      ids.push((await json(res)).job_id);
    }
    const full = await ask(one, 'one too many');
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('5');
    expect((await json(full)).error).toMatchObject({ code: 'tenant_queue_full', message: expect.stringContaining('limit 3') });
    expect(await queue.getWaitingCount()).toBe(3);
    // Another tenant still gets in.
    expect((await ask(two, 'my own question')).status).toBe(202);
    // Cancelling one of its waiting jobs frees a place at once.
    const cancel = await fetch(`${base}/v1/jobs/${ids[0]}`, { method: 'DELETE', headers: { authorization: `Bearer ${one}` } });
    expect(cancel.status).toBe(200);
    expect((await ask(one, 'fits again')).status).toBe(202);
    expect((await ask(one, 'full again')).status).toBe(429);
    // A worker starting one of its jobs frees a place too. Fair share serves tenant two's question first (one
    // question of each tenant in turn), so the worker takes two: two's and the oldest of one's.
    const held: Array<() => void> = [];
    let holding = true;
    void queue.process('answer', 2, () => (holding ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve()));
    for (let i = 0; i < 200 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(held).toHaveLength(2);
    expect((await ask(one, 'after a worker took one')).status).toBe(202);
    holding = false;
    held.forEach((release) => release());
  });

  it('with no keys, behaves as before: open, tenant default', async () => {
    const { base, queue } = await gateway({ QUEUE_PREFIX: 'rag-open' });
    const res = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"open"}' });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    expect((await queue.getJob(job_id))?.data.tenant).toBe('default');
    expect((await fetch(`${base}/v1/jobs/${job_id}`)).status).toBe(200);
    expect((await fetch(`${base}/v1/admin/dead-letters`)).status).toBe(200);
  });

  describe('safe default bind (real process)', () => {
    const MAIN = 'apps/api-gateway/src/main.ts';

    it('refuses to listen on 0.0.0.0 without keys, saying what to do', async () => {
      const run = await runApp(MAIN, { REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-bind', HOST: '0.0.0.0', PORT: '0', API_KEYS: '', AUTH: 'auto' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('refusing to listen on 0.0.0.0 with authentication off');
      expect(run.stderr).toContain('keys create');
      expect(run.stderr).toContain('HOST=127.0.0.1');
      const off = await runApp(MAIN, {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: 'rag-bind',
        HOST: '0.0.0.0',
        PORT: '0',
        API_KEYS: `ops:admin:${ADMIN_KEY}`,
        AUTH: 'off',
      });
      expect(off.code).toBe(1);
      expect(off.stderr).toContain('refusing to listen on 0.0.0.0');
    });

    it('listens on 0.0.0.0 with a key, and says auth is off when listening on loopback without one', async () => {
      const open = startApp(MAIN, {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: 'rag-bind',
        HOST: '0.0.0.0',
        PORT: '0',
        API_KEYS: `ops:admin:${ADMIN_KEY}`,
        AUTH: 'auto',
      });
      try {
        expect(await open.waitForLog((l) => l.message === 'listening')).toMatchObject({ host: '0.0.0.0', auth: 'on', seeded_keys: 1 });
        expect(open.lines.join('\n')).not.toContain(ADMIN_KEY);
      } finally {
        await open.stop();
      }
      const local = startApp(MAIN, { REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-bind', HOST: '127.0.0.1', PORT: '0', API_KEYS: '', AUTH: 'auto' });
      try {
        expect(await local.waitForLog((l) => l.message === 'listening')).toMatchObject({ auth: 'off' });
        const warning = await local.waitForLog((l) => typeof l.message === 'string' && l.message.startsWith('authentication is off'));
        expect(warning.message).toContain('listening on 127.0.0.1 only');
      } finally {
        await local.stop();
      }
    });
  });
});
