/**
 * Ranking metrics over documents (pure; no I/O). A ranking is a list of
 * document ids, best first; it is reduced to its distinct documents (first
 * occurrence wins) before any metric, so a document that several chunks bring
 * counts once, at its best rank. Relevance is binary: a document is relevant
 * when it is one of the question's gold documents.
 */

/** The distinct ids of `ranked`, each at its first occurrence, in order. */
export function distinctDocuments(ranked: readonly string[]): string[] {
  return [...new Set(ranked)];
}

function goldSet(gold: readonly string[]): Set<string> {
  if (gold.length === 0) throw new RangeError('a question needs at least one gold document');
  return new Set(gold);
}

/** 1 when a gold document is among the first `k` distinct documents, else 0. */
export function hitAt(ranked: readonly string[], gold: readonly string[], k: number): number {
  const relevant = goldSet(gold);
  return distinctDocuments(ranked)
    .slice(0, k)
    .some((doc) => relevant.has(doc))
    ? 1
    : 0;
}

/** The share of the (distinct) gold documents found among the first `k` distinct documents. */
export function recallAt(ranked: readonly string[], gold: readonly string[], k: number): number {
  const relevant = goldSet(gold);
  const found = distinctDocuments(ranked)
    .slice(0, k)
    .filter((doc) => relevant.has(doc)).length;
  return found / relevant.size;
}

/** 1 / the rank of the first gold document among the distinct documents; 0 when none is in the ranking. */
export function reciprocalRank(ranked: readonly string[], gold: readonly string[]): number {
  const relevant = goldSet(gold);
  const index = distinctDocuments(ranked).findIndex((doc) => relevant.has(doc));
  return index < 0 ? 0 : 1 / (index + 1);
}

/**
 * nDCG@k with binary relevance: DCG = Σ 1/log2(rank + 1) over the gold
 * documents among the first `k` distinct documents, divided by the DCG of
 * an ideal ranking (every gold document first, at most `k` of them).
 */
export function ndcgAt(ranked: readonly string[], gold: readonly string[], k: number): number {
  const relevant = goldSet(gold);
  const discount = (index: number) => 1 / Math.log2(index + 2);
  const dcg = distinctDocuments(ranked)
    .slice(0, k)
    .reduce((sum, doc, i) => (relevant.has(doc) ? sum + discount(i) : sum), 0);
  let ideal = 0;
  for (let i = 0; i < Math.min(relevant.size, k); i++) ideal += discount(i);
  return dcg / ideal;
}

/** One question's scores (or their means over a set). */
export interface RankingScores {
  hit_at_1: number;
  hit_at_3: number;
  hit_at_5: number;
  hit_at_10: number;
  /** Recall at the `k` the evaluation was run with. */
  recall_at_k: number;
  mrr: number;
  ndcg_at_10: number;
}

export const SCORE_NAMES: readonly (keyof RankingScores)[] = ['hit_at_1', 'hit_at_3', 'hit_at_5', 'hit_at_10', 'recall_at_k', 'mrr', 'ndcg_at_10'];

/** Every metric of one ranking against its gold documents; `k` is recall's cut-off. */
export function scoreRanking(ranked: readonly string[], gold: readonly string[], k: number): RankingScores {
  return {
    hit_at_1: hitAt(ranked, gold, 1),
    hit_at_3: hitAt(ranked, gold, 3),
    hit_at_5: hitAt(ranked, gold, 5),
    hit_at_10: hitAt(ranked, gold, 10),
    recall_at_k: recallAt(ranked, gold, k),
    mrr: reciprocalRank(ranked, gold),
    ndcg_at_10: ndcgAt(ranked, gold, 10),
  };
}

/** The mean of each metric over questions (all zero for none). */
export function meanScores(scores: readonly RankingScores[]): RankingScores {
  const mean = {} as RankingScores;
  for (const name of SCORE_NAMES) mean[name] = scores.length === 0 ? 0 : scores.reduce((sum, s) => sum + s[name], 0) / scores.length;
  return mean;
}
