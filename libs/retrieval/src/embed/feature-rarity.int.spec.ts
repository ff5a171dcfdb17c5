import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rankedSearch } from '../pipeline/search-collection';
import { retrieve } from '../pipeline/answer-question';
import { searchableText } from '../searchable-text';
import { LanceDbStore } from '../store/lancedb.store';
import type { ChunkText, EmbeddedChunk, Embedder, VectorStore } from '../types';
import { FeatureRarity, RarityCache, embedQueries } from './feature-rarity';
import { LocalHashEmbedder } from './local-hash.embedder';

// Pages of a manual where most pages share the question's common words
// (default value, column, generate) and one holds the word that decides it.
const PAGES: [string, string][] = [
  [
    'Default values',
    'A column can be assigned a default value. When a new row is created and no value is specified for the column, the column is filled with its default value.',
  ],
  [
    'ALTER TABLE',
    'To set a new default value for a column, use ALTER TABLE ... ALTER COLUMN ... SET DEFAULT. The default value of a column applies to rows inserted later.',
  ],
  [
    'CREATE TABLE',
    'The DEFAULT clause assigns a default value to the column whose definition it appears within. The value is any expression; the default value is used when a row is inserted without a value for the column.',
  ],
  [
    'Generated columns',
    'A generated column is a special column that is always computed from other columns. A generated column cannot have a default value, and you cannot write to it.',
  ],
  [
    'Installing extensions',
    'Use CREATE EXTENSION to install an extension into the current database. Installing an extension may create functions, types and operators; you do not need to install an extension that is built in.',
  ],
  [
    'Sequences',
    'The serial types generate a column value from a sequence: the default value of the column is the next value of the sequence, so each new row gets a number.',
  ],
  ['Random numbers', 'random() returns a random value in the range 0 to 1; setseed sets the seed for later random calls in the session.'],
  ['UUID functions', 'gen_random_uuid() returns a version 4 UUID. Use it as the DEFAULT of a uuid key.'],
];
const QUESTION = 'How do I generate a random UUID as the default value of a column?';
const TENANT = 'default';

const embedder = new LocalHashEmbedder();

function pageChunks(pages: [string, string][], prefix = 'page'): EmbeddedChunk[][] {
  return pages.map(([title, text], i) => {
    const chunk = {
      id: `${prefix}${i}.html#0`,
      docId: `${prefix}${i}.html`,
      source: `${prefix}${i}.html`,
      title,
      heading: '',
      position: 0,
      text,
      contentHash: `h${i}`,
    };
    return [{ ...chunk, vector: embedder.embedOne(searchableText(chunk)) }];
  });
}

/** `store` with its sampleChunks calls counted, and made to fail while `failing` is set. */
function counting(store: VectorStore) {
  const calls: string[] = [];
  const control = { failing: false };
  const wrapped: VectorStore = Object.create(store) as VectorStore;
  wrapped.sampleChunks = async (tenant: string, collection: string, limit: number): Promise<ChunkText[]> => {
    calls.push(collection);
    if (control.failing) throw new Error('store unavailable');
    return store.sampleChunks(tenant, collection, limit);
  };
  return { store: wrapped, calls, control };
}

describe('query weighting by feature rarity (real LanceDB, local embedder)', () => {
  let dir: string;
  let store: LanceDbStore;

  const load = async (collection: string, pages: [string, string][], prefix?: string) => {
    await store.ensureCollection(TENANT, collection, embedder);
    for (const chunks of pageChunks(pages, prefix)) await store.replaceDocument(TENANT, collection, chunks[0].docId, chunks);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-rarity-int-'));
    store = await LanceDbStore.open(dir);
    await load('manual', PAGES);
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ranks first the page holding the rare word that decides the question, which the unweighted query ranks sixth', async () => {
    const deps = { store, embedder, rarity: new RarityCache() };
    const vector = await rankedSearch(deps, { tenant: TENANT, collection: 'manual', query: QUESTION, topK: 8, mode: 'vector' });
    expect(vector[0].chunk.title).toBe('UUID functions');
    // The same search with the plain query vector: the pages sharing "default value" and "column" come first.
    const plain = await store.searchVector(TENANT, 'manual', embedder.embedOne(QUESTION), 8);
    expect(plain.findIndex((hit) => hit.chunk.title === 'UUID functions')).toBe(5);
    // Answers are retrieved the same way (hybrid: the weighted vector beside full-text search).
    const hybrid = await retrieve(deps, { tenant: TENANT, query: QUESTION, collection: 'manual', topK: 3 });
    expect(hybrid[0].chunk.title).toBe('UUID functions');
  });

  it("weighs a feature by the square root of its BM25 IDF among the collection's chunks, rarer weighing more", async () => {
    const rarity = await new RarityCache().rarity(store, embedder, TENANT, 'manual');
    expect(rarity.chunks).toBe(PAGES.length);
    const n = PAGES.length;
    const idf = (df: number) => Math.sqrt(Math.log(1 + (n - df + 0.5) / (df + 0.5)));
    const holding = (word: string) => PAGES.filter(([title, text]) => `${title} ${text}`.toLowerCase().includes(word)).length;
    expect(holding('uuid')).toBe(1);
    // Seen in fewer than two sampled chunks counts as unseen.
    expect(rarity.weight('w:uuid')).toBeCloseTo(idf(0), 12);
    expect(rarity.weight('w:default')).toBeCloseTo(idf(holding('default')), 12);
    expect(rarity.weight('w:column')).toBeCloseTo(idf(holding('column')), 12);
    expect(rarity.weight('w:uuid')).toBeGreaterThan(rarity.weight('w:column'));
    expect(rarity.weight('never-seen-feature')).toBeCloseTo(idf(0), 12);
  });

  it('counts a collection once for concurrent searches, and again only in another store or after its time to live', async () => {
    let now = 0;
    const cache = new RarityCache({ ttlMs: 1_000, smallTtlMs: 1_000, now: () => now });
    const { store: watched, calls } = counting(store);
    const deps = { store: watched, embedder, rarity: cache };
    const [a, b] = await Promise.all([embedQueries(deps, TENANT, 'manual', [QUESTION]), embedQueries(deps, TENANT, 'manual', [QUESTION])]);
    expect(a).toEqual(b);
    expect(calls).toEqual(['manual']);
    now = 999;
    await embedQueries(deps, TENANT, 'manual', [QUESTION]);
    expect(calls).toEqual(['manual']);
    // Another store of the same process has counts of its own.
    const other = counting(store);
    await embedQueries({ store: other.store, embedder, rarity: cache }, TENANT, 'manual', [QUESTION]);
    expect(other.calls).toEqual(['manual']);
    // Past its time to live, a search is served the old count while a new one is made.
    now = 1_000;
    const first = await cache.rarity(watched, embedder, TENANT, 'manual');
    expect(calls).toEqual(['manual', 'manual']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await cache.rarity(watched, embedder, TENANT, 'manual');
    expect(second).not.toBe(first);
    expect(calls).toEqual(['manual', 'manual']);
  });

  it('recounts a collection smaller than the sample sooner, as it fills up, and then weighs by what it holds now', async () => {
    let now = 0;
    const cache = new RarityCache({ sample: 5, ttlMs: 60_000, smallTtlMs: 1_000, now: () => now });
    await load('growing', PAGES.slice(0, 3), 'g');
    const { store: watched, calls } = counting(store);
    const before = await cache.rarity(watched, embedder, TENANT, 'growing');
    expect(before.chunks).toBe(3);
    await load('growing', PAGES, 'g');
    now = 1_000;
    await cache.rarity(watched, embedder, TENANT, 'growing');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await cache.rarity(watched, embedder, TENANT, 'growing');
    expect(after.chunks).toBe(5);
    expect(calls).toHaveLength(2);
    // A full sample keeps its count for the long time to live.
    now = 2_000;
    await cache.rarity(watched, embedder, TENANT, 'growing');
    expect(calls).toHaveLength(2);
    now = 1_000 + 60_000;
    await cache.rarity(watched, embedder, TENANT, 'growing');
    expect(calls).toHaveLength(3);
  });

  it('keeps no failed count: the search fails as the store does, and the next one counts again; a failed recount keeps the old count', async () => {
    let now = 0;
    const cache = new RarityCache({ ttlMs: 1_000, smallTtlMs: 1_000, now: () => now });
    const { store: watched, calls, control } = counting(store);
    control.failing = true;
    await expect(cache.rarity(watched, embedder, TENANT, 'manual')).rejects.toThrow('store unavailable');
    control.failing = false;
    const counted = await cache.rarity(watched, embedder, TENANT, 'manual');
    expect(calls).toHaveLength(2);
    control.failing = true;
    now = 1_000;
    expect(await cache.rarity(watched, embedder, TENANT, 'manual')).toBe(counted);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cache.rarity(watched, embedder, TENANT, 'manual')).toBe(counted);
    expect(calls).toHaveLength(3);
  });

  it('keeps the counts of the most recently searched collections only', async () => {
    const cache = new RarityCache({ collections: 2 });
    await load('second', PAGES.slice(0, 2), 's');
    await load('third', PAGES.slice(0, 2), 't');
    const { store: watched, calls } = counting(store);
    for (const collection of ['manual', 'second', 'manual', 'third', 'manual', 'second']) await cache.rarity(watched, embedder, TENANT, collection);
    // "second" was dropped for "third" (manual was used since), then counted again.
    expect(calls).toEqual(['manual', 'second', 'third', 'second']);
  });

  it('gives an embedder without features (a semantic model) its own vectors, asking the store nothing', async () => {
    const model: Embedder = { id: 'model', dimension: 3, embed: async (texts) => texts.map(() => [1, 0, 0]) };
    const { store: watched, calls } = counting(store);
    expect(await embedQueries({ store: watched, embedder: model }, TENANT, 'manual', ['a', 'b'])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
    ]);
    expect(calls).toEqual([]);
  });

  it('weighs by the sample the store gives, counted without holding the event loop for long', async () => {
    const many: ChunkText[] = Array.from({ length: 300 }, (_, i) => ({ title: `T${i}`, heading: '', text: `common words here and item${i}` }));
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const rarity = await FeatureRarity.count(embedder, many);
    clearInterval(ticking);
    expect(rarity.chunks).toBe(300);
    expect(turns).toBeGreaterThan(0);
    expect(rarity.weight('w:common')).toBeLessThan(rarity.weight('w:item7'));
  });
});
