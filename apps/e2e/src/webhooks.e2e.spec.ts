import { verifyWebhookSignature, webhookSecretKey } from '@rag/jobs';
import type { JobView, QueryResult } from '@rag/queue-contracts';
import { json, runApp } from '@rag/testing';
import Redis from 'ioredis';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');

// A question with a callback_url through the real gateway and worker processes: the worker POSTs the
// finished job's record to a receiver on 127.0.0.1 (allowed by configuration), signed with the secret
// the first process generated and kept in Redis, which a client reads and verifies with.
describe('webhooks end to end', () => {
  const stack = useStack('rag-webhooks-');
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  let workerLines: () => string[];

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack.onTeardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const env = { ...stack.env, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_BACKOFF_MS: '100' };
    const ingest = await runApp(CLI_MAIN, env, [CORPUS, '--collection', 'handbook', '--no-progress']);
    expect(ingest.code).toBe(0);
    const { workers } = await stack.startGatewayAndWorkers(env);
    workerLines = () => workers.flatMap((w) => w.lines);
  });

  it('POSTs the finished job record, signed, and shows the delivery in the job view', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'When does the cafeteria serve lunch?', collection: 'handbook', callback_url: `http://127.0.0.1:${port}/rag` }),
    });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    let view: Partial<JobView<QueryResult>> = {};
    for (let i = 0; i < 300 && view.webhook?.status !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = (await json(await fetch(`${stack.base}/v1/jobs/${job_id}`))) as JobView<QueryResult>;
    }
    expect(view).toMatchObject({ status: 'completed', webhook: { status: 'delivered', attempts: [{ attempt: 1, status_code: 204, outcome: 'delivered' }] } });
    expect(received).toHaveLength(1);
    const redis = new Redis(stack.redis.url);
    const secret = await redis.get(webhookSecretKey('rag')).finally(() => redis.disconnect());
    expect(secret).toHaveLength(43);
    expect(verifyWebhookSignature(secret as string, String(received[0].headers['x-rag-signature']), received[0].body)).toBe(true);
    const record = JSON.parse(received[0].body) as JobView<QueryResult>;
    expect(record).toMatchObject({ job_id, status: 'completed' });
    expect(record.result?.answer).toBe(view.result?.answer);
    expect(workerLines().join('\n')).not.toContain(secret as string);
  }, 60_000);
});
