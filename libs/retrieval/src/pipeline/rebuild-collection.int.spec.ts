import { startFakeQdrant, type FakeQdrant } from '@rag/fake-qdrant';
import { createLogger } from '@rag/observability';
import type { IngestJobPayload } from '@rag/queue-contracts';
import { captureLogs, tempDir, type TempDir } from '@rag/testing';
import { chunkDocument } from '../chunk/chunk-document';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { searchableText } from '../searchable-text';
import { ParsePool } from '../parse/parse-pool';
import { LanceDbStore } from '../store/lancedb.store';
import { QdrantStore } from '../store/qdrant.store';
import { VersionedVectorStore } from '../store/versioned.store';
import type { LoadedDocument, VectorStore } from '../types';
import { dropRetiredVersion, finishRebuild, rebuildDocument, startReindex, type RebuildRegistry, type RebuildState } from './rebuild-collection';

const TENANT = 'acme';
const embedder = new LocalHashEmbedder(64);
const logger = createLogger({ service: 'test', stream: captureLogs().stream });
const parser = new ParsePool();
afterAll(() => parser.close());

/** The registry's rules (CollectionVersions in @rag/jobs keeps them in Redis), in memory. */
class MemoryRegistry implements RebuildRegistry {
  readonly active = new Map<string, number>();
  readonly holders = new Map<string, RebuildState>();
  readonly records = new Map<string, RebuildState & { state: string; error?: string }>();
  readonly drops: RebuildState[] = [];
  private key = (t: string, c: string) => `${t}/${c}`;
  async activeVersion(t: string, c: string) {
    return this.active.get(this.key(t, c)) ?? 1;
  }
  async rebuildInProgress(t: string, c: string) {
    const h = this.holders.get(this.key(t, c));
    return h && { run_id: h.run_id, to_version: h.to_version };
  }
  async forget(t: string, c: string) {
    this.active.delete(this.key(t, c));
  }
  async beginRebuild(s: RebuildState) {
    if (this.holders.has(this.key(s.tenant, s.collection))) return 'busy' as const;
    if ((await this.activeVersion(s.tenant, s.collection)) !== s.from_version) return 'moved' as const;
    this.holders.set(this.key(s.tenant, s.collection), s);
    this.records.set(s.run_id, { ...s, state: 'rebuilding' });
    return 'started' as const;
  }
  async completeRebuild(s: RebuildState) {
    if (this.holders.get(this.key(s.tenant, s.collection))?.run_id !== s.run_id) return false;
    this.active.set(this.key(s.tenant, s.collection), s.to_version);
    this.holders.delete(this.key(s.tenant, s.collection));
    this.records.set(s.run_id, { ...s, state: 'switched' });
    return true;
  }
  async abortRebuild(s: RebuildState, error: string) {
    if (this.holders.get(this.key(s.tenant, s.collection))?.run_id === s.run_id) this.holders.delete(this.key(s.tenant, s.collection));
    this.records.set(s.run_id, { ...s, state: 'failed', error });
  }
  async rebuildOf(runId: string) {
    return this.records.get(runId);
  }
  async scheduleDrop(s: RebuildState) {
    this.drops.push(s);
  }
}

function page(i: number, words = 'budget rule'): LoadedDocument {
  const text = Array.from({ length: 6 }, (_, j) => `The ${words} ${i}.${j} of team ${i} holds from day ${j}.`).join('\n\n');
  return {
    id: `team-${i}.md`,
    source: `team-${i}.md`,
    title: `Team ${i}`,
    blocks: [{ headings: ['Handbook'], text }],
    contentHash: `${i}`.repeat(64).slice(0, 64),
  };
}

/** Each backend, opened empty. */
const backends: [string, () => Promise<{ store: VectorStore; close(): Promise<void> }>][] = [
  [
    'LanceDB in a temporary folder',
    async () => {
      const dir: TempDir = tempDir('rag-rebuild-');
      const store = await LanceDbStore.open(dir.path);
      return { store, close: async () => (await store.close(), dir.remove()) };
    },
  ],
  [
    'Qdrant (fake-qdrant, requests checked against its OpenAPI description)',
    async () => {
      const fake: FakeQdrant = await startFakeQdrant();
      const store = new QdrantStore({ url: fake.url, timeoutMs: 5000 });
      return {
        store,
        close: async () => {
          expect(fake.invalid).toEqual([]);
          await fake.close();
        },
      };
    },
  ],
];

describe.each(backends)('rebuilding a collection as its next version: %s', (_name, open) => {
  let inner: VectorStore;
  let close: () => Promise<void>;
  let registry: MemoryRegistry;
  let store: VersionedVectorStore;
  /** The run's documents, as the ingest queue would hand them to workers. */
  let queued: Omit<IngestJobPayload, 'signature'>[];
  const failed: { doc_id: string; error: string }[] = [];

  beforeAll(async () => {
    ({ store: inner, close } = await open());
    registry = new MemoryRegistry();
    store = new VersionedVectorStore(inner, registry, 0);
  });
  afterAll(() => close());

  const load = async (collection: string, docs: LoadedDocument[]) => {
    await store.ensureCollection(TENANT, collection, { id: embedder.id, dimension: embedder.dimension });
    for (const doc of docs) {
      const chunks = chunkDocument(doc, { size: 400, overlap: 0 });
      const vectors = await embedder.embed(chunks.map(searchableText));
      await store.replaceDocument(
        TENANT,
        collection,
        doc.id,
        chunks.map((c, i) => ({ ...c, vector: vectors[i] })),
      );
    }
  };
  const start = (collection: string) =>
    startReindex(
      {
        store: inner,
        registry,
        embedder,
        runs: { create: async () => undefined },
        producer: { enqueue: async (drafts) => void (queued = [...drafts]) },
      },
      { tenant: TENANT, collection, graceSeconds: 30 },
    );
  /** What the workers do: each document rebuilt small, then the last one finishes the run. */
  const work = async (fail?: string) => {
    for (const job of queued) {
      try {
        if (job.doc_id === fail) throw new Error('injected failure');
        await rebuildDocument(
          { store: inner, embedder, parser, chunking: { size: 60, overlap: 0 }, embedBatch: 8 },
          { tenant: job.tenant, collection: job.collection, doc_id: job.doc_id, rebuild_from: job.rebuild_from ?? 0, rebuild_to: job.rebuild_to ?? 0 },
        );
      } catch (error) {
        failed.push({ doc_id: job.doc_id, error: (error as Error).message });
      }
    }
    await finishRebuild({ store: inner, registry, logger, failures: async () => [...failed], retryDelaysMs: [5, 5, 5] }, queued[0].run_id);
    failed.length = 0;
  };
  const texts = async (s: VectorStore, collection: string) =>
    (await s.searchText(TENANT, collection, 'budget rule team 2', 50)).map((h) => h.chunk.text).sort();

  it('creates the next version, switches to it in one step, and drops the old one after the grace period', async () => {
    await load('kb', [page(1), page(2), page(3)]);
    const before = await texts(store, 'kb');
    const pinned = await store.pin(TENANT, 'kb');
    const started = await start('kb');
    expect(started).toMatchObject({ from_version: 1, to_version: 2, documents: 3 });
    expect(await inner.collectionVersions(TENANT, 'kb')).toEqual([1, 2]);
    await work();

    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'switched' });
    expect(await store.activeVersion(TENANT, 'kb')).toBe(2);
    const after = await texts(store, 'kb');
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.every((t) => t.length <= 60)).toBe(true);
    // Pinned before the switch: still the old version, until it is dropped.
    expect(await texts(pinned, 'kb')).toEqual(before);
    if (inner instanceof QdrantStore) expect(await inner.publishedCollection(TENANT, 'kb')).toBe('acme.kb.v2');

    expect(registry.drops).toEqual([expect.objectContaining({ run_id: started.run_id, from_version: 1, grace_seconds: 30 })]);
    expect(await dropRetiredVersion({ store: inner, registry, logger }, { tenant: TENANT, collection: 'kb', version: 1 })).toBe(true);
    expect(await inner.collectionVersions(TENANT, 'kb')).toEqual([2]);
    expect(await texts(store, 'kb')).toEqual(after);
    // The version in use is never dropped, whatever the job says.
    expect(await dropRetiredVersion({ store: inner, registry, logger }, { tenant: TENANT, collection: 'kb', version: 2 })).toBe(false);
    expect(await inner.collectionVersions(TENANT, 'kb')).toEqual([2]);
    if (inner instanceof QdrantStore) expect(await inner.publishedCollection(TENANT, 'kb')).toBe('acme.kb.v2');
  });

  it('leaves the old version in use and drops the half-built one when a document fails', async () => {
    await load('kb2', [page(4), page(5)]);
    const before = await texts(store, 'kb2');
    const started = await start('kb2');
    await work('team-5.md');
    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'failed', error: expect.stringContaining('team-5.md: injected failure') });
    expect(await store.activeVersion(TENANT, 'kb2')).toBe(1);
    expect(await inner.collectionVersions(TENANT, 'kb2')).toEqual([1]);
    expect(await texts(store, 'kb2')).toEqual(before);
    expect(await registry.rebuildInProgress(TENANT, 'kb2')).toBeUndefined();
  });

  it('refuses to switch when the documents changed during the rebuild', async () => {
    await load('kb3', [page(6), page(7)]);
    const started = await start('kb3');
    // A write that slipped past the refusal (it began before the rebuild): straight into version 1.
    const extra = chunkDocument(page(8), { size: 400, overlap: 0 });
    const vectors = await embedder.embed(extra.map(searchableText));
    await inner.replaceDocument(
      TENANT,
      'kb3',
      'team-8.md',
      extra.map((c, i) => ({ ...c, vector: vectors[i] })),
    );
    await work();
    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'failed', error: expect.stringContaining('changed during the rebuild (team-8.md)') });
    expect(await store.activeVersion(TENANT, 'kb3')).toBe(1);
    expect(await inner.collectionVersions(TENANT, 'kb3')).toEqual([1]);
  });

  it('switches once when the switch’s answer is lost, keeping the new version', async () => {
    await load('kb4', [page(9), page(10)]);
    const started = await start('kb4');
    const complete = registry.completeRebuild.bind(registry);
    let calls = 0;
    // The switch happens in Redis, then the connection drops before its reply arrives.
    registry.completeRebuild = async (s) => {
      calls++;
      await complete(s);
      throw new Error('Connection is closed.');
    };
    try {
      await work();
    } finally {
      registry.completeRebuild = complete;
    }
    expect(calls).toBe(1);
    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'switched' });
    expect(await store.activeVersion(TENANT, 'kb4')).toBe(2);
    expect(await inner.collectionVersions(TENANT, 'kb4')).toEqual([1, 2]);
    expect(registry.drops.filter((d) => d.run_id === started.run_id)).toHaveLength(1);
  });

  it('tries again while Redis is away, then switches', async () => {
    await load('kb5', [page(11)]);
    const started = await start('kb5');
    const rebuildOf = registry.rebuildOf.bind(registry);
    let refusals = 2;
    registry.rebuildOf = async (runId) => {
      if (refusals-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return rebuildOf(runId);
    };
    try {
      await work();
    } finally {
      registry.rebuildOf = rebuildOf;
    }
    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'switched' });
    expect(await store.activeVersion(TENANT, 'kb5')).toBe(2);
  });

  it('gives up after its tries, releasing the collection with the old version in use', async () => {
    await load('kb6', [page(12)]);
    const started = await start('kb6');
    const compact = inner.compact.bind(inner);
    inner.compact = async () => {
      throw new Error('the store is away');
    };
    try {
      await work();
    } finally {
      inner.compact = compact;
    }
    expect(registry.records.get(started.run_id)).toMatchObject({ state: 'failed', error: expect.stringContaining('the store is away') });
    expect(await store.activeVersion(TENANT, 'kb6')).toBe(1);
    expect(await registry.rebuildInProgress(TENANT, 'kb6')).toBeUndefined();
    expect(await inner.collectionVersions(TENANT, 'kb6')).toEqual([1]);
  });
});
