import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ChatFiltersDto, IsChatFilters, IsTopK } from './chat-request.dto';
import { Limits } from './limits';
import type { Citation } from './query-result';
import { IsPlainText } from './plain-text';

/** How a search ranks: dense and full-text fused by reciprocal rank, or one retriever alone. */
export const SEARCH_MODES = ['hybrid', 'vector', 'text'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/** Body of `POST /v1/collections/:name/search`: the chunks a question would retrieve, answered in the request. */
export class SearchRequestDto {
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  @IsPlainText()
  query!: string;

  @IsTopK()
  top_k?: number;

  @IsChatFilters()
  filters?: ChatFiltersDto;

  @IsOptional()
  @IsIn(SEARCH_MODES, { message: `mode must be one of ${SEARCH_MODES.join(', ')}` })
  mode?: SearchMode;

  /** With a reranker configured (RERANKER=http): false keeps the fused order; default true. Ignored without one. */
  @IsOptional()
  @IsBoolean()
  rerank?: boolean;
}

/** One ranked chunk of a search: a citation's fields (its `score` the mode's), with its document id and ranks. */
export interface SearchResultItem extends Citation {
  doc_id: string;
  /** The mode's score, higher is better: RRF (hybrid), cosine similarity (vector) or the full-text score (text). */
  score: number;
  /**
   * Each retriever's 1-based rank of this chunk before fusion; absent when that
   * retriever did not return it. `rerank`: its rank in the reranker's order
   * (the order of the results) when the search was reranked.
   */
  ranks: { vector?: number; text?: number; rerank?: number };
  /** The reranker's relevance score, when the search was reranked. */
  rerank_score?: number;
}

/** Answer of `POST /v1/collections/:name/search` (and `rag-ingest search --json`). */
export interface SearchResponse {
  collection: string;
  mode: SearchMode;
  query: string;
  took_ms: number;
  /** The reranker configured (`http:<model>`); absent without one. */
  reranker?: string;
  /** With a reranker: whether the results are in its order, or (false: it failed, or `rerank: false` was asked) in the mode's order. */
  reranked?: boolean;
  results: SearchResultItem[];
}
