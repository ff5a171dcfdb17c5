import { RerankerError } from './rerank-errors';
import type { RerankResult } from './reranker';

const SHAPES = 'expected a list of {index, score} (Text Embeddings Inference) or {results: [{index, relevance_score}]} (Jina, Cohere and compatible servers)';

function badAnswer(detail: string): RerankerError {
  return new RerankerError(`the reranker's answer is not a rerank response: ${detail}; ${SHAPES}`, { code: 'reranker_bad_response', permanent: false });
}

/**
 * The ranking in a rerank server's JSON answer, most relevant first: Text
 * Embeddings Inference answers `[{index, score}]`, Jina, Cohere and
 * compatible servers `{results: [{index, relevance_score}]}`. Each index
 * must name one of the `count` documents sent, once; each score must be a
 * finite number. Anything else is a RerankerError (`reranker_bad_response`).
 */
export function parseRerankResponse(body: unknown, count: number): RerankResult[] {
  let items: unknown[];
  let scoreField: 'score' | 'relevance_score';
  if (Array.isArray(body)) {
    items = body;
    scoreField = 'score';
  } else if (typeof body === 'object' && body !== null && Array.isArray((body as { results?: unknown }).results)) {
    items = (body as { results: unknown[] }).results;
    scoreField = 'relevance_score';
  } else {
    throw badAnswer(`got ${describe(body)}`);
  }
  const seen = new Set<number>();
  const results = items.map((item, position): RerankResult => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw badAnswer(`item ${position} is ${describe(item)}, not an object`);
    const { index } = item as { index?: unknown };
    // Some Cohere-compatible servers say `score`; accept it when `relevance_score` is absent.
    const score = scoreField in item ? (item as Record<string, unknown>)[scoreField] : (item as { score?: unknown }).score;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
      throw badAnswer(`item ${position} has index ${JSON.stringify(index)}, not one of the ${count} documents sent (0-${count - 1})`);
    }
    if (seen.has(index)) throw badAnswer(`index ${index} is ranked twice`);
    seen.add(index);
    if (typeof score !== 'number' || !Number.isFinite(score))
      throw badAnswer(`item ${position} has ${scoreField} ${JSON.stringify(score)}, not a finite number`);
    return { index, score };
  });
  // Servers sort already; sorting here makes the order ours (ties: the order sent).
  return results.sort((a, b) => b.score - a.score || a.index - b.index);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with keys ${JSON.stringify(Object.keys(value).slice(0, 5))}`;
  return `a ${typeof value}`;
}
