import { contentWords, words } from './text-terms';

/**
 * A deterministic unit vector for a text: its words hashed into `dimension`
 * buckets (signed feature hashing), so texts sharing words point the same way
 * and unrelated texts are near-orthogonal. Values are float32-exact, so the
 * float and base64 encodings carry the same numbers.
 */
export function fakeEmbedding(text: string, dimension: number): number[] {
  let features = contentWords(text);
  if (features.length === 0) features = words(text);
  if (features.length === 0) features = [text.trim().toLowerCase()];
  const vector = new Array<number>(dimension).fill(0);
  for (const feature of features) {
    const h = hash(feature);
    vector[h % dimension] += h & 0x80000000 ? -1 : 1;
  }
  let norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  if (norm === 0) {
    // Every feature cancelled out: fall back to one bucket chosen by the text.
    vector[hash(text) % dimension] = 1;
    norm = 1;
  }
  return vector.map((v) => Math.fround(v / norm));
}

/** The `encoding_format: 'base64'` form: little-endian float32 bytes. */
export function embeddingToBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/** FNV-1a, then a murmur3 finaliser so the low bits (bucket) and top bit (sign) are well mixed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
