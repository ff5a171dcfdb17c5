import { BreakerOpenError, createBreaker, type Breaker } from '@rag/llm-client';
import { isPermanent } from '../errors';
import type { CollectionInfo, EmbeddedChunk, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';

export interface GuardOptions {
  /** Consecutive failures that open the breaker (BREAKER_FAILURES). */
  failures: number;
  /** Wait before one trial call (BREAKER_HALF_OPEN_MS). */
  halfOpenAfterMs: number;
  /** Bound on each call; absent: the store's own timeouts. */
  timeoutMs?: number;
}

/**
 * A vector store behind a circuit breaker: after repeated failures (not
 * permanent ones such as an unknown collection) calls fail fast with a
 * retryable BreakerOpenError, so jobs wait and retry instead of piling onto a
 * store that is down.
 */
export class GuardedVectorStore implements VectorStore {
  readonly backend: string;

  constructor(
    private readonly inner: VectorStore,
    readonly breaker: Breaker,
  ) {
    this.backend = inner.backend;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.execute(() => fn());
  }

  ensureCollection(collection: string, embedder: EmbedderInfo): Promise<void> {
    return this.run(() => this.inner.ensureCollection(collection, embedder));
  }
  collectionInfo(collection: string): Promise<CollectionInfo | undefined> {
    return this.run(() => this.inner.collectionInfo(collection));
  }
  replaceDocument(collection: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    return this.run(() => this.inner.replaceDocument(collection, docId, chunks));
  }
  deleteDocument(collection: string, docId: string): Promise<void> {
    return this.run(() => this.inner.deleteDocument(collection, docId));
  }
  listDocuments(collection: string): Promise<StoredDocument[]> {
    return this.run(() => this.inner.listDocuments(collection));
  }
  listCollections(): Promise<string[]> {
    return this.run(() => this.inner.listCollections());
  }
  hasCollection(collection: string): Promise<boolean> {
    return this.run(() => this.inner.hasCollection(collection));
  }
  searchVector(collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.searchVector(collection, vector, limit, filter));
  }
  searchText(collection: string, query: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.searchText(collection, query, limit, filter));
  }
  hybridSearch(collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.hybridSearch(collection, query, limit, filter));
  }
  compact(collection: string): Promise<void> {
    return this.run(() => this.inner.compact(collection));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Puts `store` behind a breaker named `vector-store`. */
export function guardVectorStore(store: VectorStore, options: GuardOptions): GuardedVectorStore {
  const breaker = createBreaker('vector-store', {
    failures: options.failures,
    halfOpenAfterMs: options.halfOpenAfterMs,
    timeoutMs: options.timeoutMs,
    isFailure: (error) => !isPermanent(error) && !(error instanceof BreakerOpenError),
  });
  return new GuardedVectorStore(store, breaker);
}
