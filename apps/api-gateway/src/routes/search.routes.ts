import { Limits, SearchRequestDto, describeIssues, validatePlain } from '@rag/queue-contracts';
import { createEmbedder, readOneVersion, searchCollection, type Embedder } from '@rag/retrieval';
import { Router, type Response } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { collectionName } from '../http/params';
import { versionedStoreCall } from '../http/store-call';

function embeddingsUnavailable(cause: unknown): HttpError {
  return new HttpError(
    503,
    'embeddings_unavailable',
    'the embeddings API did not answer; retry in a few seconds, or search with "mode": "text", which needs no embeddings',
    { retry_after_seconds: 5 },
    { cause },
  );
}

/** `embedder` whose failures are the embeddings API's 503, told apart from the vector store's. */
function answeringEmbedder(embedder: Embedder): Embedder {
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw embeddingsUnavailable(error);
    }
  };
  return {
    get id() {
      return embedder.id;
    },
    get dimension() {
      return embedder.dimension;
    },
    embed: (texts, signal) => guard(() => embedder.embed(texts, signal)),
    ...(embedder.ready ? { ready: (signal?: AbortSignal) => guard(async () => embedder.ready?.(signal)) } : {}),
    // The local embedder's query weighting by rarity (embed/feature-rarity.ts): in process, nothing to fail.
    ...(embedder.features && embedder.embedQuery ? { features: embedder.features.bind(embedder), embedQuery: embedder.embedQuery.bind(embedder) } : {}),
  };
}

/** Aborted when the client goes away before the answer is sent. */
function untilClosed(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client closed the request'));
  });
  return controller.signal;
}

/**
 * `POST /v1/collections/:name/search`: the chunks a question would retrieve
 * from one of the caller's collections, ranked by the mode asked for
 * (hybrid, vector or text) with each retriever's rank before fusion. A read:
 * answered inside the request, bounded by top_k ≤ Limits.topKMax and the
 * query limits of chat. Another tenant's collection is a 404 like an unknown one.
 * With RERANKER=http the results are in the reranker's order (`rerank: false`
 * keeps the mode's); a failing reranker leaves the mode's order, logged, and
 * `reranked: false` says so.
 */
export function searchRoutes(deps: GatewayDeps): Router {
  const router = Router();
  let embedder: Embedder | undefined;

  router.post('/v1/collections/:name/search', requireScope('query'), async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the request body as JSON with Content-Type: application/json');
    const name = collectionName(req.params.name);
    const checked = validatePlain(SearchRequestDto, req.body);
    if (!checked.ok) throw new HttpError(400, 'invalid_request', `invalid request: ${describeIssues(checked.issues)}`, checked.issues);
    const body = checked.value;
    const tenant = req.principal.tenant;
    const searchEmbedder = (embedder ??= answeringEmbedder(createEmbedder(deps.config)));
    // One version of the collection for the whole search, even across a reindex's switch (searched again on the
    // version in use if its version is dropped before the search has read it).
    const answer = await versionedStoreCall(() =>
      readOneVersion(
        deps.store,
        tenant,
        name,
        (store) =>
          searchCollection(
            { store, embedder: searchEmbedder, reranker: deps.reranker, rerankCandidates: deps.config.RERANK_CANDIDATES, logger: deps.logger },
            {
              tenant,
              collection: name,
              query: body.query,
              topK: body.top_k ?? Limits.searchTopKDefault,
              mode: body.mode ?? 'hybrid',
              ...(body.filters?.sources ? { filter: { sources: body.filters.sources } } : {}),
              ...(body.rerank !== undefined ? { rerank: body.rerank } : {}),
              signal: untilClosed(res),
            },
          ),
        (version) =>
          deps.logger.info('collection version dropped before the search read it; searched again on the version in use', { collection: name, version }),
      ),
    );
    if (answer.reranked === false && body.rerank !== false) deps.metrics.rerankFallbacks.inc();
    deps.logger.info('search answered', {
      collection: name,
      tenant,
      mode: answer.mode,
      results: answer.results.length,
      took_ms: answer.took_ms,
      ...(answer.reranked !== undefined ? { reranked: answer.reranked } : {}),
    });
    res.json(answer);
  });

  return router;
}
