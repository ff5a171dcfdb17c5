import { loadConfig } from '@rag/config';
import { BreakerOpenError, CallAbortedError, createBreaker } from '@rag/core';
import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { createLogger, errorMessage } from '@rag/observability';
import { captureLogs } from '@rag/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SearchHit } from '../types';
import { createReranker } from './create-reranker';
import { HttpReranker, type HttpRerankerOptions } from './http-reranker';
import { RerankerError } from './rerank-errors';
import { rerankHits } from './rerank-hits';

const KEY = 'rr-secret-key-0123456789abcdef';
const QUERY = 'How many vacation days do employees get?';
// The fake scores by the share of the query's content words (many, vacation, days, employees, get) in each.
const DOCS = [
  'Parking is behind building B.',
  'Employees file expense claims monthly.',
  'Employees get 25 vacation days per year.',
  'Vacation requests go to your manager.',
];

describe('HttpReranker against a rerank server over HTTP (tools/fake-openai)', () => {
  let fake: FakeOpenAI;
  let root: string;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: KEY });
    root = fake.url.replace(/\/v1$/, '');
  });
  afterAll(() => fake?.close());
  afterEach(() => fake.reset());

  const reranker = (options: Partial<HttpRerankerOptions> = {}) =>
    new HttpReranker({
      url: root,
      model: 'rerank-model',
      apiKey: KEY,
      timeoutMs: 2000,
      breaker: createBreaker('reranker', { failures: 2, halfOpenAfterMs: 60_000 }),
      ...options,
    });
  const rerankRequests = () => fake.requests.filter((r) => r.path.endsWith('/rerank'));
  const failure = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a failure');
  };

  it('ranks by the server, sends the Jina/Cohere body with the key as Bearer, and keeps top_n', async () => {
    const ranked = await reranker().rerank(QUERY, DOCS, { topN: 3 });
    // Ties keep the order sent.
    expect(ranked.map((r) => r.index)).toEqual([2, 1, 3]);
    expect(ranked.map((r) => r.score)).toEqual([0.8, 0.2, 0.2]);
    const [request] = rerankRequests();
    expect(request.path).toBe('/rerank');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toEqual({ model: 'rerank-model', query: QUERY, documents: DOCS, top_n: 3, return_documents: false });
  });

  it('works under a versioned base URL (Jina, Cohere: https://api.jina.ai/v1) and sends no model when none is set', async () => {
    const none = reranker({ url: `${fake.url}/`, model: undefined });
    expect(none.id).toBe('http');
    expect((await none.rerank(QUERY, DOCS)).map((r) => r.index)).toEqual([2, 1, 3, 0]);
    expect(rerankRequests()[0]).toMatchObject({ path: '/v1/rerank' });
    expect(rerankRequests()[0].body).not.toHaveProperty('model');
  });

  it("switches to Text Embeddings Inference's `texts` body when the server refuses `documents` naming it, once and for good", async () => {
    fake.setOptions({ rerankDialect: 'tei' });
    const tei = reranker();
    // TEI answers every text and takes no top_n: the client keeps the best topN.
    expect(await tei.rerank(QUERY, DOCS, { topN: 2 })).toEqual([
      { index: 2, score: 0.8 },
      { index: 1, score: 0.2 },
    ]);
    expect(rerankRequests().map((r) => Object.keys(r.body as object).sort())).toEqual([
      ['documents', 'model', 'query', 'return_documents', 'top_n'],
      ['query', 'return_text', 'texts', 'truncate'],
    ]);
    await tei.rerank(QUERY, DOCS, { topN: 2 });
    expect(rerankRequests()).toHaveLength(3);
    expect(rerankRequests()[2].body).toMatchObject({ texts: DOCS });
  });

  it('drops return_documents for a server that refuses fields it does not know (Cohere v2)', async () => {
    fake.setOptions({ rerankDialect: 'cohere' });
    const cohere = reranker();
    expect((await cohere.rerank(QUERY, DOCS, { topN: 1 })).map((r) => r.index)).toEqual([2]);
    expect(rerankRequests().map((r) => r.body)).toEqual([
      { model: 'rerank-model', query: QUERY, documents: DOCS, top_n: 1, return_documents: false },
      { model: 'rerank-model', query: QUERY, documents: DOCS, top_n: 1 },
    ]);
  });

  it('times out after RERANKER_TIMEOUT_MS: retryable, saying which setting to raise', async () => {
    fake.setOptions({ rerankLatencyMs: 5000 });
    const error = await failure(reranker({ timeoutMs: 150 }).rerank(QUERY, DOCS));
    expect(error).toBeInstanceOf(RerankerError);
    expect(error).toMatchObject({ code: 'reranker_timeout', permanent: false });
    expect(error.message).toContain('RERANKER_TIMEOUT_MS (150 ms)');
  });

  it('fails a refused key at once, permanent, naming RERANKER_API_KEY; the breaker does not count it', async () => {
    const wrong = reranker({ apiKey: 'not-the-key-0123456789' });
    for (let i = 0; i < 3; i++) {
      const error = await failure(wrong.rerank(QUERY, DOCS));
      expect(error).toMatchObject({ code: 'reranker_auth_failed', permanent: true, status: 401 });
      expect(error.message).toContain('check RERANKER_API_KEY');
      expect(error.message).not.toContain('not-the-key-0123456789');
    }
    expect(wrong.breaker.state).toBe('closed');
    expect(rerankRequests()).toHaveLength(3);
  });

  it('counts 500s against the breaker, then fails fast without reaching the server', async () => {
    fake.setOptions({ fault: { kind: 'status500', endpoints: ['rerank'] } });
    const failing = reranker();
    for (let i = 0; i < 2; i++) {
      expect(await failure(failing.rerank(QUERY, DOCS))).toMatchObject({ code: 'reranker_unavailable', permanent: false, status: 500 });
    }
    expect(failing.breaker.state).toBe('open');
    expect(await failure(failing.rerank(QUERY, DOCS))).toBeInstanceOf(BreakerOpenError);
    expect(rerankRequests()).toHaveLength(2);
  });

  it('says a server that is not there is unreachable (check RERANKER_URL), retryable', async () => {
    const port = fake.port;
    const gone = reranker({ url: `http://127.0.0.1:${port === 1 ? 2 : 1}` });
    const error = await failure(gone.rerank(QUERY, DOCS));
    expect(error).toMatchObject({ code: 'reranker_unavailable', permanent: false });
    expect(error.message).toContain('check RERANKER_URL');
  });

  it('reports an answer that is not JSON, or not a ranking, as a retryable reranker_bad_response', async () => {
    // A server on the wrong path of a proxy: 200 with an HTML page, then with some other JSON.
    const bodies = ['<html>gateway</html>', '{"data":[]}'];
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(bodies.shift()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const wrong = reranker({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const notJson = await failure(wrong.rerank(QUERY, DOCS));
      expect(notJson).toMatchObject({ code: 'reranker_bad_response', permanent: false });
      expect(notJson.message).toContain('not JSON (<html>gateway</html>)');
      const notRanking = await failure(wrong.rerank(QUERY, DOCS));
      expect(notRanking).toMatchObject({ code: 'reranker_bad_response', permanent: false });
      expect(notRanking.message).toContain('an object with keys ["data"]');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stops when the caller aborts: a cancellation, never counted', async () => {
    fake.setOptions({ rerankLatencyMs: 5000 });
    const controller = new AbortController();
    const slow = reranker();
    setTimeout(() => controller.abort(), 50);
    expect(await failure(slow.rerank(QUERY, DOCS, { signal: controller.signal }))).toBeInstanceOf(CallAbortedError);
    expect(slow.breaker.state).toBe('closed');
  });

  it('never puts the key in errors or logs, even when the server echoes it (fallback warning included)', async () => {
    fake.setOptions({ fault: { kind: 'status401', endpoints: ['rerank'] } });
    const logs = captureLogs();
    // No secrets registered with this logger: the key must not reach it at all.
    const logger = createLogger({ service: 'test', stream: logs.stream });
    const hits: SearchHit[] = DOCS.map((text, i) => ({
      chunk: { id: `d#${i}`, docId: 'd', source: 'd', title: '', heading: '', position: i, text, contentHash: 'h' },
      score: 1 - i / 10,
    }));
    const outcome = await rerankHits(reranker(), QUERY, hits, 2, { logger });
    expect(outcome.reranked).toBe(false);
    expect(outcome.hits.map((h) => h.chunk.id)).toEqual(['d#0', 'd#1']);
    await new Promise((r) => setImmediate(r));
    expect(logs.lines).toEqual([expect.objectContaining({ level: 'warn', message: 'reranker failed; keeping the fused order', code: 'reranker_auth_failed' })]);
    // The fake quoted the key in its 401 body: it is in neither the error nor the log.
    expect(JSON.stringify(rerankRequests()[0].headers)).toContain(KEY);
    expect(errorMessage(outcome.error)).not.toContain(KEY);
    expect(logs.text()).not.toContain(KEY);
    expect(logs.text()).not.toContain(KEY.slice(0, 12));
  });

  it('is built from the configuration: RERANKER=http with its URL, model, key and timeout', async () => {
    const config = loadConfig({ RERANKER: 'http', RERANKER_URL: root, RERANKER_MODEL: 'bge-reranker', RERANKER_API_KEY: KEY, RERANKER_TIMEOUT_MS: '1000' });
    const fromConfig = createReranker(config);
    expect(fromConfig.id).toBe('http:bge-reranker');
    expect((await fromConfig.rerank(QUERY, DOCS, { topN: 1 })).map((r) => r.index)).toEqual([2]);
    expect(rerankRequests()[0].body).toMatchObject({ model: 'bge-reranker', top_n: 1 });
    expect(createReranker(loadConfig({})).id).toBe('none');
  });
});
