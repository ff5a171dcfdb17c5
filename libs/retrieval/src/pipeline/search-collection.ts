import type { Logger } from '@rag/observability';
import type { SearchMode, SearchResponse, SearchResultItem } from '@rag/queue-contracts';
import { embedderInfo } from '../embed/embedder-info';
import { embedQueries, type RarityCache } from '../embed/feature-rarity';
import { CollectionNotFoundError, EmbedderMismatchError } from '../errors';
import { reciprocalRankFusion } from '../fuse/reciprocal-rank-fusion';
import { rerankCandidates, rerankHits } from '../rerank/rerank-hits';
import { isReranking, type Reranker } from '../rerank/reranker';
import type { Embedder, SearchFilter, SearchHit, VectorStore } from '../types';

export interface SearchDeps {
  store: VectorStore;
  embedder: Embedder;
  /** Reorders the mode's candidates before the top k are kept (RERANKER); none when absent. */
  reranker?: Reranker;
  /** Candidates the reranker sees (RERANK_CANDIDATES, at least top k). */
  rerankCandidates?: number;
  /** Where a failing reranker is logged. */
  logger?: Logger;
  /** Where the collections' feature rarity is kept (default: the process's shared cache). */
  rarity?: RarityCache;
  /** The dense ranking's weight in a hybrid fusion, full-text search's being 1 (default: the embedder's fusionWeight, else 1). */
  denseWeight?: number;
}

export interface SearchRequest {
  /** The tenant searching; only its own collections are found. */
  tenant: string;
  collection: string;
  query: string;
  topK: number;
  mode: SearchMode;
  filter?: SearchFilter;
  signal?: AbortSignal;
  /** With a reranker configured: false keeps the mode's order (default true). */
  rerank?: boolean;
}

/**
 * A search hit with each retriever's 1-based rank before fusion (absent: that
 * retriever did not return it) and, when reranked, its rank and score in the
 * reranker's order.
 */
export interface RankedHit extends SearchHit {
  ranks: { vector?: number; text?: number; rerank?: number };
  rerankScore?: number;
}

/**
 * Candidates each retriever brings to a hybrid fusion: the same number both
 * stores' hybridSearch takes (the contract suite checks that hybrid search
 * here ranks as hybridSearch does).
 */
export const hybridCandidates = (limit: number): number => Math.max(20, limit * 4);

/** The dense ranking's weight in a hybrid fusion (full-text search's being 1): the deps' own, else the embedder's; undefined means 1. */
export function denseWeightOf(deps: { embedder: Embedder; denseWeight?: number }): number | undefined {
  return deps.denseWeight ?? deps.embedder.fusionWeight;
}

/** Rank (1-based) of each chunk id in `hits`. */
function rankOf(hits: SearchHit[]): Map<string, number> {
  return new Map(hits.map((hit, i) => [hit.chunk.id, i + 1]));
}

/**
 * The chunks a question retrieves from the tenant's collection, ranked by
 * `mode`: `hybrid` fuses the dense and full-text rankings by reciprocal rank
 * (as answers are retrieved), `vector` and `text` are one retriever alone.
 * Every hit carries each retriever's rank before fusion. Vector and hybrid
 * searches need the embedder the collection was built with
 * (EmbedderMismatchError otherwise); text search does not embed.
 */
export async function rankedSearch(deps: SearchDeps, q: SearchRequest): Promise<RankedHit[]> {
  return (await rerankedSearch(deps, q)).hits;
}

/**
 * rankedSearch's hits, reranked when a reranker is configured and not turned
 * off by `rerank: false`: RERANK_CANDIDATES candidates of the mode, the top k
 * in the reranker's order with `ranks.rerank`; if it fails, the mode's order
 * (logged) and `reranked: false`.
 */
async function rerankedSearch(deps: SearchDeps, q: SearchRequest): Promise<{ hits: RankedHit[]; reranked?: boolean }> {
  const reranker = q.rerank === false ? undefined : deps.reranker;
  if (!isReranking(reranker)) return { hits: await modeSearch(deps, q), ...(isReranking(deps.reranker) ? { reranked: false } : {}) };
  const candidates = await modeSearch(deps, { ...q, topK: rerankCandidates(reranker, q.topK, deps.rerankCandidates) });
  const outcome = await rerankHits(reranker, q.query, candidates, q.topK, { signal: q.signal, logger: deps.logger });
  const hits = outcome.reranked ? outcome.hits.map((hit, i) => ({ ...hit, ranks: { ...hit.ranks, rerank: i + 1 } })) : outcome.hits;
  return { hits, reranked: outcome.reranked };
}

/** The mode's ranking alone. */
async function modeSearch(deps: SearchDeps, q: SearchRequest): Promise<RankedHit[]> {
  const info = await deps.store.collectionInfo(q.tenant, q.collection);
  if (!info) throw new CollectionNotFoundError(q.collection);
  if (q.mode === 'text') {
    const hits = await deps.store.searchText(q.tenant, q.collection, q.query, q.topK, q.filter);
    return hits.map((hit, i) => ({ ...hit, ranks: { text: i + 1 } }));
  }
  const configured = await embedderInfo(deps.embedder, q.signal);
  if (info.embedder.id !== configured.id || info.embedder.dimension !== configured.dimension) {
    throw new EmbedderMismatchError(q.collection, info.embedder, configured);
  }
  const [vector] = await embedQueries(deps, q.tenant, q.collection, [q.query], q.signal);
  q.signal?.throwIfAborted();
  if (q.mode === 'vector') {
    const hits = await deps.store.searchVector(q.tenant, q.collection, vector, q.topK, q.filter);
    return hits.map((hit, i) => ({ ...hit, ranks: { vector: i + 1 } }));
  }
  const candidates = hybridCandidates(q.topK);
  const [dense, text] = await Promise.all([
    deps.store.searchVector(q.tenant, q.collection, vector, candidates, q.filter),
    deps.store.searchText(q.tenant, q.collection, q.query, candidates, q.filter),
  ]);
  const byVector = rankOf(dense);
  const byText = rankOf(text);
  return reciprocalRankFusion([dense, text], q.topK, undefined, [denseWeightOf(deps) ?? 1, 1]).map((hit) => {
    const v = byVector.get(hit.chunk.id);
    const t = byText.get(hit.chunk.id);
    return { ...hit, ranks: { ...(v ? { vector: v } : {}), ...(t ? { text: t } : {}) } };
  });
}

/** A ranked hit as the API and the CLI show it. */
export function searchResultItem(hit: RankedHit): SearchResultItem {
  const { chunk } = hit;
  return {
    id: chunk.id,
    doc_id: chunk.docId,
    source: chunk.source,
    ...(chunk.title ? { title: chunk.title } : {}),
    ...(chunk.heading ? { heading: chunk.heading } : {}),
    position: chunk.position,
    ...(chunk.page ? { page: chunk.page } : {}),
    chunk: chunk.text,
    score: Number(hit.score.toFixed(6)),
    ranks: hit.ranks,
    ...(hit.rerankScore !== undefined ? { rerank_score: Number(hit.rerankScore.toFixed(6)) } : {}),
  };
}

/** The use case behind `POST /v1/collections/:name/search` and `rag-ingest search`: rankedSearch (reranked), as the API answers it. */
export async function searchCollection(deps: SearchDeps, q: SearchRequest): Promise<SearchResponse> {
  const started = performance.now();
  const { hits, reranked } = await rerankedSearch(deps, q);
  return {
    collection: q.collection,
    mode: q.mode,
    query: q.query,
    took_ms: Math.round((performance.now() - started) * 10) / 10,
    ...(isReranking(deps.reranker) ? { reranker: deps.reranker.id, reranked: reranked ?? false } : {}),
    results: hits.map(searchResultItem),
  };
}
