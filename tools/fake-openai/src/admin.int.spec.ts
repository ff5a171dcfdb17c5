import OpenAI from 'openai';
import { useFakeOpenAISuite } from './fake-openai-suite.spec-helper';

const MODEL = 'gpt-4o-mini';
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];

describe('/__admin', () => {
  const suite = useFakeOpenAISuite({ apiKey: 'test-key', models: ['m1'] });
  let admin: string;

  const post = (path: string, body?: unknown) =>
    fetch(`${admin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(() => {
    admin = suite.fake.url.replace(/\/v1$/, '/__admin');
  });

  it('POST /faults sets a fault, GET shows what is left of it, DELETE clears it; no API key needed', async () => {
    const set = await post('/faults', { kind: 'status429', endpoints: ['chat'], times: 3, retryAfterSeconds: 2 });
    expect(set.status).toBe(200);
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(await (await fetch(`${admin}/faults`)).json()).toEqual({
      fault: { kind: 'status429', endpoints: ['chat'], times: 3, retryAfterSeconds: 2 },
      remaining: 2,
    });
    expect((await fetch(`${admin}/faults`, { method: 'DELETE' })).status).toBe(200);
    await expect(suite.client.chat.completions.create({ model: MODEL, messages })).resolves.toBeDefined();
  });

  it('rejects an invalid fault with an OpenAI-style 400', async () => {
    const res = await post('/faults', { kind: 'status418' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/fault kind/) } });
    const typo = await post('/faults', { kind: 'hang', time: 1 });
    expect(typo.status).toBe(400);
  });

  it('GET /requests lists recorded requests without their authorization header', async () => {
    await suite.client.embeddings.create({ model: 'e', input: 'recorded text' });
    expect(suite.fake.requests[0].headers.authorization).toBe('Bearer test-key');
    const { data } = (await (await fetch(`${admin}/requests`)).json()) as {
      data: { method: string; path: string; headers: Record<string, string>; body: unknown }[];
    };
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ method: 'POST', path: '/v1/embeddings', body: { model: 'e', input: 'recorded text' } });
    expect(data[0].headers['content-type']).toMatch(/application\/json/);
    expect(data[0].headers).not.toHaveProperty('authorization');
  });

  it('POST /options changes options at runtime; POST /reset restores the start options and forgets requests', async () => {
    expect((await post('/options', { models: ['m2', 'm3'], apiKey: null, firstTokenMs: 0 })).status).toBe(200);
    const anyKey = new OpenAI({ baseURL: suite.fake.url, apiKey: 'whatever', maxRetries: 0 });
    const listed = [];
    for await (const m of anyKey.models.list()) listed.push(m.id);
    expect(listed).toEqual(['m2', 'm3']);
    expect((await post('/options', { reply: 'not a function' })).status).toBe(400);

    const requests = suite.fake.requests;
    expect((await post('/reset')).status).toBe(200);
    expect(requests).toHaveLength(0);
    await expect(anyKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const again = [];
    for await (const m of suite.client.models.list()) again.push(m.id);
    expect(again).toEqual(['m1']);
  });

  it('keeps at most maxRecordedRequests, dropping the oldest', async () => {
    suite.fake.setOptions({ maxRecordedRequests: 2 });
    for (const input of ['a', 'b', 'c']) await suite.client.embeddings.create({ model: 'e', input });
    expect(suite.fake.requests.map((r) => (r.body as { input: string }).input)).toEqual(['b', 'c']);
  });
});
