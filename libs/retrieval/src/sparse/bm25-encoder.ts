import { ENGLISH_STOP_WORDS, stem } from '@rag/core';

/** A sparse vector as Qdrant takes it: indices unique and ascending, one value each. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

export interface Bm25Options {
  /** Term-frequency saturation; 1.2 is the usual BM25 default. */
  k1?: number;
  /** Length normalisation, 0 (none) to 1 (full). */
  b?: number;
  /** The typical document length in terms (after stop words) that `b` normalises against. */
  avgLen?: number;
}

/**
 * Names the tokenisation and hashing below. It is recorded with every Qdrant
 * collection: changing either changes every index, so a collection built with
 * another version must be loaded again.
 */
export const BM25_ENCODER_VERSION = 'bm25-porter2-fnv1a32-v1';

// Letters, marks and digits, with inner apostrophes ("employee's") kept for the stemmer.
const WORD = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*/gu;

/**
 * Turns text into BM25 sparse vectors for Qdrant. Documents carry the BM25
 * term-frequency part, tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen)); queries
 * carry 1 per term. The IDF part comes from Qdrant (the `idf` modifier of the
 * sparse vector), computed over the collection at query time, so the scores
 * are BM25 without the encoder ever seeing the corpus.
 *
 * The word splitting is deliberately its own (the stemmer and stop words are
 * @rag/core's): stored vectors depend on it byte for byte.
 */
export class Bm25Encoder {
  readonly k1: number;
  readonly b: number;
  readonly avgLen: number;

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    this.avgLen = options.avgLen ?? 256;
    if (!(this.k1 > 0)) throw new RangeError(`BM25 k1 must be > 0, got ${this.k1}`);
    if (!(this.b >= 0 && this.b <= 1)) throw new RangeError(`BM25 b must be within [0, 1], got ${this.b}`);
    if (!(this.avgLen > 0)) throw new RangeError(`BM25 avgLen must be > 0, got ${this.avgLen}`);
  }

  /** Lower-cased, stop words dropped, Porter2-stemmed terms, in text order. */
  terms(text: string): string[] {
    const out: string[] = [];
    const words =
      text
        .normalize('NFKC')
        .toLowerCase()
        .replace(/[\u2018\u2019\u02bc]/g, "'")
        .match(WORD) ?? [];
    for (const word of words) {
      if (ENGLISH_STOP_WORDS.has(word)) continue;
      out.push(stem(word));
    }
    return out;
  }

  /** A document's (chunk's) vector: BM25 term-frequency weights. */
  encodeDocument(text: string): SparseVector {
    const counts = this.countByIndex(this.terms(text));
    let len = 0;
    for (const tf of counts.values()) len += tf;
    const norm = this.k1 * (1 - this.b + (this.b * len) / this.avgLen);
    return toSparse(counts, (tf) => (tf * (this.k1 + 1)) / (tf + norm));
  }

  /** A query's vector: 1 for each distinct term; Qdrant weighs them by IDF. */
  encodeQuery(text: string): SparseVector {
    return toSparse(this.countByIndex(this.terms(text)), () => 1);
  }

  private countByIndex(terms: string[]): Map<number, number> {
    // Terms whose hashes collide are counted as one term: rare, and harmless for ranking.
    const counts = new Map<number, number>();
    for (const term of terms) {
      const index = termIndex(term);
      counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    return counts;
  }
}

/** 32-bit FNV-1a of the term's UTF-8 bytes, unsigned: the term's sparse index. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(term, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function toSparse(counts: Map<number, number>, weight: (tf: number) => number): SparseVector {
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weight(counts.get(i) ?? 0)) };
}
