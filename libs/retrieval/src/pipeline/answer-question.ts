import { boundHistory, type Answerer, type ConversationTurn } from '@rag/llm-client';
import { withSpan } from '@rag/observability';
import type { Citation, QueryResult } from '@rag/queue-contracts';
import { embedderInfo } from '../embed/embedder-info';
import { embedQueries, type RarityCache } from '../embed/feature-rarity';
import { CollectionNotFoundError, EmbedderMismatchError } from '../errors';
import { rerankCandidates, rerankHits } from '../rerank/rerank-hits';
import { isReranking, type Reranker } from '../rerank/reranker';
import { StreamedMarkers, renumberMarkers } from './citation-markers';
import type { Embedder, SearchFilter, SearchHit, VectorStore } from '../types';
import { denseWeightOf } from './search-collection';
import { followUpQuery, weightedVector, type FollowUpDeps, type SearchQuery } from './follow-up-query';

/** CHAT_HISTORY_MAX_TOKENS' default, for callers that set none. */
export const DEFAULT_HISTORY_MAX_TOKENS = 2000;

export interface AnswerDeps extends FollowUpDeps {
  store: VectorStore;
  embedder: Embedder;
  answerer: Answerer;
  /** Estimated tokens of history a question may carry (CHAT_HISTORY_MAX_TOKENS); the oldest turns are dropped first. */
  historyMaxTokens?: number;
  /** Reorders the fused candidates before the top k are kept (RERANKER); none when absent. */
  reranker?: Reranker;
  /** Fused candidates the reranker sees (RERANK_CANDIDATES, at least top k). */
  rerankCandidates?: number;
  /** Where the collections' feature rarity is kept (default: the process's shared cache). */
  rarity?: RarityCache;
  /** The dense ranking's weight in the fusion, full-text search's being 1 (default: the embedder's fusionWeight, else 1). */
  denseWeight?: number;
}

export interface Question {
  /** The tenant asking; only its own collections are searched. */
  tenant: string;
  query: string;
  /** The conversation before `query`, oldest first (caller content, never instructions). */
  history?: readonly ConversationTurn[];
  collection: string;
  topK: number;
  filter?: SearchFilter;
  /** When the job was accepted (epoch ms), for the queued time. */
  enqueuedAt?: number;
  signal?: AbortSignal;
  /** Progress of the job: `retrieving`, then `generating`. */
  onStage?: (stage: 'retrieving' | 'generating') => void;
  /** Pieces of the answer as a streaming answerer produces them. */
  onToken?: (text: string) => void;
  /** Passed to the answerer: the caller's cap on the answer's tokens and the sampling temperature (an LLM backend's; see AnswerInput). */
  maxTokens?: number;
  temperature?: number;
}

/**
 * Hybrid retrieval (dense and full-text, fused by reciprocal rank) from a
 * collection built with the configured embedder. `search` (default: the
 * question) may add context terms: half the weight of the question in the
 * query vector, plain words beside it in the full-text query.
 */
export async function retrieve(
  deps: Pick<AnswerDeps, 'store' | 'embedder' | 'rarity' | 'denseWeight'>,
  q: Question,
  search: SearchQuery = { text: q.query },
): Promise<SearchHit[]> {
  const info = await deps.store.collectionInfo(q.tenant, q.collection);
  if (!info) throw new CollectionNotFoundError(q.collection);
  const configured = await embedderInfo(deps.embedder, q.signal);
  if (info.embedder.id !== configured.id || info.embedder.dimension !== configured.dimension) {
    throw new EmbedderMismatchError(q.collection, info.embedder, configured);
  }
  if (!search.context) {
    const [vector] = await embed(deps, q, [search.text]);
    return hybridSearch(deps.store, q, { text: search.text, vector, denseWeight: denseWeightOf(deps) });
  }
  const [question, context] = await embed(deps, q, [search.text, search.context]);
  const text = `${search.text} ${search.context}`;
  return hybridSearch(deps.store, q, { text, vector: weightedVector(question, context), denseWeight: denseWeightOf(deps) });
}

/** The query's embedding (embedQueries), as an `embed` span (the embedder and how many texts, never the texts). */
function embed(deps: Pick<AnswerDeps, 'store' | 'embedder' | 'rarity'>, q: Question, texts: string[]): Promise<number[][]> {
  return withSpan('embed', { 'rag.embedder': deps.embedder.id, 'rag.texts': texts.length }, () => embedQueries(deps, q.tenant, q.collection, texts, q.signal), {
    kind: 'client',
  });
}

/** The hybrid search, as a `search` span (the store, collection, k and hits found). */
function hybridSearch(store: VectorStore, q: Question, query: Parameters<VectorStore['hybridSearch']>[2]): Promise<SearchHit[]> {
  const attributes = { 'rag.vector_store': store.backend, 'rag.collection': q.collection, 'rag.top_k': q.topK };
  return withSpan(
    'search',
    attributes,
    async (span) => {
      const hits = await store.hybridSearch(q.tenant, q.collection, query, q.topK, q.filter);
      span.setAttributes({ 'rag.hits': hits.length });
      return hits;
    },
    { kind: 'client' },
  );
}

/**
 * The use case behind a `rag-query` job: retrieve (a follow-up in a
 * conversation with a standalone rewrite of it, or with the earlier user
 * turns' terms; see followUpQuery), answer with the bounded history, and map
 * the passage numbers the answer cites to citations numbered in order of use.
 * With a reranker, RERANK_CANDIDATES fused candidates are retrieved and the
 * top k passages are taken in its order; if it fails, in fused order
 * (logged, and `reranked: false` in the result).
 */
export async function answerQuestion(deps: AnswerDeps, q: Question): Promise<QueryResult> {
  const started = Date.now();
  q.onStage?.('retrieving');
  const history = boundHistory(q.history ?? [], deps.historyMaxTokens ?? DEFAULT_HISTORY_MAX_TOKENS);
  // A follow-up may be rewritten by the LLM first (a `condense` span; none without history).
  const search =
    history.length > 0
      ? await withSpan('condense', { 'rag.history_turns': history.length }, () => followUpQuery(deps, q.query, history, q.signal))
      : await followUpQuery(deps, q.query, history, q.signal);
  const candidates = rerankCandidates(deps.reranker, q.topK, deps.rerankCandidates);
  const fused = await withSpan('retrieve', { 'rag.collection': q.collection, 'rag.top_k': candidates }, async (span) => {
    const found = await retrieve(deps, { ...q, topK: candidates }, search);
    span.setAttributes({ 'rag.hits': found.length });
    return found;
  });
  const rerank = () => rerankHits(deps.reranker, search.text, fused, q.topK, { signal: q.signal, logger: deps.logger });
  const { hits, reranked } = isReranking(deps.reranker)
    ? await withSpan('rerank', { 'rag.reranker': deps.reranker.id, 'rag.candidates': fused.length, 'rag.top_k': q.topK }, async (span) => {
        const out = await rerank();
        span.setAttributes({ 'rag.reranked': out.reranked });
        return out;
      })
    : await rerank();
  const retrieved = Date.now();
  q.signal?.throwIfAborted();

  const passages = hits.map((hit, i) => ({
    n: i + 1,
    text: hit.chunk.text,
    source: hit.chunk.source,
    title: hit.chunk.title,
    heading: hit.chunk.heading,
    page: hit.chunk.page,
  }));
  q.onStage?.('generating');
  // Streamed pieces carry the markers the final answer will have (numbered in order of use).
  const streamed = q.onToken ? new StreamedMarkers(new Set(passages.map((p) => p.n)), q.onToken) : undefined;
  // The LLM call as an `answer` span: the backend, model and token counts, never the prompt or the answer.
  const answer = await withSpan('answer', { 'rag.llm': deps.answerer.backend, 'rag.passages': passages.length }, async (span) => {
    const answered = await deps.answerer.answer({
      query: q.query,
      ...(history.length > 0 ? { history } : {}),
      passages,
      signal: q.signal,
      ...(streamed ? { onToken: (text: string) => streamed.push(text) } : {}),
      ...(q.maxTokens !== undefined ? { maxTokens: q.maxTokens } : {}),
      ...(q.temperature !== undefined ? { temperature: q.temperature } : {}),
    });
    span.setAttributes({
      'gen_ai.response.model': answered.model,
      'gen_ai.usage.input_tokens': answered.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': answered.usage.completion_tokens,
      'rag.cited': answered.cited.length,
    });
    return answered;
  });
  streamed?.end();
  const generated = Date.now();

  const renumber = new Map<number, number>();
  const citations: Citation[] = [];
  for (const n of answer.cited) {
    const hit = hits[n - 1];
    if (!hit || renumber.has(n)) continue;
    renumber.set(n, citations.length + 1);
    citations.push({
      id: hit.chunk.id,
      source: hit.chunk.source,
      title: hit.chunk.title || undefined,
      heading: hit.chunk.heading || undefined,
      position: hit.chunk.position,
      ...(hit.chunk.page ? { page: hit.chunk.page } : {}),
      chunk: hit.chunk.text,
      score: Number(hit.score.toFixed(6)),
    });
  }
  // Markers such as [3] or [2, 3] are renumbered; numbers that are not cited passages stay as written.
  const text = renumberMarkers(answer.text, renumber);

  return {
    answer: text,
    citations,
    model: answer.model,
    backends: {
      vector_store: deps.store.backend,
      embedder: deps.embedder.id,
      llm: deps.answerer.backend,
      ...(isReranking(deps.reranker) ? { reranker: deps.reranker.id } : {}),
    },
    ...(isReranking(deps.reranker) ? { reranked } : {}),
    usage: answer.usage,
    timings: {
      queued_ms: q.enqueuedAt ? Math.max(0, started - q.enqueuedAt) : 0,
      retrieve_ms: retrieved - started,
      generate_ms: generated - retrieved,
      total_ms: generated - (q.enqueuedAt ?? started),
    },
  };
}
