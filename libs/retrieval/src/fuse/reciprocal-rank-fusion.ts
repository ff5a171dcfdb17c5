import type { SearchHit } from '../types';

/**
 * Reciprocal rank fusion: each list contributes 1 / (k + rank) for every
 * chunk it ranks, so chunks found by both dense and full-text search rise
 * without comparing their incomparable raw scores.
 */
export function reciprocalRankFusion(lists: SearchHit[][], limit: number, k = 60): SearchHit[] {
  const fused = new Map<string, SearchHit>();
  for (const list of lists) {
    list.forEach((hit, rank) => {
      const entry = fused.get(hit.chunk.id);
      const add = 1 / (k + rank + 1);
      if (entry) entry.score += add;
      else fused.set(hit.chunk.id, { chunk: hit.chunk, score: add });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, limit);
}
