import { JobName, type QueryJobPayload } from '@rag/queue-contracts';
import { captureLogs, json, startRedis, type PrivateRedis } from '@rag/testing';
import { openQueryQueue } from '@rag/jobs';
import type Bull from 'bull';
import { request } from 'node:http';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

// The gateway in-process against a private redis-server; jobs are consumed by
// a Bull processor in this test so each test controls when a job finishes.
describe('api-gateway (real Redis)', () => {
  let redis: PrivateRedis;
  let queue: Bull.Queue<QueryJobPayload>;
  let consumer: Bull.Queue<QueryJobPayload>;
  let gateway: InProcessGateway;
  let base: string;
  const { stream: logs, lines: logLines } = captureLogs();

  beforeAll(async () => {
    redis = await startRedis();
    gateway = await startInProcessGateway(redis.url, { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100', MAX_WAIT_SECONDS: '10' }, { logs });
    ({ base, queue } = gateway);
    consumer = openQueryQueue(gateway.config);
  });

  afterAll(async () => {
    await consumer?.close();
    await gateway?.close();
    await redis?.stop();
  });

  const jobCount = async () => {
    const counts = await queue.getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${base}/v1/chat`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('accepts a question with 202 and a job id, without waiting for a worker', async () => {
    const res = await post(
      { query: 'How many vacation days?', collection: 'handbook', top_k: 3 },
      { 'content-type': 'application/json', 'x-request-id': 'req-abc-1' },
    );
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body.job_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.status).toBe('queued');
    expect(body.status_url).toBe(`/v1/jobs/${body.job_id}`);
    expect(res.headers.get('location')).toBe(body.status_url);
    expect(res.headers.get('x-request-id')).toBe('req-abc-1');

    const job = await queue.getJob(body.job_id);
    expect(job?.name).toBe(JobName.Answer);
    // Signed by the gateway: workers run no job without it.
    expect(job?.data).toEqual({
      query: 'How many vacation days?',
      collection: 'handbook',
      top_k: 3,
      stream: false,
      request_id: 'req-abc-1',
      tenant: 'default',
      signature: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(await job?.getState()).toBe('waiting');
    // One line for the request, its access line, with the job it queued.
    expect(logLines.filter((l) => l.request_id === 'req-abc-1')).toEqual([
      expect.objectContaining({ message: 'request', route: '/v1/chat', status: 202, job_id: body.job_id, queue: queue.name, tenant: 'default' }),
    ]);

    const view = await json(await fetch(`${base}/v1/jobs/${body.job_id}`));
    expect(view).toMatchObject({ job_id: body.job_id, status: 'queued', attempts: 0 });
    expect(Date.parse(view.created_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('applies the configured defaults for collection and top_k', async () => {
    const res = await post({ query: 'defaults please' });
    const { job_id } = await json(res);
    const job = await queue.getJob(job_id);
    expect(job?.data.collection).toBe('default');
    expect(job?.data.top_k).toBe(5);
    expect(job?.data.request_id).toBe(res.headers.get('x-request-id'));
  });

  it.each([
    ['missing query', { collection: 'x' }, 400, 'invalid_request', 'query'],
    ['query of wrong type', { query: 42 }, 400, 'invalid_request', 'query'],
    ['blank query', { query: '   ' }, 400, 'invalid_request', 'query'],
    ['query too long', { query: 'x'.repeat(4001) }, 400, 'invalid_request', 'query'],
    ['top_k out of range', { query: 'q', top_k: 500 }, 400, 'invalid_request', 'top_k'],
    ['top_k as string', { query: 'q', top_k: '3' }, 400, 'invalid_request', 'top_k'],
    ['bad collection name', { query: 'q', collection: '../etc' }, 400, 'invalid_request', 'collection'],
    ['unknown field', { query: 'q', colection: 'typo' }, 400, 'invalid_request', 'colection'],
    ['array body', [1, 2], 400, 'invalid_request', 'object'],
    ['100 kB query', { query: 'y'.repeat(100_000) }, 413, 'payload_too_large', 'bytes'],
  ])('rejects %s with a JSON 4xx and creates no job', async (_name, body, status, code, mentions) => {
    const before = await jobCount();
    const res = await post(body);
    expect(res.status).toBe(status);
    const payload = await json(res);
    expect(payload.error.code).toBe(code);
    expect(payload.error.message).toContain(mentions);
    expect(await jobCount()).toBe(before);
  });

  it('rejects malformed JSON and non-JSON bodies', async () => {
    const before = await jobCount();
    const broken = await post('{"query": ');
    expect(broken.status).toBe(400);
    expect((await json(broken)).error.code).toBe('invalid_json');
    const text = await post('query=hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect((await json(text)).error.code).toBe('unsupported_media_type');
    expect(await jobCount()).toBe(before);
  });

  it('takes JSON in UTF-8 only: a UTF-7 or UTF-16 charset is a 415, utf-8 is fine', async () => {
    const before = await jobCount();
    for (const charset of ['utf-7', 'UTF-16', 'latin1']) {
      const res = await post({ query: 'charset' }, { 'content-type': `application/json; charset=${charset}` });
      expect(res.status).toBe(415);
      expect((await json(res)).error).toMatchObject({ code: 'unsupported_charset', message: expect.stringContaining('UTF-8') });
    }
    expect(await jobCount()).toBe(before);
    expect((await post({ query: 'charset' }, { 'content-type': 'application/json; charset="UTF-8"' })).status).toBe(202);
  });

  it("answers requests Node's parser refuses (oversized headers) with the same JSON errors", async () => {
    const res = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
      const req = request(`${base}/v1/chat`, { method: 'POST', headers: { 'x-padding': 'p'.repeat(20_000) } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode, type: r.headers['content-type'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(431);
    expect(res.type).toContain('application/json');
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'headers_too_large', message: expect.stringContaining('JSON body') });
  });

  it('answers 404 JSON for unknown and malformed job ids, and 400 for a bad wait', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-job', '..%2F..%2Fetc']) {
      const res = await fetch(`${base}/v1/jobs/${id}`);
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('job_not_found');
    }
    const { job_id } = await json(await post({ query: 'wait validation' }));
    for (const wait of ['abc', '-1', '11', '1e3']) {
      const res = await fetch(`${base}/v1/jobs/${job_id}?wait=${wait}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toContain('wait');
    }
  });

  it('returns the current state when the wait runs out', async () => {
    // No consumer runs yet, so the job stays queued.
    const { job_id } = await json(await post({ query: 'nobody answers yet' }));
    const started = Date.now();
    const view = await json(await fetch(`${base}/v1/jobs/${job_id}?wait=1`));
    expect(view.status).toBe('queued');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('long-polls until the job completes and returns its result', async () => {
    const { job_id } = await json(await post({ query: 'long poll me' }));
    const started = Date.now();
    const polled = fetch(`${base}/v1/jobs/${job_id}?wait=10`).then(json);
    await new Promise((r) => setTimeout(r, 300));
    void consumer.process(JobName.Answer, async (job) => ({ answer: `echo: ${job.data.query}`, citations: [] }));
    const view = await polled;
    expect(view.status).toBe('completed');
    expect(view.result).toEqual({ answer: 'echo: long poll me', citations: [] });
    expect(view.attempts).toBe(1);
    expect(Date.parse(view.finished_at)).toBeGreaterThanOrEqual(Date.parse(view.started_at));
    expect(Date.now() - started).toBeLessThan(9000);
  });

  it('reports retrying and then failed with the error for a job that keeps failing', async () => {
    const failGateway = await startInProcessGateway(redis.url, { QUEUE_PREFIX: 'rag-fail', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '1500', MAX_WAIT_SECONDS: '10' });
    const failing = openQueryQueue(failGateway.config);
    const url = failGateway.base;
    try {
      const { job_id } = await json(
        await fetch(`${url}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'fail' }) }),
      );
      void failing.process(JobName.Answer, async () => {
        throw new Error('vector store timed out');
      });
      const seen = new Set<string>();
      let view: { status: string; attempts: number; error?: { code: string; message: string; permanent: boolean } } = { status: 'queued', attempts: 0 };
      for (let i = 0; i < 200 && view.status !== 'failed'; i++) {
        view = await json(await fetch(`${url}/v1/jobs/${job_id}`));
        seen.add(view.status);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([...seen]).toContain('retrying');
      expect(view.status).toBe('failed');
      expect(view.attempts).toBe(2);
      // This stand-in processor records no attempts, so nothing names the failure: internal_error.
      expect(view.error).toEqual({ code: 'internal_error', message: 'vector store timed out', permanent: false });
    } finally {
      await failing.close();
      await failGateway.close();
    }
  });

  it('keeps the original service paths working', async () => {
    const res = await fetch(`${base}/chat?query=${encodeURIComponent('seed style question')}`, { method: 'POST' });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    expect((await queue.getJob(job_id))?.data.query).toBe('seed style question');
    const status = await fetch(`${base}/job-status?job_id=${job_id}`);
    expect(status.status).toBe(200);
    expect((await json(status)).job_id).toBe(job_id);
    expect((await fetch(`${base}/job-status?job_id=nope`)).status).toBe(404);
    expect((await fetch(`${base}/chat`, { method: 'POST' })).status).toBe(400);
  });

  it('serves health and readiness, and answers unknown routes with 404 JSON', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await json(ready)).checks.redis.ok).toBe(true);
    const missing = await fetch(`${base}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe('not_found');
  });

  it('writes an access log line with the request id for every request', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'trace-me-42' } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const line = logLines.find((l) => l.message === 'request' && l.request_id === 'trace-me-42');
    expect(line).toMatchObject({ method: 'GET', route: '/healthz', status: 200, service: 'api-gateway', level: 'info' });
  });
});
