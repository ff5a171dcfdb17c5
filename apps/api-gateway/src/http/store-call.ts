import { isPermanent } from '@rag/core';
import { CollectionEmptyError, CollectionNotFoundError, EmbedderMismatchError, ReindexInProgressError, VectorSizeMismatchError } from '@rag/retrieval';
import { HttpError } from './http-error';
import { isRedisUnavailable, queueUnavailable } from './queue-unavailable';
import { storeUnavailable } from './store-unavailable';

/** The one 404 for a collection the caller's tenant does not have, whoever else has one of that name. */
export function collectionNotFound(name: string): HttpError {
  return new HttpError(404, 'collection_not_found', `collection "${name}" does not exist; GET /v1/collections lists yours`);
}

/**
 * Vector-store calls as HTTP answers: an unknown collection is the 404 above,
 * a collection built with another embedder a 409 saying which, a store that
 * is down a 503 to retry, another permanent refusal a 409, never a 500 with
 * the backend's words.
 */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (error instanceof CollectionNotFoundError) throw collectionNotFound(error.collection);
    if (error instanceof EmbedderMismatchError || error instanceof VectorSizeMismatchError) throw new HttpError(409, 'embedder_mismatch', error.message);
    if (error instanceof ReindexInProgressError) throw new HttpError(409, 'reindex_in_progress', error.message, { run_id: error.runId });
    if (error instanceof CollectionEmptyError) throw new HttpError(409, 'collection_empty', error.message);
    if (isPermanent(error)) throw new HttpError(409, 'vector_store_refused', 'the vector store refused the request; the operator finds why in the logs');
    throw storeUnavailable(error);
  }
}

/**
 * storeCall for calls that read collection versions in Redis too (writes,
 * reindex): Redis unreachable is the 503 `queue_unavailable` every route that
 * needs Redis answers; the rest as storeCall.
 */
export async function versionedStoreCall<T>(fn: () => Promise<T>): Promise<T> {
  return storeCall(async () => {
    try {
      return await fn();
    } catch (error) {
      if (isRedisUnavailable(error)) throw queueUnavailable(error);
      throw error;
    }
  });
}
