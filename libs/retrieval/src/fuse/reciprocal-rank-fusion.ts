import type { SearchHit } from '../types';

/**
 * Weighted reciprocal rank fusion: each list contributes weight / (k + rank)
 * for every chunk it ranks (rank from 1), so chunks found by both dense and
 * full-text search rise without comparing their incomparable raw scores, and
 * a weaker retriever (weight below 1) adds what the other missed without
 * reordering what that one ranks with confidence. Weights default to 1.
 */
export function reciprocalRankFusion(lists: SearchHit[][], limit: number, k = 60, weights: readonly number[] = []): SearchHit[] {
  const fused = new Map<string, SearchHit>();
  lists.forEach((list, i) => {
    const weight = weights[i] ?? 1;
    list.forEach((hit, rank) => {
      const entry = fused.get(hit.chunk.id);
      const add = weight / (k + rank + 1);
      if (entry) entry.score += add;
      else fused.set(hit.chunk.id, { chunk: hit.chunk, score: add });
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, limit);
}
