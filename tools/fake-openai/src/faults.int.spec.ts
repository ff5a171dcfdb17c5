import OpenAI from 'openai';
import { useFakeOpenAISuite } from './fake-openai-suite.spec-helper';
import { startFakeOpenAI } from './server';

const MODEL = 'gpt-4o-mini';
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: '[1] The sky is blue today. It may rain.\nQuestion: what colour is the sky?' }];

describe('fault injection and auth', () => {
  const suite = useFakeOpenAISuite();

  it('status429: RateLimitError with a readable Retry-After, for the next N requests only', async () => {
    suite.fake.setOptions({ fault: { kind: 'status429', retryAfterSeconds: 7, times: 2 } });
    for (let i = 0; i < 2; i++) {
      const error = await suite.client.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const e = error as InstanceType<typeof OpenAI.RateLimitError>;
      expect(e.status).toBe(429);
      expect(e.headers?.get('retry-after')).toBe('7');
      expect(e.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      expect(e.code).toBe('rate_limit_exceeded');
    }
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('status401: AuthenticationError whose body quotes the key it was sent, as some providers do', async () => {
    suite.fake.setOptions({ fault: { kind: 'status401', endpoints: ['chat'], times: 1 } });
    const error = await suite.client.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect((error as Error).message).toContain('Incorrect API key provided: test-key.');
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).resolves.toBeDefined();
  });

  it('status500: InternalServerError, only on the endpoints named', async () => {
    suite.fake.setOptions({ fault: { kind: 'status500', endpoints: ['embeddings'] } });
    await expect(suite.client.embeddings.create({ model: 'e', input: 'x' })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(suite.client.embeddings.create({ model: 'e', input: 'x' })).rejects.toMatchObject({ status: 500, error: { type: 'server_error' } });
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).resolves.toBeDefined();
    suite.fake.setOptions({ fault: null });
    await expect(suite.client.embeddings.create({ model: 'e', input: 'x' })).resolves.toBeDefined();
  });

  it('hang: the client times out, and the fake still closes cleanly', async () => {
    suite.fake.setOptions({ fault: { kind: 'hang', endpoints: ['chat'] } });
    const impatient = new OpenAI({ baseURL: suite.fake.url, apiKey: 'test-key', maxRetries: 0, timeout: 200 });
    const started = performance.now();
    // APIConnectionTimeoutError in a plain process; under Jest fetch's AbortError is a DOMException from
    // another realm, which the client's castToError does not recognise, so it reports its parent class.
    const error = await impatient.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(suite.fake.requests).toHaveLength(1);

    // A request still hanging when close() is called does not keep the server open.
    const other = await startFakeOpenAI({ fault: { kind: 'hang' } });
    const pending = fetch(`${other.url}/models`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    expect(await pending).toBe('failed');
  });

  it('drop mid-stream: the client gets some chunks, then its iteration throws', async () => {
    suite.fake.setOptions({ fault: { kind: 'drop', dropAfterChunks: 3, times: 1 } });
    const stream = await suite.client.chat.completions.create({ model: MODEL, messages, stream: true });
    const received: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(iterate()).rejects.toThrow();
    expect(received).toEqual(['', 'The ', 'sky ']);
  });

  it('drop without streaming: the body is cut off and the call fails', async () => {
    suite.fake.setOptions({ fault: { kind: 'drop', endpoints: ['embeddings'], times: 1 } });
    await expect(suite.client.embeddings.create({ model: 'e', input: 'x' })).rejects.toThrow();
    await expect(suite.client.embeddings.create({ model: 'e', input: 'x' })).resolves.toBeDefined();
  });

  it('apiKey: requests without the right bearer token get a 401', async () => {
    suite.fake.setOptions({ apiKey: 'secret' });
    await expect(suite.client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).rejects.toMatchObject({
      status: 401,
      error: { type: 'invalid_request_error', code: 'invalid_api_key' },
    });
    const noKey = await fetch(`${suite.fake.url}/models`);
    expect(noKey.status).toBe(401);
    const keyed = new OpenAI({ baseURL: suite.fake.url, apiKey: 'secret', maxRetries: 0 });
    const models = [];
    for await (const m of keyed.models.list()) models.push(m.id);
    expect(models).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
  });

  it('unknown routes get an OpenAI-style 404; invalid JSON a 400', async () => {
    const res = await fetch(`${suite.fake.url}/no/such/route`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: 'Invalid URL (POST /v1/no/such/route)', type: 'invalid_request_error', param: null, code: null } });
    const outside = await fetch(suite.fake.url.replace('/v1', '/v2/models'));
    expect(outside.status).toBe(404);
    const invalid = await fetch(`${suite.fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    await expect(suite.client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('setOptions rejects invalid values instead of ignoring them', () => {
    expect(() => suite.fake.setOptions({ fault: { kind: 'explode' as 'hang' } })).toThrow(/fault kind/);
    expect(() => suite.fake.setOptions({ firstTokenMs: -1 })).toThrow(/firstTokenMs/);
    expect(() => suite.fake.setOptions({ firstTokenMS: 5 } as never)).toThrow(/unknown option "firstTokenMS"/);
  });
});
