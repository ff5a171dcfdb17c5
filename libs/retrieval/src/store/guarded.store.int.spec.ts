import { startFakeQdrant, type FakeQdrant } from '@rag/fake-qdrant';
import { BreakerOpenError } from '@rag/core';
import { CollectionNotFoundError } from '../errors';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { ingestDocuments } from '../pipeline/ingest-documents';
import { guardVectorStore } from './guarded.store';
import { LanceDbStore } from './lancedb.store';
import { QdrantStore } from './qdrant.store';
import { chunksOf } from './vector-store.contract';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParsePool } from '../parse/parse-pool';

// The breaker in front of a real Qdrant client talking HTTP to the fake.
describe('guardVectorStore', () => {
  // Documents are parsed in threads, as in the apps.
  const parser = new ParsePool();
  afterAll(() => parser.close());
  let fake: FakeQdrant;

  beforeAll(async () => {
    fake = await startFakeQdrant();
  });

  afterAll(async () => fake?.close());

  it('opens after repeated failures, fails fast while open, and closes after a good trial call', async () => {
    const embedder = new LocalHashEmbedder(32);
    const store = guardVectorStore(new QdrantStore({ url: fake.url }), { failures: 2, halfOpenAfterMs: 300 });
    await ingestDocuments({ store, embedder, parser }, [{ id: 'a.md', read: async () => Buffer.from('# A\n\nAlpha beta gamma.') }], {
      tenant: 'default',
      collection: 'guarded',
      chunking: { size: 500, overlap: 0 },
    });
    const [vector] = await embedder.embed(['alpha']);
    const query = () => store.hybridSearch('default', 'guarded', { text: 'alpha', vector }, 3);
    expect((await query())[0].chunk.docId).toBe('a.md');

    for (let i = 0; i < 2; i++) fake.injectFault({ operationId: 'query_points', status: 503, error: 'overloaded' });
    await expect(query()).rejects.toThrow();
    await expect(query()).rejects.toThrow();
    expect(store.breaker.state).toBe('open');
    const before = fake.requests.length;
    await expect(query()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(fake.requests.length).toBe(before);

    await new Promise((r) => setTimeout(r, 350));
    expect((await query())[0].chunk.docId).toBe('a.md');
    expect(store.breaker.state).toBe('closed');
    expect(store.backend).toBe('qdrant');
  });

  it('does not count permanent errors such as an unknown collection', async () => {
    const store = guardVectorStore(new QdrantStore({ url: fake.url }), { failures: 1, halfOpenAfterMs: 10_000 });
    await expect(store.replaceDocument('default', 'nowhere', 'x', [])).rejects.toBeInstanceOf(CollectionNotFoundError);
    await expect(store.replaceDocument('default', 'nowhere', 'x', [])).rejects.toBeInstanceOf(CollectionNotFoundError);
    expect(store.breaker.state).toBe('closed');
  });

  it("leaves the breaker closed for every tenant when one tenant's collection was dropped by another process", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-guarded-lance-'));
    const inner = await LanceDbStore.open(dir);
    const elsewhere = await LanceDbStore.open(dir);
    const store = guardVectorStore(inner, { failures: 2, halfOpenAfterMs: 60_000 });
    try {
      const embedder = new LocalHashEmbedder(64);
      const builtWith = { id: embedder.id, dimension: embedder.dimension };
      for (const tenant of ['acme', 'globex']) {
        await store.ensureCollection(tenant, 'demo', builtWith);
        await store.replaceDocument(tenant, 'demo', 'a.md', chunksOf('a.md', ['Alpha beta gamma.']));
      }
      const query = { text: 'alpha', vector: embedder.embedOne('alpha') };
      expect(await store.hybridSearch('acme', 'demo', query, 3)).toHaveLength(1);
      await elsewhere.deleteCollection('acme', 'demo');
      for (let i = 0; i < 10; i++) {
        expect(await store.collectionInfo('acme', 'demo')).toBeUndefined();
        expect(await store.hybridSearch('acme', 'demo', query, 3)).toEqual([]);
        expect(await store.documentHash('acme', 'demo', 'a.md')).toBeUndefined();
        await expect(store.replaceDocument('acme', 'demo', 'b.md', chunksOf('b.md', ['x']))).rejects.toBeInstanceOf(CollectionNotFoundError);
      }
      expect(store.breaker.state).toBe('closed');
      expect((await store.hybridSearch('globex', 'demo', query, 3))[0].chunk.docId).toBe('a.md');
    } finally {
      await store.close();
      await elsewhere.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
