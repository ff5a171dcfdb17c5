/**
 * 32-bit FNV-1a of a string's UTF-16 code units, unsigned: a fast,
 * deterministic hash for bucketing features (the local embedder), keying
 * counts and picking a sample that does not depend on the order rows were
 * written in. Not for security.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
