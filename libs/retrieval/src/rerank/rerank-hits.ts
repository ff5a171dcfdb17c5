import { CallAbortedError, isCancellation } from '@rag/core';
import { errorMessage, type Logger } from '@rag/observability';
import { searchableText } from '../searchable-text';
import type { SearchHit } from '../types';
import { isReranking, type Reranker } from './reranker';

/** A hit in the reranker's order, with its relevance score. */
export type Reranked<T extends SearchHit> = T & { rerankScore?: number };

export interface RerankedHits<T extends SearchHit> {
  /** At most `topK`: the reranker's order, or the order given when it failed or is none. */
  hits: Reranked<T>[];
  /** Whether `hits` are in the reranker's order. */
  reranked: boolean;
  /** Why not, when the reranker failed. */
  error?: unknown;
}

/** How many candidates to retrieve for `topK` results: RERANK_CANDIDATES (at least topK) with a reranker, else topK. */
export function rerankCandidates(reranker: Reranker | undefined, topK: number, candidates: number | undefined): number {
  return isReranking(reranker) ? Math.max(topK, candidates ?? topK) : topK;
}

/**
 * The best `topK` of `hits` (fused candidates) in the reranker's order; each
 * is sent as its title, heading path and text. A reranker that fails (not a
 * cancellation) leaves the order given: the failure is logged as a warning
 * with its reason and returned in `error`, and `reranked` is false.
 */
export async function rerankHits<T extends SearchHit>(
  reranker: Reranker | undefined,
  query: string,
  hits: T[],
  topK: number,
  options: { signal?: AbortSignal; logger?: Logger } = {},
): Promise<RerankedHits<T>> {
  if (!isReranking(reranker)) return { hits: hits.slice(0, topK), reranked: false };
  if (hits.length === 0) return { hits: [], reranked: true };
  try {
    const ranked = await reranker.rerank(
      query,
      hits.map((hit) => searchableText(hit.chunk)),
      { topN: topK, signal: options.signal, passages: hits.map(({ chunk }) => ({ title: chunk.title, heading: chunk.heading, text: chunk.text })) },
    );
    return { hits: ranked.map(({ index, score }) => ({ ...hits[index], rerankScore: score })), reranked: true };
  } catch (error) {
    if (options.signal?.aborted || isCancellation(error) || error instanceof CallAbortedError) throw error;
    options.logger?.warn('reranker failed; keeping the fused order', {
      reranker: reranker.id,
      code: (error as { code?: unknown }).code,
      error: errorMessage(error),
    });
    return { hits: hits.slice(0, topK), reranked: false, error };
  }
}
