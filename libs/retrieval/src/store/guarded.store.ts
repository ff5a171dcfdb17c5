import { BreakerOpenError, createBreaker, isPermanent, type Breaker } from '@rag/core';
import type { Chunk, CollectionInfo, EmbeddedChunk, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';

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

  ensureCollection(tenant: string, collection: string, embedder: EmbedderInfo): Promise<void> {
    return this.run(() => this.inner.ensureCollection(tenant, collection, embedder));
  }
  collectionInfo(tenant: string, collection: string): Promise<CollectionInfo | undefined> {
    return this.run(() => this.inner.collectionInfo(tenant, collection));
  }
  replaceDocument(tenant: string, collection: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    return this.run(() => this.inner.replaceDocument(tenant, collection, docId, chunks));
  }
  deleteDocument(tenant: string, collection: string, docId: string): Promise<void> {
    return this.run(() => this.inner.deleteDocument(tenant, collection, docId));
  }
  deleteCollection(tenant: string, collection: string): Promise<boolean> {
    return this.run(() => this.inner.deleteCollection(tenant, collection));
  }
  documentHash(tenant: string, collection: string, docId: string): Promise<string | undefined> {
    return this.run(() => this.inner.documentHash(tenant, collection, docId));
  }
  listDocuments(tenant: string, collection: string): Promise<StoredDocument[]> {
    return this.run(() => this.inner.listDocuments(tenant, collection));
  }
  documentChunks(tenant: string, collection: string, docId: string): Promise<Chunk[]> {
    return this.run(() => this.inner.documentChunks(tenant, collection, docId));
  }
  collectionVersions(tenant: string, collection: string): Promise<number[]> {
    return this.run(() => this.inner.collectionVersions(tenant, collection));
  }
  listCollections(tenant: string): Promise<string[]> {
    return this.run(() => this.inner.listCollections(tenant));
  }
  hasCollection(tenant: string, collection: string): Promise<boolean> {
    return this.run(() => this.inner.hasCollection(tenant, collection));
  }
  sampleChunks(tenant: string, collection: string, limit: number): ReturnType<VectorStore['sampleChunks']> {
    return this.run(() => this.inner.sampleChunks(tenant, collection, limit));
  }
  searchVector(tenant: string, collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.searchVector(tenant, collection, vector, limit, filter));
  }
  searchText(tenant: string, collection: string, query: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.searchText(tenant, collection, query, limit, filter));
  }
  hybridSearch(tenant: string, collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.run(() => this.inner.hybridSearch(tenant, collection, query, limit, filter));
  }
  async publishVersion(tenant: string, collection: string, version: number): Promise<void> {
    const { inner } = this;
    if (inner.publishVersion) await this.run(() => inner.publishVersion?.(tenant, collection, version) ?? Promise.resolve());
  }
  compact(tenant: string, collection: string): Promise<void> {
    return this.run(() => this.inner.compact(tenant, collection));
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
