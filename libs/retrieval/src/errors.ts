import { AppError, PermanentError } from '@rag/core';
import { splitVersion } from './store/tenant-namespace';

export class CollectionNotFoundError extends PermanentError {
  override readonly code = 'collection_not_found';
  constructor(readonly collection: string) {
    super(`collection "${collection}" does not exist; ingest documents into it first (npm run ingest -- <paths> --collection ${collection})`);
    this.name = 'CollectionNotFoundError';
  }
}

export class EmbedderMismatchError extends PermanentError {
  override readonly code = 'embedder_mismatch';
  constructor(
    readonly collection: string,
    readonly stored: { id: string; dimension: number },
    readonly configured: { id: string; dimension: number },
  ) {
    // A version (`docs.v2`) is rebuilt through its collection.
    const plain = splitVersion(collection)?.collection ?? collection;
    super(
      `collection "${collection}" was built with the embedder ${stored.id} (${stored.dimension} dimensions) but ${configured.id} ` +
        `(${configured.dimension} dimensions) is configured; rebuild it with the configured one (rag-ingest reindex --collection ${plain}, ` +
        `or POST /v1/collections/${plain}/reindex), or configure the embedder it was built with (EMBEDDINGS, EMBEDDING_DIM, EMBEDDING_MODEL)`,
    );
    this.name = 'EmbedderMismatchError';
  }
}

export class VectorSizeMismatchError extends PermanentError {
  override readonly code = 'embedder_mismatch';
  constructor(collection: string, expected: number, got: number) {
    super(
      `collection "${collection}" holds ${expected}-dimensional vectors but got ${got}; configure the embedder the collection was built with, or load the documents into a new collection`,
    );
    this.name = 'VectorSizeMismatchError';
  }
}

/**
 * A call to a vector-store backend failed. `permanent` when retrying cannot
 * help (the backend refused the request itself); timeouts, 5xx and lost
 * connections are worth retrying.
 */
export class VectorStoreError extends AppError {
  readonly permanent: boolean;
  /** The backend's HTTP status, when it answered. */
  readonly status?: number;

  constructor(message: string, options: { cause?: unknown; permanent?: boolean; status?: number } = {}) {
    const permanent = options.permanent ?? false;
    super(message, { cause: options.cause, code: permanent ? 'vector_store_refused' : 'vector_store_unavailable' });
    this.name = 'VectorStoreError';
    this.permanent = permanent;
    this.status = options.status;
  }

  /** The backend's own words stay in the logs: they name hosts, paths and internals. */
  override get publicMessage(): string {
    return this.permanent
      ? 'the vector store refused the request; the operator finds why in the logs'
      : 'the vector store failed; the job will retry, or try again in a minute';
  }
}
