import { ApiKeyStore } from '@rag/auth';
import { freePort, json, openEventStream, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { GATEWAY_MAIN, useStack } from './support/stack';

/** Requests per minute per key: small, so the rate-limit test reaches it in a few requests (the others stay below). */
const PER_MINUTE = 6;

// Two gateway processes on one Redis, and clients that reach whichever one
// (round-robin): what one gateway or its clients change is seen by the other
// at once. No worker runs, so every question stays waiting until cancelled.
describe('many gateways end to end', () => {
  const stack = useStack('rag-gateways-');
  let redis: Redis;
  let keys: ApiKeyStore;
  /** The two gateways' base URLs. */
  let A: string;
  let B: string;

  beforeAll(async () => {
    redis = new Redis(stack.redis.url);
    stack.onTeardown(() => redis.quit());
    keys = new ApiKeyStore(redis, 'rag');
    const env = {
      ...stack.env,
      AUTH: 'on',
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      MAX_WAITING_JOBS_PER_TENANT: '2',
      SSE_HEARTBEAT_MS: '60000',
    };
    const portB = await freePort();
    const gateways: AppProcess[] = [stack.startApp(GATEWAY_MAIN, env), stack.startApp(GATEWAY_MAIN, { ...env, PORT: String(portB) })];
    await Promise.all(gateways.map((g) => g.waitForLog((l) => l.message === 'listening')));
    A = stack.base;
    B = `http://127.0.0.1:${portB}`;
  });

  /** A stored key of its own tenant for each test, so their rate limits and caps do not mix. */
  const newKey = async (tenant: string) => keys.create({ tenant, scopes: ['query'] });
  const call = (base: string, key: string, path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
  const ask = (base: string, key: string, headers: Record<string, string> = {}) =>
    call(base, key, '/v1/chat', { method: 'POST', headers, body: JSON.stringify({ query: 'Where is the bicycle room?', collection: 'handbook' }) });
  const askedJob = async (base: string, key: string) => {
    const res = await ask(base, key);
    expect(res.status).toBe(202);
    return (await json(res)).job_id as string;
  };
  const cancel = (base: string, key: string, jobId: string) => call(base, key, `/v1/jobs/${jobId}`, { method: 'DELETE' });

  it('wakes a long-poll on B when A cancels the job (it returns long before its wait of 20 s)', async () => {
    const { key } = await newKey('poll');
    const jobId = await askedJob(A, key);
    const polled = call(B, key, `/v1/jobs/${jobId}?wait=20`).then(json);
    // Let B's long-poll start waiting before the cancel.
    await new Promise((r) => setTimeout(r, 300));
    expect((await json(await cancel(A, key, jobId))).status).toBe('cancelled');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([polled, new Promise((r) => (timer = setTimeout(() => r('B still waiting'), 5000)))]);
    clearTimeout(timer);
    expect(outcome).toMatchObject({ job_id: jobId, status: 'cancelled' });
  }, 8000);

  it('ends an event stream on B with the cancel made on A', async () => {
    const { key } = await newKey('stream');
    const jobId = await askedJob(A, key);
    const stream = await openEventStream(`${B}/v1/jobs/${jobId}/events`, { authorization: `Bearer ${key}` });
    expect(stream.status).toBe(200);
    expect((await cancel(A, key, jobId)).status).toBe(200);
    const events = await stream.rest(5000);
    expect(events.at(-1)).toMatchObject({ event: 'status', data: JSON.stringify({ status: 'cancelled' }) });
  }, 8000);

  it('counts the rate limit over both gateways', async () => {
    const { key } = await newKey('limited');
    const remaining: (string | null)[] = [];
    for (let i = 0; i < PER_MINUTE; i++) {
      const res = await call(i % 2 ? B : A, key, '/v1/me');
      expect(res.status).toBe(200);
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['5', '4', '3', '2', '1', '0']);
    const refused = await call(A, key, '/v1/me');
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe('rate_limited');
  });

  it("counts a tenant's waiting questions over both gateways", async () => {
    const { key } = await newKey('capped');
    await askedJob(A, key);
    await askedJob(B, key);
    const refused = await ask(A, key);
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe('tenant_queue_full');
  });

  it('gives the same job for the same Idempotency-Key on A then B', async () => {
    const { key } = await newKey('idempotent');
    const first = await ask(A, key, { 'idempotency-key': 'order-7' });
    const second = await ask(B, key, { 'idempotency-key': 'order-7' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect((await json(second)).job_id).toBe((await json(first)).job_id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses on both gateways a key revoked after each has verified (and cached) it', async () => {
    const { key, record } = await newKey('revoked');
    expect((await call(A, key, '/v1/me')).status).toBe(200);
    expect((await call(B, key, '/v1/me')).status).toBe(200);
    await keys.revoke(record.id);
    // The invalidation follows the revocation by one network hop (docs/operations.md): a few tries at most,
    // within the key's rate limit (a key still accepted then answers 200, not 429).
    let status = 200;
    for (let i = 0; i < PER_MINUTE - 2 && status === 200; i++) {
      status = (await call(B, key, '/v1/me')).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    expect((await call(A, key, '/v1/me')).status).toBe(401);
  });
});
