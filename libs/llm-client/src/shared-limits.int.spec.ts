import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { startRedis, type PrivateRedis } from '@rag/testing';
import Redis from 'ioredis';
import { CallAbortedError } from '@rag/core';
import { createLlmResilience, type LlmResilience, type LlmResilienceOptions } from './llm-resilience';
import { OpenAIAnswerer } from './openai.answerer';
import { createOpenAIClient } from './openai.client';
import { OpenAIEmbedder } from './openai.embedder';
import { PAUSE_CACHE_MS } from './provider-pause';
import { ProviderThrottle } from './provider-throttle';

const KEY = 'test-key';
const question = { query: 'How many vacation days?', passages: [{ n: 1, text: 'Employees get 25 vacation days per year.', source: 'handbook.md' }] };

/** One "worker process": its own Redis connection, limiter instances, breakers and HTTP client. */
interface Worker {
  name: string;
  redis: Redis;
  resilience: LlmResilience;
  answerer: OpenAIAnswerer;
  embedder: OpenAIEmbedder;
}

describe('limits shared by every worker through Redis', () => {
  let redis: PrivateRedis;
  let fake: FakeOpenAI;
  let arrivals: { at: number; worker: string }[];
  const workers: Worker[] = [];
  let test = 0;
  let prefix: string;

  beforeAll(async () => {
    [redis, fake] = await Promise.all([startRedis(), startFakeOpenAI({ dimension: 32, apiKey: KEY })]);
  });
  afterEach(() => {
    for (const w of workers.splice(0)) w.redis.disconnect();
  });
  afterAll(() => Promise.all([fake.close(), redis.stop()]));

  beforeEach(() => {
    fake.reset();
    prefix = `limits${++test}`;
    arrivals = [];
    // The fake calls `reply` as a chat request arrives; the question names the worker that asked.
    fake.setOptions({
      reply: (body) => {
        const asked = String(body.messages[body.messages.length - 1]?.content).match(/Question: (\w+):/);
        arrivals.push({ at: Date.now(), worker: asked?.[1] ?? '?' });
        return 'Employees get 25 vacation days per year. [1]';
      },
    });
  });

  const ask = (w: Worker, signal?: AbortSignal) => w.answerer.answer({ ...question, query: `${w.name}: how many vacation days?`, signal });

  function worker(name: string, options: LlmResilienceOptions = {}): Worker {
    const connection = new Redis(redis.url);
    const resilience = createLlmResilience({ redis: connection, prefix, windowMs: 1000, timeoutMs: 5000, ...options });
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const answerer = new OpenAIAnswerer(client, { model: 'chat-model', maxTokens: 50, baseUrl: fake.url, resilience });
    const embedder = new OpenAIEmbedder(client, { model: 'embed-model', dimension: 32, batchSize: 8, baseUrl: fake.url, resilience });
    const w = { name, redis: connection, resilience, answerer, embedder };
    workers.push(w);
    return w;
  }

  it('LLM_RPM=5 holds across two workers: of ten calls, five go now and five wait for the next window', async () => {
    const a = worker('A', { rpm: 5 });
    const b = worker('B', { rpm: 5 });
    const started = Date.now();
    const results = await Promise.all([...Array(5)].flatMap(() => [ask(a), ask(b)]));
    const elapsed = Date.now() - started;

    expect(results.every((r) => r.text.includes('25 vacation days'))).toBe(true);
    expect(arrivals).toHaveLength(10);
    const firstWindow = arrivals.filter((r) => r.at - started < 1000);
    expect(firstWindow).toHaveLength(5);
    expect(arrivals.slice(5).every((r) => r.at - started >= 1000)).toBe(true);
    // Both workers drew on the one budget, and both got through.
    expect(new Set(arrivals.map((r) => r.worker))).toEqual(new Set(['A', 'B']));
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(2500);
  });

  it('counts embeddings against the same request budget, and keeps budgets apart by prefix', async () => {
    const a = worker('A', { rpm: 2, windowMs: 2000 });
    await a.embedder.embed(['one']);
    await ask(a);
    const other = new ProviderThrottle({ redis: a.redis, prefix: `${prefix}-other`, rpm: 2, windowMs: 2000 });
    const started = Date.now();
    await other.acquire({ operation: 'chat', tokens: 1 });
    expect(Date.now() - started).toBeLessThan(300);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(a.embedder.embed(['two'], controller.signal)).rejects.toBeInstanceOf(CallAbortedError);
    expect(fake.requests).toHaveLength(2);
  });

  it('LLM_TPM is shared too: a worker waits when another used the tokens of this window', async () => {
    const a = worker('A', { tpm: 100 });
    const b = worker('B', { tpm: 100 });
    const started = Date.now();
    await a.resilience.throttle.acquire({ operation: 'chat', tokens: 80 });
    await b.resilience.throttle.acquire({ operation: 'chat', tokens: 15 });
    expect(Date.now() - started).toBeLessThan(500);
    await b.resilience.throttle.acquire({ operation: 'chat', tokens: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('a 429 with Retry-After: 1 at worker A pauses worker B; A waits it out and tries once more', async () => {
    const a = worker('A');
    const b = worker('B');
    fake.setOptions({ fault: { kind: 'status429', endpoints: ['chat'], times: 1, retryAfterSeconds: 1 } });
    const answerA = ask(a);
    const pausedUntil = await waitFor(async () => Number(await b.redis.get(`${prefix}:llm:paused-until`)) || undefined);
    const pttl = await b.redis.pttl(`${prefix}:llm:paused-until`);
    expect(pttl).toBeGreaterThan(800);
    expect(pttl).toBeLessThanOrEqual(1000);

    const answerB = await ask(b);
    expect(answerB.text).toContain('25 vacation days');
    expect((await answerA).text).toContain('25 vacation days');
    // The 429 itself, then A's retry and B's call, both only after the pause.
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(3);
    expect(arrivals).toHaveLength(2);
    for (const arrival of arrivals) expect(arrival.at).toBeGreaterThanOrEqual(pausedUntil - 5);
    expect(arrivals.map((r) => r.worker).sort()).toEqual(['A', 'B']);
  });

  it('a pause set by another worker stops this one within PAUSE_CACHE_MS, its own at once', async () => {
    const a = worker('A');
    const b = worker('B');
    // B has just read that there is no pause, and trusts that for up to PAUSE_CACHE_MS.
    await ask(b);
    await a.resilience.throttle.pauseFor(1500);
    const pausedUntil = Number(await a.redis.get(`${prefix}:llm:paused-until`));
    // A set it: A's next call waits at once.
    const answerA = ask(a);
    // Past the bound, B's next call waits for the pause too.
    await new Promise((r) => setTimeout(r, PAUSE_CACHE_MS + 20));
    const answerB = ask(b);
    await Promise.all([answerA, answerB]);
    expect(arrivals.map((r) => r.worker)).toEqual(['B', expect.any(String), expect.any(String)]);
    for (const arrival of arrivals.slice(1)) expect(arrival.at).toBeGreaterThanOrEqual(pausedUntil - 5);
  });

  it('calls within PAUSE_CACHE_MS of each other share one read of the pause', async () => {
    const a = worker('A');
    await a.redis.config('RESETSTAT');
    await Promise.all([...Array(20)].map(() => ask(a)));
    const stats = await a.redis.info('commandstats');
    const pttl = Number(/cmdstat_pttl:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    expect(arrivals).toHaveLength(20);
    // One read for the twenty (two if the window ran out between them), not one each.
    expect(pttl).toBeGreaterThanOrEqual(1);
    expect(pttl).toBeLessThanOrEqual(2);
  });

  it('the pause only ever grows, and an aborted call stops waiting for it at once', async () => {
    const a = worker('A');
    expect(await a.resilience.throttle.pauseFor(5000)).toBe(5000);
    expect(await a.resilience.throttle.pauseFor(1000)).toBeGreaterThan(4000);
    expect(await a.redis.pttl(`${prefix}:llm:paused-until`)).toBeGreaterThan(4000);

    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);
    await expect(ask(a, controller.signal)).rejects.toBeInstanceOf(CallAbortedError);
    expect(Date.now() - started).toBeLessThan(600);
    expect(fake.requests).toHaveLength(0);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
