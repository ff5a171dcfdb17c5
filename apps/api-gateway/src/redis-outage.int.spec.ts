import { ApiKeyStore } from '@rag/auth';
import { json, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import Redis from 'ioredis';
import * as path from 'node:path';
import { gatewayProcesses, type GatewayProcess } from './gateway-process.spec-helper';

const PREFIX = 'outage';
const SEEDED_KEY = 'ops-all-scopes-key-0123456789abcdef';
const JOB = '00000000-0000-4000-8000-000000000000';

interface Call {
  method: string;
  path: string;
  body?: () => string | FormData;
  contentType?: string;
}

/** One request of every route family that reads or writes Redis. */
const REDIS_ROUTES: Call[] = [
  { method: 'POST', path: '/v1/chat', body: () => '{"query":"anyone there?"}', contentType: 'application/json' },
  { method: 'POST', path: '/chat?query=anyone%20there' },
  { method: 'GET', path: `/v1/jobs/${JOB}` },
  { method: 'GET', path: `/v1/jobs/${JOB}?wait=2` },
  { method: 'DELETE', path: `/v1/jobs/${JOB}` },
  { method: 'GET', path: `/job-status?job_id=${JOB}` },
  {
    method: 'POST',
    path: '/v1/collections/docs/documents',
    body: () => {
      const form = new FormData();
      form.append('file', new Blob(['# Notes\n\nSome text.\n']), 'notes.md');
      return form;
    },
  },
  { method: 'GET', path: `/v1/ingest-runs/${JOB}` },
  { method: 'GET', path: '/v1/admin/dead-letters' },
  { method: 'GET', path: '/v1/admin/dead-letters/some-id' },
  { method: 'POST', path: '/v1/admin/dead-letters/some-id/replay' },
  { method: 'DELETE', path: '/v1/admin/dead-letters' },
  { method: 'GET', path: '/v1/admin/workers' },
  { method: 'GET', path: '/admin/queues/api/queues' },
];

/** With the key looked up in Redis (stored keys, or `auto` asking whether any exists), every route needs Redis. */
const ALL_ROUTES: Call[] = [...REDIS_ROUTES, { method: 'GET', path: '/v1/collections' }, { method: 'GET', path: '/admin/queues' }];

// While Redis is unreachable every route that needs it answers 503 `queue_unavailable` with
// Retry-After and a JSON error, never a 500 with a stack in the log: authentication by a stored
// key, `AUTH=auto` with no key (it asks Redis whether one exists), and the routes themselves.
describe('api-gateway while Redis is down (real processes, real redis-server stopped)', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  const processes = gatewayProcesses();
  let storedKey: string;

  const startGateway = (env: Record<string, string>) =>
    processes.start({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX, DATA_DIR: path.join(data.path, 'data'), API_KEYS: '', ...env });
  let stored: GatewayProcess;
  let open: GatewayProcess;
  let seeded: GatewayProcess;
  let limited: GatewayProcess;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-redis-outage-');
    // The open gateway starts first: once a key is stored, `auto` turns auth on for new gateways.
    [open, seeded, limited] = await Promise.all([
      startGateway({ AUTH: 'auto' }),
      startGateway({ AUTH: 'on', API_KEYS: `ops:query+ingest+admin+operator:${SEEDED_KEY}` }),
      startGateway({ AUTH: 'on', API_KEYS: `ops:query+ingest+admin+operator:${SEEDED_KEY}`, RATE_LIMIT_PER_MINUTE: '1000' }),
    ]);
    const client = new Redis(redis.url);
    storedKey = (await new ApiKeyStore(client, PREFIX).create({ tenant: 'acme', scopes: ['query', 'ingest', 'admin'] })).key;
    client.disconnect();
    stored = await startGateway({ AUTH: 'auto' });
    // Both ways in work while Redis is up.
    expect((await send(stored.base, ALL_ROUTES[0], storedKey)).status).toBe(202);
    expect((await send(seeded.base, ALL_ROUTES[0], SEEDED_KEY)).status).toBe(202);
    await redis.stop('SIGKILL');
  }, 180_000);

  afterAll(async () => {
    await processes.stopAll();
    await redis?.stop();
    data?.remove();
  });

  function send(base: string, call: Call, key?: string): Promise<Response> {
    return fetch(`${base}${call.path}`, {
      method: call.method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(call.contentType ? { 'content-type': call.contentType } : {}) },
      body: call.body?.(),
    });
  }

  /** Every answer: 503, Retry-After, the JSON error; returns the calls that answered otherwise. */
  async function wrongAnswers(base: string, calls: Call[], key?: string): Promise<string[]> {
    const wrong: string[] = [];
    for (const call of calls) {
      const res = await send(base, call, key);
      const text = await res.text();
      let code: unknown;
      try {
        code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
      } catch {
        code = undefined;
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status !== 503 || !(retryAfter > 0) || !res.headers.get('content-type')?.startsWith('application/json') || code !== 'queue_unavailable') {
        wrong.push(`${call.method} ${call.path}: ${res.status} retry-after=${res.headers.get('retry-after')} ${text.slice(0, 200)}`);
      }
    }
    return wrong;
  }

  const stacks = (app: AppProcess) => app.logs().filter((l) => l.stack !== undefined || l.message === 'unhandled error');

  it('answers 503 with Retry-After and JSON on every route, authenticated by a stored key', async () => {
    expect(await wrongAnswers(stored.base, ALL_ROUTES, storedKey)).toEqual([]);
    expect(stacks(stored.app)).toEqual([]);
  });

  it('answers the same with AUTH=auto and no key (it asks Redis whether a key exists)', async () => {
    expect(await wrongAnswers(open.base, ALL_ROUTES)).toEqual([]);
    expect(stacks(open.app)).toEqual([]);
  });

  it('answers the same on every route that needs Redis with a key from the configuration', async () => {
    expect(await wrongAnswers(seeded.base, REDIS_ROUTES, SEEDED_KEY)).toEqual([]);
    expect(stacks(seeded.app)).toEqual([]);
  });

  it('answers the same from the rate limiter, which counts in Redis', async () => {
    expect(await wrongAnswers(limited.base, ALL_ROUTES, SEEDED_KEY)).toEqual([]);
    expect(stacks(limited.app)).toEqual([]);
  });

  it('is not ready, with Retry-After, and still alive', async () => {
    for (const { base } of [stored, open, seeded, limited]) {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      expect((await json(ready)).status).toBe('not_ready');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }
  });
});
