/** One document's place in a reranker's answer: its index in the documents given, and its relevance (higher is better). */
export interface RerankResult {
  index: number;
  score: number;
}

/** A document as its parts: what a reranker that reads fields (RERANKER=local) uses. */
export interface RerankPassage {
  title?: string;
  heading?: string;
  text: string;
}

export interface RerankOptions {
  /** Keep only the best `topN` (all when absent). */
  topN?: number;
  /** Aborts the call (a cancelled job, a client gone). */
  signal?: AbortSignal;
  /** The same documents as title, heading path and text, when known (an HTTP reranker sends only the joined text). */
  passages?: readonly RerankPassage[];
}

/**
 * Reorders retrieved passages by their relevance to the query, typically
 * with a cross-encoder: a second opinion on the fused candidates.
 */
export interface Reranker {
  /** `none`, or `http:<model>` (`http` without a model): recorded with each result. */
  readonly id: string;
  /** The documents' indices, most relevant first, at most `topN`. */
  rerank(query: string, documents: readonly string[], options?: RerankOptions): Promise<RerankResult[]>;
}

/** The id of the reranker that changes nothing. */
export const NO_RERANKER = 'none';

/** RERANKER=none: the documents in the order given (scores n, n-1, … 1). */
export class NoReranker implements Reranker {
  readonly id = NO_RERANKER;

  async rerank(_query: string, documents: readonly string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    const n = documents.length;
    return documents.slice(0, options.topN ?? n).map((_, index) => ({ index, score: n - index }));
  }
}

/** Whether `reranker` may change the order: configured and not `none`. */
export function isReranking(reranker: Reranker | undefined): reranker is Reranker {
  return reranker !== undefined && reranker.id !== NO_RERANKER;
}
