import { LOCAL_EMBEDDING_DIM, LanceDbStore, LocalHashEmbedder, ParsePool, QdrantStore, ingestDocuments, type VectorStore } from '@rag/retrieval';
import { Limits } from '@rag/queue-contracts';
import { RARE_WORD_PAGES, RARE_WORD_QUESTION, freePort, json, tempDir, useRedisSuite, type JsonBody, type TempDir } from '@rag/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEYS = {
  acme: 'acme_search_key_0123456789abcdef',
  acmeIngest: 'acme_search_ingest_only_0123456789',
  globex: 'globex_search_key_0123456789abcdef',
};

type Result = { id: string; doc_id: string; heading?: string; chunk: string; score: number; ranks: { vector?: number; text?: number } };

// POST /v1/collections/:name/search on the in-process gateway: a private
// redis-server (keys, rate limits), real LanceDB in a temp folder loaded the
// way the CLI loads it, the gateway's own local embedder (the default size).
describe('POST /v1/collections/:name/search (real Redis, real LanceDB)', () => {
  let dir: TempDir;
  let store: VectorStore;
  let gateway: InProcessGateway;
  let ajv: Ajv2020;
  const parser = new ParsePool();
  // Before the suite's Redis stops (afterAll hooks run in the order they are declared).
  afterAll(async () => {
    await gateway?.close();
    await store?.close();
    dir?.remove();
    await parser.close();
  });
  const redis = useRedisSuite();

  const search = async (name: string, body: unknown, key: string | null = KEYS.acme, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.base}/v1/collections/${name}/search`, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await json(res)) as JsonBody };
  };
  const load = (tenant: string, collection: string, files: Record<string, string>, dimension = LOCAL_EMBEDDING_DIM) =>
    ingestDocuments(
      { store, embedder: new LocalHashEmbedder(dimension), parser },
      Object.entries(files).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant, collection, chunking: { size: 1200, overlap: 100 } },
    );
  /** Asserts `body` is what /openapi.json says the schema `name` is. */
  const expectSchema = (name: string, body: unknown) => {
    const validate = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  };

  beforeAll(async () => {
    dir = tempDir('rag-search-');
    store = await LanceDbStore.open(dir.path);
    await load('acme', 'handbook', {
      'vacation.md':
        '# Vacation\n\n## Annual leave\n\nNew employees at Acme get 25 vacation days per year.\n\n## Seniority\n\nAfter five years, Acme raises the allowance to 30 days.',
      'travel.md': '# Travel\n\nAcme reimburses travel expenses within 30 days of a claim.',
      'badges.md': '# Badges\n\nBadges for the zygomorphic atrium are issued at the Acme reception.',
    });
    await load('acme', 'secret', { 'plans.md': '# Plans\n\nAcme plans to buy the moon.' });
    // The word that decides the question is rare in the collection (feature rarity weighting).
    await load('acme', 'manual', Object.fromEntries(RARE_WORD_PAGES.map(([title, text], i) => [`page${i}.md`, `# ${title}\n\n${text}`])));
    // Built with another embedder than the gateway's.
    await load('acme', 'legacy', { 'old.md': '# Old\n\nThe old handbook says vacation is 20 days.' }, 64);
    await load('globex', 'handbook', { 'vacation.md': '# Vacation\n\nGlobex employees get 12 vacation days per year.' });
    gateway = await startInProcessGateway(
      redis.url,
      { QUEUE_PREFIX: 'rag-search', API_KEYS: `acme:query:${KEYS.acme},acme:ingest:${KEYS.acmeIngest},globex:query:${KEYS.globex}` },
      { store },
    );
    const doc = (await json(await fetch(`${gateway.base}/openapi.json`))) as Record<string, unknown>;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi.json');
  });

  it('answers 200 with the ranked chunks of a hybrid search by default, each with the ranks of both retrievers that found it', async () => {
    const { status, body } = await search('handbook', { query: 'How many vacation days do new employees get?' });
    expect(status).toBe(200);
    expectSchema('SearchResponse', body);
    expect(body).toMatchObject({ collection: 'handbook', mode: 'hybrid', query: 'How many vacation days do new employees get?' });
    expect(body.took_ms).toBeGreaterThanOrEqual(0);
    const results = body.results as Result[];
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThanOrEqual(Limits.searchTopKDefault);
    expect(results[0]).toMatchObject({
      id: 'vacation.md#0',
      doc_id: 'vacation.md',
      source: 'vacation.md',
      title: 'Vacation',
      heading: 'Vacation > Annual leave',
      position: 0,
    });
    expect(results[0].chunk).toContain('25 vacation days');
    expect(results[0].ranks).toEqual({ vector: expect.any(Number), text: expect.any(Number) });
    for (const r of results) expect(Object.keys(r.ranks).length).toBeGreaterThan(0);
    expect(results.map((r) => r.score)).toEqual([...results.map((r) => r.score)].sort((a, b) => b - a));
  });

  it('text mode finds an exact rare term with ranks.text only; vector mode gives ranks.vector only', async () => {
    const text = await search('handbook', { query: 'zygomorphic', mode: 'text' });
    expect(text.status).toBe(200);
    expect(text.body.mode).toBe('text');
    expect(text.body.results.map((r: Result) => [r.doc_id, r.ranks])).toEqual([['badges.md', { text: 1 }]]);
    const vector = await search('handbook', { query: 'travel expenses', mode: 'vector', top_k: 3 });
    expect(vector.status).toBe(200);
    expectSchema('SearchResponse', vector.body);
    expect(vector.body.results.map((r: Result) => r.ranks)).toEqual([{ vector: 1 }, { vector: 2 }, { vector: 3 }]);
    expect(vector.body.results[0].doc_id).toBe('travel.md');
  });

  it('weighs the query by how rare its words are in the collection, as answers do: the page with the deciding word first', async () => {
    const { status, body } = await search('manual', { query: RARE_WORD_QUESTION, mode: 'vector', top_k: 8 });
    expect(status).toBe(200);
    const results = body.results as Result[];
    expect(results[0].chunk).toContain('gen_random_uuid');
    // The unweighted query vector puts that page lower.
    const plain = await store.searchVector('acme', 'manual', new LocalHashEmbedder().embedOne(RARE_WORD_QUESTION), 8);
    expect(plain[0].chunk.text).not.toContain('gen_random_uuid');
  });

  it('honours top_k and filters.sources', async () => {
    const two = await search('handbook', { query: 'days', top_k: 2, mode: 'vector' });
    expect(two.body.results).toHaveLength(2);
    const filtered = await search('handbook', { query: 'vacation days travel', filters: { sources: ['travel.md'] } });
    expect(filtered.status).toBe(200);
    expect(filtered.body.results.length).toBeGreaterThan(0);
    expect(new Set(filtered.body.results.map((r: Result) => r.doc_id))).toEqual(new Set(['travel.md']));
  });

  it('answers 400 naming the field for a bad body, an unknown field, or a bad collection name; 415 for a body that is not JSON', async () => {
    for (const [body, field] of [
      [{}, 'query'],
      [{ query: '   ' }, 'query'],
      [{ query: 'x'.repeat(Limits.queryMaxChars + 1) }, 'query'],
      [{ query: 'q', top_k: 0 }, 'top_k'],
      [{ query: 'q', top_k: Limits.topKMax + 1 }, 'top_k'],
      [{ query: 'q', mode: 'semantic' }, 'mode'],
      [{ query: 'q', filters: { sources: 'a.md' } }, 'filters.sources'],
      [{ query: 'q', collection: 'handbook' }, 'collection'],
      [{ query: 'q', topK: 3 }, 'topK'],
    ] as const) {
      const { status, body: answer } = await search('handbook', body);
      expect([JSON.stringify(body), status]).toEqual([JSON.stringify(body), 400]);
      expect(answer.error.code).toBe('invalid_request');
      expect(answer.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
      expectSchema('Error', answer);
    }
    const malformed = await search('handbook', '{"query": ');
    expect(malformed.status).toBe(400);
    const badName = await search('Hand..Book', { query: 'q' });
    expect(badName.status).toBe(400);
    expect(badName.body.error.code).toBe('invalid_collection');
    const notJson = await search('handbook', 'query=vacation', KEYS.acme, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(notJson.status).toBe(415);
  });

  it('answers 401 without a key or with a bad one, and 403 to a key without the query scope', async () => {
    const none = await search('handbook', { query: 'vacation' }, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await search('handbook', { query: 'vacation' }, 'not_a_real_key_0123456789abcdef')).status).toBe(401);
    const ingestOnly = await search('handbook', { query: 'vacation' }, KEYS.acmeIngest);
    expect(ingestOnly.status).toBe(403);
    expect(ingestOnly.body.error.code).toBeDefined();
  });

  it("answers another tenant's collection with the same 404 as an unknown one, and searches each tenant's own collection of a shared name", async () => {
    const others = await search('secret', { query: 'moon' }, KEYS.globex);
    const unknown = await search('nowhere', { query: 'moon' }, KEYS.globex);
    expect(others.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(others.body).toEqual({ error: { code: 'collection_not_found', message: expect.stringContaining('"secret"') } });
    expect(JSON.stringify(others.body).replace('secret', 'X')).toEqual(JSON.stringify(unknown.body).replace('nowhere', 'X'));
    for (const mode of ['hybrid', 'vector', 'text']) expect((await search('secret', { query: 'moon', mode }, KEYS.globex)).status).toBe(404);
    expect((await search('secret', { query: 'moon' })).status).toBe(200);

    const globex = await search('handbook', { query: 'vacation days', top_k: 50 }, KEYS.globex);
    expect(globex.status).toBe(200);
    expect(globex.body.results.length).toBeGreaterThan(0);
    for (const r of globex.body.results as Result[]) expect(r.chunk).toContain('Globex');
    const acme = await search('handbook', { query: 'Globex vacation days', top_k: 50 });
    for (const r of acme.body.results as Result[]) expect(r.chunk).not.toContain('Globex');
  });

  it('answers 409 embedder_mismatch, naming both embedders, for a collection built with another embedder; text mode still searches it', async () => {
    for (const mode of ['hybrid', 'vector']) {
      const { status, body } = await search('legacy', { query: 'vacation', mode });
      expect(status).toBe(409);
      expect(body.error.code).toBe('embedder_mismatch');
      expect(body.error.message).toContain('local-hash-v4-64');
      expect(body.error.message).toContain('local-hash-v4-2048');
    }
    const text = await search('legacy', { query: 'vacation', mode: 'text' });
    expect(text.status).toBe(200);
    expect(text.body.results.map((r: Result) => r.doc_id)).toEqual(['old.md']);
  });

  it('answers 503 vector_store_unavailable with Retry-After when the vector store does not answer', async () => {
    // A Qdrant URL where nothing listens: every store call fails to connect.
    const nowhere = new QdrantStore({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    const down = await startInProcessGateway(redis.url, { QUEUE_PREFIX: 'rag-search-down', API_KEYS: `acme:query:${KEYS.acme}` }, { store: nowhere });
    try {
      const res = await fetch(`${down.base}/v1/collections/handbook/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'vacation' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = await json(res);
      expect(body.error.code).toBe('vector_store_unavailable');
      expect(JSON.stringify(body)).not.toContain('127.0.0.1');
    } finally {
      await down.close();
    }
  });
});
