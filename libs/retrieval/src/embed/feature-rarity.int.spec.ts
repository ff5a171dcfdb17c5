import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rankedSearch } from '../pipeline/search-collection';
import { retrieve } from '../pipeline/answer-question';
import { searchableText } from '../searchable-text';
import { LanceDbStore } from '../store/lancedb.store';
import { VersionedVectorStore, readOneVersion } from '../store/versioned.store';
import { RARE_WORD_ANSWER, RARE_WORD_PAGES, RARE_WORD_QUESTION } from '@rag/testing';
import type { ChunkText, EmbeddedChunk, Embedder, VectorStore } from '../types';
import { FeatureRarity, RarityCache, embedQueries } from './feature-rarity';
import { LocalHashEmbedder } from './local-hash.embedder';

const PAGES = RARE_WORD_PAGES;
const QUESTION = RARE_WORD_QUESTION;
const TENANT = 'default';

const embedder = new LocalHashEmbedder();

function pageChunks(pages: readonly (readonly [string, string])[], prefix = 'page'): EmbeddedChunk[][] {
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

/** Waits until `ready()` holds (a recount made in the background), failing after 5 s. */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await ready());) {
    if (Date.now() - started > 5_000) throw new Error('timed out waiting for the recount');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('query weighting by feature rarity (real LanceDB, local embedder)', () => {
  let dir: string;
  let store: LanceDbStore;

  const load = async (collection: string, pages: readonly (readonly [string, string])[], prefix?: string) => {
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
    expect(vector[0].chunk.title).toBe(RARE_WORD_ANSWER);
    // The same search with the plain query vector: the pages sharing "default value" and "column" come first.
    const plain = await store.searchVector(TENANT, 'manual', embedder.embedOne(QUESTION), 8);
    expect(plain.findIndex((hit) => hit.chunk.title === RARE_WORD_ANSWER)).toBe(5);
    // Answers are retrieved the same way (hybrid: the weighted vector beside full-text search).
    const hybrid = await retrieve(deps, { tenant: TENANT, query: QUESTION, collection: 'manual', topK: 3 });
    expect(hybrid[0].chunk.title).toBe(RARE_WORD_ANSWER);
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
    const counted = await cache.rarity(watched, embedder, TENANT, 'manual');
    now = 1_000;
    expect(await cache.rarity(watched, embedder, TENANT, 'manual')).toBe(counted);
    expect(calls).toEqual(['manual', 'manual']);
    await until(async () => (await cache.rarity(watched, embedder, TENANT, 'manual')) !== counted);
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
    expect(await cache.rarity(watched, embedder, TENANT, 'growing')).toBe(before);
    await until(async () => (await cache.rarity(watched, embedder, TENANT, 'growing')).chunks === 5);
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
    expect(calls).toHaveLength(3);
    // The failed recount is over (no second one starts while it runs): the old count still serves.
    await until(async () => {
      await cache.rarity(watched, embedder, TENANT, 'manual');
      return calls.length === 3;
    });
    expect(await cache.rarity(watched, embedder, TENANT, 'manual')).toBe(counted);
    // It is tried again one time to live later, and a count that succeeds then replaces it.
    control.failing = false;
    await new Promise((resolve) => setImmediate(resolve));
    now = 2_000;
    await cache.rarity(watched, embedder, TENANT, 'manual');
    expect(calls).toHaveLength(4);
    await until(async () => (await cache.rarity(watched, embedder, TENANT, 'manual')) !== counted);
  });

  it('counts a collection once for the pinned views of a versioned store (one a question), not once a question', async () => {
    const { store: watched, calls } = counting(store);
    const versions = { activeVersion: async () => 1, rebuildInProgress: async () => undefined, forget: async () => undefined };
    const versioned = new VersionedVectorStore(watched, versions, 0);
    const cache = new RarityCache();
    for (let question = 0; question < 3; question++) {
      const hits = await readOneVersion(versioned, TENANT, 'manual', (pinned) =>
        rankedSearch({ store: pinned, embedder, rarity: cache }, { tenant: TENANT, collection: 'manual', query: QUESTION, topK: 3, mode: 'vector' }),
      );
      expect(hits[0].chunk.title).toBe(RARE_WORD_ANSWER);
    }
    expect(calls).toEqual(['manual']);
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
    // Other work runs between the slices: a turn of the event loop for every 16 chunks.
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const rarity = await FeatureRarity.count(embedder, many);
    counting = false;
    expect(rarity.chunks).toBe(300);
    expect(turns).toBeGreaterThanOrEqual(Math.floor(300 / 16) - 1);
    expect(rarity.weight('w:common')).toBeLessThan(rarity.weight('w:item7'));
  });
});
