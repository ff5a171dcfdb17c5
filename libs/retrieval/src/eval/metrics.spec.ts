import { distinctDocuments, hitAt, meanScores, ndcgAt, recallAt, reciprocalRank, scoreRanking } from './metrics';

const log2 = Math.log2;

describe('ranking metrics', () => {
  it('reduces a ranking to its distinct documents, first occurrence first', () => {
    expect(distinctDocuments(['a', 'b', 'a', 'c', 'b', 'd'])).toEqual(['a', 'b', 'c', 'd']);
    expect(distinctDocuments([])).toEqual([]);
  });

  it('scores a gold document at rank 3', () => {
    const ranked = ['x', 'y', 'g', 'z'];
    expect(scoreRanking(ranked, ['g'], 10)).toEqual({
      hit_at_1: 0,
      hit_at_3: 1,
      hit_at_5: 1,
      hit_at_10: 1,
      recall_at_k: 1,
      mrr: 1 / 3,
      ndcg_at_10: 1 / log2(4),
    });
  });

  it('counts a document once at its first (best) rank: chunks of the same page do not push the gold page down', () => {
    // Chunks x, x, y, x, g → documents x, y, g: g is third, not fifth.
    const ranked = ['x', 'x', 'y', 'x', 'g'];
    expect(reciprocalRank(ranked, ['g'])).toBe(1 / 3);
    expect(hitAt(ranked, ['g'], 3)).toBe(1);
    expect(ndcgAt(ranked, ['g'], 10)).toBeCloseTo(0.5, 12);
    // A gold page repeated gains nothing from its second chunk.
    expect(scoreRanking(['g', 'g', 'g'], ['g'], 10)).toEqual(scoreRanking(['g'], ['g'], 10));
  });

  it('scores no gold document found as zero everywhere', () => {
    expect(scoreRanking(['a', 'b', 'c'], ['g'], 10)).toEqual({
      hit_at_1: 0,
      hit_at_3: 0,
      hit_at_5: 0,
      hit_at_10: 0,
      recall_at_k: 0,
      mrr: 0,
      ndcg_at_10: 0,
    });
    expect(scoreRanking([], ['g'], 10).mrr).toBe(0);
  });

  it('counts a gold document beyond the cut-offs in MRR only', () => {
    const ranked = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd10', 'd11', 'g'];
    expect(scoreRanking(ranked, ['g'], 10)).toEqual({
      hit_at_1: 0,
      hit_at_3: 0,
      hit_at_5: 0,
      hit_at_10: 0,
      recall_at_k: 0,
      mrr: 1 / 12,
      ndcg_at_10: 0,
    });
  });

  it('with several gold documents: MRR from the first found, recall the share found, nDCG against the ideal order', () => {
    const ranked = ['a', 'g1', 'b', 'g3'];
    const gold = ['g1', 'g2', 'g3'];
    expect(reciprocalRank(ranked, gold)).toBe(1 / 2);
    expect(recallAt(ranked, gold, 10)).toBe(2 / 3);
    expect(recallAt(ranked, gold, 2)).toBe(1 / 3);
    const dcg = 1 / log2(3) + 1 / log2(5);
    const ideal = 1 + 1 / log2(3) + 1 / log2(4);
    expect(ndcgAt(ranked, gold, 10)).toBeCloseTo(dcg / ideal, 12);
    // The ideal DCG at k counts at most k gold documents: both top-2 places gold is perfect.
    expect(ndcgAt(['g2', 'g1', 'a'], gold, 2)).toBeCloseTo(1, 12);
  });

  it('ignores a gold id listed twice', () => {
    expect(recallAt(['g'], ['g', 'g'], 10)).toBe(1);
    expect(ndcgAt(['g'], ['g', 'g'], 10)).toBeCloseTo(1, 12);
  });

  it('takes ties as the ranking orders them: equal scores do not share a rank', () => {
    // Two documents the retriever scored the same; the order it returned decides.
    expect(reciprocalRank(['a', 'g'], ['g'])).toBe(1 / 2);
    expect(reciprocalRank(['g', 'a'], ['g'])).toBe(1);
  });

  it('refuses a question without gold documents', () => {
    expect(() => hitAt(['a'], [], 1)).toThrow(RangeError);
  });

  it('averages each metric over questions', () => {
    const perfect = scoreRanking(['g'], ['g'], 10);
    const missed = scoreRanking(['a'], ['g'], 10);
    const third = scoreRanking(['a', 'b', 'g'], ['g'], 10);
    const mean = meanScores([perfect, missed, third]);
    expect(mean.hit_at_1).toBeCloseTo(1 / 3, 12);
    expect(mean.hit_at_3).toBeCloseTo(2 / 3, 12);
    expect(mean.mrr).toBeCloseTo((1 + 0 + 1 / 3) / 3, 12);
    expect(mean.ndcg_at_10).toBeCloseTo((1 + 0 + 0.5) / 3, 12);
    expect(meanScores([]).mrr).toBe(0);
  });
});
