import { LanceDbStore, LocalHashEmbedder, ParsePool, ingestDocuments } from '@rag/retrieval';
import { json, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import OpenAI from 'openai';
import { startGatewayWithWorker, type GatewayWithWorker } from './gateway-with-worker.spec-helper';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEY = 'acme_openai_compat_key_0123456789abcdef';
const QUESTION = 'How many vacation days do new employees get?';
const DOCS: Record<string, string> = {
  'vacation.md': '# Vacation policy\n\n## Annual leave\n\nNew employees get 25 vacation days per year, starting from their first day.',
  'travel.md': '# Travel\n\n## Hotels\n\nHotels are booked through the travel desk and may cost up to 180 euros per night.',
};

/** The official client, pointed at a gateway, with no retries of its own (a retried POST would be a new job). */
const clientOf = (base: string, apiKey = KEY) => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });

/** The error `promise` rejects with, or a test failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

// POST /v1/chat/completions and GET /v1/models through the official openai
// client: the gateway in this process on a private redis-server, one real
// rag-worker process answering with the extractive answerer from LanceDB.
// Streaming with tokens from an LLM is in apps/e2e (openai-compat.e2e.spec.ts).
describe('api-gateway: the OpenAI-compatible door (official openai client, real Redis, a real worker)', () => {
  let stack: GatewayWithWorker;
  let gateway: InProcessGateway;
  let client: OpenAI;
  const jobOf = async (completionId: string) => {
    const res = await fetch(`${gateway.base}/v1/jobs/${completionId.replace(/^chatcmpl-/, '')}`, { headers: { authorization: `Bearer ${KEY}` } });
    return json(res);
  };

  beforeAll(async () => {
    stack = await startGatewayWithWorker({ docs: DOCS, tenant: 'acme', collection: 'handbook', prefix: 'oai', gatewayEnv: { API_KEYS: `acme:query:${KEY}` } });
    gateway = stack.gateway;
    client = clientOf(gateway.base);
  });

  afterAll(() => stack?.close());

  it('answers a chat.completion with numbered markers matching the citations extension', async () => {
    const completion = await client.chat.completions.create({
      model: 'handbook',
      messages: [
        { role: 'system', content: 'Answer from the handbook.' },
        { role: 'user', content: 'Where are hotels booked?' },
        { role: 'assistant', content: 'Through the travel desk. [1]' },
        { role: 'user', content: [{ type: 'text', text: QUESTION }] },
      ],
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'handbook',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(60);
    const content = completion.choices[0].message.content ?? '';
    expect(content).toContain('25 vacation days');
    const citations = (completion as unknown as { citations: { source: string; chunk: string; score: number; id: string; position: number }[] }).citations;
    expect(citations[0]).toMatchObject({ id: 'vacation.md#0', source: 'vacation.md', position: 0, chunk: expect.stringContaining('25 vacation days') });
    const markers = [...content.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(markers).toContain(1);
    for (const n of markers) expect(n).toBeLessThanOrEqual(citations.length);
    // The same answer and citations as the job, and the question was the last user message.
    const job = await jobOf(completion.id);
    expect(job.status).toBe('completed');
    expect(job.result.answer).toBe(content);
    expect(job.result.citations).toEqual(citations);
    expect(completion.usage).toEqual({
      prompt_tokens: job.result.usage.prompt_tokens,
      completion_tokens: job.result.usage.completion_tokens,
      total_tokens: job.result.usage.prompt_tokens + job.result.usage.completion_tokens,
    });
  });

  it('streams chat.completion.chunk objects in order: the role, the content, then finish_reason, usage and citations, ending with [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const id = chunks[0].id;
    for (const chunk of chunks) expect(chunk).toMatchObject({ id, object: 'chat.completion.chunk', model: 'handbook' });
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const last = chunks[chunks.length - 1] as OpenAI.ChatCompletionChunk & { citations?: { source: string }[] };
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(last.citations?.[0]).toMatchObject({ source: 'vacation.md' });
    expect(last.usage?.total_tokens).toBeGreaterThan(0);
    const content = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    const job = await jobOf(id);
    expect(job.status).toBe('completed');
    expect(content).toBe(job.result.answer);
    expect(content).toContain('[1]');
  });

  it('answers the same job for a retried request with the same Idempotency-Key', async () => {
    const ask = () =>
      client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] }, { headers: { 'Idempotency-Key': 'oai-retry-1' } });
    const [first, again] = [await ask(), await ask()];
    expect(again.id).toBe(first.id);
  });

  it("refuses a model that is not one of the caller's collections with 404 model_not_found, before queueing anything", async () => {
    const before = await gateway.queue.getJobCounts();
    for (const model of ['gpt-4o', 'no-such-collection']) {
      const error = await rejection(client.chat.completions.create({ model, messages: [{ role: 'user', content: QUESTION }] }));
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error.status).toBe(404);
      expect(error.code).toBe('model_not_found');
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain(`The model \`${model}\` does not exist`);
    }
    expect(await gateway.queue.getJobCounts()).toEqual(before);
  });

  it("refuses a wrong key with 401 in OpenAI's error shape", async () => {
    const error = await rejection(
      clientOf(gateway.base, 'not_a_valid_key_0123456789abcdef').chat.completions.create({
        model: 'handbook',
        messages: [{ role: 'user', content: QUESTION }],
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.code).toBe('invalid_api_key');
    const res = await fetch(`${gateway.base}/v1/models`, { headers: { authorization: 'Bearer nope_nope_nope_nope_nope_nope' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(await json(res)).toEqual({
      error: { message: expect.stringContaining('not valid'), type: 'authentication_error', param: null, code: 'invalid_api_key' },
    });
  });

  it.each([
    ['no user message', { model: 'handbook', messages: [{ role: 'system', content: 'Be brief.' }] }, 'messages'],
    [
      'an image part',
      { model: 'handbook', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] },
      'messages.0.content',
    ],
    ['a temperature above 2', { model: 'handbook', messages: [{ role: 'user', content: QUESTION }], temperature: 3 }, 'temperature'],
    ['a field OpenAI has and we do not', { model: 'handbook', messages: [{ role: 'user', content: QUESTION }], tools: [] }, 'tools'],
  ])('refuses a request with %s: 400 invalid_request_error naming the param', async (_what, body, param) => {
    const error = await rejection(client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
  });

  it("refuses a body that is not JSON in OpenAI's shape too", async () => {
    const res = await fetch(`${gateway.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null });
    const unknown = await fetch(`${gateway.base}/v1/models/handbook/versions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
  });

  it("lists the caller's collections as models, and reads one", async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([{ id: 'handbook', object: 'model', created: 0, owned_by: 'acme' }]);
    expect(await client.models.retrieve('handbook')).toMatchObject({ id: 'handbook', object: 'model' });
    const error = await rejection(client.models.retrieve('other'));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe('model_not_found');
  });
});

// A second gateway with its own prefix, where no worker takes the jobs: the
// wait's bound, the queue's caps and a stream closed before any answer.
describe('api-gateway: the OpenAI-compatible door with no worker (official openai client, real Redis)', () => {
  const parser = new ParsePool();
  let redis: PrivateRedis;
  let store: LanceDbStore;
  let data: TempDir;
  let gateway: InProcessGateway;
  let client: OpenAI;
  const jobStatus = async (jobId: string) =>
    (await json(await fetch(`${gateway.base}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } }))).status as string;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-gw-openai-idle-');
    store = await LanceDbStore.open(data.path);
    await ingestDocuments({ store, embedder: new LocalHashEmbedder(), parser }, [{ id: 'vacation.md', read: async () => Buffer.from(DOCS['vacation.md']) }], {
      tenant: 'acme',
      collection: 'handbook',
      chunking: { size: 800, overlap: 100 },
    });
    gateway = await startInProcessGateway(
      redis.url,
      { QUEUE_PREFIX: 'idle', API_KEYS: `acme:query:${KEY}`, MAX_WAIT_SECONDS: '1', OPENAI_COMPAT_WAIT_SECONDS: '30', MAX_WAITING_JOBS_PER_TENANT: '2' },
      { store },
    );
    client = clientOf(gateway.base);
  });

  afterAll(async () => {
    await gateway?.close();
    await store?.close();
    await parser.close();
    await redis?.stop();
    data?.remove();
  });

  it("answers 504 in OpenAI's shape with the job id to poll when no answer comes in time (OPENAI_COMPAT_WAIT_SECONDS, bounded by MAX_WAIT_SECONDS)", async () => {
    const started = Date.now();
    const error = await rejection(client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.status).toBe(504);
    const body = error.error as { job_id: string; message: string; type: string; code: string };
    expect(body).toMatchObject({ type: 'server_error', code: 'timeout', job_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(body.message).toContain(`GET /v1/jobs/${body.job_id}`);
    expect(error.headers?.get('location')).toBe(`/v1/jobs/${body.job_id}`);
    expect(await jobStatus(body.job_id)).toBe('queued');
  });

  it('cancels the job when the client closes the stream', async () => {
    const stream = await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value.choices[0].delta.role).toBe('assistant');
    const jobId = (first.value.id as string).replace(/^chatcmpl-/, '');
    expect(await jobStatus(jobId)).toBe('queued');
    stream.controller.abort();
    const deadline = Date.now() + 10_000;
    while ((await jobStatus(jobId)) !== 'cancelled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await jobStatus(jobId)).toBe('cancelled');
  });

  it("answers 429 with Retry-After when the tenant's waiting questions are at their cap", async () => {
    // One question still waits from the 504 above; one more fills the cap of 2.
    await rejection(client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] }));
    const error = await rejection(client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('tenant_queue_full');
    expect(error.type).toBe('rate_limit_error');
    expect(error.headers?.get('retry-after')).toBe('5');
  });
});
