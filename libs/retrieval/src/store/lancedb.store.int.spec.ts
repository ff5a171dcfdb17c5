import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { LanceDbStore, sqlString } from './lancedb.store';
import { chunksOf, describeVectorStoreContract } from './vector-store.contract';

const embedder = new LocalHashEmbedder(64);

describeVectorStoreContract('LanceDbStore (real LanceDB in a temporary folder)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-lancedb-contract-'));
  const store = await LanceDbStore.open(dir);
  return {
    store,
    reopen: () => LanceDbStore.open(dir),
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** What only LanceDB does: its table layout, compaction, and several processes on one folder. */
describe('LanceDbStore (real LanceDB)', () => {
  let dir: string;
  let store: LanceDbStore;
  let collectionCounter = 0;
  /** A fresh collection per test, created with the test embedder, so tests never see each other's rows. */
  const fresh = async () => {
    const name = `c${++collectionCounter}`;
    await store.ensureCollection('default', name, embedder);
    return name;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-lancedb-store-'));
    store = await LanceDbStore.open(dir);
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the collection as a table with a full-text index and the embedder in its schema metadata', async () => {
    const name = `c${++collectionCounter}`;
    await store.ensureCollection('default', name, embedder);
    await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['First chunk text.']));
    expect(await store.hasCollection('default', name)).toBe(true);
    expect(await store.listCollections('default')).toContain(name);

    const db = await lancedb.connect(dir);
    try {
      const table = await db.openTable(name);
      expect(await table.countRows()).toBe(1);
      const indices = await table.listIndices();
      expect(indices.some((i) => i.indexType === 'FTS' && i.columns.includes('search_text'))).toBe(true);
      const schema = await table.schema();
      const vectorField = schema.fields.find((f) => f.name === 'vector');
      expect((vectorField?.type as { listSize?: number }).listSize).toBe(64);
      expect(schema.metadata.get('rag.embedder')).toBe('local-hash-v4-64');
      table.close();
    } finally {
      db.close();
    }
  });

  it('reads, in a text search after an upload, the best rows of the index and the unindexed rows only, never the whole table', async () => {
    const name = await fresh();
    // 2,000 chunks, every one matching the query, folded into the index.
    for (let d = 0; d < 20; d++) {
      const texts = Array.from({ length: 100 }, (_, i) => `Quarterly budget line ${d}-${i} for the board.`);
      await store.replaceDocument('default', name, `d${d}.md`, chunksOf(`d${d}.md`, texts));
    }
    await store.compact('default', name);
    // One uploaded document, not yet indexed, whose chunk is the best match.
    await store.replaceDocument('default', name, 'new.md', chunksOf('new.md', ['Quarterly budget review: the quarterly budget of the board.']));
    const read = store.counters.textRowsRead;
    const hits = await store.searchText('default', name, 'quarterly budget review', 5);
    expect(hits).toHaveLength(5);
    expect(hits[0].chunk.id).toBe('new.md#0');
    // limit 5 + 1 unindexed row; before, it fetched all 2,001.
    expect(store.counters.textRowsRead - read).toBeLessThanOrEqual(6);
  });

  it('samples a table larger than the limit by a hash of the chunk ids: spread over every part of the folder, the same whatever the order of writing', async () => {
    // Ten documents of 30 chunks, written one after another as a folder is loaded, in `order`.
    const load = async (order: number[]) => {
      const name = await fresh();
      for (const d of order) {
        const texts = Array.from({ length: 30 }, (_, i) => `Document ${d} chunk ${i}.`);
        await store.replaceDocument('default', name, `d${d}.md`, chunksOf(`d${d}.md`, texts));
      }
      return name;
    };
    const inOrder = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const name = await load(inOrder);
    await store.compact('default', name);
    const sample = await store.sampleChunks('default', name, 30);
    expect(sample).toHaveLength(30);
    // The first 30 rows would be one document's only.
    expect(new Set(sample.map((c) => c.text.split(' ')[1])).size).toBeGreaterThanOrEqual(5);
    expect(await store.sampleChunks('default', name, 30)).toEqual(sample);
    expect(await store.sampleChunks('default', name, 1000)).toHaveLength(300);
    // The same documents written in the opposite order give the same sample.
    const reversed = await load([...inOrder].reverse());
    const key = (c: { text: string }) => c.text;
    expect((await store.sampleChunks('default', reversed, 30)).map(key).sort()).toEqual(sample.map(key).sort());
  });

  it('lets two stores (two processes) create the same collection at the same moment and both write to it', async () => {
    const other = await LanceDbStore.open(dir);
    try {
      for (let round = 0; round < 8; round++) {
        const name = `both-${round}`;
        await Promise.all(
          [store, other].map(async (s, n) => {
            await s.ensureCollection('default', name, embedder);
            await s.replaceDocument('default', name, `w${n}.md`, chunksOf(`w${n}.md`, [`Written by store ${n}.`]));
          }),
        );
        expect((await store.listDocuments('default', name)).map((d) => d.docId)).toEqual(['w0.md', 'w1.md']);
        expect((await other.searchText('default', name, 'written', 5)).length).toBe(2);
      }
    } finally {
      await other.close();
    }
  });

  it('compacts one collection from two stores at the same moment without failing either', async () => {
    const name = await fresh();
    const other = await LanceDbStore.open(dir);
    try {
      for (let d = 0; d < 5; d++) await store.replaceDocument('default', name, `d${d}.md`, chunksOf(`d${d}.md`, ['Some text.', 'More text.']));
      await Promise.all([store.compact('default', name), other.compact('default', name)]);
      expect(await store.listDocuments('default', name)).toHaveLength(5);
    } finally {
      await other.close();
    }
  });

  /** A table as older versions of the store made them: no `rag.normalized` flag, and with or without pages. */
  const createOldTable = async (name: string, { page }: { page: boolean }) => {
    const text = (n: string) => new Field(n, new Utf8(), false);
    const oldSchema = new Schema(
      [
        ...['id', 'doc_id', 'source', 'title', 'heading'].map(text),
        new Field('position', new Int32(), false),
        ...['text', 'search_text', 'content_hash'].map(text),
        ...(page ? [new Field('page', new Int32(), false)] : []),
        new Field('vector', new FixedSizeList(64, new Field('item', new Float32(), true)), false),
      ],
      new Map([
        ['rag.embedder', embedder.id],
        ['rag.dimension', '64'],
      ]),
    );
    const db = await lancedb.connect(dir);
    try {
      const table = await db.createEmptyTable(name, oldSchema);
      await table.createIndex('search_text', { config: lancedb.Index.fts() });
      table.close();
    } finally {
      db.close();
    }
  };

  /** Cosine similarity, computed here independently of LanceDB. */
  const cosine = (a: number[], b: number[]) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    a.forEach((x, i) => ((dot += x * b[i]), (na += x * x), (nb += b[i] * b[i])));
    return dot / Math.sqrt(na * nb);
  };
  /** 64-dimensional vectors of any length: a few large components and a constant. */
  const rawVector = (seed: number, scale: number) => Array.from({ length: 64 }, (_, i) => scale * (((i * 7 + seed * 13) % 11) - 5 + (i === seed ? 20 : 0)));

  it('stores vectors at unit length and searches by dot product, ranking and scoring exactly as cosine would', async () => {
    const name = await fresh();
    // Embedders that do not normalise (some Ollama models): lengths from 0.01 to 40.
    const specs = [0.01, 3, 40, 1, 7].map((scale, n) => ({ text: `Chunk ${n}.`, vector: rawVector(n, scale) }));
    await store.replaceDocument('default', name, 'raw.md', chunksOf('raw.md', specs));
    const query = rawVector(2, 5).map((x, i) => x + (i % 3));
    const hits = await store.searchVector('default', name, query, 5);
    const expected = specs.map((spec, n) => ({ id: `raw.md#${n}`, score: cosine(spec.vector, query) })).sort((a, b) => b.score - a.score);
    expect(hits.map((h) => h.chunk.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i].score, 5));
    expect(hits[0].chunk).toMatchObject({ text: 'Chunk 2.', docId: 'raw.md', position: 2 });

    const db = await lancedb.connect(dir);
    try {
      const table = await db.openTable(name);
      expect((await table.schema()).metadata.get('rag.normalized')).toBe('true');
      for (const row of await table.query().select(['vector']).toArray()) {
        const stored = Array.from(row.vector as Iterable<number>);
        expect(Math.hypot(...stored)).toBeCloseTo(1, 5);
      }
      table.close();
    } finally {
      db.close();
    }
  });

  it('searches a table made before vectors were normalised by cosine, over the vectors as stored', async () => {
    const name = `c${++collectionCounter}`;
    await createOldTable(name, { page: true });
    const specs = [0.5, 9, 2].map((scale, n) => ({ text: `Old ${n}.`, vector: rawVector(n + 10, scale) }));
    await store.replaceDocument('default', name, 'old.md', chunksOf('old.md', specs));
    const query = rawVector(11, 2);
    const hits = await store.searchVector('default', name, query, 3);
    const expected = specs.map((spec, n) => ({ id: `old.md#${n}`, score: cosine(spec.vector, query) })).sort((a, b) => b.score - a.score);
    expect(hits.map((h) => h.chunk.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i].score, 5));
  });

  it('returns the right chunks for every vector search while another process rewrites and compacts the table', async () => {
    const name = await fresh();
    const docs = 30;
    for (let d = 0; d < docs; d++)
      await store.replaceDocument('default', name, `d${d}.md`, chunksOf(`d${d}.md`, [`Document ${d} first part.`, `Document ${d} second part.`]));
    const other = await LanceDbStore.open(dir);
    let writing = true;
    // Row ids move when a compaction rewrites fragments: the store must never hand back another row's chunk.
    const writer = (async () => {
      for (let round = 0; writing; round++) {
        const d = round % docs;
        await other.replaceDocument(
          'default',
          name,
          `d${d}.md`,
          chunksOf(`d${d}.md`, [`Document ${d} first part.`, `Document ${d} second part.`], `r${round}`),
        );
        if (round % 5 === 4) await other.compact('default', name);
      }
    })();
    try {
      for (let i = 0; i < 60; i++) {
        const d = i % docs;
        const [query] = chunksOf(`d${d}.md`, [`Document ${d} first part.`]);
        const hits = await store.searchVector('default', name, query.vector, 3);
        expect(hits[0].chunk.id).toBe(`d${d}.md#0`);
        expect(hits[0].score).toBeCloseTo(1, 4);
        for (const hit of hits) expect(hit.chunk.text).toBe(`Document ${hit.chunk.docId.slice(1, -3)} ${hit.chunk.position === 0 ? 'first' : 'second'} part.`);
      }
    } finally {
      writing = false;
      await writer;
      await other.close();
    }
  }, 60_000);

  it('keeps working on a table made before pages were kept (no page column): writes, reads and searches without pages', async () => {
    const name = `c${++collectionCounter}`;
    await createOldTable(name, { page: false });
    await store.ensureCollection('default', name, embedder);
    const chunks = chunksOf('manual.pdf', [{ text: 'Old tables keep their layout.', page: 3 }]);
    await store.replaceDocument('default', name, 'manual.pdf', chunks);
    const hits = await store.searchText('default', name, 'layout', 5);
    expect(hits.map((h) => h.chunk.text)).toEqual(['Old tables keep their layout.']);
    expect(hits[0].chunk).not.toHaveProperty('page');
    expect((await store.searchVector('default', name, chunks[0].vector, 5))[0].chunk.id).toBe('manual.pdf#0');
  });

  it('appends new documents, and compacts on its own every 100 writes so a long load does not pile up fragments', async () => {
    const name = await fresh();
    for (let i = 0; i < 150; i++) await store.replaceDocument('default', name, `d${i}.md`, chunksOf(`d${i}.md`, [`Document ${i} text.`]));
    // Replacing existing documents goes on working among the compacted rows.
    for (let i = 0; i < 5; i++)
      await store.replaceDocument('default', name, `d${i}.md`, chunksOf(`d${i}.md`, [`Document ${i} new text.`, 'Second chunk.'], 'v2'));
    const db = await lancedb.connect(dir);
    try {
      const table = await db.openTable(name);
      const stats = await table.stats();
      // One fragment per write without compaction (155); after the compaction at write 100, about 55 more.
      expect(stats.fragmentStats.numFragments).toBeLessThan(80);
      expect(await table.countRows()).toBe(155);
      table.close();
    } finally {
      db.close();
    }
    const docs = await store.listDocuments('default', name);
    expect(docs).toHaveLength(150);
    expect(docs.find((d) => d.docId === 'd3.md')).toEqual({ docId: 'd3.md', contentHash: 'v2', chunks: 2 });
    expect((await store.searchText('default', name, 'Document 3', 3)).map((h) => h.chunk.text)).toContain('Document 3 new text.');
  });

  it('compacts: folds all rows into the full-text index and keeps the data', async () => {
    const name = await fresh();
    for (let i = 0; i < 5; i++) await store.replaceDocument('default', name, `d${i}.md`, chunksOf(`d${i}.md`, [`zebra note ${i}`, `other words ${i}`]));
    await store.replaceDocument('default', name, 'd1.md', chunksOf('d1.md', ['zebra rewritten']));
    await store.deleteDocument('default', name, 'd4.md');
    const before = (await store.searchText('default', name, 'zebra', 20)).map((h) => h.chunk.id).sort();

    await store.compact('default', name);

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
    expect((await store.searchText('default', name, 'zebra', 20)).map((h) => h.chunk.id).sort()).toEqual(before);
    expect(before).toEqual(['d0.md#0', 'd1.md#0', 'd2.md#0', 'd3.md#0']);
    expect((await store.listDocuments('default', name)).map((d) => [d.docId, d.chunks])).toEqual([
      ['d0.md', 2],
      ['d1.md', 1],
      ['d2.md', 2],
      ['d3.md', 2],
    ]);
    // Writes after a compaction are still searchable.
    await store.replaceDocument('default', name, 'd5.md', chunksOf('d5.md', ['zebra after compaction']));
    expect((await store.searchText('default', name, 'compaction', 5)).map((h) => h.chunk.id)).toEqual(['d5.md#0']);
  });

  it('lets a second store on the same folder see the first one’s writes at once', async () => {
    const name = `c${++collectionCounter}`;
    const other = await LanceDbStore.open(dir);
    try {
      expect(await other.hasCollection('default', name)).toBe(false);
      await store.ensureCollection('default', name, embedder);
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['first version'], 'v1'));
      expect(await other.hasCollection('default', name)).toBe(true);
      expect(await other.listDocuments('default', name)).toEqual([{ docId: 'a.md', contentHash: 'v1', chunks: 1 }]);

      // `other` now holds the table open; later writes must still show.
      await store.replaceDocument('default', name, 'a.md', chunksOf('a.md', ['second version', 'more'], 'v2'));
      await store.replaceDocument('default', name, 'b.md', chunksOf('b.md', ['bee']));
      expect(await other.listDocuments('default', name)).toEqual([
        { docId: 'a.md', contentHash: 'v2', chunks: 2 },
        { docId: 'b.md', contentHash: 'hash-of-b.md', chunks: 1 },
      ]);
      expect((await other.searchText('default', name, 'second', 5)).map((h) => h.chunk.id)).toEqual(['a.md#0']);

      // And the other way round.
      await other.deleteDocument('default', name, 'b.md');
      expect((await store.listDocuments('default', name)).map((d) => d.docId)).toEqual(['a.md']);
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
