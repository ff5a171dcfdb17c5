import { openWebhookQueue } from '@rag/jobs';
import { json, startRedis, type PrivateRedis } from '@rag/testing';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

describe('POST /v1/chat callback_url (real Redis, in-process gateway)', () => {
  let redis: PrivateRedis;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    redis = await startRedis();
    gateway = await startInProcessGateway(redis.url, { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  });
  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  const ask = (callbackUrl: unknown) =>
    fetch(`${gateway.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'q?', callback_url: callbackUrl }),
    });

  it('queues a question with an acceptable callback_url, carried (signed) in its payload', async () => {
    const res = await ask('https://hooks.example.com/rag?source=test');
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    const job = await gateway.queue.getJob(job_id);
    expect(job?.data.callback_url).toBe('https://hooks.example.com/rag?source=test');
    // Allowed by WEBHOOK_ALLOWED_HOSTS.
    expect((await ask('http://127.0.0.1:9/hook')).status).toBe(202);
  });

  it('queues the webhook of a question cancelled while waiting, for the workers to deliver, and shows it pending', async () => {
    const { job_id } = await json(await ask('http://127.0.0.1:9/hook'));
    expect((await fetch(`${gateway.base}/v1/jobs/${job_id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    const webhooks = openWebhookQueue(gateway.config);
    const webhook = await webhooks.getJob(job_id).finally(() => webhooks.close());
    expect(webhook?.data).toMatchObject({ job_id, tenant: 'default', callback_url: 'http://127.0.0.1:9/hook', signature: expect.any(String) });
    const view = await json(await fetch(`${gateway.base}/v1/jobs/${job_id}`));
    expect(view).toMatchObject({ status: 'cancelled', webhook: { status: 'pending', attempts: [] } });
  });

  it.each([
    ['ftp://hooks.example.com/x', /http:\/\/ or https:\/\//],
    ['/relative', /absolute/],
    ['https://user:pw@hooks.example.com/x', /user name or password/],
    [`https://hooks.example.com/${'a'.repeat(2100)}`, /at most 2048/],
    [42, /string/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is linkLocal/],
    ['http://10.0.0.8/x', /private/],
    ['http://[::ffff:127.0.0.2]/x', /loopback/],
    ['http://2130706434/x', /127\.0\.0\.2 is loopback/],
    ['http://localhost/x', /local name/],
  ])('refuses bad callback_url #%# with a 400 that says why', async (url, why) => {
    const res = await ask(url);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.message).toMatch(why);
  });
});
