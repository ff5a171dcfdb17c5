export interface Citation {
  /** Chunk id in the vector store. */
  id: string;
  /** Document id: the source path relative to the ingested folder. */
  source: string;
  title?: string;
  heading?: string;
  /** 0-based position of the chunk in its document. */
  position: number;
  /** 1-based page, for paged formats (PDF). */
  page?: number;
  /** The cited chunk text. */
  chunk: string;
  /** Fused retrieval score (higher is better). */
  score: number;
}

export interface Backends {
  vector_store: string;
  embedder: string;
  llm: string;
  /** The reranker (`http:<model>`, or `http` without RERANKER_MODEL); absent when none is configured. */
  reranker?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Timings {
  queued_ms: number;
  retrieve_ms: number;
  generate_ms: number;
  total_ms: number;
}

/** The stored result of a completed `rag-query` job. */
export interface QueryResult {
  answer: string;
  citations: Citation[];
  model: string;
  backends: Backends;
  /**
   * With a reranker configured: whether the passages are in its order (true)
   * or, because it failed, in fused order (false). Absent without a reranker.
   */
  reranked?: boolean;
  usage: Usage;
  timings: Timings;
}
