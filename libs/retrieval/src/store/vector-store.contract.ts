import { isPermanent } from '@rag/core';
import { CollectionNotFoundError, EmbedderMismatchError, VectorSizeMismatchError } from '../errors';
import { InvalidNameError } from './tenant-namespace';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { searchableText } from '../searchable-text';
import { hybridCandidates, rankedSearch } from '../pipeline/search-collection';
import { embedQueries } from '../embed/feature-rarity';
import type { SearchMode } from '@rag/queue-contracts';
import type { EmbeddedChunk, Embedder, SearchFilter, SearchHit, VectorStore } from '../types';

/** What a backend's spec hands the contract suite. */
export interface ContractHarness {
  store: VectorStore;
  /** Another store on the same backend, as a second process would open it. */
  reopen(): Promise<VectorStore>;
  /** Runs after every case, e.g. to check that a fake server saw only valid requests. */
  afterEach?(): void | Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Prefix of every collection name, so a shared server's other collections are never touched. */
  prefix?: string;
}

/** The tenant of the general cases: not `default`, so names go through the tenant prefix. */
const TENANT = 'acme';
/** Another tenant, with collections of the same names. */
const OTHER = 'globex';

const DIMENSION = 64;
const embedder = new LocalHashEmbedder(DIMENSION);
const builtWith = { id: embedder.id, dimension: embedder.dimension };

interface ChunkSpec {
  text: string;
  heading?: string;
  title?: string;
  page?: number;
  vector?: number[];
}

/** Chunks of one document, embedded by the real local embedder the way ingestion does it (or given a vector). */
export function chunksOf(docId: string, specs: (ChunkSpec | string)[], hash = `hash-of-${docId}`): EmbeddedChunk[] {
  return specs.map((s, position) => {
    const spec = typeof s === 'string' ? { text: s } : s;
    const chunk = {
      id: `${docId}#${position}`,
      docId,
      source: docId,
      title: spec.title ?? `Title ${docId}`,
      heading: spec.heading ?? '',
      position,
      text: spec.text,
      contentHash: hash,
      ...(spec.page ? { page: spec.page } : {}),
    };
    return { ...chunk, vector: spec.vector ?? embedder.embedOne(searchableText(chunk)) };
  });
}

const withoutVector = (c: EmbeddedChunk) => {
  const chunk: Partial<EmbeddedChunk> = { ...c };
  delete chunk.vector;
  return chunk;
};

const ids = (hits: SearchHit[]) => hits.map((h) => h.chunk.id);

/** A unit vector along `axis`, optionally tilted towards `towards` so that its cosine with axis is `cos`. */
function unit(axis: number, cos = 1, towards = axis + 1): number[] {
  const v = new Array<number>(DIMENSION).fill(0);
  v[axis] = cos;
  if (cos < 1) v[towards] = Math.sqrt(1 - cos * cos);
  return v;
}

/**
 * The cases every VectorStore must pass, whatever the backend. A backend's
 * spec calls this with a way to open its store; the same expectations then
 * hold for LanceDB, the Qdrant store against the fake, and a real Qdrant.
 */
export function describeVectorStoreContract(name: string, open: () => Promise<ContractHarness>, options: ContractOptions = {}): void {
  describe(`VectorStore contract: ${name}`, () => {
    let harness: ContractHarness;
    let store: VectorStore;
    let counter = 0;
    const run = `${options.prefix ?? 'c'}${Date.now().toString(36)}`;
    /** A collection name never used before. */
    const unused = () => `${run}-${++counter}`;
    /** A fresh, empty collection built with the test embedder. */
    const fresh = async () => {
      const collection = unused();
      await store.ensureCollection(TENANT, collection, builtWith);
      return collection;
    };

    /** Replaces document `docId` of the tenant's `collection` with chunks made of `specs` (see chunksOf). */
    const write = (collection: string, docId: string, specs: (ChunkSpec | string)[], hash?: string) =>
      store.replaceDocument(TENANT, collection, docId, chunksOf(docId, specs, hash));
    /** A fresh collection holding one document, written as `write` does. */
    const freshWith = async (docId: string, specs: (ChunkSpec | string)[], hash?: string) => {
      const collection = await fresh();
      await write(collection, docId, specs, hash);
      return collection;
    };

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
    });

    afterEach(async () => {
      await harness?.afterEach?.();
    });

    afterAll(async () => {
      await harness?.close();
    });

    describe('collections', () => {
      it('ensureCollection creates the collection with the embedder recorded, and is idempotent', async () => {
        const collection = unused();
        expect(await store.hasCollection(TENANT, collection)).toBe(false);
        expect(await store.collectionInfo(TENANT, collection)).toBeUndefined();

        await store.ensureCollection(TENANT, collection, builtWith);
        expect(await store.hasCollection(TENANT, collection)).toBe(true);
        expect(await store.listCollections(TENANT)).toContain(collection);
        expect(await store.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: { id: 'local-hash-v4-64', dimension: 64 } });

        await write(collection, 'a.md', ['kept across ensureCollection']);
        await store.ensureCollection(TENANT, collection, builtWith);
        await store.ensureCollection(TENANT, collection, { ...builtWith });
        expect(await store.listDocuments(TENANT, collection)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 1 }]);
        expect((await store.listCollections(TENANT)).filter((c) => c === collection)).toHaveLength(1);
      });

      it('creates a collection once when several writers ensure it and write to it at the same time', async () => {
        const collection = unused();
        const docs = ['a.md', 'b.md', 'c.md', 'd.md'];
        await Promise.all(
          docs.map(async (id) => {
            await store.ensureCollection(TENANT, collection, builtWith);
            await write(collection, id, [`text of ${id}`]);
          }),
        );
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(docs);
        expect(await store.searchText(TENANT, collection, 'text', 10)).toHaveLength(4);
        expect(await store.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: builtWith });
      });

      it('rejects another embedder for an existing collection with a permanent EmbedderMismatchError, changing nothing', async () => {
        const collection = await fresh();
        for (const other of [
          { id: 'openai-text-embedding-3-small', dimension: 64 },
          { id: 'local-hash-32', dimension: 32 },
          // The local embedder before Porter2 stems: same size, other vectors.
          { id: 'local-hash-64', dimension: 64 },
        ]) {
          const error = await store.ensureCollection(TENANT, collection, other).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(EmbedderMismatchError);
          expect(isPermanent(error)).toBe(true);
          expect((error as Error).message).toContain('local-hash-v4-64');
          expect((error as Error).message).toContain(other.id);
        }
        expect(await store.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: builtWith });
      });

      it('answers empty for a collection that does not exist, refuses to write to it, and never creates it', async () => {
        const collection = unused();
        expect(await store.hasCollection(TENANT, collection)).toBe(false);
        expect(await store.collectionInfo(TENANT, collection)).toBeUndefined();
        expect(await store.listDocuments(TENANT, collection)).toEqual([]);
        expect(await store.searchVector(TENANT, collection, embedder.embedOne('anything'), 5)).toEqual([]);
        expect(await store.searchText(TENANT, collection, 'anything', 5)).toEqual([]);
        expect(await store.hybridSearch(TENANT, collection, { text: 'anything', vector: embedder.embedOne('anything') }, 5)).toEqual([]);
        await store.deleteDocument(TENANT, collection, 'a.md');
        await store.compact(TENANT, collection);
        for (const chunks of [[], chunksOf('a.md', ['some text'])]) {
          const error = await store.replaceDocument(TENANT, collection, 'a.md', chunks).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(CollectionNotFoundError);
          expect((error as CollectionNotFoundError).collection).toBe(collection);
          expect(isPermanent(error)).toBe(true);
        }
        expect(await store.hasCollection(TENANT, collection)).toBe(false);
        expect(await store.listCollections(TENANT)).not.toContain(collection);
      });

      it('returns no hits and no documents from an empty collection', async () => {
        const collection = await fresh();
        expect(await store.listDocuments(TENANT, collection)).toEqual([]);
        expect(await store.searchVector(TENANT, collection, embedder.embedOne('anything'), 5)).toEqual([]);
        expect(await store.searchText(TENANT, collection, 'anything', 5)).toEqual([]);
        expect(await store.hybridSearch(TENANT, collection, { text: 'anything', vector: embedder.embedOne('anything') }, 5)).toEqual([]);
        await store.compact(TENANT, collection);
      });

      it('lists collections sorted, each independent of the others', async () => {
        const [x, y] = [await fresh(), await fresh()];
        await write(x, 'a.md', ['In x.']);
        await write(y, 'a.md', ['In y.', 'Also in y.']);
        const names = await store.listCollections(TENANT);
        expect(names).toEqual([...names].sort());
        expect(names).toEqual(expect.arrayContaining([x, y]));
        expect(await store.listDocuments(TENANT, x)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 1 }]);
        expect(await store.listDocuments(TENANT, y)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 2 }]);
      });

      /** Runs `use` with a second store on the same backend (as another process would open it), closed afterwards. */
      const withOtherStore = async (use: (other: VectorStore) => Promise<void>) => {
        const other = await harness.reopen();
        try {
          await use(other);
        } finally {
          await other.close();
        }
      };

      it('lets a second store on the same backend see the first one’s collections and writes at once', async () => {
        await withOtherStore(async (other) => {
          const collection = unused();
          expect(await other.collectionInfo(TENANT, collection)).toBeUndefined();
          await store.ensureCollection(TENANT, collection, builtWith);
          expect(await other.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: builtWith });
          await write(collection, 'a.md', ['first version'], 'v1');
          expect(await other.listDocuments(TENANT, collection)).toEqual([{ docId: 'a.md', contentHash: 'v1', chunks: 1 }]);
          await other.replaceDocument(TENANT, collection, 'a.md', chunksOf('a.md', ['second version', 'more'], 'v2'));
          expect(await store.listDocuments(TENANT, collection)).toEqual([{ docId: 'a.md', contentHash: 'v2', chunks: 2 }]);
          expect(ids(await store.searchText(TENANT, collection, 'second', 5))).toEqual(['a.md#0']);
        });
      });

      it('notices a collection another store dropped: reads answer empty, writes fail as not found (permanent), and it can be made again', async () => {
        await withOtherStore(async (other) => {
          const collection = await freshWith('a.md', ['dropped elsewhere']);
          // Everything read once here, so whatever this store keeps open is open.
          expect(ids(await store.hybridSearch(TENANT, collection, { text: 'dropped', vector: embedder.embedOne('dropped') }, 5))).toEqual(['a.md#0']);
          expect(await store.documentHash(TENANT, collection, 'a.md')).toBe('hash-of-a.md');

          expect(await other.deleteCollection(TENANT, collection)).toBe(true);
          expect(await store.hasCollection(TENANT, collection)).toBe(false);
          expect(await store.collectionInfo(TENANT, collection)).toBeUndefined();
          expect(await store.searchText(TENANT, collection, 'dropped', 5)).toEqual([]);
          expect(await store.searchVector(TENANT, collection, embedder.embedOne('dropped'), 5)).toEqual([]);
          expect(await store.hybridSearch(TENANT, collection, { text: 'dropped', vector: embedder.embedOne('dropped') }, 5)).toEqual([]);
          expect(await store.documentHash(TENANT, collection, 'a.md')).toBeUndefined();
          expect(await store.listDocuments(TENANT, collection)).toEqual([]);
          await store.deleteDocument(TENANT, collection, 'a.md');
          await store.compact(TENANT, collection);
          const error = await write(collection, 'b.md', ['too late']).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(CollectionNotFoundError);
          expect(isPermanent(error)).toBe(true);
          expect((error as Error).message).toBe(new CollectionNotFoundError(collection).message);

          await store.ensureCollection(TENANT, collection, builtWith);
          await write(collection, 'b.md', ['phoenix rising']);
          expect(await other.listDocuments(TENANT, collection)).toEqual([{ docId: 'b.md', contentHash: 'hash-of-b.md', chunks: 1 }]);
          expect(ids(await store.searchText(TENANT, collection, 'phoenix', 5))).toEqual(['b.md#0']);
        });
      });

      it('sees a collection another store dropped and made again with another embedder as it is now', async () => {
        await withOtherStore(async (other) => {
          const collection = await freshWith('a.md', ['first life']);
          expect(await store.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: builtWith });
          await other.deleteCollection(TENANT, collection);
          const next = { id: 'openai-text-embedding-3-small', dimension: DIMENSION };
          await other.ensureCollection(TENANT, collection, next);
          expect(await store.collectionInfo(TENANT, collection)).toEqual({ name: collection, embedder: next });
          await expect(store.ensureCollection(TENANT, collection, builtWith)).rejects.toBeInstanceOf(EmbedderMismatchError);
          expect(await store.listDocuments(TENANT, collection)).toEqual([]);
        });
      });
    });

    describe('documents', () => {
      it('finds an upserted chunk and returns every field of it', async () => {
        const collection = await fresh();
        const chunks = chunksOf('guides/setup.md', [
          { text: 'Install Node 20 and run npm ci.', heading: 'Setup > Install', title: 'Setup Guide' },
          { text: 'Start the stack with npm start.', heading: 'Setup > Run', title: 'Setup Guide' },
        ]);
        await store.replaceDocument(TENANT, collection, 'guides/setup.md', chunks);
        const hits = await store.searchVector(TENANT, collection, chunks[1].vector, 10);
        expect(hits.map((h) => h.chunk)).toEqual([withoutVector(chunks[1]), withoutVector(chunks[0])]);
        expect((await store.searchText(TENANT, collection, 'install', 10)).map((h) => h.chunk)).toEqual([withoutVector(chunks[0])]);
        const hybrid = await store.hybridSearch(TENANT, collection, { text: 'start the stack', vector: embedder.embedOne('start the stack') }, 10);
        expect(hybrid[0].chunk).toEqual(withoutVector(chunks[1]));
      });

      it("reads one document's hash, and nothing for a document or collection that does not exist", async () => {
        const collection = await freshWith('a.md', ['One.', 'Two.'], 'hash-a');
        await write(collection, "it's.md", ['Three.'], 'hash-q');
        expect(await store.documentHash(TENANT, collection, 'a.md')).toBe('hash-a');
        expect(await store.documentHash(TENANT, collection, "it's.md")).toBe('hash-q');
        expect(await store.documentHash(TENANT, collection, 'b.md')).toBeUndefined();
        expect(await store.documentHash(OTHER, collection, 'a.md')).toBeUndefined();
        expect(await store.documentHash(TENANT, unused(), 'a.md')).toBeUndefined();
        await write(collection, 'a.md', ['One again.'], 'hash-a2');
        expect(await store.documentHash(TENANT, collection, 'a.md')).toBe('hash-a2');
      });

      it('keeps the page of a chunk from a paged document, and no page for others', async () => {
        const collection = await fresh();
        const pdf = chunksOf('manual.pdf', [
          { text: 'Safety rules for the lab.', page: 1 },
          { text: 'Emergency exits are marked green.', page: 7 },
        ]);
        await store.replaceDocument(TENANT, collection, 'manual.pdf', pdf);
        await write(collection, 'notes.md', ['Exits are also listed in the notes.']);
        const hits = await store.searchText(TENANT, collection, 'exits', 10);
        const byId = Object.fromEntries(hits.map((h) => [h.chunk.id, h.chunk]));
        expect(byId['manual.pdf#1']).toEqual(withoutVector(pdf[1]));
        expect(byId['manual.pdf#1'].page).toBe(7);
        expect(byId['notes.md#0']).not.toHaveProperty('page');
      });

      it('lists documents sorted by id with their hash and chunk count', async () => {
        const collection = await freshWith('b.md', ['b one', 'b two', 'b three'], 'hb');
        await write(collection, 'a.md', ['a one'], 'ha');
        await write(collection, 'C.md', ['c one', 'c two'], 'hc');
        expect(await store.listDocuments(TENANT, collection)).toEqual([
          { docId: 'a.md', contentHash: 'ha', chunks: 1 },
          { docId: 'b.md', contentHash: 'hb', chunks: 3 },
          { docId: 'C.md', contentHash: 'hc', chunks: 2 },
        ]);
      });

      it('replaces all chunks of a document: a shrunk document loses its old chunks, others are untouched', async () => {
        const collection = await freshWith(
          'policy.md',
          ['Refunds within 30 days.', 'Obsolete clause about zeppelins.', 'Another retired paragraph about dirigibles.'],
          'v1',
        );
        await write(collection, 'other.md', ['Zeppelins are airships.'], 'o1');

        const v2 = chunksOf('policy.md', ['Refunds within 14 days.'], 'v2');
        await store.replaceDocument(TENANT, collection, 'policy.md', v2);

        expect(await store.listDocuments(TENANT, collection)).toEqual([
          { docId: 'other.md', contentHash: 'o1', chunks: 1 },
          { docId: 'policy.md', contentHash: 'v2', chunks: 1 },
        ]);
        const all = await store.searchVector(TENANT, collection, v2[0].vector, 100);
        expect(ids(all).sort()).toEqual(['other.md#0', 'policy.md#0']);
        expect(all.find((h) => h.chunk.id === 'policy.md#0')?.chunk.text).toBe('Refunds within 14 days.');
        expect(ids(await store.searchText(TENANT, collection, 'zeppelins', 10))).toEqual(['other.md#0']);
        expect(await store.searchText(TENANT, collection, 'dirigibles', 10)).toEqual([]);
      });

      it('replaces all chunks of a document: a grown document has every new chunk and none of the old text', async () => {
        const collection = await freshWith('faq.md', ['Old answer about fax machines.'], 'v1');
        const v2 = chunksOf('faq.md', ['Printers are on every floor.', 'Scanners send to email.', 'Badges open the doors.', 'Lockers need a padlock.'], 'v2');
        await store.replaceDocument(TENANT, collection, 'faq.md', v2);
        expect(await store.listDocuments(TENANT, collection)).toEqual([{ docId: 'faq.md', contentHash: 'v2', chunks: 4 }]);
        expect(await store.searchText(TENANT, collection, 'fax', 10)).toEqual([]);
        expect(ids(await store.searchText(TENANT, collection, 'padlock', 10))).toEqual(['faq.md#3']);
        expect(ids(await store.searchVector(TENANT, collection, v2[0].vector, 10)).sort()).toEqual(['faq.md#0', 'faq.md#1', 'faq.md#2', 'faq.md#3']);
        expect((await store.searchVector(TENANT, collection, v2[0].vector, 1))[0].chunk.text).toBe('Printers are on every floor.');
      });

      it('removes a document when replaced by no chunks', async () => {
        const collection = await freshWith('a.md', ['one', 'two']);
        await write(collection, 'b.md', ['three']);
        await store.replaceDocument(TENANT, collection, 'a.md', []);
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(['b.md']);
      });

      it('refuses chunks of another document and writes nothing', async () => {
        const collection = await freshWith('a.md', ['kept']);
        await expect(store.replaceDocument(TENANT, collection, 'a.md', [...chunksOf('a.md', ['new']), ...chunksOf('b.md', ['intruder'])])).rejects.toThrow(
          /belongs to b\.md/,
        );
        expect(await store.listDocuments(TENANT, collection)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 1 }]);
        expect((await store.searchText(TENANT, collection, 'kept', 5)).map((h) => h.chunk.text)).toEqual(['kept']);
      });

      it('deletes only the named document', async () => {
        const collection = await freshWith('a.md', ['alpha one', 'alpha two']);
        await write(collection, 'b.md', ['beta one']);
        await store.deleteDocument(TENANT, collection, 'a.md');
        expect(await store.listDocuments(TENANT, collection)).toEqual([{ docId: 'b.md', contentHash: 'hash-of-b.md', chunks: 1 }]);
        expect(await store.searchText(TENANT, collection, 'alpha', 5)).toEqual([]);
        await store.deleteDocument(TENANT, collection, 'never-there.md');
        expect(await store.listDocuments(TENANT, collection)).toHaveLength(1);
      });

      it('handles document ids holding quotes, SQL-looking text and non-ASCII characters', async () => {
        const collection = await fresh();
        const tricky = 'it\'s a "doc" OR 1=1; --.md';
        const unicode = 'Handbücher/Übersicht — 概要.md';
        await write(collection, tricky, ['quoted id text']);
        await write(collection, unicode, ['unicode id text']);
        await write(collection, 'plain.md', ['plain text']);
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId).sort()).toEqual([tricky, unicode, 'plain.md'].sort());
        const filtered = await store.searchVector(TENANT, collection, embedder.embedOne('text'), 10, { sources: [tricky] });
        expect(filtered.map((h) => h.chunk.docId)).toEqual([tricky]);
        expect((await store.searchText(TENANT, collection, 'text', 10, { sources: [unicode] })).map((h) => h.chunk.docId)).toEqual([unicode]);
        await write(collection, tricky, ['replaced text', 'second']);
        expect(await store.listDocuments(TENANT, collection)).toContainEqual({ docId: tricky, contentHash: `hash-of-${tricky}`, chunks: 2 });
        await store.deleteDocument(TENANT, collection, tricky);
        await store.deleteDocument(TENANT, collection, unicode);
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(['plain.md']);
      });
    });

    describe('search', () => {
      it('ranks vector hits by cosine similarity, an identical vector scoring 1', async () => {
        const collection = await freshWith(
          'hr.md',
          ['Employees get 25 vacation days per year.', 'Parking is free behind building B.', 'Expense claims are paid monthly.'],
          'h',
        );
        const query = embedder.embedOne('How many vacation days do employees get?');
        const hits = await store.searchVector(TENANT, collection, query, 3);
        expect(hits[0].chunk.text).toBe('Employees get 25 vacation days per year.');
        expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
        // The score is the cosine similarity of the two unit vectors.
        const stored = chunksOf('hr.md', ['Employees get 25 vacation days per year.'])[0].vector;
        const cosine = stored.reduce((s, x, i) => s + x * query[i], 0);
        expect(hits[0].score).toBeCloseTo(cosine, 4);

        const exact = await store.searchVector(TENANT, collection, stored, 1);
        expect(exact[0].score).toBeCloseTo(1, 5);
        expect(await store.searchVector(TENANT, collection, query, 2)).toHaveLength(2);
      });

      it('filters vector, text and hybrid search by document ids', async () => {
        const collection = await fresh();
        for (const id of ['a.md', 'b.md', 'c.md']) await write(collection, id, [`shared backup words in ${id}`, `more backup notes ${id}`]);
        const vectorHits = await store.searchVector(TENANT, collection, embedder.embedOne('backup words'), 10, { sources: ['a.md', 'c.md'] });
        expect(vectorHits).toHaveLength(4);
        expect(new Set(vectorHits.map((h) => h.chunk.docId))).toEqual(new Set(['a.md', 'c.md']));
        const textHits = await store.searchText(TENANT, collection, 'backup', 10, { sources: ['b.md'] });
        expect(ids(textHits).sort()).toEqual(['b.md#0', 'b.md#1']);
        const hybridHits = await store.hybridSearch(TENANT, collection, { text: 'backup', vector: embedder.embedOne('backup') }, 10, {
          sources: ['c.md', 'c.md'],
        });
        expect(ids(hybridHits).sort()).toEqual(['c.md#0', 'c.md#1']);
        // An empty source list means no filter.
        expect(await store.searchText(TENANT, collection, 'backup', 10, { sources: [] })).toHaveLength(6);
        expect(await store.hybridSearch(TENANT, collection, { text: 'backup', vector: embedder.embedOne('backup') }, 10, { sources: [] })).toHaveLength(6);
        expect(await store.searchVector(TENANT, collection, embedder.embedOne('backup'), 10, { sources: ['nope.md'] })).toEqual([]);
        expect(await store.hybridSearch(TENANT, collection, { text: 'backup', vector: embedder.embedOne('backup') }, 10, { sources: ['nope.md'] })).toEqual([]);
      });

      it('filters before it limits: a small limit still fills up from the chosen documents', async () => {
        const collection = await fresh();
        for (let d = 0; d < 8; d++) await write(collection, `d${d}.md`, [`backup policy part one of d${d}`, `backup policy part two of d${d}`]);
        const only = { sources: ['d5.md'] };
        expect(ids(await store.searchVector(TENANT, collection, embedder.embedOne('backup policy'), 2, only)).sort()).toEqual(['d5.md#0', 'd5.md#1']);
        expect(ids(await store.searchText(TENANT, collection, 'backup policy', 2, only)).sort()).toEqual(['d5.md#0', 'd5.md#1']);
        expect(
          ids(await store.hybridSearch(TENANT, collection, { text: 'backup policy', vector: embedder.embedOne('backup policy') }, 2, only)).sort(),
        ).toEqual(['d5.md#0', 'd5.md#1']);
      });

      it('returns full-text hits best first, and the best ones when limited, before and after compaction', async () => {
        const collection = await fresh();
        const texts = [
          'Spending plans are approved by the board.',
          'The budget is set in March.',
          'Quarterly budget review for the board.',
          'Budget notes.',
          'Coffee machines are cleaned on Fridays.',
        ];
        await write(
          collection,
          'f.md',
          texts.map((text) => ({ text, title: 'Finance' })),
        );
        const check = async () => {
          const all = await store.searchText(TENANT, collection, 'quarterly budget review', 10);
          expect(all[0].chunk.id).toBe('f.md#2');
          expect(all.map((h) => h.score)).toEqual([...all.map((h) => h.score)].sort((a, b) => b - a));
          expect(ids(await store.searchText(TENANT, collection, 'quarterly budget review', 1))).toEqual(['f.md#2']);
        };
        await check();
        // Every row replaced: an index that held rows now holds none of the live ones.
        await store.compact(TENANT, collection);
        await write(
          collection,
          'f.md',
          texts.map((text) => ({ text, title: 'Finance' })),
          'v2',
        );
        await check();
        await store.compact(TENANT, collection);
        await check();
      });

      it('finds chunks by full text, including words only in their title or heading', async () => {
        const collection = await freshWith('leave.md', [
          { text: 'You get twelve weeks.', heading: 'Parental leave', title: 'Handbook' },
          { text: 'Sick days need a note.', heading: 'Sickness', title: 'Handbook' },
        ]);
        await write(collection, 'it.md', [{ text: 'Laptops are replaced every three years.', heading: 'Hardware', title: 'IT' }]);
        expect(ids(await store.searchText(TENANT, collection, 'parental', 10))).toEqual(['leave.md#0']);
        const byText = await store.searchText(TENANT, collection, 'laptops replaced', 10);
        expect(byText[0].chunk.id).toBe('it.md#0');
        expect(byText[0].score).toBeGreaterThan(0);
        expect(await store.searchText(TENANT, collection, 'xylophone', 10)).toEqual([]);
      });

      it('matches inflected forms of the query words in full-text search', async () => {
        const collection = await fresh();
        const specs = ['Employees are reimbursed for travelling expenses.', 'The canteen opens at noon.'].map((text) => ({ text, title: 'Handbook' }));
        await write(collection, 'h.md', specs);
        for (const query of ['employee reimbursement', 'travel expense', 'EXPENSE', 'reimburses']) {
          expect(ids(await store.searchText(TENANT, collection, query, 5))).toEqual(['h.md#0']);
        }
      });

      it('ranks first, in hybrid search, the chunk that both the vector and the words match', async () => {
        const collection = await fresh();
        const query = { text: 'quarterly budget review', vector: unit(0) };
        await write(collection, 'finance.md', [
          // Nearest vector, none of the words.
          { text: 'Spending plans are approved by the board.', title: 'Finance', vector: unit(0) },
          // A close vector and one of the words.
          { text: 'The budget is set in March.', title: 'Finance', vector: unit(0, 0.9, 1) },
          // All of the words, the farthest vector.
          { text: 'Quarterly budget review for the board.', title: 'Finance', vector: unit(0).map((x) => -x) },
          { text: 'Coffee machines are cleaned on Fridays.', title: 'Finance', vector: unit(0, 0.5, 3) },
          { text: 'Visitors sign in at reception.', title: 'Finance', vector: unit(0, 0.4, 4) },
        ]);
        expect(ids(await store.searchVector(TENANT, collection, query.vector, 5))).toEqual([
          'finance.md#0',
          'finance.md#1',
          'finance.md#3',
          'finance.md#4',
          'finance.md#2',
        ]);
        expect(ids(await store.searchText(TENANT, collection, query.text, 5))).toEqual(['finance.md#2', 'finance.md#1']);

        // Reciprocal rank fusion, 1 / (60 + rank) from each list: second in both beats first in one.
        const hybrid = await store.hybridSearch(TENANT, collection, query, 3);
        expect(ids(hybrid)).toEqual(['finance.md#1', 'finance.md#2', 'finance.md#0']);
        [1 / 62 + 1 / 62, 1 / 61 + 1 / 65, 1 / 61].forEach((score, i) => expect(hybrid[i].score).toBeCloseTo(score, 6));
        expect(ids(await store.hybridSearch(TENANT, collection, query, 1))).toEqual(['finance.md#1']);

        // Weighted: the dense ranking at 0.3 (a lexical embedder's), full-text's at 1: full-text's first now leads.
        const weighted = await store.hybridSearch(TENANT, collection, { ...query, denseWeight: 0.3 }, 3);
        expect(ids(weighted)).toEqual(['finance.md#2', 'finance.md#1', 'finance.md#0']);
        [0.3 / 65 + 1 / 61, 0.3 / 62 + 1 / 62, 0.3 / 61].forEach((score, i) => expect(weighted[i].score).toBeCloseTo(score, 6));
      });

      it('ranks a hybrid search whose words are all stop words by the vector alone', async () => {
        const collection = await freshWith('a.md', [
          { text: 'Alpha.', vector: unit(5) },
          { text: 'Beta.', vector: unit(6) },
          { text: 'Gamma.', vector: unit(5, 0.8, 7) },
        ]);
        const hits = await store.hybridSearch(TENANT, collection, { text: 'what is it and where', vector: unit(5) }, 3);
        expect(ids(hits)).toEqual(['a.md#0', 'a.md#2', 'a.md#1']);
        expect(hits[0].score).toBeCloseTo(1 / 61, 6);
        const weighted = await store.hybridSearch(TENANT, collection, { text: 'what is it and where', vector: unit(5), denseWeight: 0.3 }, 3);
        expect(ids(weighted)).toEqual(['a.md#0', 'a.md#2', 'a.md#1']);
        expect(weighted[0].score).toBeCloseTo(0.3 / 61, 6);
      });

      it('takes user text literally: quotes and operators never throw', async () => {
        const collection = await freshWith('lang.md', ['We write services in C++ and Rust.', 'The x factor matters.']);
        for (const text of [
          '"C++" OR (x)',
          'title:rust',
          'C++ AND NOT (',
          "it's",
          '*',
          '\\',
          'a"b',
          '+rust -c',
          'rust^2',
          'ru?t~',
          '[a TO z]',
          '{}',
          '(((',
          "'; DROP TABLE x; --",
          '$where',
          '{"$gt": ""}',
        ]) {
          await expect(store.searchText(TENANT, collection, text, 5)).resolves.toEqual(expect.any(Array));
          await expect(store.hybridSearch(TENANT, collection, { text, vector: embedder.embedOne(text) }, 5)).resolves.toEqual(expect.any(Array));
        }
        expect(ids(await store.searchText(TENANT, collection, 'rust OR (x)', 5))).toContain('lang.md#0');
        expect(await store.searchText(TENANT, collection, '   ', 5)).toEqual([]);
      });

      it('rejects vectors of the wrong size with a permanent VectorSizeMismatchError', async () => {
        const collection = await freshWith('a.md', ['sixty-four dimensions']);
        const wrong = chunksOf('b.md', ['other']).map((c) => ({ ...c, vector: new LocalHashEmbedder(32).embedOne(c.text) }));
        const onWrite = await store.replaceDocument(TENANT, collection, 'b.md', wrong).catch((e: unknown) => e);
        expect(onWrite).toBeInstanceOf(VectorSizeMismatchError);
        expect(isPermanent(onWrite)).toBe(true);
        expect((onWrite as Error).message).toMatch(/64.*32/);
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(['a.md']);

        const onSearch = await store.searchVector(TENANT, collection, new Array(100).fill(0.1), 3).catch((e: unknown) => e);
        expect(onSearch).toBeInstanceOf(VectorSizeMismatchError);
        expect((onSearch as Error).message).toMatch(/64.*100/);
        const onHybrid = await store.hybridSearch(TENANT, collection, { text: 'dimensions', vector: new Array(16).fill(0.1) }, 3).catch((e: unknown) => e);
        expect(onHybrid).toBeInstanceOf(VectorSizeMismatchError);
        expect((onHybrid as Error).message).toMatch(/64.*16/);
      });
    });

    describe('search modes (rankedSearch: the search API over this store)', () => {
      const HANDBOOK = [
        'New employees get 25 vacation days per year, starting from their first day.',
        'After five years with the company, the vacation allowance rises to 30 days per year.',
        'Parental leave is 16 weeks at full pay for every parent.',
        'Travel expenses are reimbursed within 30 days of a claim.',
        'The on-call rota changes every Monday at 10:00.',
        'Laptops are replaced every three years by the IT desk.',
        'Badges for the zygomorphic atrium are issued at reception.',
        'The canteen serves lunch from noon until two.',
      ];
      const FAQ = ['How many vacation days do contractors get? Contractors get no paid vacation days.', 'Who approves travel? Your manager approves travel.'];
      const MODES = ['hybrid', 'vector', 'text'] as const;
      const deps = () => ({ store, embedder });
      const search = (collection: string, query: string, mode: SearchMode, topK = 10, filter?: SearchFilter, tenant = TENANT) =>
        rankedSearch(deps(), { tenant, collection, query, topK, mode, ...(filter ? { filter } : {}) });
      /** The query's vector as searches embed it: weighted by its features' rarity in the collection (embed/feature-rarity.ts). */
      const queryVector = async (query: string) => (await embedQueries(deps(), TENANT, collection, [query]))[0];
      let collection: string;

      beforeAll(async () => {
        collection = unused();
        await store.ensureCollection(TENANT, collection, builtWith);
        await write(
          collection,
          'handbook.md',
          HANDBOOK.map((text) => ({ text, title: 'Handbook' })),
        );
        await write(
          collection,
          'faq.md',
          FAQ.map((text) => ({ text, title: 'FAQ' })),
        );
        await store.compact(TENANT, collection);
      });

      it('text mode finds the one chunk holding an exact rare term, ranked by the full-text retriever only', async () => {
        const hits = await search(collection, 'zygomorphic', 'text');
        expect(ids(hits)).toEqual(['handbook.md#6']);
        expect(hits[0].ranks).toEqual({ text: 1 });
        expect(hits[0].score).toBeGreaterThan(0);
        const several = await search(collection, 'vacation days', 'text');
        expect(several.length).toBeGreaterThan(1);
        several.forEach((hit, i) => expect(hit.ranks).toEqual({ text: i + 1 }));
        expect(ids(several)).toEqual(ids(await store.searchText(TENANT, collection, 'vacation days', 10)));
      });

      it('vector mode ranks by the dense retriever alone: ranks.vector only, as searchVector ranks', async () => {
        const hits = await search(collection, 'how many vacation days', 'vector', 4);
        expect(hits).toHaveLength(4);
        hits.forEach((hit, i) => expect(hit.ranks).toEqual({ vector: i + 1 }));
        expect(ids(hits)).toEqual(ids(await store.searchVector(TENANT, collection, await queryVector('how many vacation days'), 4)));
        expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
      });

      it('hybrid mode carries both ranks where both retrievers returned the chunk, each as that retriever ranked it', async () => {
        const query = 'vacation days for contractors';
        const hits = await search(collection, query, 'hybrid', 10);
        const candidates = hybridCandidates(10);
        const dense = ids(await store.searchVector(TENANT, collection, await queryVector(query), candidates));
        const text = ids(await store.searchText(TENANT, collection, query, candidates));
        expect(hits).toHaveLength(10);
        for (const hit of hits) {
          const v = dense.indexOf(hit.chunk.id);
          const t = text.indexOf(hit.chunk.id);
          expect(hit.ranks).toEqual({ ...(v >= 0 ? { vector: v + 1 } : {}), ...(t >= 0 ? { text: t + 1 } : {}) });
        }
        expect(hits.filter((h) => h.ranks.vector && h.ranks.text).length).toBeGreaterThan(0);
        expect(hits.filter((h) => h.ranks.vector && !h.ranks.text).length).toBeGreaterThan(0);
        // The chunk both retrievers put first is first.
        expect(hits[0].chunk.id).toBe('faq.md#0');
        expect(hits[0].ranks).toEqual({ vector: 1, text: 1 });
        expect(hits[0].score).toBeCloseTo((((embedder as Embedder).fusionWeight ?? 1) + 1) / 61, 6);
      });

      it("hybrid mode weighs the dense ranking by deps.denseWeight (rag-ingest eval --dense-weights): each score is weight / (60 + its rank) plus full-text search's 1 / (60 + its rank)", async () => {
        for (const denseWeight of [0.25, 3]) {
          const hits = await rankedSearch(
            { ...deps(), denseWeight },
            { tenant: TENANT, collection, query: 'vacation days for contractors', topK: 10, mode: 'hybrid' },
          );
          expect(hits.length).toBeGreaterThan(2);
          for (const hit of hits) {
            const { vector, text } = hit.ranks;
            expect(hit.score).toBeCloseTo((vector ? denseWeight / (60 + vector) : 0) + (text ? 1 / (60 + text) : 0), 9);
          }
        }
      });

      it('hybrid mode ranks and scores as hybridSearch does (what answers are retrieved with)', async () => {
        const query = 'travel days';
        const all = HANDBOOK.length + FAQ.length;
        const mine = await search(collection, query, 'hybrid', all);
        const theirs = await store.hybridSearch(
          TENANT,
          collection,
          { text: query, vector: await queryVector(query), denseWeight: (embedder as Embedder).fusionWeight },
          all,
        );
        // Equal scores may come in either order (a store may fuse inside the backend): compare the chunks at each score.
        const byScore = (hits: SearchHit[]) =>
          hits.reduce<Record<string, string[]>>((acc, h) => ({ ...acc, [h.score.toFixed(9)]: [...(acc[h.score.toFixed(9)] ?? []), h.chunk.id].sort() }), {});
        expect(byScore(mine)).toEqual(byScore(theirs));
        expect(mine.map((h) => h.score)).toEqual([...mine.map((h) => h.score)].sort((a, b) => b - a));
      });

      it.each(MODES)('%s mode honours filters.sources', async (mode) => {
        const query = 'vacation days travel';
        const unfiltered = await search(collection, query, mode);
        expect(new Set(unfiltered.map((h) => h.chunk.docId))).toEqual(new Set(['handbook.md', 'faq.md']));
        const filtered = await search(collection, query, mode, 10, { sources: ['faq.md'] });
        expect(filtered.length).toBeGreaterThan(0);
        for (const hit of filtered) expect(hit.chunk.docId).toBe('faq.md');
        expect(await search(collection, query, mode, 10, { sources: ['nowhere.md'] })).toEqual([]);
      });

      it.each(MODES)('%s mode returns at most top_k results', async (mode) => {
        const query = 'days year vacation travel every';
        expect(await search(collection, query, mode, 2)).toHaveLength(2);
        expect(await search(collection, query, mode, 1)).toHaveLength(1);
        const many = await search(collection, query, mode, 50);
        expect(many.length).toBeGreaterThan(2);
        expect(many.length).toBeLessThanOrEqual(HANDBOOK.length + FAQ.length);
        expect(new Set(ids(many)).size).toBe(many.length);
      });

      it('refuses an unknown collection, or another tenant’s, with CollectionNotFoundError in every mode', async () => {
        for (const mode of MODES) {
          await expect(search(unused(), 'vacation', mode)).rejects.toBeInstanceOf(CollectionNotFoundError);
          await expect(search(collection, 'vacation', mode, 10, undefined, OTHER)).rejects.toBeInstanceOf(CollectionNotFoundError);
        }
      });

      it('refuses vector and hybrid search with another embedder than the collection was built with; text search needs none', async () => {
        const other = new LocalHashEmbedder(32);
        for (const mode of ['hybrid', 'vector'] as const) {
          const error = await rankedSearch({ store, embedder: other }, { tenant: TENANT, collection, query: 'vacation', topK: 3, mode }).catch(
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(EmbedderMismatchError);
          expect((error as Error).message).toContain('local-hash-v4-64');
          expect((error as Error).message).toContain('local-hash-v4-32');
        }
        const text = await rankedSearch({ store, embedder: other }, { tenant: TENANT, collection, query: 'zygomorphic', topK: 3, mode: 'text' });
        expect(ids(text)).toEqual(['handbook.md#6']);
      });

      it('finds nothing for a text query of stop words only; hybrid then ranks by the vector alone', async () => {
        expect(await search(collection, 'what is it and where', 'text')).toEqual([]);
        const hybrid = await search(collection, 'what is it and where', 'hybrid', 3);
        expect(hybrid).toHaveLength(3);
        hybrid.forEach((hit, i) => expect(hit.ranks).toEqual({ vector: i + 1 }));
      });
    });

    describe('versions (reindex builds the next one beside the one in use)', () => {
      it('keeps version 2 of a collection apart from version 1, lists the collection once, and drops one version alone', async () => {
        const collection = await freshWith('a.md', ['Version one says the budget is ten.', 'Version one adds a second chunk.']);
        const v2 = `${collection}.v2`;
        await store.ensureCollection(TENANT, v2, builtWith);
        await write(v2, 'a.md', ['Version two says the budget is twenty.'], 'hash-of-a.md');
        await write(v2, 'b.md', ['Version two has another document.']);

        expect((await store.listCollections(TENANT)).filter((c) => c === collection)).toEqual([collection]);
        expect(await store.collectionVersions(TENANT, collection)).toEqual([1, 2]);
        expect(await store.collectionVersions(OTHER, collection)).toEqual([]);
        expect(await store.collectionInfo(TENANT, v2)).toEqual({ name: v2, embedder: { id: 'local-hash-v4-64', dimension: 64 } });
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(['a.md']);
        expect((await store.listDocuments(TENANT, v2)).map((d) => d.docId)).toEqual(['a.md', 'b.md']);
        expect((await store.searchText(TENANT, collection, 'budget', 5)).map((h) => h.chunk.text)).toEqual(['Version one says the budget is ten.']);
        expect((await store.searchText(TENANT, v2, 'budget', 5)).map((h) => h.chunk.text)).toEqual(['Version two says the budget is twenty.']);

        expect(await store.deleteCollection(TENANT, v2)).toBe(true);
        expect(await store.collectionVersions(TENANT, collection)).toEqual([1]);
        expect(await store.hasCollection(TENANT, collection)).toBe(true);
      });

      it("sampleChunks gives up to `limit` of the collection's chunks (title, heading, text), the same ones twice, and nothing of another tenant's or an unknown collection", async () => {
        const collection = await freshWith('a.md', [{ text: 'Alpha one.', heading: 'A > One' }, 'Alpha two.', 'Alpha three.']);
        await write(collection, 'b.md', ['Beta one.', 'Beta two.']);
        await store.ensureCollection(OTHER, collection, builtWith);
        await store.replaceDocument(OTHER, collection, 'c.md', chunksOf('c.md', ['Gamma of the other tenant.']));
        const all = await store.sampleChunks(TENANT, collection, 100);
        const key = (c: { title: string; heading: string; text: string }) => `${c.title}|${c.heading}|${c.text}`;
        expect(all.map(key).sort()).toEqual(
          [...chunksOf('a.md', [{ text: 'Alpha one.', heading: 'A > One' }, 'Alpha two.', 'Alpha three.']), ...chunksOf('b.md', ['Beta one.', 'Beta two.'])]
            .map(key)
            .sort(),
        );
        const three = await store.sampleChunks(TENANT, collection, 3);
        expect(three).toHaveLength(3);
        expect(await store.sampleChunks(TENANT, collection, 3)).toEqual(three);
        for (const chunk of three) expect(Object.keys(chunk).sort()).toEqual(['heading', 'text', 'title']);
        expect((await store.sampleChunks(OTHER, collection, 100)).map((c) => c.text)).toEqual(['Gamma of the other tenant.']);
        expect(await store.sampleChunks(TENANT, unused(), 100)).toEqual([]);
      });

      it("documentChunks gives a document's chunks in order with every field, and nothing for an unknown document or collection", async () => {
        const specs = [{ text: 'First.', heading: 'Guide > Setup', page: 2 }, 'Second.', 'Third.'];
        const collection = await freshWith('doc.md', specs);
        await write(collection, 'other.md', ['Not this one.']);
        expect(await store.documentChunks(TENANT, collection, 'doc.md')).toEqual(chunksOf('doc.md', specs).map(withoutVector));
        expect(await store.documentChunks(TENANT, collection, 'missing.md')).toEqual([]);
        expect(await store.documentChunks(TENANT, unused(), 'doc.md')).toEqual([]);
        expect(await store.documentChunks(OTHER, collection, 'doc.md')).toEqual([]);
      });
    });

    describe('tenants', () => {
      /** The same collection name for both tenants, with overlapping document ids and texts. */
      const loadBoth = async () => {
        const collection = unused();
        await store.ensureCollection(TENANT, collection, builtWith);
        await store.ensureCollection(OTHER, collection, builtWith);
        await store.replaceDocument(TENANT, collection, 'shared.md', chunksOf('shared.md', ['Acme pays travel expenses within 30 days.'], 'acme-hash'));
        await store.replaceDocument(TENANT, collection, 'acme.md', chunksOf('acme.md', ['Acme rockets launch on Fridays.']));
        await store.replaceDocument(
          OTHER,
          collection,
          'shared.md',
          chunksOf('shared.md', ['Globex pays travel expenses within 90 days.', 'Globex travel is booked by the office.'], 'globex-hash'),
        );
        await store.replaceDocument(OTHER, collection, 'globex.md', chunksOf('globex.md', ['Globex volcanoes erupt on Mondays.']));
        return collection;
      };
      const texts = (hits: SearchHit[]) => hits.map((h) => h.chunk.text);
      const onlyFrom = (company: string) => (hits: SearchHit[]) => {
        expect(hits.length).toBeGreaterThan(0);
        for (const text of texts(hits)) expect(text).toContain(company);
      };

      it('two tenants with the same collection name and document ids see only their own documents and chunks, by every method', async () => {
        const collection = await loadBoth();
        expect(await store.listDocuments(TENANT, collection)).toEqual([
          { docId: 'acme.md', contentHash: 'hash-of-acme.md', chunks: 1 },
          { docId: 'shared.md', contentHash: 'acme-hash', chunks: 1 },
        ]);
        expect(await store.listDocuments(OTHER, collection)).toEqual([
          { docId: 'globex.md', contentHash: 'hash-of-globex.md', chunks: 1 },
          { docId: 'shared.md', contentHash: 'globex-hash', chunks: 2 },
        ]);
        for (const [tenant, company] of [
          [TENANT, 'Acme'],
          [OTHER, 'Globex'],
        ] as const) {
          const query = 'travel expenses days rockets volcanoes';
          const vector = embedder.embedOne(query);
          onlyFrom(company)(await store.searchVector(tenant, collection, vector, 10));
          onlyFrom(company)(await store.searchText(tenant, collection, query, 10));
          onlyFrom(company)(await store.hybridSearch(tenant, collection, { text: query, vector }, 10));
          // A filter naming the other tenant's document ids finds nothing of theirs.
          const filter = { sources: ['shared.md', 'acme.md', 'globex.md'] };
          onlyFrom(company)(await store.hybridSearch(tenant, collection, { text: query, vector }, 10, filter));
          onlyFrom(company)(await store.searchVector(tenant, collection, vector, 10, filter));
        }
        expect(await store.searchText(TENANT, collection, 'volcanoes Globex', 10)).toEqual([]);
        expect(await store.searchText(OTHER, collection, 'rockets Acme', 10)).toEqual([]);
      });

      it("writes and deletes of one tenant never touch the other's document of the same id", async () => {
        const collection = await loadBoth();
        await store.replaceDocument(
          TENANT,
          collection,
          'shared.md',
          chunksOf('shared.md', ['Acme now pays within 10 days.', 'Acme keeps receipts.'], 'acme-2'),
        );
        expect((await store.listDocuments(OTHER, collection)).find((d) => d.docId === 'shared.md')).toEqual({
          docId: 'shared.md',
          contentHash: 'globex-hash',
          chunks: 2,
        });
        await store.deleteDocument(OTHER, collection, 'shared.md');
        await store.compact(OTHER, collection);
        expect((await store.listDocuments(OTHER, collection)).map((d) => d.docId)).toEqual(['globex.md']);
        expect(await store.listDocuments(TENANT, collection)).toEqual([
          { docId: 'acme.md', contentHash: 'hash-of-acme.md', chunks: 1 },
          { docId: 'shared.md', contentHash: 'acme-2', chunks: 2 },
        ]);
        onlyFrom('Acme')(await store.searchText(TENANT, collection, 'pays receipts', 10));
      });

      it('a tenant sees only its own collections: list, has, info, and searches of a collection only the other has', async () => {
        const shared = await loadBoth();
        const acmeOnly = unused();
        await store.ensureCollection(TENANT, acmeOnly, builtWith);
        await store.replaceDocument(TENANT, acmeOnly, 'acme.md', chunksOf('acme.md', ['Acme rockets launch on Fridays.']));

        const acmeList = await store.listCollections(TENANT);
        const otherList = await store.listCollections(OTHER);
        expect(acmeList).toEqual(expect.arrayContaining([shared, acmeOnly]));
        expect(otherList).toContain(shared);
        expect(otherList).not.toContain(acmeOnly);
        for (const name of [...acmeList, ...otherList]) expect(name).not.toMatch(/[.]/);
        expect(await store.listCollections('nobody')).toEqual([]);

        expect(await store.hasCollection(OTHER, acmeOnly)).toBe(false);
        expect(await store.collectionInfo(OTHER, acmeOnly)).toBeUndefined();
        expect(await store.collectionInfo(TENANT, acmeOnly)).toEqual({ name: acmeOnly, embedder: builtWith });
        expect(await store.listDocuments(OTHER, acmeOnly)).toEqual([]);
        const vector = embedder.embedOne('rockets');
        expect(await store.searchVector(OTHER, acmeOnly, vector, 5)).toEqual([]);
        expect(await store.searchText(OTHER, acmeOnly, 'rockets', 5)).toEqual([]);
        expect(await store.hybridSearch(OTHER, acmeOnly, { text: 'rockets', vector }, 5)).toEqual([]);
        const write = await store.replaceDocument(OTHER, acmeOnly, 'x.md', chunksOf('x.md', ['x'])).catch((e: unknown) => e);
        expect(write).toBeInstanceOf(CollectionNotFoundError);
        expect((write as Error).message).toContain(`"${acmeOnly}"`);
        await store.deleteDocument(OTHER, acmeOnly, 'acme.md');
        await store.compact(OTHER, acmeOnly);
        expect((await store.listDocuments(TENANT, acmeOnly)).map((d) => d.docId)).toEqual(['acme.md']);
        expect(await store.hasCollection(OTHER, acmeOnly)).toBe(false);
      });

      it("deleting one tenant's collection drops its chunks and leaves the other tenant's same-named collection whole", async () => {
        const collection = await loadBoth();
        expect(await store.deleteCollection(OTHER, collection)).toBe(true);
        expect(await store.hasCollection(OTHER, collection)).toBe(false);
        expect(await store.listCollections(OTHER)).not.toContain(collection);
        expect(await store.listDocuments(OTHER, collection)).toEqual([]);
        expect(await store.searchText(OTHER, collection, 'Globex travel', 5)).toEqual([]);
        expect(await store.deleteCollection(OTHER, collection)).toBe(false);
        expect((await store.listDocuments(TENANT, collection)).map((d) => d.docId)).toEqual(['acme.md', 'shared.md']);
        onlyFrom('Acme')(await store.searchText(TENANT, collection, 'travel expenses', 5));
        // The name can be used again, empty, by the tenant that dropped it.
        await store.ensureCollection(OTHER, collection, builtWith);
        expect(await store.listDocuments(OTHER, collection)).toEqual([]);
      });

      it('collections of tenant default keep their bare names and are not those of any other tenant', async () => {
        const collection = unused();
        await store.ensureCollection('default', collection, builtWith);
        expect(await store.listCollections('default')).toContain(collection);
        expect(await store.listCollections(TENANT)).not.toContain(collection);
        expect(await store.hasCollection(TENANT, collection)).toBe(false);
      });

      it('refuses tenant and collection names outside the pattern (no way to forge a prefix)', async () => {
        for (const [tenant, collection] of [
          ['acme.x', 'docs'],
          ['acme', 'x.docs'],
          ['', 'docs'],
          ['Acme', 'docs'],
          ['acme', '../docs'],
          ['a'.repeat(64), 'docs'],
        ]) {
          const error = await store.hasCollection(tenant, collection).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidNameError);
          expect(isPermanent(error)).toBe(true);
          await expect(store.searchText(tenant, collection, 'x', 3)).rejects.toBeInstanceOf(InvalidNameError);
        }
        await expect(store.listCollections('a.b')).rejects.toBeInstanceOf(InvalidNameError);
      });
    });
  });
}
