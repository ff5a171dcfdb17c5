import { QdrantClient } from '@qdrant/js-client-rest';
import { startFakeQdrant, type FakeQdrant } from './fake-qdrant';
import { QdrantApiValidator } from './openapi-validator';

const U = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

/** The HTTP status and Qdrant error text of a failed client call. */
async function failure(call: Promise<unknown>): Promise<{ status: number; error: string }> {
  const e = (await call.then(
    () => undefined,
    (error: unknown) => error,
  )) as { status?: number; data?: { status?: { error?: string } } } | undefined;
  if (!e) throw new Error('expected the call to fail');
  return { status: e.status ?? 0, error: e.data?.status?.error ?? '' };
}

describe('fake-qdrant', () => {
  let fake: FakeQdrant;
  let client: QdrantClient;
  let counter = 0;
  const unused = () => `fq-${++counter}`;

  /** Raw HTTP, for requests the official client would never send. */
  const send = async (method: string, path: string, body?: string, contentType = 'application/json') => {
    const res = await fetch(fake.url + path, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } });
    return { status: res.status, body: (await res.json()) as { status?: { error?: string } | string; result?: unknown } };
  };

  /** A collection shaped like the RAG store's: named dense and BM25 sparse vectors, a keyword index on doc_id. */
  const ragCollection = async (modifier: 'idf' | 'none' = 'idf') => {
    const name = unused();
    await client.createCollection(name, {
      vectors: { dense: { size: 3, distance: 'Cosine' } },
      sparse_vectors: { bm25: { modifier } },
      metadata: { owner: 'test' },
    });
    await client.createPayloadIndex(name, { field_name: 'doc_id', field_schema: 'keyword', wait: true });
    return name;
  };

  beforeAll(async () => {
    fake = await startFakeQdrant();
    client = new QdrantClient({ url: fake.url, checkCompatibility: false });
  });

  afterAll(async () => {
    await fake?.close();
  });

  describe('validation against the Qdrant 1.19 OpenAPI document', () => {
    it('accepts what the official client sends, and answers within the response schemas', async () => {
      const mark = fake.requests.length;
      expect(await client.versionInfo()).toEqual({ title: 'qdrant - vector search engine', version: '1.19.0', commit: null });
      const name = await ragCollection();
      expect(await client.collectionExists(name)).toEqual({ exists: true });
      expect((await client.getCollections()).collections).toContainEqual({ name });
      await client.upsert(name, {
        wait: true,
        points: [{ id: U(1), vector: { dense: [1, 0, 0], bm25: { indices: [7], values: [1] } }, payload: { doc_id: 'a' } }],
      });
      expect(await client.count(name, { filter: { must: [{ key: 'doc_id', match: { value: 'a' } }] } })).toEqual({ count: 1 });
      await client.scroll(name, { limit: 5, with_payload: ['doc_id'] });
      await client.query(name, { query: [1, 0, 0], using: 'dense', limit: 2, with_payload: true });
      await client.delete(name, { wait: true, points: [U(1)] });
      expect(await client.deleteCollection(name)).toBe(true);
      expect(fake.requests.slice(mark).map((r) => r.status)).toEqual(fake.requests.slice(mark).map(() => 200));
      expect(fake.invalid).toEqual([]);
      expect(fake.offSpecResponses).toEqual([]);
    });

    it('answers an unknown path 404 and a wrong method 405, recording both as invalid', async () => {
      const mark = fake.invalid.length;
      const unknown = await send('GET', '/frobnicate/x');
      expect(unknown.status).toBe(404);
      expect(unknown.body.status).toEqual({ error: 'no operation of the Qdrant API has the path /frobnicate/x' });
      const wrongMethod = await send('POST', '/collections/x/exists', '{}');
      expect(wrongMethod.status).toBe(405);
      expect(fake.invalid.slice(mark).map((r) => r.status)).toEqual([404, 405]);
    });

    it.each([
      [
        'an unknown field (a typo Qdrant would silently ignore)',
        'POST',
        '/collections/c/points/query',
        { query: [1, 0, 0], with_payloads: true },
        /must NOT have additional properties \(with_payloads\)/,
      ],
      ['a wrong enum value', 'PUT', '/collections/c', { vectors: { dense: { size: 3, distance: 'cosine' } } }, /allowed values/],
      ['a negative sparse index', 'POST', '/collections/c/points/query', { query: { indices: [-1], values: [1] }, using: 'bm25' }, /must be >= 0/],
      [
        'a sparse index beyond 32 bits',
        'POST',
        '/collections/c/points/query',
        { query: { indices: [2 ** 32], values: [1] }, using: 'bm25' },
        /format "uint32"/,
      ],
      [
        'a point id that is neither an integer nor a UUID',
        'PUT',
        '/collections/c/points',
        { points: [{ id: 'chunk-1', vector: { dense: [1, 0, 0] } }] },
        /format "uuid"/,
      ],
      [
        'repeated values in match.any',
        'POST',
        '/collections/c/points/scroll',
        { filter: { must: [{ key: 'doc_id', match: { any: ['a', 'a'] } }] } },
        /duplicate items/,
      ],
      ['a limit of 0', 'POST', '/collections/c/points/query', { query: [1, 0, 0], limit: 0 }, /limit must be >= 1/],
    ])('rejects a body with %s', async (_, method, path, body, message) => {
      const res = await send(method, path, JSON.stringify(body));
      expect(res.status).toBe(400);
      expect((res.body.status as { error: string }).error).toMatch(message);
      expect(fake.invalid.at(-1)?.problems.join(' ')).toMatch(message);
    });

    it('rejects bad query parameters, bodies that are not JSON, and bodies where none belongs', async () => {
      expect((await send('PUT', '/collections/c/points?wait=yes', JSON.stringify({ points: [] }))).status).toBe(400);
      expect(fake.invalid.at(-1)?.problems).toEqual(['query parameter wait=yes: / must be boolean']);
      expect((await send('PUT', '/collections/c/points?wiat=true', JSON.stringify({ points: [] }))).status).toBe(400);
      expect(fake.invalid.at(-1)?.problems).toEqual(['query parameter wiat is not a parameter of upsert_points']);
      expect((await send('POST', '/collections/c/points/query', '{"query": [1,')).status).toBe(400);
      expect(fake.invalid.at(-1)?.problems[0]).toMatch(/^the body is not JSON/);
      expect((await send('POST', '/collections/c/points/query', '{}', 'text/plain')).status).toBe(400);
      expect(fake.invalid.at(-1)?.problems).toEqual(['the body must be sent as application/json, not text/plain']);
      expect((await send('DELETE', '/collections/c', '{"force": true}')).status).toBe(400);
      expect(fake.invalid.at(-1)?.problems).toEqual(['delete_collection takes no request body']);
    });

    it('routes the most literal path first', () => {
      const validator = new QdrantApiValidator();
      expect(validator.match('POST', '/collections/aliases')).toMatchObject({ ok: true, operation: { operationId: 'update_aliases' } });
      expect(validator.match('GET', '/collections/aliases')).toMatchObject({
        ok: true,
        operation: { operationId: 'get_collection', pathParams: { collection_name: 'aliases' } },
      });
      expect(validator.match('GET', '/collections/a%20b/exists')).toMatchObject({ ok: true, operation: { pathParams: { collection_name: 'a b' } } });
    });
  });

  describe('collections', () => {
    it('creates, describes with its config and metadata, refuses a duplicate with 409, and deletes', async () => {
      const name = await ragCollection();
      const info = await client.getCollection(name);
      expect(info.config.params.vectors).toEqual({ dense: { size: 3, distance: 'Cosine' } });
      expect(info.config.params.sparse_vectors).toEqual({ bm25: { modifier: 'idf' } });
      expect(info.config.metadata).toEqual({ owner: 'test' });
      expect(info.payload_schema).toEqual({ doc_id: { data_type: 'keyword', points: 0 } });
      expect(await failure(client.createCollection(name, { vectors: { size: 3, distance: 'Dot' } }))).toEqual({
        status: 409,
        error: `Wrong input: Collection \`${name}\` already exists!`,
      });
      await client.deleteCollection(name);
      expect(await client.collectionExists(name)).toEqual({ exists: false });
      expect(await failure(client.getCollection(name))).toEqual({ status: 404, error: `Not found: Collection \`${name}\` doesn't exist!` });
      expect((await failure(client.query(name, { query: [1, 0, 0], using: 'dense' }))).status).toBe(404);
    });
  });

  describe('aliases', () => {
    it('points an alias at a collection, switches it in one request, reaches the collection through it, and drops it with the collection', async () => {
      const invalidBefore = fake.invalid.length;
      const [v1, v2] = [await ragCollection(), await ragCollection()];
      await client.upsert(v1, { wait: true, points: [{ id: 1, vector: { dense: [1, 0, 0] }, payload: { doc_id: 'a', version: 1 } }] });
      await client.upsert(v2, { wait: true, points: [{ id: 1, vector: { dense: [1, 0, 0] }, payload: { doc_id: 'a', version: 2 } }] });
      const alias = `${v1}.live`;
      const version = async () => (await client.query(alias, { query: [1, 0, 0], using: 'dense', with_payload: true })).points[0].payload?.version;

      await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: v1, alias_name: alias } }] });
      expect(await version()).toBe(1);
      expect((await client.getAliases()).aliases).toContainEqual({ alias_name: alias, collection_name: v1 });
      // The switch: delete and create in one request, as Qdrant's docs show it.
      await client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: v2, alias_name: alias } }],
      });
      expect(await version()).toBe(2);
      expect((await client.getCollectionAliases(v2)).aliases).toEqual([{ alias_name: alias, collection_name: v2 }]);
      expect((await client.getCollectionAliases(v1)).aliases).toEqual([]);

      // All or nothing: a failing action leaves the alias where it was.
      const refused = await failure(
        client.updateCollectionAliases({
          actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: 'missing', alias_name: alias } }],
        }),
      );
      expect(refused.status).toBe(404);
      expect(await version()).toBe(2);
      // An alias may not take a collection's name; deleting a missing alias is no error.
      expect((await failure(client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: v2, alias_name: v1 } }] }))).status).toBe(409);
      await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: 'never-made' } }] });

      await client.deleteCollection(v2);
      expect((await client.getAliases()).aliases.filter((a) => a.alias_name === alias)).toEqual([]);
      expect((await failure(client.query(alias, { query: [1, 0, 0], using: 'dense' }))).status).toBe(404);
      // Every request above is one Qdrant's API description accepts.
      expect(fake.invalid.slice(invalidBefore)).toEqual([]);
    });
  });

  describe('points', () => {
    it('checks vector names and sizes, and sparse vectors, like Qdrant', async () => {
      const name = await ragCollection();
      expect(await failure(client.upsert(name, { wait: true, points: [{ id: 1, vector: { dense: [1, 0] } }] }))).toEqual({
        status: 400,
        error: 'Wrong input: Vector dimension error: expected dim: 3, got 2',
      });
      expect(await failure(client.upsert(name, { wait: true, points: [{ id: 1, vector: { dens: [1, 0, 0] } }] }))).toEqual({
        status: 400,
        error: 'Wrong input: Not existing vector name error: dens',
      });
      expect((await failure(client.upsert(name, { wait: true, points: [{ id: 1, vector: { bm25: { indices: [1, 1], values: [1, 2] } } }] }))).status).toBe(422);
      expect(await failure(client.query(name, { query: [1, 0, 0, 0], using: 'dense' }))).toEqual({
        status: 400,
        error: 'Wrong input: Vector dimension error: expected dim: 3, got 4',
      });
    });

    it('scrolls in id order (integers, then UUIDs) with next_page_offset, and selects payload fields', async () => {
      const name = await ragCollection();
      const ids = [U(3), 7, U(1), 2, U(2)];
      await client.upsert(name, { wait: true, points: ids.map((id, i) => ({ id, vector: { dense: [1, 0, 0] }, payload: { doc_id: `d${i}`, other: i } })) });
      const first = await client.scroll(name, { limit: 2, with_payload: ['doc_id'] });
      expect(first.points).toEqual([
        { id: 2, payload: { doc_id: 'd3' } },
        { id: 7, payload: { doc_id: 'd1' } },
      ]);
      expect(first.next_page_offset).toBe(U(1));
      const second = await client.scroll(name, { limit: 2, offset: first.next_page_offset as string, with_payload: false });
      expect(second.points).toEqual([{ id: U(1) }, { id: U(2) }]);
      const last = await client.scroll(name, { limit: 2, offset: second.next_page_offset as string });
      expect(last).toEqual({ points: [{ id: U(3), payload: { doc_id: 'd0', other: 0 } }], next_page_offset: null });
    });

    it('deletes by ids and by filter (must, must_not, has_id), and counts', async () => {
      const name = await ragCollection();
      await client.upsert(name, {
        wait: true,
        points: [1, 2, 3, 4, 5].map((id) => ({ id, vector: { dense: [1, 0, 0] }, payload: { doc_id: id <= 3 ? 'a' : 'b' } })),
      });
      await client.delete(name, { wait: true, filter: { must: [{ key: 'doc_id', match: { value: 'a' } }], must_not: [{ has_id: [2] }] } });
      expect((await client.scroll(name, {})).points.map((p) => p.id)).toEqual([2, 4, 5]);
      await client.delete(name, { wait: true, points: [4] });
      expect(await client.count(name, {})).toEqual({ count: 2 });
      expect(await client.count(name, { filter: { must: [{ key: 'doc_id', match: { any: ['a', 'z'] } }] } })).toEqual({ count: 1 });
      expect(await client.count(name, { filter: { must: [{ key: 'doc_id', match: { except: ['a'] } }] } })).toEqual({ count: 1 });
      expect(await client.count(name, { filter: { should: [{ has_id: [2] }, { has_id: [5] }] } })).toEqual({ count: 2 });
    });

    it('refuses filters on fields without a payload index, as Qdrant strict mode does, unless told not to', async () => {
      const name = await ragCollection();
      expect(await failure(client.count(name, { filter: { must: [{ key: 'source', match: { value: 'x' } }] } }))).toEqual({
        status: 400,
        error: 'Bad request: Index required but not found for "source" of one of the following types: [keyword]. Help: Create an index for this key.',
      });
      const lenient = await startFakeQdrant({ requirePayloadIndexForFilters: false });
      try {
        const c = new QdrantClient({ url: lenient.url, checkCompatibility: false });
        await c.createCollection('x', { vectors: { size: 2, distance: 'Dot' } });
        await c.upsert('x', { wait: true, points: [{ id: 1, vector: [1, 1], payload: { source: 'x' } }] });
        expect(await c.count('x', { filter: { must: [{ key: 'source', match: { value: 'x' } }] } })).toEqual({ count: 1 });
        expect(lenient.invalid).toEqual([]);
      } finally {
        await lenient.close();
      }
    });
  });

  describe('query', () => {
    it('scores dense vectors by cosine similarity, best first, with limit, offset and filter', async () => {
      const name = await ragCollection();
      await client.upsert(name, {
        wait: true,
        points: [
          { id: 1, vector: { dense: [1, 0, 0] }, payload: { doc_id: 'a' } },
          { id: 2, vector: { dense: [2, 2, 0] }, payload: { doc_id: 'b' } },
          { id: 3, vector: { dense: [0, 0, 5] }, payload: { doc_id: 'a' } },
        ],
      });
      const { points } = await client.query(name, { query: [3, 1, 0], using: 'dense', with_payload: true });
      const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
      expect(points.map((p) => p.id)).toEqual([1, 2, 3]);
      expect(points[0].score).toBeCloseTo(cos([3, 1, 0], [1, 0, 0]), 6);
      expect(points[1].score).toBeCloseTo(cos([3, 1, 0], [2, 2, 0]), 6);
      expect(points[0]).toMatchObject({ payload: { doc_id: 'a' }, version: expect.any(Number) });
      expect((await client.query(name, { query: [3, 1, 0], using: 'dense', limit: 1, offset: 1 })).points.map((p) => p.id)).toEqual([2]);
      const filtered = await client.query(name, {
        query: { nearest: [3, 1, 0] },
        using: 'dense',
        filter: { must: [{ key: 'doc_id', match: { value: 'a' } }] },
      });
      expect(filtered.points.map((p) => [p.id, p.payload])).toEqual([
        [1, undefined],
        [3, undefined],
      ]);
    });

    it('scores sparse vectors by dot product, with IDF over the collection applied to the query under the idf modifier', async () => {
      const docs = [
        { indices: [1, 2], values: [1, 0.5] },
        { indices: [1], values: [2] },
        { indices: [1, 3], values: [1, 1] },
        { indices: [4], values: [1] },
      ];
      const idf = (n: number, df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (const modifier of ['idf', 'none'] as const) {
        const name = await ragCollection(modifier);
        await client.upsert(name, { wait: true, points: docs.map((bm25, i) => ({ id: i + 1, vector: { dense: [1, 0, 0], bm25 } })) });
        const { points } = await client.query(name, { query: { indices: [1, 3], values: [1, 1] }, using: 'bm25' });
        // Point 4 shares no dimension with the query and is not found at all.
        const w1 = modifier === 'idf' ? idf(4, 3) : 1;
        const w3 = modifier === 'idf' ? idf(4, 1) : 1;
        const expected = new Map([
          [1, w1 * 1],
          [2, w1 * 2],
          [3, w1 * 1 + w3 * 1],
        ]);
        expect(points.map((p) => p.id).sort()).toEqual([1, 2, 3]);
        for (const p of points) expect(p.score).toBeCloseTo(expected.get(p.id as number) ?? NaN, 6);
        expect(points.map((p) => p.score)).toEqual([...points.map((p) => p.score)].sort((a, b) => b - a));
      }
    });

    it('fuses prefetches by reciprocal rank: Qdrant’s default k = 2, or the given k and weights, with filters in the prefetches', async () => {
      const name = await ragCollection();
      await client.upsert(name, {
        wait: true,
        points: [
          { id: 1, vector: { dense: [1, 0, 0], bm25: { indices: [9], values: [0.1] } }, payload: { doc_id: 'a' } },
          { id: 2, vector: { dense: [0.9, 0.1, 0], bm25: { indices: [9], values: [1] } }, payload: { doc_id: 'a' } },
          { id: 3, vector: { dense: [0, 1, 0], bm25: { indices: [9], values: [5] } }, payload: { doc_id: 'b' } },
        ],
      });
      const prefetch = [
        { query: [1, 0, 0], using: 'dense', limit: 10 },
        { query: { indices: [9], values: [1] }, using: 'bm25', limit: 10 },
      ];
      // Dense ranks 1, 2, 3; sparse ranks 3, 2, 1. Each list adds weight-scaled 1 / (k + position), position from 0.
      const scores = (ps: { id: unknown; score: number }[]) => Object.fromEntries(ps.map((p) => [String(p.id), p.score]));
      const byDefault = await client.query(name, { prefetch, query: { fusion: 'rrf' } });
      expect(scores(byDefault.points)).toEqual({
        '1': expect.closeTo(1 / 2 + 1 / 4, 6),
        '2': expect.closeTo(1 / 3 + 1 / 3, 6),
        '3': expect.closeTo(1 / 4 + 1 / 2, 6),
      });
      expect(byDefault.points[2].id).toBe(2);

      const k61 = await client.query(name, { prefetch, query: { rrf: { k: 61 } } });
      expect(scores(k61.points)).toEqual({ '1': expect.closeTo(1 / 61 + 1 / 63, 6), '2': expect.closeTo(2 / 62, 6), '3': expect.closeTo(1 / 63 + 1 / 61, 6) });
      expect((await client.query(name, { prefetch, query: { rrf: { k: 61 } }, limit: 1 })).points).toHaveLength(1);

      // Weight 3 on the dense list: its position p counts as (p + 1) / 3 - 1.
      const weighted = await client.query(name, { prefetch, query: { rrf: { k: 61, weights: [3, 1] } } });
      expect(weighted.points.map((p) => p.id)).toEqual([3, 2, 1]);
      expect(scores(weighted.points)).toEqual({
        '1': expect.closeTo(1 / (1 / 3 + 60) + 1 / 63, 6),
        '2': expect.closeTo(1 / (2 / 3 + 60) + 1 / 62, 6),
        '3': expect.closeTo(1 / 61 + 1 / 61, 6),
      });

      const filter = { must: [{ key: 'doc_id', match: { any: ['a'] } }] };
      const filtered = await client.query(name, { prefetch: prefetch.map((p) => ({ ...p, filter })), query: { rrf: { k: 61 } } });
      expect(filtered.points.map((p) => p.id).sort()).toEqual([1, 2]);
      expect((await failure(client.query(name, { prefetch, query: { rrf: { weights: [1] } } }))).status).toBe(400);
    });

    it('answers 501 for a valid request it does not implement, without calling it invalid', async () => {
      const name = await ragCollection();
      const res = await send('GET', `/collections/${name}/points/1`);
      expect(res.status).toBe(501);
      expect(fake.requests.at(-1)?.problems).toEqual([]);
      expect((await failure(client.query(name, { prefetch: [{ query: [1, 0, 0], using: 'dense' }], query: { fusion: 'dbsf' } }))).status).toBe(501);
    });
  });

  describe('faults and keys', () => {
    it('injects an error answer or a delay into the next matching request only', async () => {
      const name = await ragCollection();
      fake.injectFault({ operationId: 'count_points', after: 1, status: 503, error: 'Service unavailable: try later' });
      expect(await client.count(name, {})).toEqual({ count: 0 });
      expect(await failure(client.count(name, {}))).toEqual({ status: 503, error: 'Service unavailable: try later' });
      expect(await client.count(name, {})).toEqual({ count: 0 });

      fake.injectFault({ operationId: 'collection_exists', delayMs: 150 });
      const started = Date.now();
      await client.collectionExists(name);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('requires the api-key header when started with a key, and never records its value', async () => {
      const guarded = await startFakeQdrant({ apiKey: 'secret-123' });
      try {
        const anonymous = new QdrantClient({ url: guarded.url, checkCompatibility: false });
        expect(await failure(anonymous.getCollections())).toEqual({ status: 401, error: 'Must provide an API key or an Authorization bearer token' });
        const keyed = new QdrantClient({ url: guarded.url, checkCompatibility: false, headers: { 'api-key': 'secret-123' } });
        expect(await keyed.getCollections()).toEqual({ collections: [] });
        expect(guarded.requests.map((r) => r.apiKey)).toEqual([false, true]);
        expect(JSON.stringify(guarded.requests)).not.toContain('secret-123');
      } finally {
        await guarded.close();
      }
    });
  });

  afterEach(() => {
    expect(fake.offSpecResponses).toEqual([]);
  });
});
