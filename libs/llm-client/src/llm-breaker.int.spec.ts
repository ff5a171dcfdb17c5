import { loadConfig } from '@rag/config';
import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { startRedis, type PrivateRedis } from '@rag/testing';
import Redis from 'ioredis';
import type { Answerer } from './answerer';
import { BreakerOpenError, DependencyTimeoutError, RetryableError, type BreakerState } from '@rag/core';
import { createAnswerer, createOpenAIEmbedder } from './create-answerer';
import { LlmPermanentError } from './errors';
import { llmResilienceFromConfig, type LlmResilience } from './llm-resilience';
import type { OpenAIEmbedder } from './openai.embedder';

const KEY = 'test-key';
const question = { query: 'How many vacation days?', passages: [{ n: 1, text: 'Employees get 25 vacation days per year.', source: 'handbook.md' }] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The real openai client over HTTP against the fake, wired exactly as the worker wires it.
describe('circuit breakers around chat and embeddings', () => {
  let redis: PrivateRedis;
  let connection: Redis;
  let fake: FakeOpenAI;
  let resilience: LlmResilience;
  let answerer: Answerer;
  let embedder: OpenAIEmbedder;
  let states: BreakerState[];
  let test = 0;

  beforeAll(async () => {
    [redis, fake] = await Promise.all([startRedis(), startFakeOpenAI({ dimension: 32, apiKey: KEY })]);
    connection = new Redis(redis.url);
  });
  afterAll(async () => {
    connection.disconnect();
    await Promise.all([fake.close(), redis.stop()]);
  });

  beforeEach(() => {
    fake.reset();
    const config = loadConfig({
      LLM: 'openai',
      EMBEDDINGS: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: KEY,
      EMBEDDING_DIM: '32',
      BREAKER_FAILURES: '3',
      BREAKER_HALF_OPEN_MS: '300',
      LLM_TIMEOUT_MS: '400',
    });
    resilience = llmResilienceFromConfig(config, { redis: connection, prefix: `breaker${++test}` });
    answerer = createAnswerer(config, { resilience });
    embedder = createOpenAIEmbedder(config, { resilience });
    states = [];
    resilience.breakers.chat.onStateChange((s) => states.push(s));
  });

  const chatRequests = () => fake.requests.filter((r) => r.path === '/v1/chat/completions').length;

  it('opens after BREAKER_FAILURES consecutive 500s, fails fast while open, half-opens after the delay and closes on success', async () => {
    fake.setOptions({ fault: { kind: 'status500', endpoints: ['chat'] } });
    for (let i = 0; i < 3; i++) {
      await expect(answerer.answer(question)).rejects.toThrow(/failed with 500; the job will retry/);
    }
    expect(resilience.breakers.chat.state).toBe('open');
    expect(chatRequests()).toBe(3);

    const started = Date.now();
    const fast = answerer.answer(question);
    await expect(fast).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(fast).rejects.toBeInstanceOf(RetryableError);
    await expect(fast).rejects.toThrow(/chat is unavailable .*the job will retry/);
    expect(Date.now() - started).toBeLessThan(200);
    expect(chatRequests()).toBe(3);
    // One breaker per dependency: embeddings still go through.
    expect(resilience.breakers.embeddings.state).toBe('closed');
    await expect(embedder.embed(['still fine'])).resolves.toHaveLength(1);

    fake.setOptions({ fault: null });
    await sleep(320);
    const answer = await answerer.answer(question);
    expect(answer.text).toContain('25 vacation days');
    expect(chatRequests()).toBe(4);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('does not open on 401s: permanent failures say nothing about availability', async () => {
    fake.setOptions({ apiKey: 'another-key' });
    for (let i = 0; i < 5; i++) await expect(embedder.embed(['x'])).rejects.toBeInstanceOf(LlmPermanentError);
    for (let i = 0; i < 5; i++) await expect(answerer.answer(question)).rejects.toBeInstanceOf(LlmPermanentError);
    expect(resilience.breakers.embeddings.state).toBe('closed');
    expect(resilience.breakers.chat.state).toBe('closed');
    expect(fake.requests).toHaveLength(10);
  });

  it('times out a stream that stalls after its headers (LLM_TIMEOUT_MS), and counts it', async () => {
    // Headers come at once, then a token only every 2 s: the client's own timeout has already stopped watching.
    fake.setOptions({ firstTokenMs: 0, perTokenMs: 2000 });
    const started = Date.now();
    await expect(answerer.answer(question)).rejects.toBeInstanceOf(DependencyTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(answerer.answer(question)).rejects.toBeInstanceOf(DependencyTimeoutError);
    await expect(answerer.answer(question)).rejects.toBeInstanceOf(DependencyTimeoutError);
    expect(resilience.breakers.chat.state).toBe('open');
  });
});
