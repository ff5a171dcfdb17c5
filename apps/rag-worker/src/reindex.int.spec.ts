import { PermanentError } from '@rag/core';
import { CollectionVersions, DocumentLocks, DocumentProducer, IngestRuns } from '@rag/jobs';
import { JobName } from '@rag/queue-contracts';
import { QueueName } from '@rag/queue-contracts';
import {
  LocalHashEmbedder,
  ReindexInProgressError,
  VersionedVectorStore,
  chunkDocument,
  searchableText,
  startReindex,
  type Chunk,
  type Embedder,
  type LoadedDocument,
  type VectorStore,
} from '@rag/retrieval';
import { dropVersionProcessor } from './drop-version.processor';
import { ingestRunner } from './ingest.processor';
import { TEST_SIGNING } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

const TENANT = 'acme';
/** How the collection was loaded, and how the workers chunk now (the rebuild's new setting). */
const LOADED_WITH = { size: 220, overlap: 60 };
const REBUILT_WITH = { size: 90, overlap: 0 };

function document(i: number, extra = ''): LoadedDocument {
  const facts = Array.from({ length: 8 }, (_, j) => `Policy ${i}.${j} sets the budget for team ${i} at ${j * 10} units.`).join(' ');
  return {
    id: `doc-${i}.md`,
    source: `doc-${i}.md`,
    title: `Policy ${i}`,
    blocks: [{ headings: [`Policy ${i}`], text: facts + extra }],
    contentHash: String(i).repeat(64).slice(0, 64),
  };
}

async function load(store: VectorStore, embedder: Embedder, collection: string, docs: LoadedDocument[]): Promise<void> {
  await store.ensureCollection(TENANT, collection, { id: embedder.id, dimension: embedder.dimension });
  for (const doc of docs) {
    const chunks = chunkDocument(doc, LOADED_WITH);
    const vectors = await embedder.embed(chunks.map(searchableText));
    await store.replaceDocument(
      TENANT,
      collection,
      doc.id,
      chunks.map((c, i) => ({ ...c, vector: vectors[i] })),
    );
  }
}

/** Every chunk of the collection as `store` reads it: id → text. */
async function chunksOf(store: VectorStore, collection: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const doc of await store.listDocuments(TENANT, collection)) {
    for (const c of await store.documentChunks(TENANT, collection, doc.docId)) out.set(c.id, c.text);
  }
  return out;
}

const searchIds = async (store: VectorStore, collection: string, embedder: Embedder): Promise<Chunk[]> => {
  const [vector] = await embedder.embed(['budget for team 3']);
  return (await store.hybridSearch(TENANT, collection, { text: 'budget for team 3', vector }, 5)).map((h) => h.chunk);
};

/** Whether a search through `store` finds chunks, every one of them exactly as `version` holds it. */
async function readsOnly(store: VectorStore, collection: string, version: Map<string, string>): Promise<boolean> {
  const found = await searchIds(store, collection, new LocalHashEmbedder(64));
  return found.length > 0 && found.every((c) => version.get(c.id) === c.text);
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Reindex end to end below the apps: the worker's ingest runner and drop processor
// consuming a real Bull queue on a private redis-server, LanceDB in a temp folder.
describe('reindex (real Redis, Bull and LanceDB)', () => {
  const suite = useWorkerSuite(QueueName.Ingest, 'rag-reindex-');
  const base = new LocalHashEmbedder(64);
  /** Documents whose text holds "poison" cannot be embedded while this is set: a rebuild that fails. */
  let poisoned = false;
  const embedder: Embedder = {
    id: base.id,
    dimension: base.dimension,
    embed: async (texts) => {
      if (poisoned && texts.some((t) => t.includes('poison'))) throw new PermanentError('the embeddings API refused the text');
      return base.embed(texts);
    },
  };
  let versions: CollectionVersions;
  let store: VersionedVectorStore;
  let runs: IngestRuns;
  let producer: DocumentProducer;

  beforeAll(() => {
    versions = new CollectionVersions(suite.client, 'rag', 600, { queue: suite.queue, signing: TEST_SIGNING });
    // No cache: each pin reads the version in use now (the apps cache it for VERSION_CACHE_MS).
    store = new VersionedVectorStore(suite.store, versions, 0);
    runs = new IngestRuns(suite.client, 'rag', 600);
    producer = new DocumentProducer(suite.queue, { ...TEST_SIGNING, JOB_ATTEMPTS: 1, JOB_BACKOFF_MS: 10, JOB_RETENTION_SECONDS: 600 });
    const deps = {
      store,
      embedder,
      runs,
      locks: new DocumentLocks(suite.client, 'rag'),
      parser: suite.parser,
      chunking: REBUILT_WITH,
      embedBatch: 16,
      rebuild: { store: suite.store, registry: versions, failures: async (runId: string) => (await runs.get(runId))?.failures ?? [] },
    };
    void suite.queue.process(JobName.IngestDocument, 2, ingestRunner(deps, suite.runtime()).process);
    void suite.queue.process(
      JobName.DropCollectionVersion,
      1,
      dropVersionProcessor({ store: suite.store, versions, signing: TEST_SIGNING, logger: suite.logger }),
    );
  });

  const reindex = (collection: string, graceSeconds: number) =>
    startReindex({ store: suite.store, registry: versions, runs, producer, embedder }, { tenant: TENANT, collection, graceSeconds });

  it('builds the next version while the old one answers, refuses writes meanwhile, switches in one step and drops the old one after the grace period', async () => {
    const docs = Array.from({ length: 6 }, (_, i) => document(i));
    await load(store, embedder, 'kb', docs);
    const v1 = await chunksOf(store, 'kb');
    const hashes = await store.listDocuments(TENANT, 'kb');
    const before = await store.pin(TENANT, 'kb');

    await suite.queue.pause();
    const started = await reindex('kb', 3600);
    expect(started).toMatchObject({ from_version: 1, to_version: 2, documents: 6 });
    // Rebuilding: questions read version 1, writes and a second rebuild are refused.
    expect(await versions.rebuildInProgress(TENANT, 'kb')).toEqual({ run_id: started.run_id, to_version: 2 });
    const during = await store.pin(TENANT, 'kb');
    expect(await readsOnly(during, 'kb', v1)).toBe(true);
    await expect(store.replaceDocument(TENANT, 'kb', 'new.md', [])).rejects.toBeInstanceOf(ReindexInProgressError);
    await expect(store.deleteDocument(TENANT, 'kb', 'doc-0.md')).rejects.toThrow(/being rebuilt/);
    await expect(store.deleteCollection(TENANT, 'kb')).rejects.toBeInstanceOf(ReindexInProgressError);
    await expect(reindex('kb', 1)).rejects.toBeInstanceOf(ReindexInProgressError);
    expect(await store.collectionVersions(TENANT, 'kb')).toEqual([1, 2]);
    expect(await store.listCollections(TENANT)).toEqual(['kb']);
    await suite.queue.resume();

    const switched = await until(
      () => versions.view(started.run_id),
      (v) => v?.state !== 'rebuilding',
      'the switch',
    );
    expect(switched).toMatchObject({ state: 'switched', from_version: 1, to_version: 2 });
    expect(await versions.activeVersion(TENANT, 'kb')).toBe(2);
    expect(await runs.get(started.run_id)).toMatchObject({ finished: true, added: 6, failed: 0 });
    // The new version holds the same documents (same hashes: a later load of unchanged files skips them), chunked anew.
    const after = await store.pin(TENANT, 'kb');
    expect(await after.listDocuments(TENANT, 'kb')).toEqual(
      expect.arrayContaining(hashes.map((d) => expect.objectContaining({ docId: d.docId, contentHash: d.contentHash }))),
    );
    const v2 = await chunksOf(after, 'kb');
    expect(v2.size).toBeGreaterThan(v1.size);
    expect([...v2.values()].every((text) => text.length <= REBUILT_WITH.size)).toBe(true);
    expect(await readsOnly(after, 'kb', v2)).toBe(true);
    // A question pinned before the switch keeps reading version 1 until it is dropped (the grace period, cut short here).
    expect(await readsOnly(before, 'kb', v1)).toBe(true);
    expect(switched?.drop_at).toBeDefined();
    await (await suite.queue.getJob(`drop-version:${started.run_id}`))?.promote();

    await until(
      () => versions.view(started.run_id),
      (v) => v?.state === 'old_version_dropped',
      'the drop of version 1',
    );
    expect(await store.collectionVersions(TENANT, 'kb')).toEqual([2]);
    expect(await store.listCollections(TENANT)).toEqual(['kb']);
    // Writes go to the version in use again.
    await store.deleteDocument(TENANT, 'kb', 'doc-5.md');
    expect((await store.listDocuments(TENANT, 'kb')).map((d) => d.docId)).not.toContain('doc-5.md');
    expect(await store.documentHash(TENANT, 'kb.v2', 'doc-5.md')).toBeUndefined();
  });

  it('leaves the old version in use, and drops the half-built one, when a document fails', async () => {
    await load(store, embedder, 'kb2', [document(1), document(2, ' This one holds poison.'), document(3)]);
    const v1 = await chunksOf(store, 'kb2');
    poisoned = true;
    try {
      const started = await reindex('kb2', 0);
      const failed = await until(
        () => versions.view(started.run_id),
        (v) => v?.state !== 'rebuilding',
        'the rebuild to fail',
      );
      expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining('doc-2.md') });
      expect(await runs.get(started.run_id)).toMatchObject({ finished: true, failed: 1, failures: [expect.objectContaining({ doc_id: 'doc-2.md' })] });
    } finally {
      poisoned = false;
    }
    expect(await versions.activeVersion(TENANT, 'kb2')).toBe(1);
    expect(await versions.rebuildInProgress(TENANT, 'kb2')).toBeUndefined();
    expect(await store.collectionVersions(TENANT, 'kb2')).toEqual([1]);
    expect(await chunksOf(store, 'kb2')).toEqual(v1);
    // Writable again, and a new rebuild works (the failed version number is free again).
    await store.deleteDocument(TENANT, 'kb2', 'doc-3.md');
    const again = await reindex('kb2', 0);
    expect(again).toMatchObject({ from_version: 1, to_version: 2, documents: 2 });
    await until(
      () => versions.view(again.run_id),
      (v) => v?.state === 'old_version_dropped',
      'the second rebuild',
    );
    expect(await store.collectionVersions(TENANT, 'kb2')).toEqual([2]);
  });

  it('deletes every version of a collection and starts a new one of that name at version 1', async () => {
    await load(store, embedder, 'kb3', [document(7)]);
    const started = await reindex('kb3', 3600);
    await until(
      () => versions.view(started.run_id),
      (v) => v?.state === 'switched',
      'the switch',
    );
    expect(await store.collectionVersions(TENANT, 'kb3')).toEqual([1, 2]);
    expect(await store.deleteCollection(TENANT, 'kb3')).toBe(true);
    expect(await store.collectionVersions(TENANT, 'kb3')).toEqual([]);
    expect(await store.hasCollection(TENANT, 'kb3')).toBe(false);
    expect(await versions.activeVersion(TENANT, 'kb3')).toBe(1);
    // The delayed drop finds version 1 gone and is harmless.
    const drop = await suite.queue.getJob(`drop-version:${started.run_id}`);
    await drop?.promote();
    await until(async () => (await suite.queue.getJob(`drop-version:${started.run_id}`))?.finishedOn, Boolean, 'the drop job');
  });

  // A version may be dropped before its readers are done with it: a grace period of 0, or shorter than the
  // version cache (VERSION_CACHE_MS) or than a question. Their reads go to the version in use, never fail.
  it('reads the version in use when the one a reader cached or pinned is dropped under it (grace period 0)', async () => {
    await load(store, embedder, 'kb4', [document(4), document(5)]);
    const v1 = await chunksOf(store, 'kb4');
    // A process that cached version 1 just before the switch, for longer than the switch and the drop take.
    const cached = new VersionedVectorStore(suite.store, versions, 60_000);
    expect(await readsOnly(await cached.pin(TENANT, 'kb4'), 'kb4', v1)).toBe(true);
    const [staleInfo, staleSearch] = [1, 2].map(() => new VersionedVectorStore(suite.store, versions, 60_000));
    for (const stale of [staleInfo, staleSearch]) expect(await stale.activeVersion(TENANT, 'kb4')).toBe(1);

    // A question that read the collection's info on version 1, then searches after the drop.
    let infoRead!: () => void;
    const readInfo = new Promise<void>((resolve) => (infoRead = resolve));
    let dropped!: () => void;
    const afterDrop = new Promise<void>((resolve) => (dropped = resolve));
    const retries: number[] = [];
    let runs = 0;
    const question = cached.readPinned(
      TENANT,
      'kb4',
      async (pinned) => {
        runs++;
        expect(await pinned.collectionInfo(TENANT, 'kb4')).toBeDefined();
        infoRead();
        await afterDrop;
        return searchIds(pinned, 'kb4', base);
      },
      (version) => retries.push(version),
    );
    await readInfo;

    const started = await reindex('kb4', 0);
    await until(
      () => versions.view(started.run_id),
      (v) => v?.state === 'old_version_dropped' || v?.state === 'failed',
      'the switch and the drop',
    );
    expect(await suite.store.collectionVersions(TENANT, 'kb4')).toEqual([2]);
    const v2 = await chunksOf(store, 'kb4');
    dropped();

    // Run again from the start on version 2: every chunk it found is version 2's.
    const found = await question;
    expect(runs).toBe(2);
    expect(retries).toEqual([2]);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((c) => v2.get(c.id) === c.text)).toBe(true);

    // Plain reads through a cache that still says version 1 find it gone and read version 2 (the cache refreshed).
    expect(await staleInfo.collectionInfo(TENANT, 'kb4')).toMatchObject({ name: 'kb4' });
    expect(await staleInfo.activeVersion(TENANT, 'kb4')).toBe(2);
    expect(await readsOnly(staleSearch, 'kb4', v2)).toBe(true);
    expect(await staleSearch.activeVersion(TENANT, 'kb4')).toBe(2);
  });
});
