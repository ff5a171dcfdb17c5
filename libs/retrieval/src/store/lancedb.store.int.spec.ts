import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { isPermanent } from '../errors';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { searchableText } from '../searchable-text';
import type { EmbeddedChunk } from '../types';
import { LanceDbStore, VectorSizeMismatchError, sqlString } from './lancedb.store';

const embedder = new LocalHashEmbedder(64);

interface ChunkSpec {
  text: string;
  heading?: string;
  title?: string;
}

/** Chunks of one document, embedded by the real local embedder the way ingestion does it. */
function chunksOf(docId: string, specs: (ChunkSpec | string)[], hash = `hash-of-${docId}`): EmbeddedChunk[] {
  return specs.map((s, position) => {
    const spec = typeof s === 'string' ? { text: s } : s;
    const chunk = { id: `${docId}#${position}`, docId, source: docId, title: spec.title ?? `Title ${docId}`, heading: spec.heading ?? '', position, text: spec.text, contentHash: hash };
    return { ...chunk, vector: embedder.embedOne(searchableText(chunk)) };
  });
}

const withoutVector = (c: EmbeddedChunk) => {
  const chunk: Partial<EmbeddedChunk> = { ...c };
  delete chunk.vector;
  return chunk;
};

describe('LanceDbStore (real LanceDB)', () => {
  let dir: string;
  let store: LanceDbStore;
  let collectionCounter = 0;
  /** A fresh collection name per test, so tests never see each other's rows. */
  const fresh = () => `c${++collectionCounter}`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-lancedb-store-'));
    store = await LanceDbStore.open(dir);
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers empty for a collection that does not exist, without creating it', async () => {
    const name = fresh();
    expect(await store.hasCollection(name)).toBe(false);
    expect(await store.listDocuments(name)).toEqual([]);
    expect(await store.searchVector(name, embedder.embedOne('anything'), 5)).toEqual([]);
    expect(await store.searchText(name, 'anything', 5)).toEqual([]);
    await store.deleteDocument(name, 'a.md');
    await store.compact(name);
    await store.replaceDocument(name, 'a.md', []);
    expect(await store.hasCollection(name)).toBe(false);
    expect(await store.listCollections()).not.toContain(name);
  });

  it('creates the collection with a full-text index on the first replaceDocument', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['First chunk text.']));
    expect(await store.hasCollection(name)).toBe(true);
    expect(await store.listCollections()).toContain(name);

    const db = await lancedb.connect(dir);
    try {
      const table = await db.openTable(name);
      expect(await table.countRows()).toBe(1);
      const indices = await table.listIndices();
      expect(indices.some((i) => i.indexType === 'FTS' && i.columns.includes('search_text'))).toBe(true);
      const vectorField = (await table.schema()).fields.find((f) => f.name === 'vector');
      expect((vectorField?.type as { listSize?: number }).listSize).toBe(64);
      table.close();
    } finally {
      db.close();
    }
  });

  it('creates a new collection once when several documents are written to it at the same time', async () => {
    const name = fresh();
    const ids = ['a.md', 'b.md', 'c.md', 'd.md'];
    await Promise.all(ids.map((id) => store.replaceDocument(name, id, chunksOf(id, [`text of ${id}`]))));
    expect((await store.listDocuments(name)).map((d) => d.docId)).toEqual(ids);
    expect(await store.searchText(name, 'text', 10)).toHaveLength(4);
  });

  it('lists collections sorted, each independent of the others', async () => {
    const [x, y] = [`zz-${fresh()}`, `aa-${fresh()}`];
    await store.replaceDocument(x, 'a.md', chunksOf('a.md', ['In x.']));
    await store.replaceDocument(y, 'a.md', chunksOf('a.md', ['In y.', 'Also in y.']));
    const names = await store.listCollections();
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining([x, y]));
    expect(await store.listDocuments(x)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 1 }]);
    expect(await store.listDocuments(y)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 2 }]);
  });

  it('stores every field of a chunk and returns them from vector search', async () => {
    const name = fresh();
    const chunks = chunksOf('guides/setup.md', [
      { text: 'Install Node 20 and run npm ci.', heading: 'Setup > Install', title: 'Setup Guide' },
      { text: 'Start the stack with npm start.', heading: 'Setup > Run', title: 'Setup Guide' },
    ]);
    await store.replaceDocument(name, 'guides/setup.md', chunks);
    const hits = await store.searchVector(name, chunks[1].vector, 10);
    expect(hits.map((h) => h.chunk)).toEqual([withoutVector(chunks[1]), withoutVector(chunks[0])]);
  });

  it('lists documents sorted by id with their hash and chunk count', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'b.md', chunksOf('b.md', ['b one', 'b two', 'b three'], 'hb'));
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['a one'], 'ha'));
    await store.replaceDocument(name, 'C.md', chunksOf('C.md', ['c one', 'c two'], 'hc'));
    const docs = await store.listDocuments(name);
    expect(docs).toEqual([
      { docId: 'a.md', contentHash: 'ha', chunks: 1 },
      { docId: 'b.md', contentHash: 'hb', chunks: 3 },
      { docId: 'C.md', contentHash: 'hc', chunks: 2 },
    ]);
  });

  it('replaces all chunks of a document: a shrunk document loses its old chunks, others are untouched', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'policy.md', chunksOf('policy.md', ['Refunds within 30 days.', 'Obsolete clause about zeppelins.', 'Another retired paragraph about dirigibles.'], 'v1'));
    await store.replaceDocument(name, 'other.md', chunksOf('other.md', ['Zeppelins are airships.'], 'o1'));

    const v2 = chunksOf('policy.md', ['Refunds within 14 days.'], 'v2');
    await store.replaceDocument(name, 'policy.md', v2);

    expect(await store.listDocuments(name)).toEqual([
      { docId: 'other.md', contentHash: 'o1', chunks: 1 },
      { docId: 'policy.md', contentHash: 'v2', chunks: 1 },
    ]);
    const all = await store.searchVector(name, v2[0].vector, 100);
    expect(all.map((h) => h.chunk.id).sort()).toEqual(['other.md#0', 'policy.md#0']);
    expect(all.find((h) => h.chunk.id === 'policy.md#0')?.chunk.text).toBe('Refunds within 14 days.');
    expect((await store.searchText(name, 'zeppelins', 10)).map((h) => h.chunk.id)).toEqual(['other.md#0']);
    expect(await store.searchText(name, 'dirigibles', 10)).toEqual([]);
  });

  it('removes a document when replaced by no chunks', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['one', 'two']));
    await store.replaceDocument(name, 'b.md', chunksOf('b.md', ['three']));
    await store.replaceDocument(name, 'a.md', []);
    expect((await store.listDocuments(name)).map((d) => d.docId)).toEqual(['b.md']);
  });

  it('refuses chunks of another document and writes nothing', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['kept']));
    await expect(store.replaceDocument(name, 'a.md', [...chunksOf('a.md', ['new']), ...chunksOf('b.md', ['intruder'])])).rejects.toThrow(/belongs to b\.md/);
    expect(await store.listDocuments(name)).toEqual([{ docId: 'a.md', contentHash: 'hash-of-a.md', chunks: 1 }]);
    expect((await store.searchText(name, 'kept', 5)).map((h) => h.chunk.text)).toEqual(['kept']);
  });

  it('deletes only the named document', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['alpha one', 'alpha two']));
    await store.replaceDocument(name, 'b.md', chunksOf('b.md', ['beta one']));
    await store.deleteDocument(name, 'a.md');
    expect(await store.listDocuments(name)).toEqual([{ docId: 'b.md', contentHash: 'hash-of-b.md', chunks: 1 }]);
    expect(await store.searchText(name, 'alpha', 5)).toEqual([]);
    await store.deleteDocument(name, 'never-there.md');
    expect(await store.listDocuments(name)).toHaveLength(1);
  });

  it('handles document ids holding quotes and SQL-looking text', async () => {
    const name = fresh();
    const tricky = "it's a \"doc\" OR 1=1; --.md";
    await store.replaceDocument(name, tricky, chunksOf(tricky, ['quoted id text']));
    await store.replaceDocument(name, 'plain.md', chunksOf('plain.md', ['plain text']));
    expect((await store.listDocuments(name)).map((d) => d.docId).sort()).toEqual([tricky, 'plain.md'].sort());
    const filtered = await store.searchVector(name, embedder.embedOne('text'), 10, { sources: [tricky] });
    expect(filtered.map((h) => h.chunk.docId)).toEqual([tricky]);
    await store.replaceDocument(name, tricky, chunksOf(tricky, ['replaced text', 'second']));
    expect(await store.listDocuments(name)).toContainEqual({ docId: tricky, contentHash: `hash-of-${tricky}`, chunks: 2 });
    await store.deleteDocument(name, tricky);
    expect((await store.listDocuments(name)).map((d) => d.docId)).toEqual(['plain.md']);
  });

  it('ranks vector hits by cosine similarity, an identical vector scoring 1', async () => {
    const name = fresh();
    await store.replaceDocument(
      name,
      'hr.md',
      chunksOf('hr.md', ['Employees get 25 vacation days per year.', 'Parking is free behind building B.', 'Expense claims are paid monthly.'], 'h'),
    );
    const query = embedder.embedOne('How many vacation days do employees get?');
    const hits = await store.searchVector(name, query, 3);
    expect(hits[0].chunk.text).toBe('Employees get 25 vacation days per year.');
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    // The score is the cosine similarity of the two unit vectors.
    const stored = chunksOf('hr.md', ['Employees get 25 vacation days per year.'])[0].vector;
    const cosine = stored.reduce((s, x, i) => s + x * query[i], 0);
    expect(hits[0].score).toBeCloseTo(cosine, 4);

    const exact = await store.searchVector(name, stored, 1);
    expect(exact[0].score).toBeCloseTo(1, 5);
    expect(await store.searchVector(name, query, 2)).toHaveLength(2);
  });

  it('filters vector and text search by document ids', async () => {
    const name = fresh();
    for (const id of ['a.md', 'b.md', 'c.md']) await store.replaceDocument(name, id, chunksOf(id, [`shared backup words in ${id}`, `more backup notes ${id}`]));
    const vectorHits = await store.searchVector(name, embedder.embedOne('backup words'), 10, { sources: ['a.md', 'c.md'] });
    expect(vectorHits).toHaveLength(4);
    expect(new Set(vectorHits.map((h) => h.chunk.docId))).toEqual(new Set(['a.md', 'c.md']));
    const textHits = await store.searchText(name, 'backup', 10, { sources: ['b.md'] });
    expect(textHits.map((h) => h.chunk.id).sort()).toEqual(['b.md#0', 'b.md#1']);
    // An empty source list means no filter.
    expect(await store.searchText(name, 'backup', 10, { sources: [] })).toHaveLength(6);
    expect(await store.searchVector(name, embedder.embedOne('backup'), 10, { sources: ['nope.md'] })).toEqual([]);
  });

  it('finds chunks by full text, including words only in their title or heading', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'leave.md', chunksOf('leave.md', [{ text: 'You get twelve weeks.', heading: 'Parental leave', title: 'Handbook' }, { text: 'Sick days need a note.', heading: 'Sickness', title: 'Handbook' }]));
    await store.replaceDocument(name, 'it.md', chunksOf('it.md', [{ text: 'Laptops are replaced every three years.', heading: 'Hardware', title: 'IT' }]));
    const byHeading = await store.searchText(name, 'parental', 10);
    expect(byHeading.map((h) => h.chunk.id)).toEqual(['leave.md#0']);
    const byText = await store.searchText(name, 'laptops replaced', 10);
    expect(byText[0].chunk.id).toBe('it.md#0');
    expect(byText[0].score).toBeGreaterThan(0);
    expect(await store.searchText(name, 'xylophone', 10)).toEqual([]);
  });

  it('takes user text literally in full-text search: quotes and operators never throw', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'lang.md', chunksOf('lang.md', ['We write services in C++ and Rust.', 'The x factor matters.']));
    for (const query of ['"C++" OR (x)', 'title:rust', 'C++ AND NOT (', "it's", '*', '\\', 'a"b', '+rust -c', 'rust^2', 'ru?t~', '[a TO z]', '{}', '(((']) {
      await expect(store.searchText(name, query, 5)).resolves.toEqual(expect.any(Array));
    }
    const rust = await store.searchText(name, 'rust OR (x)', 5);
    expect(rust.map((h) => h.chunk.id)).toContain('lang.md#0');
    expect(await store.searchText(name, '   ', 5)).toEqual([]);
  });

  it('rejects vectors of the wrong size with a permanent VectorSizeMismatchError', async () => {
    const name = fresh();
    await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['sixty-four dimensions']));
    const wrong = chunksOf('b.md', ['other']).map((c) => ({ ...c, vector: new LocalHashEmbedder(32).embedOne(c.text) }));
    const onWrite = await store.replaceDocument(name, 'b.md', wrong).catch((e: unknown) => e);
    expect(onWrite).toBeInstanceOf(VectorSizeMismatchError);
    expect(isPermanent(onWrite)).toBe(true);
    expect((onWrite as Error).message).toMatch(/64.*32/);
    expect((await store.listDocuments(name)).map((d) => d.docId)).toEqual(['a.md']);

    const onSearch = await store.searchVector(name, new Array(100).fill(0.1), 3).catch((e: unknown) => e);
    expect(onSearch).toBeInstanceOf(VectorSizeMismatchError);
    expect((onSearch as Error).message).toMatch(/64.*100/);
  });

  it('compacts: folds all rows into the full-text index and keeps the data', async () => {
    const name = fresh();
    for (let i = 0; i < 5; i++) await store.replaceDocument(name, `d${i}.md`, chunksOf(`d${i}.md`, [`zebra note ${i}`, `other words ${i}`]));
    await store.replaceDocument(name, 'd1.md', chunksOf('d1.md', ['zebra rewritten']));
    await store.deleteDocument(name, 'd4.md');
    const before = (await store.searchText(name, 'zebra', 20)).map((h) => h.chunk.id).sort();

    await store.compact(name);

    const db = await lancedb.connect(dir);
    try {
      const table = await db.openTable(name);
      const rows = await table.countRows();
      expect(rows).toBe(2 + 1 + 2 + 2);
      const stats = await table.indexStats('search_text_idx');
      expect(stats?.numUnindexedRows).toBe(0);
      expect(stats?.numIndexedRows).toBe(rows);
      table.close();
    } finally {
      db.close();
    }
    expect((await store.searchText(name, 'zebra', 20)).map((h) => h.chunk.id).sort()).toEqual(before);
    expect(before).toEqual(['d0.md#0', 'd1.md#0', 'd2.md#0', 'd3.md#0']);
    expect((await store.listDocuments(name)).map((d) => [d.docId, d.chunks])).toEqual([
      ['d0.md', 2],
      ['d1.md', 1],
      ['d2.md', 2],
      ['d3.md', 2],
    ]);
    // Writes after a compaction are still searchable.
    await store.replaceDocument(name, 'd5.md', chunksOf('d5.md', ['zebra after compaction']));
    expect((await store.searchText(name, 'compaction', 5)).map((h) => h.chunk.id)).toEqual(['d5.md#0']);
  });

  it('lets a second store on the same folder see the first one’s writes at once', async () => {
    const name = fresh();
    const other = await LanceDbStore.open(dir);
    try {
      expect(await other.hasCollection(name)).toBe(false);
      await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['first version'], 'v1'));
      expect(await other.hasCollection(name)).toBe(true);
      expect(await other.listDocuments(name)).toEqual([{ docId: 'a.md', contentHash: 'v1', chunks: 1 }]);

      // `other` now holds the table open; later writes must still show.
      await store.replaceDocument(name, 'a.md', chunksOf('a.md', ['second version', 'more'], 'v2'));
      await store.replaceDocument(name, 'b.md', chunksOf('b.md', ['bee']));
      expect(await other.listDocuments(name)).toEqual([
        { docId: 'a.md', contentHash: 'v2', chunks: 2 },
        { docId: 'b.md', contentHash: 'hash-of-b.md', chunks: 1 },
      ]);
      expect((await other.searchText(name, 'second', 5)).map((h) => h.chunk.id)).toEqual(['a.md#0']);

      // And the other way round.
      await other.deleteDocument(name, 'b.md');
      expect((await store.listDocuments(name)).map((d) => d.docId)).toEqual(['a.md']);
    } finally {
      await other.close();
    }
  });
});

describe('sqlString', () => {
  it('quotes a value as an SQL string literal, doubling single quotes', () => {
    expect(sqlString('a.md')).toBe("'a.md'");
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString("''")).toBe("''''''");
  });
});
