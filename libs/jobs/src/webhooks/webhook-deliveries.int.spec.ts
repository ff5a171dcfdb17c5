import { createLogger } from '@rag/observability';
import { JobName, type QueryJobPayload } from '@rag/queue-contracts';
import { captureLogs, useRedisSuite } from '@rag/testing';
import type { Queue } from 'bull';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeadLetters } from '../dead-letters';
import { QueryJobs } from '../lifecycle/query-jobs';
import { openQueryQueue, openWebhookQueue } from '../queues';
import { WebhookDeliveries, type WebhookConfig } from './webhook-deliveries';
import { WebhookRecords } from './webhook-records';
import { verifyWebhookSignature } from './webhook-signature';

const SECRET = 'webhook-secret-'.padEnd(40, 'z');

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
}

describe('webhooks: a finished question POSTed, signed, to its callback_url (real Redis, Bull, worker processors, HTTP receiver)', () => {
  const redis = useRedisSuite();
  const opened: Queue[] = [];
  let server: Server;
  let port: number;
  let received: Received[] = [];
  let answers: number[] = [];
  let prefixes = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.writeHead(answers.shift() ?? 200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(async () => {
    received = [];
    answers = [];
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });

  /** A gateway (QueryJobs), a question worker that answers or fails, and a webhook worker, under a prefix of their own. */
  async function setUp(outcome: 'answer' | 'fail' | 'never' = 'answer', allowed = '127.0.0.1') {
    const logs = captureLogs();
    const logger = createLogger({ service: 'rag-worker', level: 'debug', stream: logs.stream });
    const config: WebhookConfig & ConstructorParameters<typeof QueryJobs>[1] = {
      JOB_SIGNING_KEY: 'k'.repeat(32),
      WEBHOOK_SIGNING_SECRET: SECRET,
      QUEUE_PREFIX: `wh${++prefixes}`,
      JOB_RETENTION_SECONDS: 600,
      JOB_ATTEMPTS: 1,
      JOB_BACKOFF_MS: 10,
      MAX_WAITING_JOBS: 100,
      MAX_WAITING_JOBS_PER_TENANT: 100,
      FAIR_SHARE: 'on',
      WEBHOOK_ATTEMPTS: 3,
      WEBHOOK_BACKOFF_MS: 20,
      WEBHOOK_TIMEOUT_MS: 2000,
      WEBHOOK_ALLOWED_HOSTS: allowed,
    };
    const connection = { REDIS_URL: redis.url, QUEUE_PREFIX: config.QUEUE_PREFIX };
    const queue = openQueryQueue(connection);
    const worker = openQueryQueue(connection);
    const webhookQueue = openWebhookQueue(connection);
    opened.push(queue, worker, webhookQueue);
    const deadLetters = new DeadLetters(redis.client, { prefix: config.QUEUE_PREFIX, jobRetentionSeconds: 600, retentionSeconds: 600, maxEntries: 100 });
    const webhooks = new WebhookDeliveries(webhookQueue, new WebhookRecords(redis.client, { prefix: config.QUEUE_PREFIX, retentionSeconds: 600 }), config);
    // The gateway's side queues the webhook of a job it cancels while waiting.
    const jobs = new QueryJobs(queue, config, deadLetters, undefined, webhooks);
    if (outcome !== 'never')
      void worker.process(JobName.Answer, async (job) => {
        if (outcome === 'fail') {
          job.discard();
          throw new Error('collection not found');
        }
        return { answer: `answer to ${(job.data as QueryJobPayload).query}`, citations: [] };
      });
    worker.on('completed', (job) => void webhooks.jobFinished(job));
    worker.on('failed', (job) => void webhooks.jobFinished(job));
    void webhookQueue.process(JobName.DeliverWebhook, webhooks.processor(new QueryJobs(worker, config, deadLetters), logger));
    const ask = async (callbackUrl: string) => {
      const queued = await jobs.enqueue({
        query: 'vacation days?',
        collection: 'docs',
        top_k: 3,
        stream: false,
        request_id: 'req-1',
        tenant: 'acme',
        callback_url: callbackUrl,
      });
      if (queued.outcome !== 'queued') throw new Error(queued.outcome);
      return queued.jobId;
    };
    /** The job's view once its webhook is no longer pending. */
    const settled = async (jobId: string) => {
      for (let i = 0; i < 200; i++) {
        const view = await jobs.view(jobId, 'acme');
        if (view?.webhook && view.webhook.status !== 'pending') return view;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('webhook still pending');
    };
    return { ask, settled, logs, jobs };
  }

  it('delivers the job record with a signature a client can verify, and records the delivery in the view', async () => {
    const { ask, settled, logs } = await setUp();
    const jobId = await ask(`http://127.0.0.1:${port}/hook?x=1`);
    const view = await settled(jobId);
    expect(view.webhook).toEqual({ status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, status_code: 200, outcome: 'delivered' })] });
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(verifyWebhookSignature(SECRET, String(delivery.headers['x-rag-signature']), delivery.body)).toBe(true);
    expect(verifyWebhookSignature('another-secret'.padEnd(40, 'q'), String(delivery.headers['x-rag-signature']), delivery.body)).toBe(false);
    const record = JSON.parse(delivery.body) as Record<string, unknown>;
    expect(record).toMatchObject({ job_id: jobId, status: 'completed', result: { answer: 'answer to vacation days?' } });
    expect(record.finished_at).toEqual(expect.any(String));
    // The secret is in no log line and no record.
    expect(logs.text()).not.toContain(SECRET);
    expect(JSON.stringify(view)).not.toContain(SECRET);
    expect(delivery.body).not.toContain(SECRET);
  });

  it('retries after a 500 and records both attempts', async () => {
    const { ask, settled } = await setUp();
    answers = [500];
    const view = await settled(await ask(`http://127.0.0.1:${port}/hook`));
    expect(view.webhook?.status).toBe('delivered');
    expect(view.webhook?.attempts.map((a) => [a.status_code, a.outcome])).toEqual([
      [500, 'retry'],
      [200, 'delivered'],
    ]);
    expect(received).toHaveLength(2);
  });

  it('gives up after a 400 (no retry) and delivers failures too', async () => {
    const { ask, settled } = await setUp('fail');
    answers = [400];
    const jobId = await ask(`http://127.0.0.1:${port}/hook`);
    const view = await settled(jobId);
    expect(view.status).toBe('failed');
    expect(view.webhook?.status).toBe('failed');
    expect(view.webhook?.attempts.map((a) => [a.status_code, a.outcome])).toEqual([[400, 'failed']]);
    expect(JSON.parse(received[0].body)).toMatchObject({ job_id: jobId, status: 'failed', error: { message: 'collection not found' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toHaveLength(1);
  });

  it('connects to the address the hostname resolved to, keeping the hostname in the Host header (a hostname the allow-list names)', async () => {
    const { ask, settled } = await setUp('answer', 'localhost');
    const view = await settled(await ask(`http://localhost:${port}/hook`));
    expect(view.webhook?.status).toBe('delivered');
    expect(received[0].headers.host).toBe(`localhost:${port}`);
  });

  it('delivers the cancelled record of a job cancelled while it waited (no worker ever saw it)', async () => {
    const { ask, settled, jobs } = await setUp('never');
    const jobId = await ask(`http://127.0.0.1:${port}/hook`);
    expect((await jobs.cancel(jobId, 'acme')).outcome).toBe('cancelled');
    const view = await settled(jobId);
    expect(view).toMatchObject({ status: 'cancelled', webhook: { status: 'delivered' } });
    expect(JSON.parse(received[0].body)).toMatchObject({ job_id: jobId, status: 'cancelled' });
    expect(JSON.parse(received[0].body)).not.toHaveProperty('webhook');
  });

  it('refuses at delivery a hostname that resolves to a forbidden address, although its IP is allowed literally', async () => {
    const { ask, settled } = await setUp();
    const view = await settled(await ask(`http://localhost:${port}/hook`));
    expect(view.webhook?.status).toBe('failed');
    expect(view.webhook?.attempts).toEqual([
      expect.objectContaining({ outcome: 'refused', error: expect.stringMatching(/localhost resolves to .* \(loopback\)/) }),
    ]);
    expect(received).toHaveLength(0);
  });
});
