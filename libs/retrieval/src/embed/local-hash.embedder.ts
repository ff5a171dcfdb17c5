import { terms, words } from '@rag/core';
import type { Embedder } from '../types';

/** The local embedder's vector size when EMBEDDING_DIM is 0 (unset). */
export const LOCAL_EMBEDDING_DIM = 2048;

// Weight of one occurrence of each kind of feature: stemmed words carry the
// topic, word bigrams some of the order, character trigrams of the words as
// written what the stemmer misses (typos, compounds, identifiers).
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.25;

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
 */
export class LocalHashEmbedder implements Embedder {
  /**
   * Recorded with every collection, so one built by another version is
   * refused (EmbedderMismatchError: rebuild it with `rag-ingest reindex`)
   * rather than searched with vectors that no longer match. v3: sublinear term
   * frequency; v2: Porter2 stems and the Snowball stop words; `local-hash-<dim>`:
   * a light suffix stemmer.
   */
  readonly id: string;

  constructor(readonly dimension = LOCAL_EMBEDDING_DIM) {
    if (!Number.isInteger(dimension) || dimension < 8) throw new RangeError(`embedding dimension must be an integer >= 8, got ${dimension}`);
    this.id = `local-hash-v3-${dimension}`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const counts = new Map<string, { weight: number; n: number }>();
    const see = (feature: string, weight: number) => {
      const seen = counts.get(feature);
      if (seen) seen.n++;
      else counts.set(feature, { weight, n: 1 });
    };
    const ts = terms(text);
    for (const t of ts) see(`w:${t}`, WORD_WEIGHT);
    for (let i = 0; i + 1 < ts.length; i++) see(`b:${ts[i]} ${ts[i + 1]}`, BIGRAM_WEIGHT);
    for (const w of words(text)) {
      const padded = ` ${w} `;
      for (let i = 0; i + 3 <= padded.length; i++) see(`c:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
    }
    const vector = new Float64Array(this.dimension);
    for (const [feature, { weight, n }] of counts) {
      const h = fnv1a(feature);
      const value = weight * (1 + Math.log(n));
      vector[h % this.dimension] += h & 0x80000000 ? -value : value;
    }
    let norm = 0;
    for (const v of vector) norm += v * v;
    norm = Math.sqrt(norm);
    return Array.from(vector, (v) => (norm > 0 ? v / norm : 0));
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
