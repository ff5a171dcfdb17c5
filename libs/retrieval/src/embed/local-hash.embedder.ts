import { fnv1a, terms, words } from '@rag/core';
import type { Embedder } from '../types';

/** The local embedder's vector size when EMBEDDING_DIM is 0 (unset). */
export const LOCAL_EMBEDDING_DIM = 2048;

// Weight of one occurrence of each kind of feature: stemmed words carry the
// topic, word bigrams some of the order, character trigrams of the words as
// written what the stemmer misses (typos, compounds, identifiers). v4 counts a
// trigram as much as a bigram (v3: half that); measured with the rarity
// weighting below, docs/benchmarks.md "Retrieval quality".
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.5;

/** A feature's weight in a query vector (its rarity in the collection searched), 1 when unknown. */
export type FeatureWeight = (feature: string) => number;

/**
 * The offline embedder: feature hashing of word terms, word bigrams and
 * character trigrams into a fixed number of signed buckets, L2-normalised.
 * Deterministic, no model download, and good enough that texts sharing
 * vocabulary (including inflections and typos) land near each other.
 *
 * A feature seen n times in a text counts 1 + ln n times its weight
 * (sublinear term frequency), so a word repeated all over a chunk does not
 * outweigh the rest of it. A chunk has about a thousand distinct features:
 * the default size keeps most of them out of each other's buckets.
 *
 * Queries may weigh each feature by how rare it is in the collection searched
 * (`embedQuery`, `features`; see embed/feature-rarity.ts), as full-text
 * search weighs words by their inverse document frequency: the word that
 * decides a question ("uuid" in "generate a random UUID as a column's
 * default") then counts for more than the words every page shares. Chunks are
 * embedded without it, so the weighting needs no rebuild as a collection grows.
 */
export class LocalHashEmbedder implements Embedder {
  /**
   * Recorded with every collection, so one built by another version is
   * refused (EmbedderMismatchError: rebuild it with `rag-ingest reindex`)
   * rather than searched with vectors that no longer match. v4: trigrams
   * weigh as much as bigrams; v3: sublinear term frequency; v2: Porter2 stems
   * and the Snowball stop words; `local-hash-<dim>`: a light suffix stemmer.
   */
  readonly id: string;

  constructor(readonly dimension = LOCAL_EMBEDDING_DIM) {
    if (!Number.isInteger(dimension) || dimension < 8) throw new RangeError(`embedding dimension must be an integer >= 8, got ${dimension}`);
    this.id = `local-hash-v4-${dimension}`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    return this.vectorOf(featureCounts(text));
  }

  /** The query's vector with each feature's weight multiplied by `weight(feature)`. */
  embedQuery(text: string, weight: FeatureWeight): number[] {
    return this.vectorOf(featureCounts(text), weight);
  }

  /** The distinct features of a text (what `weight` is asked about), for counting in how many chunks each occurs. */
  features(text: string): Set<string> {
    const features = new Set<string>();
    forEachFeature(text, (feature) => features.add(feature));
    return features;
  }

  private vectorOf(counts: Map<string, Seen>, weight?: FeatureWeight): number[] {
    const vector = new Float64Array(this.dimension);
    for (const [feature, { weight: kind, n }] of counts) {
      const h = fnv1a(feature);
      const value = kind * (1 + Math.log(n)) * (weight ? weight(feature) : 1);
      vector[h % this.dimension] += h & 0x80000000 ? -value : value;
    }
    let norm = 0;
    for (const v of vector) norm += v * v;
    norm = Math.sqrt(norm);
    return Array.from(vector, (v) => (norm > 0 ? v / norm : 0));
  }
}

interface Seen {
  /** The feature kind's weight. */
  weight: number;
  /** Occurrences in the text. */
  n: number;
}

/** Every feature of `text` with its kind's weight and how often it occurs. */
function featureCounts(text: string): Map<string, Seen> {
  const counts = new Map<string, Seen>();
  forEachFeature(text, (feature, weight) => {
    const seen = counts.get(feature);
    if (seen) seen.n++;
    else counts.set(feature, { weight, n: 1 });
  });
  return counts;
}

/** Calls `see` with each occurrence of a feature of `text` and its kind's weight. */
function forEachFeature(text: string, see: (feature: string, weight: number) => void): void {
  const ts = terms(text);
  for (const t of ts) see(`w:${t}`, WORD_WEIGHT);
  for (let i = 0; i + 1 < ts.length; i++) see(`b:${ts[i]} ${ts[i + 1]}`, BIGRAM_WEIGHT);
  for (const w of words(text)) {
    const padded = ` ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) see(`c:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
}
