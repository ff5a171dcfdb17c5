import type { SearchMode } from '@rag/queue-contracts';
import { answerQuestion, type AnswerDeps } from '../pipeline/answer-question';
import { rankedSearch, type SearchDeps } from '../pipeline/search-collection';
import { isReranking } from '../rerank/reranker';
import { meanScores, scoreRanking, type RankingScores } from './metrics';

/** One line of an evaluation set: a question and the documents (ids as the ingest gives them) that answer it. */
export interface EvalQuestion {
  id: string;
  question: string;
  gold: string[];
}

/**
 * Reads a JSON Lines evaluation set (`{ id, question, gold: [doc ids], note? }`
 * a line; tools/eval/README.md), reporting each bad line by number. Other
 * fields are ignored: a note is for people, never given to the retriever.
 */
export function parseEvalSet(text: string): { questions: EvalQuestion[]; errors: string[] } {
  const questions: EvalQuestion[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      errors.push(`line ${index + 1}: not JSON`);
      return;
    }
    const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const gold = o.gold;
    if (
      typeof o.id !== 'string' ||
      typeof o.question !== 'string' ||
      o.question.trim() === '' ||
      !Array.isArray(gold) ||
      gold.length === 0 ||
      !gold.every((g) => typeof g === 'string' && g !== '')
    ) {
      errors.push(`line ${index + 1}: expected {"id": "…", "question": "…", "gold": ["doc id", …]}`);
      return;
    }
    questions.push({ id: o.id, question: o.question, gold: gold as string[] });
  });
  return { questions, errors };
}

/**
 * What is measured: a search mode (its retrievers alone, never reranked),
 * `reranked` (hybrid search then the configured reranker, as the service
 * searches with RERANKER set), or the documents the answer cites.
 */
export type EvalTarget = SearchMode | 'reranked' | 'answer';

/** Chunks each search returns (the API's top_k bound): the depth within which MRR finds a gold document. */
export const EVAL_SEARCH_DEPTH = 50;

export interface EvalOptions {
  tenant: string;
  collection: string;
  /** Search modes to measure, in this order. */
  modes: readonly SearchMode[];
  /** Recall's cut-off, in distinct documents. */
  k: number;
  /** Also measure the answer's citations (needs deps.answerer), asking with this top_k (passages retrieved). */
  answers?: { topK: number };
  /** Chunks each search returns; default EVAL_SEARCH_DEPTH. */
  depth?: number;
  /** After each question of each target. */
  onProgress?: (done: { target: EvalTarget; id: string }) => void;
  signal?: AbortSignal;
}

export interface QuestionOutcome {
  id: string;
  question: string;
  gold: string[];
  /** Distinct documents in rank order (search: within the depth; answer: as cited, in citation order). */
  documents: string[];
  scores: RankingScores;
}

export interface TargetOutcome {
  target: EvalTarget;
  totals: RankingScores;
  questions: QuestionOutcome[];
}

/** The document a chunk id (`${docId}#${position}`) belongs to. */
export function documentOfChunk(chunkId: string): string {
  const hash = chunkId.lastIndexOf('#');
  return hash < 0 ? chunkId : chunkId.slice(0, hash);
}

const distinct = (ids: string[]) => [...new Set(ids)];

/**
 * Runs every question through the search use case (rankedSearch, as
 * `POST /v1/collections/:name/search` and `rag-ingest search` do) in each
 * mode, without the reranker; with a reranker in `deps` (RERANKER other than
 * none), also hybrid search reranked (target `reranked`, after the modes);
 * and optionally through the answer use case (answerQuestion, as a
 * `rag-query` job does, reranked when configured). Scores the ranked
 * distinct documents against the gold ones (lib/retrieval/src/eval/metrics.ts).
 */
export async function evaluateQuestions(
  deps: SearchDeps & Partial<Pick<AnswerDeps, 'answerer' | 'condenser' | 'logger'>>,
  questions: readonly EvalQuestion[],
  options: EvalOptions,
): Promise<TargetOutcome[]> {
  const depth = options.depth ?? EVAL_SEARCH_DEPTH;
  const outcomes: TargetOutcome[] = [];
  const score = (q: EvalQuestion, documents: string[]): QuestionOutcome => ({
    id: q.id,
    question: q.question,
    gold: q.gold,
    documents,
    scores: scoreRanking(documents, q.gold, options.k),
  });
  const searches: { target: EvalTarget; mode: SearchMode; rerank: boolean }[] = options.modes.map((mode) => ({ target: mode, mode, rerank: false }));
  if (isReranking(deps.reranker)) searches.push({ target: 'reranked', mode: 'hybrid', rerank: true });
  for (const { target, mode, rerank } of searches) {
    const results: QuestionOutcome[] = [];
    for (const q of questions) {
      const hits = await rankedSearch(deps, {
        tenant: options.tenant,
        collection: options.collection,
        query: q.question,
        topK: depth,
        mode,
        rerank,
        signal: options.signal,
      });
      results.push(score(q, distinct(hits.map((hit) => hit.chunk.docId))));
      options.onProgress?.({ target, id: q.id });
    }
    outcomes.push({ target, totals: meanScores(results.map((r) => r.scores)), questions: results });
  }
  if (options.answers) {
    const { answerer } = deps;
    if (!answerer) throw new Error('evaluateQuestions: answers were asked for without an answerer');
    const results: QuestionOutcome[] = [];
    for (const q of questions) {
      const answer = await answerQuestion(
        { ...deps, answerer },
        { tenant: options.tenant, collection: options.collection, query: q.question, topK: options.answers.topK, signal: options.signal },
      );
      results.push(score(q, distinct(answer.citations.map((c) => documentOfChunk(c.id)))));
      options.onProgress?.({ target: 'answer', id: q.id });
    }
    outcomes.push({ target: 'answer', totals: meanScores(results.map((r) => r.scores)), questions: results });
  }
  return outcomes;
}
