import { searchableText } from '../searchable-text';
import { fnv1a as featureKey } from '@rag/core';
import type { ChunkText, Embedder, VectorStore } from '../types';

/** Chunks of a collection its features' rarity is counted in (VectorStore.sampleChunks). */
export const RARITY_SAMPLE = 1000;
/** How long a count of a collection that filled the sample serves; a smaller one is counted again sooner (RARITY_SMALL_TTL_MS). */
export const RARITY_TTL_MS = 10 * 60_000;
/** A collection with fewer chunks than the sample may be filling up: its count serves this long. */
export const RARITY_SMALL_TTL_MS = 30_000;
/** Collections whose counts a process keeps (the least recently searched go first). */
export const RARITY_COLLECTIONS = 32;
/** Chunks counted between two yields to the event loop, so a count never holds it for long. */
const COUNT_SLICE = 16;

/** An embedder that can weigh a query's features (LocalHashEmbedder). */
export type RarityWeighted = Embedder & Required<Pick<Embedder, 'features' | 'embedQuery'>>;

export function weighsRarity(embedder: Embedder): embedder is RarityWeighted {
  return typeof embedder.features === 'function' && typeof embedder.embedQuery === 'function';
}

/**
 * How rare each feature of a lexical embedder is in one collection: the
 * square root of its inverse document frequency among a sample of the
 * collection's chunks (BM25's IDF, ln(1 + (n - df + 0.5) / (df + 0.5))).
 * A query weighted by it leans on the words that tell its pages apart, as
 * full-text search does; the square root keeps the words every page shares
 * from vanishing, so the embedder still differs from full-text search.
 * Features in fewer than two sampled chunks count as unseen (df 0): they are
 * most of the features, and keeping them would only tell 0 from 1.
 */
export class FeatureRarity {
  private constructor(
    /** Chunks counted. */
    readonly chunks: number,
    /** Keys (fnv1a of the feature) of the features in two or more chunks, ascending, and their chunk counts. */
    private readonly keys: Uint32Array,
    private readonly counts: Uint32Array,
  ) {}

  /** Counts each feature's chunks in `sample`, yielding to the event loop between slices. */
  static async count(embedder: RarityWeighted, sample: readonly ChunkText[]): Promise<FeatureRarity> {
    const counts = new Map<number, number>();
    for (let i = 0; i < sample.length; i++) {
      if (i > 0 && i % COUNT_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      for (const feature of embedder.features(searchableText(sample[i]))) {
        // 32-bit hashes of a sample's tens of thousands of features rarely collide.
        const key = featureKey(feature);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    // Kept as two sorted typed arrays: some 20,000 features in 160 KB, where a Map takes 2 MB.
    const kept = [...counts].filter(([, n]) => n >= 2).sort((a, b) => a[0] - b[0]);
    return new FeatureRarity(
      sample.length,
      Uint32Array.from(kept, ([key]) => key),
      Uint32Array.from(kept, ([, n]) => n),
    );
  }

  /** The feature's weight in a query: higher the fewer chunks hold it. */
  readonly weight = (feature: string): number => {
    const df = this.documentFrequency(featureKey(feature));
    return Math.sqrt(Math.log(1 + (this.chunks - df + 0.5) / (df + 0.5)));
  };

  private documentFrequency(key: number): number {
    let low = 0;
    let high = this.keys.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = this.keys[mid];
      if (at === key) return this.counts[mid];
      if (at < key) low = mid + 1;
      else high = mid - 1;
    }
    return 0;
  }
}

interface Entry {
  rarity: Promise<FeatureRarity>;
  /** When it was counted (ms), and how many chunks it counted once known. */
  countedAt: number;
  sampled?: number;
  refreshing?: boolean;
}

export interface RarityCacheOptions {
  sample?: number;
  ttlMs?: number;
  smallTtlMs?: number;
  collections?: number;
  now?: () => number;
}

/**
 * Each collection's FeatureRarity, counted on its first search and kept for
 * later ones; after its time to live, the next search is still served the
 * count it has while a new one is made. The sample is the same chunks while
 * a collection does not change, so searches are repeatable; a count that
 * fails is not kept (the search fails as the store does), an old count
 * whose recount fails keeps serving.
 */
export class RarityCache {
  /** Per store, so that two stores of one process (tests, tools) never share a collection's count. */
  private readonly stores = new WeakMap<VectorStore, Map<string, Entry>>();
  private readonly sample: number;
  private readonly ttlMs: number;
  private readonly smallTtlMs: number;
  private readonly collections: number;
  private readonly now: () => number;

  constructor(options: RarityCacheOptions = {}) {
    this.sample = options.sample ?? RARITY_SAMPLE;
    this.ttlMs = options.ttlMs ?? RARITY_TTL_MS;
    this.smallTtlMs = options.smallTtlMs ?? RARITY_SMALL_TTL_MS;
    this.collections = options.collections ?? RARITY_COLLECTIONS;
    this.now = options.now ?? Date.now;
  }

  rarity(store: VectorStore, embedder: RarityWeighted, tenant: string, collection: string): Promise<FeatureRarity> {
    const key = `${tenant}\u0000${collection}\u0000${embedder.id}`;
    // A pinned view of a store is made for each question: its counts are its base store's.
    const owner = store.base ?? store;
    let entries = this.stores.get(owner);
    if (!entries) this.stores.set(owner, (entries = new Map()));
    const entry = entries.get(key);
    if (!entry) return this.start(entries, key, store, embedder, tenant, collection).rarity;
    // Most recently used last, so the first is the one to drop.
    entries.delete(key);
    entries.set(key, entry);
    const ttl = entry.sampled !== undefined && entry.sampled >= this.sample ? this.ttlMs : this.smallTtlMs;
    if (entry.sampled !== undefined && !entry.refreshing && this.now() - entry.countedAt >= ttl) {
      entry.refreshing = true;
      const next = this.count(store, embedder, tenant, collection);
      next.then(
        (rarity) => {
          if (entries.get(key) === entry) entries.set(key, { rarity: next, countedAt: this.now(), sampled: rarity.chunks });
        },
        () => {
          entry.refreshing = false;
          entry.countedAt = this.now();
        },
      );
    }
    return entry.rarity;
  }

  private start(entries: Map<string, Entry>, key: string, store: VectorStore, embedder: RarityWeighted, tenant: string, collection: string): Entry {
    const entry: Entry = { rarity: this.count(store, embedder, tenant, collection), countedAt: this.now() };
    entries.set(key, entry);
    entry.rarity.then(
      (rarity) => {
        entry.sampled = rarity.chunks;
        entry.countedAt = this.now();
      },
      () => {
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    while (entries.size > this.collections) entries.delete(entries.keys().next().value as string);
    return entry;
  }

  private async count(store: VectorStore, embedder: RarityWeighted, tenant: string, collection: string): Promise<FeatureRarity> {
    return FeatureRarity.count(embedder, await store.sampleChunks(tenant, collection, this.sample));
  }
}

/** The cache every search of this process shares. */
export const sharedRarityCache = new RarityCache();

/**
 * The query vectors of `texts` for a search of the tenant's collection: with
 * an embedder that weighs rarity, each feature weighted by its rarity in the
 * collection (FeatureRarity); otherwise the embedder's own vectors.
 */
export async function embedQueries(
  deps: { store: VectorStore; embedder: Embedder; rarity?: RarityCache },
  tenant: string,
  collection: string,
  texts: string[],
  signal?: AbortSignal,
): Promise<number[][]> {
  const { embedder } = deps;
  if (!weighsRarity(embedder)) return embedder.embed(texts, signal);
  const rarity = await (deps.rarity ?? sharedRarityCache).rarity(deps.store, embedder, tenant, collection);
  signal?.throwIfAborted();
  return texts.map((text) => embedder.embedQuery(text, rarity.weight));
}
