import { RerankerError } from './rerank-errors';
import { parseRerankResponse } from './rerank-response';
import { NoReranker, isReranking } from './reranker';

describe('parseRerankResponse', () => {
  it("reads Text Embeddings Inference's answer, [{index, score}], most relevant first", () => {
    expect(
      parseRerankResponse(
        [
          { index: 2, score: 0.1 },
          { index: 0, score: 0.9, text: 'ignored' },
          { index: 1, score: 0.5 },
        ],
        3,
      ),
    ).toEqual([
      { index: 0, score: 0.9 },
      { index: 1, score: 0.5 },
      { index: 2, score: 0.1 },
    ]);
  });

  it("reads Jina's and Cohere's answer, {results: [{index, relevance_score}]}, fewer than sent (top_n) included", () => {
    const body = {
      id: 'x',
      results: [
        { index: 3, relevance_score: 0.7, document: { text: 'd' } },
        { index: 1, relevance_score: 0.8 },
      ],
      meta: { billed_units: { search_units: 1 } },
    };
    expect(parseRerankResponse(body, 4)).toEqual([
      { index: 1, score: 0.8 },
      { index: 3, score: 0.7 },
    ]);
  });

  it('accepts `score` in results from servers that name it so, and keeps the order sent on ties', () => {
    expect(
      parseRerankResponse(
        {
          results: [
            { index: 1, score: 0.5 },
            { index: 0, score: 0.5 },
          ],
        },
        2,
      ),
    ).toEqual([
      { index: 0, score: 0.5 },
      { index: 1, score: 0.5 },
    ]);
  });

  it.each([
    ['an object without results', { data: [] }, 'an object with keys ["data"]'],
    ['a string', 'oops', 'a string'],
    ['null', null, 'null'],
    ['an item that is not an object', [1], 'item 0 is a number'],
    ['an index out of range', [{ index: 3, score: 1 }], 'index 3, not one of the 3 documents sent (0-2)'],
    ['a negative index', [{ index: -1, score: 1 }], 'index -1'],
    ['a fractional index', [{ index: 0.5, score: 1 }], 'index 0.5'],
    ['a missing index', [{ score: 1 }], 'index undefined'],
    [
      'an index twice',
      [
        { index: 1, score: 1 },
        { index: 1, score: 0.5 },
      ],
      'index 1 is ranked twice',
    ],
    ['a score that is not a number', [{ index: 0, score: '0.9' }], 'score "0.9", not a finite number'],
    ['a relevance_score that is null', { results: [{ index: 0, relevance_score: null }] }, 'relevance_score null'],
  ])('refuses %s with a retryable reranker_bad_response naming the problem and both shapes', (_what, body, detail) => {
    let error: unknown;
    try {
      parseRerankResponse(body, 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RerankerError);
    const e = error as RerankerError;
    expect(e.code).toBe('reranker_bad_response');
    expect(e.permanent).toBe(false);
    expect(e.message).toContain(detail);
    expect(e.message).toContain('{index, score}');
    expect(e.message).toContain('{results: [{index, relevance_score}]}');
  });
});

describe('NoReranker', () => {
  it('keeps the order given, cut to topN, and is not reranking', async () => {
    const none = new NoReranker();
    expect(await none.rerank('q', ['a', 'b', 'c'], { topN: 2 })).toEqual([
      { index: 0, score: 3 },
      { index: 1, score: 2 },
    ]);
    expect(isReranking(none)).toBe(false);
    expect(isReranking(undefined)).toBe(false);
  });
});
