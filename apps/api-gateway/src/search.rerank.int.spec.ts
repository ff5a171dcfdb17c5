import { rerankScore, startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { LanceDbStore, LocalHashEmbedder, ParsePool, ingestDocuments, searchableText, type VectorStore } from '@rag/retrieval';
import { captureLogs, json, tempDir, useRedisSuite, type JsonBody, type TempDir } from '@rag/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEY = 'acme_rerank_search_key_0123456789';
const RERANKER_KEY = 'rr-gateway-secret-0123456789';
const QUERY = 'Do unused vacation days carry over?';

type Result = {
  id: string;
  title?: string;
  heading?: string;
  chunk: string;
  score: number;
  rerank_score?: number;
  ranks: { vector?: number; text?: number; rerank?: number };
};
type Answer = { reranker?: string; reranked?: boolean; results: Result[] };

// POST /v1/collections/:name/search with RERANKER=http: the in-process gateway on a private redis-server, real LanceDB,
// and tools/fake-openai's /rerank over real HTTP.
describe('POST /v1/collections/:name/search with a reranker', () => {
  let dir: TempDir;
  let store: VectorStore;
  let gateway: InProcessGateway;
  let fake: FakeOpenAI;
  let ajv: Ajv2020;
  const logs = captureLogs();
  const parser = new ParsePool();
  afterAll(async () => {
    await gateway?.close();
    await store?.close();
    await fake?.close();
    dir?.remove();
    await parser.close();
  });
  const redis = useRedisSuite();

  const search = async (body: unknown) => {
    const res = await fetch(`${gateway.base}/v1/collections/handbook/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await json(res)) as JsonBody };
  };

  beforeAll(async () => {
    dir = tempDir('rag-search-rerank-');
    store = await LanceDbStore.open(dir.path);
    fake = await startFakeOpenAI({ apiKey: RERANKER_KEY });
    await ingestDocuments(
      { store, embedder: new LocalHashEmbedder(), parser },
      Object.entries({
        'calendar.md': '# Vacation days\n\nVacation days, vacation days and more vacation days: the vacation days calendar.',
        'carry-over.md':
          '# Leave rules\n\nAt the end of the year, the leave rules apply to every employee in every office and team; unused vacation days carry over until the end of March.',
        'unused.md': '# Time off\n\nUnused days off are tracked in the portal.',
        'parking.md': '# Parking\n\nParking is free behind building B.',
        'travel.md': '# Travel\n\nCarry your train ticket when you travel.',
      }).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant: 'acme', collection: 'handbook', chunking: { size: 1200, overlap: 100 } },
    );
    gateway = await startInProcessGateway(
      redis.url,
      {
        QUEUE_PREFIX: 'rag-search-rerank',
        API_KEYS: `acme:query:${KEY}`,
        RERANKER: 'http',
        RERANKER_URL: fake.url,
        RERANKER_MODEL: 'rerank-model',
        RERANKER_API_KEY: RERANKER_KEY,
        RERANK_CANDIDATES: '10',
        BREAKER_FAILURES: '100',
      },
      { store, logs: logs.stream },
    );
    const doc = (await json(await fetch(`${gateway.base}/openapi.json`))) as Record<string, unknown>;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi.json');
  });
  afterEach(() => fake.setOptions({ fault: null }));

  /** The mode's order of every chunk, then the fake reranker's order of those candidates (ties in the order sent). */
  const orders = async () => {
    const { body } = await search({ query: QUERY, top_k: 10, rerank: false });
    const fused = (body as Answer).results;
    const reranked = fused
      .map((r, i) => ({ id: r.id, i, score: rerankScore(QUERY, searchableText({ title: r.title ?? '', heading: r.heading ?? '', text: r.chunk })) }))
      .sort((a, b) => b.score - a.score || a.i - b.i);
    return { fused: fused.map((r) => r.id), reranked: reranked.map((r) => r.id), scores: reranked.map((r) => r.score) };
  };

  it("answers in the reranker's order, with ranks.rerank and its score beside the mode's ranks", async () => {
    const { fused, reranked, scores } = await orders();
    expect(reranked.slice(0, 3)).not.toEqual(fused.slice(0, 3));

    const { status, body } = await search({ query: QUERY, top_k: 3 });
    expect(status).toBe(200);
    const answer = body as Answer;
    expect(answer).toMatchObject({ reranker: 'http:rerank-model', reranked: true });
    expect(answer.results.map((r) => r.id)).toEqual(reranked.slice(0, 3));
    expect(answer.results.map((r) => r.ranks.rerank)).toEqual([1, 2, 3]);
    expect(answer.results.map((r) => r.rerank_score)).toEqual(scores.slice(0, 3));
    // Hybrid by default: each result still carries the retrievers' ranks before fusion.
    expect(answer.results[0].ranks.text ?? answer.results[0].ranks.vector).toBeGreaterThan(0);
    const validate = ajv.compile({ $ref: 'openapi.json#/components/schemas/SearchResponse' });
    expect(validate(body) ? [] : validate.errors).toEqual([]);
    const sent = fake.requests.filter((r) => r.path === '/v1/rerank').at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${RERANKER_KEY}`);
    expect((sent?.body as { documents: unknown[] }).documents).toHaveLength(fused.length);
  });

  it('keeps the mode’s order with rerank: false, and refuses a rerank that is not a boolean', async () => {
    const { body } = await search({ query: QUERY, top_k: 3, rerank: false });
    const answer = body as Answer;
    expect(answer).toMatchObject({ reranker: 'http:rerank-model', reranked: false });
    expect(answer.results.every((r) => r.ranks.rerank === undefined && r.rerank_score === undefined)).toBe(true);
    const bad = await search({ query: QUERY, rerank: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('rerank must be a boolean value');
  });

  const metric = async (name: string) => {
    const text = await (await fetch(`${gateway.base}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith(name));
  };

  it('answers in the mode’s order when the reranker fails, says so, counts it in /metrics and logs a warning without the key', async () => {
    // rerank: false (the earlier test) is not a fallback; the reranker's breaker is on the gateway's /metrics.
    expect(await metric('rag_reranker_fallbacks_total')).toEqual(['rag_reranker_fallbacks_total{service="api-gateway"} 0']);
    expect(await metric('rag_circuit_breaker_state{dependency="reranker",state="closed"')).toEqual([
      'rag_circuit_breaker_state{dependency="reranker",state="closed",service="api-gateway"} 1',
    ]);
    const { fused } = await orders();
    fake.setOptions({ fault: { kind: 'status401', endpoints: ['rerank'] } });
    const { status, body } = await search({ query: QUERY, top_k: 3 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ reranker: 'http:rerank-model', reranked: false });
    expect((body as Answer).results.map((r) => r.id)).toEqual(fused.slice(0, 3));
    await new Promise((r) => setImmediate(r));
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'reranker failed; keeping the fused order', code: 'reranker_auth_failed' }),
    );
    expect(logs.text()).not.toContain(RERANKER_KEY);
    expect(await metric('rag_reranker_fallbacks_total')).toEqual(['rag_reranker_fallbacks_total{service="api-gateway"} 1']);
  });
});
