import { createBreaker } from '@rag/core';
import { rerankScore, startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { OpenAIAnswerer, createLlmResilience, createOpenAIClient } from '@rag/llm-client';
import { JobName, QueueName, type QueryResult } from '@rag/queue-contracts';
import { HttpReranker, LocalHashEmbedder, ingestDocuments, retrieve, searchableText, type AnswerDeps } from '@rag/retrieval';
import { createWorkerMetrics, type WorkerMetrics } from './metrics';
import { queryRunner } from './query.processor';
import { signedQuery } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

const KEY = 'sk-rerank-worker-key-0123456789';
const QUERY = 'Do unused vacation days carry over?';
const CANDIDATES = 10;
const TOP_K = 3;
const DOCS: Record<string, string> = {
  'calendar.md': '# Vacation days\n\nVacation days, vacation days and more vacation days: the vacation days calendar.',
  'carry-over.md':
    '# Leave rules\n\nAt the end of the year, the leave rules apply to every employee in every office and team; unused vacation days carry over until the end of March.',
  'unused.md': '# Time off\n\nUnused days off are tracked in the portal.',
  'parking.md': '# Parking\n\nParking is free behind building B.',
  'travel.md': '# Travel\n\nCarry your train ticket when you travel.',
};

// A question through the worker's runner with RERANKER=http against tools/fake-openai's /rerank over real HTTP
// (a private redis-server, LanceDB in a temp folder, the local embedder, an OpenAI-compatible answerer that cites
// every passage in the order given, so the citations show the passages' order).
describe('query processor with a reranker', () => {
  const suite = useWorkerSuite(QueueName.Query, 'rag-worker-rerank-');
  let fake: FakeOpenAI;
  let metrics: WorkerMetrics;
  let deps: AnswerDeps;
  let reranker: HttpReranker;

  beforeAll(async () => {
    const { store, parser } = suite;
    fake = await startFakeOpenAI({ apiKey: KEY, reply: () => 'First [1]. Second [2]. Third [3].' });
    const embedder = new LocalHashEmbedder(64);
    await ingestDocuments(
      { store, embedder, parser },
      Object.entries(DOCS).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant: 'default', collection: 'handbook', chunking: { size: 300, overlap: 0 } },
    );
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const answerer = new OpenAIAnswerer(client, { model: 'chat-model', maxTokens: 200, baseUrl: fake.url });
    // Failures to open: more than the test makes, so every failing answer reaches the server.
    reranker = new HttpReranker({
      url: fake.url,
      model: 'rerank-model',
      apiKey: KEY,
      timeoutMs: 2000,
      breaker: createBreaker('reranker', { failures: 100, halfOpenAfterMs: 1000 }),
    });
    deps = { store, embedder, answerer, reranker, rerankCandidates: CANDIDATES };
    metrics = createWorkerMetrics([reranker.breaker], createLlmResilience());
    void suite.queue.process(JobName.Answer, 1, queryRunner(deps, suite.runtime({ metrics, openEvents: suite.openEvents })).process);
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.setOptions({ fault: null }));

  const ask = async (): Promise<QueryResult> => {
    const job = await suite.queue.add(
      JobName.Answer,
      signedQuery({ query: QUERY, collection: 'handbook', top_k: TOP_K, stream: false, request_id: 'r-1', tenant: 'default' }),
      {
        attempts: 1,
      },
    );
    return (await job.finished()) as QueryResult;
  };
  const fusedTop = async (k: number) => retrieve(deps, { tenant: 'default', query: QUERY, collection: 'handbook', topK: k });
  /** The fake reranker's order of the candidates: by its score, ties in the order sent. */
  const rerankedIds = async () =>
    (await fusedTop(CANDIDATES))
      .map((hit, i) => ({ id: hit.chunk.id, i, score: rerankScore(QUERY, searchableText(hit.chunk)) }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, TOP_K)
      .map((h) => h.id);

  it("cites the passages in the reranker's order, taken from RERANK_CANDIDATES fused candidates", async () => {
    const fused = (await fusedTop(TOP_K)).map((h) => h.chunk.id);
    const expected = await rerankedIds();
    // The test means something only if the reranker changes the order.
    expect(expected).not.toEqual(fused);
    expect(expected[0]).toBe('carry-over.md#0');

    const result = await ask();
    expect(result.citations.map((c) => c.id)).toEqual(expected);
    expect(result.backends).toEqual({ vector_store: 'lancedb', embedder: 'local-hash-v4-64', llm: 'openai', reranker: 'http:rerank-model' });
    expect(result.reranked).toBe(true);
    const sent = fake.requests.filter((r) => r.path === '/v1/rerank').at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect((sent?.body as { documents: string[]; top_n: number }).documents).toHaveLength(Object.keys(DOCS).length);
    expect(sent?.body).toMatchObject({ query: QUERY, top_n: TOP_K, model: 'rerank-model' });
  });

  it('answers in fused order when the reranker fails: logged with the reason, counted, and said in the result', async () => {
    fake.setOptions({ fault: { kind: 'status500', endpoints: ['rerank'] } });
    const before = (await metrics.registry.getSingleMetricAsString('rag_reranker_fallbacks_total')).match(/ (\d+)$/m)?.[1];
    const result = await ask();
    expect(result.citations.map((c) => c.id)).toEqual((await fusedTop(TOP_K)).map((h) => h.chunk.id));
    expect(result.reranked).toBe(false);
    expect(result.backends.reranker).toBe('http:rerank-model');
    expect(result.answer).toContain('[1]');
    const warning = suite.logs.find((l) => l.message === 'reranker failed; keeping the fused order');
    expect(warning).toMatchObject({ level: 'warn', reranker: 'http:rerank-model', code: 'reranker_unavailable' });
    expect(String(warning?.error)).toContain('failed with 500');
    expect(suite.logText()).not.toContain(KEY);
    expect(before).toBe('0');
    expect(await metrics.registry.getSingleMetricAsString('rag_reranker_fallbacks_total')).toContain('rag_reranker_fallbacks_total{service="rag-worker"} 1');
  });
});
