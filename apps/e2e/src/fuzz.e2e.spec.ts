import { QueueName } from '@rag/queue-contracts';
import { freePort, runApp, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import Redis from 'ioredis';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { CATEGORIES, malformedRequests, type FuzzRequest } from './fuzz/malformed-requests';

const USER_KEY = 'acme_fuzz_user_key_0123456789abcdef';
const ADMIN_KEY = 'ops_fuzz_admin_key_0123456789abcdef';
const PREFIX = 'rag-fuzz';
const MAX_BODY_BYTES = 65536;
const MAX_UPLOAD_BYTES = 4096;
/** At least 5,000 (the requirement); FUZZ_REQUESTS and FUZZ_SEED reproduce or widen a run. */
const COUNT = Math.max(5000, Number(process.env.FUZZ_REQUESTS ?? 0) || 0);
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const CONCURRENCY = 16;

/** A JSON error with a code and a message, and no stack trace or source location in it. */
function isExplained(body: string | undefined): boolean {
  try {
    const error = (JSON.parse(body ?? '') as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof error?.code === 'string' && typeof error.message === 'string' && !/\bat \S+ \(|\.[jt]s:\d+/.test(body ?? '');
  } catch {
    return false;
  }
}

interface Outcome {
  request: FuzzRequest;
  status?: number;
  body?: string;
  error?: string;
}

// Thousands of generated malformed requests (wrong types, huge and
// unicode-heavy strings, deep JSON, bad headers, bad ids, path tricks) against
// a real gateway process with keys configured and no worker: every answer must
// be a 4xx JSON error, the gateway must stay up and healthy, and not one job
// may reach the queue.
describe('fuzzing the gateway with malformed requests', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let gateway: AppProcess;
  let port: number;
  let env: NodeJS.ProcessEnv;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-fuzz-');
    port = await freePort();
    env = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: PREFIX,
      DATA_DIR: path.join(data.path, 'data'),
      PORT: String(port),
      NODE_ENV: 'test',
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      INGEST_MAX_DOCUMENT_BYTES: String(MAX_UPLOAD_BYTES),
      API_KEYS: `acme:query+ingest:${USER_KEY},ops:admin:${ADMIN_KEY}`,
    };
    const docs = path.join(data.path, 'docs');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, 'readme.md'), '# Readme\n\nThe fuzz test keeps this document.');
    const load = await runApp('apps/ingest-cli/src/main.ts', env, [docs, '--collection', 'sample', '--tenant', 'acme', '--no-progress', '--json']);
    expect(load.code).toBe(0);
    gateway = startApp('apps/api-gateway/src/main.ts', env);
    await gateway.waitForLog((l) => l.message === 'listening');
  });

  afterAll(async () => {
    agent.destroy();
    await gateway?.stop('SIGKILL');
    await redis?.stop();
    data?.remove();
  });

  function send(request: FuzzRequest): Promise<Outcome> {
    return new Promise((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: request.method,
          path: request.path,
          agent,
          headers: { ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ request, status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => resolve({ request, status: res.statusCode, error: e.message }));
        },
      );
      req.on('error', (e) => resolve({ request, error: e.message }));
      req.end(request.body);
    });
  }

  it(`answers ${COUNT} malformed requests with 4xx JSON errors only, stays up, and queues no job`, async () => {
    // Made one at a time as the senders ask, so a long run holds only what it needs.
    const requests = malformedRequests(SEED, COUNT, { user: USER_KEY, admin: ADMIN_KEY, maxBodyBytes: MAX_BODY_BYTES, maxUploadBytes: MAX_UPLOAD_BYTES });
    const outcomes: Outcome[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let next = requests.next(); !next.done; next = requests.next()) {
          const outcome = await send(next.value);
          // Bodies are dropped from answers that passed, to keep memory flat.
          const passed = outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500 && isExplained(outcome.body);
          outcomes.push(passed ? { ...outcome, request: { ...outcome.request, body: undefined } } : outcome);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    // The counts, by category and status, printed with the run's seed.
    const table = new Map<string, Map<number | string, number>>();
    for (const o of outcomes) {
      const row = table.get(o.request.category) ?? new Map<number | string, number>();
      const key = o.status ?? 'no answer';
      row.set(key, (row.get(key) ?? 0) + 1);
      table.set(o.request.category, row);
    }
    const statusTotals = new Map<number | string, number>();
    for (const row of table.values()) for (const [k, v] of row) statusTotals.set(k, (statusTotals.get(k) ?? 0) + v);
    const lines = [
      `fuzz: ${outcomes.length} malformed requests (seed ${SEED}) in ${seconds.toFixed(1)} s, ${Math.round(outcomes.length / seconds)} requests/s`,
      ...CATEGORIES.map((c) => {
        const row = table.get(c) ?? new Map();
        const total = [...row.values()].reduce((a, b) => a + b, 0);
        return `  ${c.padEnd(58)} ${String(total).padStart(5)}  ${[...row.entries()]
          .sort()
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`;
      }),
      `  ${'all'.padEnd(58)} ${String(outcomes.length).padStart(5)}  ${[...statusTotals.entries()]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    fs.mkdirSync(path.join(__dirname, '../../../reports'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '../../../reports/fuzz.txt'), `${lines.join('\n')}\n`);

    expect(outcomes).toHaveLength(COUNT);
    for (const category of CATEGORIES) expect(table.get(category)).toBeDefined();
    const unanswered = outcomes.filter((o) => o.status === undefined);
    expect(unanswered.map((o) => `${o.request.method} ${o.request.path.slice(0, 80)}: ${o.error}`)).toEqual([]);
    const not4xx = outcomes.filter((o) => o.status! < 400 || o.status! >= 500);
    const shown = (o: Outcome) => {
      const { authorization: _authorization, ...headers } = o.request.headers;
      return `${o.status} ${o.request.category}: ${o.request.method} ${o.request.path.slice(0, 80)} ${JSON.stringify(headers)} ${o.request.body?.toString().slice(0, 300)} → ${o.body?.slice(0, 200)}`;
    };
    expect(not4xx.map(shown)).toEqual([]);
    // Every refusal says what was wrong, as JSON, and leaks no internals.
    const unexplained = outcomes.filter((o) => !isExplained(o.body));
    expect(unexplained.map(shown)).toEqual([]);
    // No key appears in any answer.
    expect(outcomes.filter((o) => o.body?.includes(USER_KEY) || o.body?.includes(ADMIN_KEY))).toEqual([]);

    // Still up and healthy, and it never logged an unhandled error.
    expect(gateway.lines.length).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(health.status).toBe(200);
    expect(gateway.logs().filter((l) => l.level === 'error')).toEqual([]);
    // Its logs (configuration printed at start included) hold no key.
    expect(gateway.lines.filter((l) => l.includes(USER_KEY) || l.includes(ADMIN_KEY) || l.includes(USER_KEY.slice(0, 20)))).toEqual([]);

    // Not one job: no counts, and no job record under the queue's keys.
    const client = new Redis(redis.url);
    try {
      for (const queue of [QueueName.Query, QueueName.Ingest]) {
        const counts = await Promise.all(
          ['wait', 'active', 'delayed', 'completed', 'failed', 'paused'].map((list) => client.exists(`${PREFIX}:${queue}:${list}`)),
        );
        expect([queue, counts]).toEqual([queue, [0, 0, 0, 0, 0, 0]]);
        const jobKeys = (await client.keys(`${PREFIX}:${queue}:*`)).filter((k) => /:[0-9a-f-]{32,36}$/.test(k));
        expect(jobKeys).toEqual([]);
      }
      expect(await client.keys(`${PREFIX}:ingest-run:*`)).toEqual([]);
    } finally {
      client.disconnect();
    }

    // And the tenant's data is as it was: a valid request still works.
    const docs = await fetch(`http://127.0.0.1:${port}/v1/collections/sample/documents`, { headers: { authorization: `Bearer ${USER_KEY}` } });
    expect(await docs.json()).toMatchObject({ total: 1, items: [{ doc_id: 'readme.md' }] });
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/v1/collections`, { headers: { authorization: `Bearer ${USER_KEY}` } }).then(
          (r) => r.json() as Promise<{ collections: unknown }>,
        )
      ).collections,
    ).toEqual([{ name: 'sample' }]);
  });
});
