import { terms, words } from '@rag/core';
import type { Embedder } from '../types';

/**
 * The offline embedder: feature hashing of word terms, word bigrams and
 * character trigrams into a fixed number of signed buckets, L2-normalised.
 * Deterministic, no model download, and good enough that texts sharing
 * vocabulary (including inflections and typos) land near each other.
 */
export class LocalHashEmbedder implements Embedder {
  /**
   * Recorded with every collection, so one built by another version is
   * refused (EmbedderMismatchError) rather than searched with vectors that no
   * longer match. v2: Porter2 stems and the Snowball stop words (`local-hash-<dim>`
   * used a light suffix stemmer).
   */
  readonly id: string;

  constructor(readonly dimension = 384) {
    if (!Number.isInteger(dimension) || dimension < 8) throw new RangeError(`embedding dimension must be an integer >= 8, got ${dimension}`);
    this.id = `local-hash-v2-${dimension}`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const vector = new Float64Array(this.dimension);
    const ts = terms(text);
    for (const t of ts) this.add(vector, `w:${t}`, 1);
    for (let i = 0; i + 1 < ts.length; i++) this.add(vector, `b:${ts[i]} ${ts[i + 1]}`, 0.5);
    for (const w of words(text)) {
      const padded = ` ${w} `;
      for (let i = 0; i + 3 <= padded.length; i++) this.add(vector, `c:${padded.slice(i, i + 3)}`, 0.25);
    }
    let norm = 0;
    for (const v of vector) norm += v * v;
    norm = Math.sqrt(norm);
    return Array.from(vector, (v) => (norm > 0 ? v / norm : 0));
  }

  private add(vector: Float64Array, feature: string, weight: number): void {
    const h = fnv1a(feature);
    vector[h % this.dimension] += h & 0x80000000 ? -weight : weight;
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
