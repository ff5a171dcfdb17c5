import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { startFakeQdrant, type FakeQdrant, type RecordedRequest } from '@rag/fake-qdrant';
import { isPermanent } from '@rag/core';
import { CollectionNotFoundError, EmbedderMismatchError, VectorStoreError } from '../errors';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { searchableText } from '../searchable-text';
import { BM25_ENCODER_VERSION, Bm25Encoder } from '../sparse/bm25-encoder';
import { QdrantStore, qdrantClientParams, qdrantPointId } from './qdrant.store';
import { chunksOf, describeVectorStoreContract } from './vector-store.contract';

const embedder = new LocalHashEmbedder(64);
const builtWith = { id: embedder.id, dimension: embedder.dimension };

/**
 * A collection laid out as the store lays one out (named dense vector of `size`, BM25 sparse vector with IDF),
 * recording `rag` as what built it (by default this test's embedder and the current encoder; null: nothing recorded).
 */
function ourLayout(
  size: number,
  rag: { embedder: typeof builtWith; sparse_encoder: string } | null = { embedder: builtWith, sparse_encoder: BM25_ENCODER_VERSION },
) {
  return {
    vectors: { dense: { size, distance: 'Cosine' as const } },
    sparse_vectors: { bm25: { modifier: 'idf' as const } },
    ...(rag ? { metadata: { rag } } : {}),
  };
}

/** The fake saw only requests Qdrant 1.19's API description accepts, and answered them by the book. */
function expectOnlyValidTraffic(fake: FakeQdrant): void {
  expect(fake.invalid).toEqual([]);
  expect(fake.offSpecResponses).toEqual([]);
}

describeVectorStoreContract('QdrantStore against fake-qdrant (HTTP, requests validated against Qdrant 1.19 OpenAPI)', async () => {
  const fake = await startFakeQdrant();
  const open = () => new QdrantStore({ url: fake.url, timeoutMs: 5000 });
  return {
    store: open(),
    reopen: async () => open(),
    afterEach: () => expectOnlyValidTraffic(fake),
    close: () => fake.close(),
  };
});

// A real server is optional: set QDRANT_URL (and QDRANT_API_KEY) to run the same contract against it.
(process.env.QDRANT_URL ? describe : describe.skip)('real Qdrant at QDRANT_URL (skipped: QDRANT_URL is not set)', () => {
  const url = process.env.QDRANT_URL ?? '';
  const apiKey = process.env.QDRANT_API_KEY || undefined;
  const prefix = `rag-contract-${randomUUID().slice(0, 8)}-`;
  describeVectorStoreContract(
    `QdrantStore against ${url}`,
    async () => {
      const open = () => new QdrantStore({ url, apiKey, timeoutMs: 30_000 });
      const store = open();
      return {
        store,
        reopen: async () => open(),
        close: async () => {
          // Drop the collections this run made, and only those.
          const client = new QdrantClient(qdrantClientParams({ url, apiKey }));
          for (const name of await store.listCollections('default')) if (name.startsWith(prefix)) await client.deleteCollection(name);
        },
      };
    },
    { prefix },
  );
});

describe('QdrantStore on the wire (fake-qdrant)', () => {
  let fake: FakeQdrant;
  let store: QdrantStore;
  /** The official client, for setting up and inspecting collections behind the store's back. */
  let raw: QdrantClient;
  let counter = 0;
  const unused = () => `wire-${++counter}`;
  const fresh = async () => {
    const name = unused();
    await store.ensureCollection('default', name, builtWith);
    return name;
  };
  const since = (mark: number, operationId?: string): RecordedRequest[] =>
    fake.requests.slice(mark).filter((r) => !operationId || r.operationId === operationId);

  beforeAll(async () => {
    fake = await startFakeQdrant();
    store = new QdrantStore({ url: fake.url, timeoutMs: 5000, batchSize: 2 });
    raw = new QdrantClient(qdrantClientParams({ url: fake.url }));
  });

  afterEach(() => expectOnlyValidTraffic(fake));

  afterAll(async () => {
    await store?.close();
    await fake?.close();
  });

  describe('collections', () => {
    it('creates a named cosine dense vector, a BM25 sparse vector with IDF, the embedder in the metadata, and a keyword index on doc_id', async () => {
      const mark = fake.requests.length;
      const name = await fresh();
      const [create] = since(mark, 'create_collection');
      expect(create.body).toEqual({
        vectors: { dense: { size: 64, distance: 'Cosine' } },
        sparse_vectors: { bm25: { modifier: 'idf' } },
        metadata: { rag: { embedder: { id: 'local-hash-v4-64', dimension: 64 }, sparse_encoder: BM25_ENCODER_VERSION } },
      });
      const [index] = since(mark, 'create_field_index');
      expect(index.url).toBe(`/collections/${name}/index?wait=true`);
      expect(index.body).toEqual({ field_name: 'doc_id', field_schema: 'keyword' });

      const described = await raw.getCollection(name);
      expect(described.payload_schema.doc_id?.data_type).toBe('keyword');
      // Idempotent: a second ensure creates nothing.
      const again = fake.requests.length;
      await store.ensureCollection('default', name, builtWith);
      expect(since(again).map((r) => r.operationId)).toEqual(['get_collection']);
    });

    it('lets two stores create the same collection at once: both succeed, one collection exists', async () => {
      const name = unused();
      const other = new QdrantStore({ url: fake.url });
      const mark = fake.requests.length;
      await Promise.all([
        store.ensureCollection('default', name, builtWith),
        other.ensureCollection('default', name, builtWith),
        store.ensureCollection('default', name, builtWith),
      ]);
      const creates = since(mark, 'create_collection');
      expect(creates.filter((r) => r.status === 200)).toHaveLength(1);
      expect(creates.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      expect((await store.listCollections('default')).filter((c) => c === name)).toHaveLength(1);
    });

    it('reports the dense size a collection really has, and refuses to load into one whose size differs from the embedder', async () => {
      const name = unused();
      await raw.createCollection(name, ourLayout(32));
      expect(await store.collectionInfo('default', name)).toEqual({ name, embedder: { id: 'local-hash-v4-64', dimension: 32 } });
      const error = await store.ensureCollection('default', name, builtWith).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbedderMismatchError);
      expect((error as Error).message).toMatch(/32 dimensions.*64 dimensions/);
    });

    it('treats a collection with our layout but no recorded embedder as built by an unknown embedder', async () => {
      const name = unused();
      await raw.createCollection(name, ourLayout(64, null));
      expect(await store.collectionInfo('default', name)).toEqual({ name, embedder: { id: 'unknown-64', dimension: 64 } });
      await expect(store.ensureCollection('default', name, builtWith)).rejects.toBeInstanceOf(EmbedderMismatchError);
    });

    it('adds the doc_id index to a collection of ours that lacks it, so that filters work', async () => {
      const name = unused();
      await raw.createCollection(name, ourLayout(64));
      await store.ensureCollection('default', name, builtWith);
      expect((await raw.getCollection(name)).payload_schema.doc_id?.data_type).toBe('keyword');
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['indexed at last']));
      expect((await store.searchText('default', name, 'indexed', 3, { sources: ['a.md'] })).map((h) => h.chunk.id)).toEqual(['a.md#0']);
    });

    it.each([
      ['a single unnamed vector', { vectors: { size: 64, distance: 'Cosine' as const } }, /no dense vector named "dense"/],
      ['no sparse vector', { vectors: { dense: { size: 64, distance: 'Cosine' as const } } }, /no sparse vector named "bm25"/],
    ])('refuses a collection it did not create (%s) with a permanent error naming it', async (_, layout, why) => {
      const name = unused();
      await raw.createCollection(name, layout);
      for (const attempt of [
        () => store.collectionInfo('default', name),
        () => store.ensureCollection('default', name, builtWith),
        () => store.searchText('default', name, 'x', 3),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VectorStoreError);
        expect(isPermanent(error)).toBe(true);
        expect((error as Error).message).toContain(`"${name}" was not created by this service`);
        expect((error as Error).message).toMatch(why);
      }
    });

    it('refuses a collection whose sparse vectors another encoder version made', async () => {
      const name = unused();
      await raw.createCollection(name, ourLayout(64, { embedder: builtWith, sparse_encoder: 'bm25-some-older-v0' }));
      const error = await store.ensureCollection('default', name, builtWith).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect(isPermanent(error)).toBe(true);
      expect((error as Error).message).toContain('bm25-some-older-v0');
    });

    it('notices a collection dropped behind its back: writes fail with CollectionNotFoundError, reads answer empty', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['before the drop']));
      await raw.deleteCollection(name);
      await expect(store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['after the drop']))).rejects.toBeInstanceOf(CollectionNotFoundError);
      expect(await store.searchText('default', name, 'drop', 5)).toEqual([]);
      expect(await store.listDocuments('default', name)).toEqual([]);
      expect(await store.collectionInfo('default', name)).toBeUndefined();
      // Recreated by another process with another embedder: the store reads it afresh.
      await raw.createCollection(name, ourLayout(32, { embedder: { id: 'local-hash-v4-32', dimension: 32 }, sparse_encoder: BM25_ENCODER_VERSION }));
      await expect(store.ensureCollection('default', name, builtWith)).rejects.toBeInstanceOf(EmbedderMismatchError);
      expect(await store.collectionInfo('default', name)).toEqual({ name, embedder: { id: 'local-hash-v4-32', dimension: 32 } });
    });
  });

  describe('points', () => {
    it('stores each chunk as a point with a name-based UUID, its fields in the payload, and dense and BM25 vectors', async () => {
      const name = await fresh();
      const [chunk] = chunksOf('guides/setup.md', [{ text: 'Install Node 20 and run npm ci.', heading: 'Setup > Install', title: 'Setup Guide' }]);
      await store.replaceDocument('default', name, 'guides/setup.md', [chunk]);
      const { points } = await raw.scroll(name, { with_payload: true, with_vector: true });
      expect(points).toHaveLength(1);
      expect(points[0].id).toBe(qdrantPointId('guides/setup.md#0'));
      expect(points[0].payload).toEqual({
        chunk_id: 'guides/setup.md#0',
        doc_id: 'guides/setup.md',
        source: 'guides/setup.md',
        title: 'Setup Guide',
        heading: 'Setup > Install',
        position: 0,
        text: 'Install Node 20 and run npm ci.',
        content_hash: 'hash-of-guides/setup.md',
        // No page: not a paged format.
        page: 0,
      });
      const vectors = points[0].vector as { dense: number[]; bm25: { indices: number[]; values: number[] } };
      vectors.dense.forEach((x, i) => expect(x).toBeCloseTo(chunk.vector[i], 6));
      expect(vectors.bm25).toEqual(new Bm25Encoder().encodeDocument(searchableText(chunk)));
    });

    it('writes new points in batches with wait=true before deleting the document’s other points, in one filtered delete', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['one', 'two', 'three', 'four', 'five'], 'v1'));
      const mark = fake.requests.length;
      const v2 = chunksOf('a.md', ['uno', 'dos', 'tres'], 'v2');
      await store.replaceDocument('default', name, 'a.md', v2);
      const writes = since(mark).filter((r) => r.operationId === 'upsert_points' || r.operationId === 'delete_points');
      expect(writes.map((r) => [r.operationId, r.url.split('?')[1]])).toEqual([
        ['upsert_points', 'wait=true'],
        ['upsert_points', 'wait=true'],
        ['delete_points', 'wait=true'],
      ]);
      expect(writes.map((r) => (r.body as { points?: unknown[] }).points?.length)).toEqual([2, 1, undefined]);
      expect(writes[2].body).toEqual({
        filter: { must: [{ key: 'doc_id', match: { value: 'a.md' } }], must_not: [{ has_id: v2.map((c) => qdrantPointId(c.id)) }] },
      });
      expect(await store.listDocuments('default', name)).toEqual([{ docId: 'a.md', contentHash: 'v2', chunks: 3 }]);
    });

    it('never leaves a document without chunks when a replace is interrupted, and heals on the next replace', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['old one', 'old two', 'old three', 'old four'], 'v1'));
      await store.replaceDocument('default', name, 'b.md', chunksOf('b.md', ['bystander'], 'b1'));

      // The second upsert batch fails: the first batch overwrote #0 and #1, the old #2 and #3 stay.
      fake.injectFault({ operationId: 'upsert_points', after: 1, status: 503, error: 'Service unavailable: overloaded' });
      const v2 = chunksOf('a.md', ['new one', 'new two', 'new three'], 'v2');
      const interrupted = await store.replaceDocument('default', name, 'a.md', v2).catch((e: unknown) => e);
      expect(interrupted).toBeInstanceOf(VectorStoreError);
      expect(isPermanent(interrupted)).toBe(false);
      expect(await store.listDocuments('default', name)).toEqual([
        // Chunks of two versions: an empty hash, so the next load replaces the document again.
        { docId: 'a.md', contentHash: '', chunks: 4 },
        { docId: 'b.md', contentHash: 'b1', chunks: 1 },
      ]);

      // The upserts succeed but the clean-up delete fails: old and new chunks are both there.
      fake.injectFault({ operationId: 'delete_points', status: 500, error: 'Service internal error: disk full' });
      await expect(store.replaceDocument('default', name, 'a.md', v2.slice(0, 1))).rejects.toBeInstanceOf(VectorStoreError);
      expect((await store.listDocuments('default', name)).find((d) => d.docId === 'a.md')).toEqual({ docId: 'a.md', contentHash: '', chunks: 4 });

      await store.replaceDocument('default', name, 'a.md', v2);
      expect(await store.listDocuments('default', name)).toEqual([
        { docId: 'a.md', contentHash: 'v2', chunks: 3 },
        { docId: 'b.md', contentHash: 'b1', chunks: 1 },
      ]);
      expect((await store.searchText('default', name, 'old', 10)).map((h) => h.chunk.id)).toEqual([]);
    });

    it('pages through every point when listing documents', async () => {
      const name = await fresh();
      const big = new QdrantStore({ url: fake.url, batchSize: 500 });
      const texts = Array.from({ length: 1100 }, (_, i) => `chunk ${i}`);
      await big.replaceDocument('default', name, 'big.md', chunksOf('big.md', texts, 'hbig'));
      await big.replaceDocument('default', name, 'small.md', chunksOf('small.md', texts.slice(0, 950), 'hsmall'));
      const mark = fake.requests.length;
      expect(await store.listDocuments('default', name)).toEqual([
        { docId: 'big.md', contentHash: 'hbig', chunks: 1100 },
        { docId: 'small.md', contentHash: 'hsmall', chunks: 950 },
      ]);
      const scrolls = since(mark, 'scroll_points');
      expect(scrolls).toHaveLength(3);
      expect(scrolls.map((r) => (r.body as { offset?: unknown }).offset === undefined)).toEqual([true, false, false]);
      expect(scrolls[0].body).toMatchObject({ with_payload: ['doc_id', 'content_hash'], with_vector: false });
    });
  });

  describe('queries', () => {
    it('searches by vector with `using: dense` and by text with `using: bm25`, filtered by a doc_id match', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['Employees get vacation days.']));
      const mark = fake.requests.length;
      const vector = embedder.embedOne('vacation');
      await store.searchVector('default', name, vector, 4, { sources: ['a.md', 'b.md'] });
      await store.searchText('default', name, 'vacations', 4);
      const [dense, sparse] = since(mark, 'query_points');
      expect(dense.body).toEqual({
        query: vector,
        using: 'dense',
        limit: 4,
        filter: { must: [{ key: 'doc_id', match: { any: ['a.md', 'b.md'] } }] },
        with_payload: true,
        with_vector: false,
      });
      expect(sparse.body).toEqual({ query: new Bm25Encoder().encodeQuery('vacations'), using: 'bm25', limit: 4, with_payload: true, with_vector: false });
    });

    it('runs a hybrid search as one Query API call: dense and sparse prefetches of max(20, 4 × limit), filtered, fused by RRF', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['Employees get vacation days.']));
      const vector = embedder.embedOne('vacation days');
      const filter = { must: [{ key: 'doc_id', match: { any: ['a.md'] } }] };
      const mark = fake.requests.length;
      await store.hybridSearch('default', name, { text: 'vacation days', vector }, 3, { sources: ['a.md'] });
      await store.hybridSearch('default', name, { text: 'vacation days', vector }, 8);
      const [small, large] = since(mark, 'query_points');
      const sparse = new Bm25Encoder().encodeQuery('vacation days');
      expect(small.body).toEqual({
        prefetch: [
          { query: vector, using: 'dense', limit: 20, filter },
          { query: sparse, using: 'bm25', limit: 20, filter },
        ],
        query: { rrf: { k: 61 } },
        limit: 3,
        with_payload: true,
        with_vector: false,
      });
      expect(large.body).toMatchObject({ prefetch: [{ limit: 32 }, { limit: 32 }], limit: 8 });
      expect((large.body as { prefetch: object[] }).prefetch[0]).not.toHaveProperty('filter');
    });

    it('leaves the sparse prefetch out when the query has no terms', async () => {
      const name = await fresh();
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['Alpha.']));
      const mark = fake.requests.length;
      await store.hybridSearch('default', name, { text: 'what is it', vector: embedder.embedOne('alpha') }, 3);
      await store.searchText('default', name, 'what is it', 3);
      const queries = since(mark, 'query_points');
      expect(queries).toHaveLength(1);
      expect((queries[0].body as { prefetch: { using: string }[] }).prefetch.map((p) => p.using)).toEqual(['dense']);
    });

    it('weighs rare words above common ones (Qdrant applies IDF to the BM25 vectors)', async () => {
      const name = await fresh();
      // "policy" is in every chunk, "zeppelin" in one; each chunk has one of them once more.
      await store.replaceDocument(
        'default',
        name,
        'p.md',
        chunksOf(
          'p.md',
          ['policy policy on parking', 'policy on zeppelin parking', 'policy on bicycles', 'policy on lunches'].map((text) => ({ text, title: 'P' })),
        ),
      );
      const hits = await store.searchText('default', name, 'policy zeppelin', 4);
      expect(hits[0].chunk.id).toBe('p.md#1');
      expect(hits).toHaveLength(4);
    });
  });

  describe('errors', () => {
    it('wraps a failed request with its cause, naming the operation, the collection and Qdrant’s reason', async () => {
      const name = await fresh();
      fake.injectFault({ operationId: 'query_points', status: 500, error: 'Service internal error: segment is gone' });
      const error = await store.searchVector('default', name, embedder.embedOne('x'), 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as Error).message).toBe(`Qdrant vector search on collection "${name}" failed (HTTP 500): Service internal error: segment is gone`);
      expect((error as VectorStoreError).status).toBe(500);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(isPermanent(error)).toBe(false);

      fake.injectFault({ operationId: 'upsert_points', status: 400, error: 'Wrong input: something about the points' });
      const refused = await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['x'])).catch((e: unknown) => e);
      expect((refused as Error).message).toBe(`Qdrant replace document on collection "${name}" failed (HTTP 400): Wrong input: something about the points`);
      expect(isPermanent(refused)).toBe(true);
    });

    it('never shows the API key, even when the server echoes it', async () => {
      const apiKey = 'sk-qdrant-0123456789abcdef';
      const guarded = await startFakeQdrant({ apiKey });
      try {
        const good = new QdrantStore({ url: guarded.url, apiKey });
        const name = 'guarded';
        await good.ensureCollection('default', name, builtWith);
        expect(guarded.requests.every((r) => r.apiKey)).toBe(true);

        guarded.injectFault({ operationId: 'query_points', status: 403, error: `Forbidden: key ${apiKey} may not read "${name}"` });
        const echoed = await good.searchText('default', name, 'anything', 3).catch((e: unknown) => e);
        expect((echoed as Error).message).toBe(
          `Qdrant text search on collection "${name}" failed (HTTP 403): Forbidden: key [redacted] may not read "${name}"`,
        );

        const wrongKey = 'sk-qdrant-wrong-key-000';
        const bad = new QdrantStore({ url: guarded.url, apiKey: wrongKey });
        const refused = await bad.listCollections('default').catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(VectorStoreError);
        expect((refused as Error).message).toBe('Qdrant list collections failed (HTTP 401): Must provide an API key or an Authorization bearer token');
        expect(isPermanent(refused)).toBe(true);
        expect(JSON.stringify(guarded.requests)).not.toContain(apiKey);
        expect(guarded.invalid).toEqual([]);
      } finally {
        await guarded.close();
      }
    });

    it('reports a server that does not answer in time as a retryable timeout', async () => {
      const name = await fresh();
      const impatient = new QdrantStore({ url: fake.url, timeoutMs: 150 });
      await impatient.collectionInfo('default', name);
      fake.injectFault({ operationId: 'query_points', delayMs: 600 });
      const error = await impatient.searchText('default', name, 'anything', 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as Error).message).toMatch(new RegExp(`^Qdrant text search on collection "${name}" failed: `));
      expect(isPermanent(error)).toBe(false);
      // Let the late answer go out now, so that it is checked within this test rather than the next.
      await new Promise((r) => setTimeout(r, 500));
    });

    it('reports an unreachable server as a retryable connection failure', async () => {
      const gone = await startFakeQdrant();
      await gone.close();
      const error = await new QdrantStore({ url: gone.url }).listCollections('default').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as Error).message).toMatch(/^Qdrant list collections failed: .*ECONNREFUSED/);
      expect((error as Error).cause).toBeDefined();
      expect(isPermanent(error)).toBe(false);
    });
  });
});
