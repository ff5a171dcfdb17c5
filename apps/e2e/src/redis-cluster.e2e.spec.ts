import { ApiKeyStore } from '@rag/auth';
import { openRedis } from '@rag/config';
import { json, openEventStream, runApp, startRedisCluster, type AppProcess, type PrivateRedisCluster } from '@rag/testing';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');
const FAKE_KEY = 'sk-cluster-key';
const PER_MINUTE = 40;

// The stack on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES, QUEUE_PREFIX={rag}):
// a gateway and a worker process and the CLI, with auth on and a rate limit.
// REDIS_URL points where nothing listens, so any connection that ignored the
// cluster setting would fail.
describe('the stack on a Redis Cluster', () => {
  const stack = useStack('rag-cluster-', { fakeOpenAI: { dimension: 64, apiKey: FAKE_KEY } });
  let cluster: PrivateRedisCluster;
  let env: Record<string, string>;
  let redis: Redis;
  /** A stored key of tenant acme (query, ingest), made by the CLI. */
  let key: string;
  let gateway: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    stack.onTeardown(() => cluster.stop());
    env = {
      ...stack.env,
      DATA_DIR: stack.data.path,
      ...stack.openAIEnv(FAKE_KEY),
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: cluster.nodesSetting,
      QUEUE_PREFIX: '{rag}',
      AUTH: 'on',
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '100',
      BREAKER_HALF_OPEN_MS: '500',
    };
    redis = openRedis({ REDIS_URL: env.REDIS_URL, REDIS_CLUSTER_NODES: cluster.nodesSetting });
    stack.onTeardown(() => redis.quit());
    const created = await runApp(CLI_MAIN, env, ['keys', 'create', '--tenant', 'acme', '--scopes', 'query,ingest']);
    expect(created.code).toBe(0);
    key = created.stdout.trim();
    ({
      gateway,
      workers: [worker],
    } = await stack.startGatewayAndWorkers({ ...env, INGEST_CONCURRENCY: '1' }));
  });

  const call = (route: string, init: RequestInit = {}, bearer = key) =>
    fetch(`${stack.base}${route}`, { ...init, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers } });
  const ask = (query: string, headers: Record<string, string> = {}) =>
    call('/v1/chat', { method: 'POST', headers, body: JSON.stringify({ query, collection: 'handbook' }) });
  const view = async (id: string, wait = 0) => json(await call(`/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}`));

  it('loads documents through the ingest queue and answers a question about them, every key in one hash slot', async () => {
    const body = new FormData();
    for (const name of ['parking.html', 'cafeteria.txt']) body.append('file', new Blob([readFileSync(path.join(CORPUS, name))]), name);
    const uploaded = await fetch(`${stack.base}/v1/collections/handbook/documents`, { method: 'POST', body, headers: { authorization: `Bearer ${key}` } });
    expect(uploaded.status).toBe(202);
    const statusUrl = (await json(uploaded)).status_url as string;
    let progress = await json(await call(statusUrl));
    for (let i = 0; i < 120 && !progress.finished; i++) progress = (await new Promise((r) => setTimeout(r, 250)), await json(await call(statusUrl)));
    expect(progress).toMatchObject({ finished: true, failed: 0 });

    const { job_id } = await json(await ask('How much does a parking permit cost?'));
    const done = await view(job_id, 15);
    expect(done.status).toBe('completed');
    expect(done.result.citations[0].source).toBe('parking.html');

    // Bull's keys and ours all live on the master of {rag}'s slot; the other masters hold none.
    const owner = await cluster.masterOf('{rag}');
    for (const node of cluster.nodes) {
      const client = openRedis({ REDIS_URL: node.url });
      const keys = await client.keys('*');
      client.disconnect();
      if (node === owner) expect(keys).toEqual(expect.arrayContaining(['{rag}:rag-query:completed', `{rag}:rag-query:${job_id}`]));
      else expect(keys).toEqual([]);
    }
  });

  it("streams a question's events live to its end", async () => {
    // A slow answer: the stream joins while the question runs, and its events come through the gateway's blocking read.
    stack.fake.setOptions({ perTokenMs: 30 });
    try {
      const { job_id } = await json(await ask('Where is the cafeteria?'));
      const stream = await openEventStream(`${stack.base}/v1/jobs/${job_id}/events`, { authorization: `Bearer ${key}` });
      expect(stream.status).toBe(200);
      const events = await stream.rest(15_000);
      expect(events.some((e) => e.event === 'token')).toBe(true);
      expect(events.at(-1)?.event).toBe('done');
      expect(JSON.parse(events.at(-1)?.data ?? '{}').status).toBe('completed');
    } finally {
      stack.fake.setOptions({ perTokenMs: 0 });
    }
  });

  it('maps the same Idempotency-Key to the same job', async () => {
    const first = await ask('Where can I park?', { 'idempotency-key': 'cluster-1' });
    const second = await ask('Where can I park?', { 'idempotency-key': 'cluster-1' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect((await json(second)).job_id).toBe((await json(first)).job_id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('stops an active job when it is cancelled (the cancel reaches the worker over pub/sub)', async () => {
    stack.fake.setOptions({ perTokenMs: 300 });
    try {
      const { job_id } = await json(await ask('When does the cafeteria open?'));
      let state = await view(job_id);
      for (let i = 0; i < 100 && state.status !== 'active'; i++) state = (await new Promise((r) => setTimeout(r, 50)), await view(job_id));
      expect(state.status).toBe('active');
      const res = await call(`/v1/jobs/${job_id}`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      expect((await view(job_id, 10)).status).toBe('cancelled');
      // The worker's log line comes down its stdout pipe, which may arrive after the answer to the long-poll.
      expect(await worker.waitForLog((l) => l.message === 'job cancelled' && l.job_id === job_id, 5000)).toBeDefined();
    } finally {
      stack.fake.setOptions({ perTokenMs: 0 });
    }
  });

  it('refuses a request without a key, and counts the rate limit in the cluster', async () => {
    expect((await fetch(`${stack.base}/v1/me`)).status).toBe(401);
    const { key: limited } = await new ApiKeyStore(redis, '{rag}').create({ tenant: 'limited', scopes: ['query'] });
    for (let i = 0; i < PER_MINUTE; i++) expect((await call('/v1/me', {}, limited)).status).toBe(200);
    const refused = await call('/v1/me', {}, limited);
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe('rate_limited');
  });

  it('dead-letters a question that exhausts its attempts, and the CLI lists and replays it', async () => {
    stack.fake.setOptions({ fault: { kind: 'status500', endpoints: ['chat'] } });
    const { job_id } = await json(await ask('How much does a parking permit cost?'));
    let state = await view(job_id, 10);
    for (let i = 0; i < 5 && state.status !== 'failed'; i++) state = await view(job_id, 10);
    expect(state.status).toBe('failed');
    const listed = await runApp(CLI_MAIN, env, ['dlq', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).items.map((d: { job_id: string }) => d.job_id)).toContain(job_id);
    stack.fake.setOptions({ fault: null });
    // The chat breaker may have opened during the outage: once it lets a trial through, the replay completes.
    await new Promise((r) => setTimeout(r, 600));
    expect((await runApp(CLI_MAIN, env, ['dlq', 'replay', job_id])).code).toBe(0);
    expect((await view(job_id, 15)).status).toBe('completed');
  });

  it("is ready, sees its worker's heartbeat and counts the queue from the cluster (/readyz, /metrics)", async () => {
    const ready = await fetch(`${stack.base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await json(ready)).status).toBe('ready');
    const metrics = await (await fetch(`${stack.base}/metrics`)).text();
    expect(metrics).toMatch(/^rag_workers(\{[^}]*\})? 1$/m);
    expect(metrics).toMatch(/^rag_queue_jobs\{[^}]*queue="rag-query"[^}]*state="completed"[^}]*\} [1-9]/m);
  });

  it('logged no error on the way (a script or MULTI across slots would fail with CROSSSLOT)', () => {
    const errors = [gateway, worker].flatMap((app) => app.logs()).filter((l) => l.level === 'error' || /CROSSSLOT|MOVED|CLUSTERDOWN/.test(JSON.stringify(l)));
    expect(errors).toEqual([]);
  });
});
