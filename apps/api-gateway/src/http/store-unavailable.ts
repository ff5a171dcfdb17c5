import { HttpError } from './http-error';

/** The one answer for a vector store that did not answer: a 503 to retry, the store's own error kept as the cause for the logs. */
export function storeUnavailable(cause: unknown): HttpError {
  return new HttpError(503, 'vector_store_unavailable', 'the vector store is unavailable; retry in a few seconds', { retry_after_seconds: 5 }, { cause });
}
