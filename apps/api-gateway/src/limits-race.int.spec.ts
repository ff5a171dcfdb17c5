import { QueueName } from '@rag/queue-contracts';
import { json, startLatencyProxy, startRedis, tempDir, type LatencyProxy, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import * as path from 'node:path';
import { gatewayProcesses, type GatewayProcess } from './gateway-process.spec-helper';

const KEY = 'acme-query-key-0123456789abcdef';
const PREFIX = 'race';
const CAP = 5;
const LONG_POLLS = 3;

// The limits that must hold however requests interleave: two real gateway processes on one private
// redis-server, both through a proxy that makes Redis 10 ms away (as across a network), so a
// check-then-add has room to race. No worker runs: every accepted question stays waiting.
describe('limits under concurrency: two gateway processes on one Redis', () => {
  let redis: PrivateRedis;
  let proxy: LatencyProxy;
  let data: TempDir;
  let queue: Bull.Queue;
  const processes = gatewayProcesses();
  const gateways: GatewayProcess[] = [];

  const startGateway = async (redisUrl: string) => {
    gateways.push(
      await processes.start({
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: PREFIX,
        DATA_DIR: path.join(data.path, 'data'),
        API_KEYS: `acme:query:${KEY}`,
        MAX_WAITING_JOBS_PER_TENANT: String(CAP),
        MAX_LONG_POLLS_PER_CLIENT: String(LONG_POLLS),
      }),
    );
  };

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startLatencyProxy(redis.port, 10);
    data = tempDir('rag-limits-race-');
    queue = new Bull(QueueName.Query, redis.url, { prefix: PREFIX });
    await queue.isReady();
    await Promise.all([startGateway(proxy.url), startGateway(proxy.url)]);
  }, 120_000);

  afterAll(async () => {
    await processes.stopAll();
    await queue?.close();
    await proxy?.close();
    await redis?.stop();
    data?.remove();
  });

  const ask = (i: number, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateways[i % gateways.length].base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
      body: JSON.stringify(body),
    });
  const read = (i: number, jobId: string, query = '', signal?: AbortSignal) =>
    fetch(`${gateways[i % gateways.length].base}/v1/jobs/${jobId}${query}`, { headers: { authorization: `Bearer ${KEY}` }, signal });

  it('gives exactly the tenant cap of 202s to 60 concurrent questions spread over both gateways, round after round', async () => {
    for (let round = 0; round < 4; round++) {
      const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => ask(i, { query: `round ${round} question ${i}` }).then((r) => r.status)));
      expect(statuses.filter((s) => s === 202)).toHaveLength(CAP);
      expect(statuses.filter((s) => s === 429)).toHaveLength(60 - CAP);
      expect(await queue.getWaitingCount()).toBe(CAP);
      // The next round starts with an empty queue; the tenant's entries of removed jobs are pruned at the cap.
      await queue.empty();
    }
  });

  it('makes one job of two concurrent requests with one Idempotency-Key: a different body is a 422, the same one a replay', async () => {
    for (let round = 0; round < 4; round++) {
      const key = { 'idempotency-key': `differ-${round}` };
      const [a, b] = await Promise.all([ask(0, { query: `first ${round}` }, key), ask(1, { query: `second ${round}` }, key)]);
      expect([a.status, b.status].sort()).toEqual([202, 422]);
      const winner = a.status === 202 ? a : b;
      const { job_id } = await json(winner);
      expect((await json(a.status === 422 ? a : b)).error.code).toBe('idempotency_key_reused');
      expect(await queue.getWaitingCount()).toBe(1);
      const job = await queue.getJob(job_id);
      expect(job?.data.query).toBe(a === winner ? `first ${round}` : `second ${round}`);

      const same = { 'idempotency-key': `same-${round}` };
      const [c, d] = await Promise.all([ask(0, { query: `same ${round}` }, same), ask(1, { query: `same ${round}` }, same)]);
      expect([c.status, d.status]).toEqual([202, 202]);
      expect([c.headers.get('idempotent-replayed'), d.headers.get('idempotent-replayed')].filter((h) => h === 'true')).toHaveLength(1);
      expect((await json(c)).job_id).toBe((await json(d)).job_id);
      expect(await queue.getWaitingCount()).toBe(2);
      await queue.empty();
    }
  });

  it('never brings a cancelled job back when its Idempotency-Key is used again', async () => {
    const key = { 'idempotency-key': 'cancel-me' };
    const first = await json(await ask(0, { query: 'cancel me' }, key));
    const cancel = await fetch(`${gateways[1].base}/v1/jobs/${first.job_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(cancel.status).toBe(200);
    const again = await ask(0, { query: 'cancel me' }, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(again)).job_id).toBe(first.job_id);
    expect(await queue.getJob(first.job_id)).toBeNull();
    expect((await json(await read(1, first.job_id))).status).toBe('cancelled');
  });

  it('caps the long-polls one key holds open over both gateways with 429 and Retry-After', async () => {
    const { job_id } = await json(await ask(0, { query: 'a question nobody answers' }));
    const aborts = Array.from({ length: LONG_POLLS }, () => new AbortController());
    // Long-polls of a job no worker takes: they stay open until their client leaves.
    const open = aborts.map((a, i) => read(i, job_id, '?wait=30', a.signal).catch(() => undefined));
    const openPolls = async () => {
      const [key] = await queue.client.keys(`${PREFIX}:long-polls:*`);
      return key ? queue.client.zcard(key) : 0;
    };
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (let i = 0; !(await check()); i++) {
        if (i > 200) throw new Error(`not within 20 s: ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until('every long-poll open', async () => (await openPolls()) === LONG_POLLS);
    for (const i of [0, 1]) {
      const refused = await read(i, job_id, '?wait=1');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await json(refused)).error).toMatchObject({ code: 'too_many_long_polls', message: expect.stringContaining('read without ?wait') });
    }
    // A plain read is not a long-poll.
    expect((await read(1, job_id)).status).toBe(200);
    // A client that leaves gives its place back.
    aborts[0].abort();
    await open[0];
    await until('the left poll forgotten', async () => (await openPolls()) === LONG_POLLS - 1);
    const fits = await read(1, job_id, '?wait=0.2');
    expect(fits.status).toBe(200);
    expect((await json(fits)).status).toBe('queued');
    aborts.forEach((a) => a.abort());
    await Promise.all(open);
  });
});
