import type { SearchHit } from '../types';
import { reciprocalRankFusion } from './reciprocal-rank-fusion';

const hit = (id: string, score = 1): SearchHit => ({
  chunk: { id, docId: id.split('#')[0], source: id, title: '', heading: '', position: 0, text: id, contentHash: 'h' },
  score,
});

describe('reciprocalRankFusion', () => {
  it('ranks a chunk found by both lists above chunks found by one', () => {
    const fused = reciprocalRankFusion(
      [
        [hit('a#0'), hit('b#0')],
        [hit('c#0'), hit('b#0')],
      ],
      3,
    );
    expect(fused.map((h) => h.chunk.id)).toEqual(['b#0', 'a#0', 'c#0']);
    expect(fused[0].score).toBeCloseTo(2 / 62, 10);
  });

  it('weighs each list: a weaker retriever adds what the other missed without outranking what that one ranks', () => {
    const dense = [hit('dense-only#0'), hit('both#0')];
    const text = [hit('both#0'), hit('text-only#0')];
    // Equal weights: the dense list's first beats the text list's second.
    expect(reciprocalRankFusion([dense, text], 3).map((h) => h.chunk.id)).toEqual(['both#0', 'dense-only#0', 'text-only#0']);
    // The dense list at 0.3: the text list's second comes before it.
    const weighted = reciprocalRankFusion([dense, text], 3, 60, [0.3, 1]);
    expect(weighted.map((h) => h.chunk.id)).toEqual(['both#0', 'text-only#0', 'dense-only#0']);
    expect(weighted[0].score).toBeCloseTo(0.3 / 62 + 1 / 61, 10);
    expect(weighted[2].score).toBeCloseTo(0.3 / 61, 10);
  });

  it('ignores raw scores and honours the limit', () => {
    const fused = reciprocalRankFusion([[hit('a#0', 0.001), hit('b#0', 999)]], 1);
    expect(fused).toHaveLength(1);
    expect(fused[0].chunk.id).toBe('a#0');
  });

  it('scores each chunk as the sum of 1 / (k + rank) over the lists, rank counted from 1', () => {
    const fused = reciprocalRankFusion([[hit('a#0'), hit('b#0'), hit('c#0')], [hit('c#0')]], 10, 10);
    expect(fused.map((h) => [h.chunk.id, h.score])).toEqual([
      ['c#0', 1 / 13 + 1 / 11],
      ['a#0', 1 / 11],
      ['b#0', 1 / 12],
    ]);
  });

  it('favours agreement: a chunk both lists rank 32nd beats the top chunk of one list', () => {
    const filler = (prefix: string) => Array.from({ length: 31 }, (_, i) => hit(`${prefix}${i}#0`));
    const fused = reciprocalRankFusion(
      [
        [hit('top#0'), ...filler('x'), hit('both#0')],
        [...filler('y'), hit('both#0')],
      ],
      2,
    );
    // 2/92 > 1/61
    expect(fused.map((h) => h.chunk.id)).toEqual(['both#0', 'top#0']);
  });

  it('keeps the first-seen order for equal scores and the chunk of the first list', () => {
    const first = hit('a#0');
    const second = hit('a#0');
    second.chunk.text = 'other copy';
    const fused = reciprocalRankFusion([[first, hit('b#0')], [hit('c#0'), second], [hit('d#0')]], 10);
    // a: 1/61 + 1/62; c and d tie at 1/61; b: 1/62.
    expect(fused.map((h) => h.chunk.id)).toEqual(['a#0', 'c#0', 'd#0', 'b#0']);
    expect(fused[0].chunk).toBe(first.chunk);
  });

  it('returns nothing for empty lists and does not change its input', () => {
    expect(reciprocalRankFusion([], 5)).toEqual([]);
    expect(reciprocalRankFusion([[], []], 5)).toEqual([]);
    const list = [hit('a#0', 0.5)];
    reciprocalRankFusion([list, list], 5);
    expect(list[0].score).toBe(0.5);
  });
});
