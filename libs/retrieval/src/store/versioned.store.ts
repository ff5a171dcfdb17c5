import { PermanentError } from '@rag/core';
import { CollectionNotFoundError } from '../errors';
import type { Chunk, CollectionInfo, EmbeddedChunk, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';
import { splitVersion, versionedCollection } from './tenant-namespace';

/**
 * How long a process keeps a collection's active version before asking again:
 * a switch is seen by every reader within this time. Writes never use it.
 */
export const VERSION_CACHE_MS = 1000;

/** A search with no hits: maybe of a version dropped meanwhile (a store may answer one so), worth a look at the registry. */
const noHits = (hits: SearchHit[]) => hits.length === 0;

/** How many versions readPinned tries before it lets a missing collection fail the read. */
const READ_PINNED_ATTEMPTS = 3;

/** Where the version in use of each collection is recorded, shared by every process (CollectionVersions in @rag/jobs). */
export interface VersionRegistry {
  /** The version questions read and writes go to; 1 when none is recorded. */
  activeVersion(tenant: string, collection: string): Promise<number>;
  /** The rebuild under way (its run and the version it builds), if any; always read afresh. */
  rebuildInProgress(tenant: string, collection: string): Promise<{ run_id: string; to_version: number } | undefined>;
  /** Forgets a collection's versions: it was deleted, and a new one of that name starts at version 1. */
  forget(tenant: string, collection: string): Promise<void>;
}

/** A write to a collection that is being rebuilt: it would be missing from the new version. */
export class ReindexInProgressError extends PermanentError {
  constructor(
    readonly collection: string,
    readonly runId: string,
  ) {
    super(
      `collection "${collection}" is being rebuilt (reindex run ${runId}); documents cannot be added, changed or deleted until it finishes: ` +
        `follow it with GET /v1/collections/${collection}/reindex (or rag-ingest status ${runId}), then retry`,
      { code: 'reindex_in_progress' },
    );
    this.name = 'ReindexInProgressError';
  }
}

/**
 * The store as every process uses it: each call on a collection goes to the
 * version in use (recorded in the registry), so a collection can be rebuilt
 * beside itself and switched without its callers knowing. A versioned name
 * (`<name>.v<N>`) goes to that version as it is: the rebuild writes there.
 *
 * Reads use the version cached for VERSION_CACHE_MS; a question reads one
 * version for all its calls with `readPinned`. Writes ask the registry
 * afresh, and are refused while the collection is being rebuilt
 * (ReindexInProgressError).
 *
 * A version is dropped a grace period after the switch, and that period may
 * be shorter than the cache or a question (`--grace-seconds 0`): a read that
 * finds its version gone asks the registry afresh and, if another version is
 * in use now, reads that one instead, from the start. Nothing fails for it.
 */
export class VersionedVectorStore implements VectorStore {
  readonly backend: string;
  private readonly cache = new Map<string, { version: number; until: number }>();

  constructor(
    readonly inner: VectorStore,
    readonly registry: VersionRegistry,
    private readonly cacheMs = VERSION_CACHE_MS,
  ) {
    this.backend = inner.backend;
  }

  /** The version reads of the collection use now (cached briefly). */
  async activeVersion(tenant: string, collection: string, fresh = false): Promise<number> {
    const key = `${tenant}\u0000${collection}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (!fresh && cached && cached.until > now) return cached.version;
    const version = await this.registry.activeVersion(tenant, collection);
    this.cache.set(key, { version, until: now + this.cacheMs });
    return version;
  }

  /** The name the inner store takes: a versioned name as is, a plain one at its active version. */
  private async target(tenant: string, collection: string, fresh = false): Promise<string> {
    const parts = splitVersion(collection);
    // An invalid name goes through unchanged: the inner store refuses it with its own error.
    if (!parts || parts.collection !== collection) return collection;
    const version = await this.activeVersion(tenant, collection, fresh);
    return versionedCollection(collection, version);
  }

  /**
   * `read` on the storage name of `collection` (see target), once more on the
   * version in use if the cached one was dropped meanwhile (the collection is
   * missing and the registry, asked afresh, names another version).
   */
  private async read<T>(tenant: string, collection: string, read: (name: string) => Promise<T>, missing: (value: T) => boolean = () => false): Promise<T> {
    const name = await this.target(tenant, collection);
    let value: T;
    try {
      value = await read(name);
    } catch (error) {
      if (!(error instanceof CollectionNotFoundError) || !(await this.retired(tenant, collection, name))) throw error;
      return read(await this.target(tenant, collection));
    }
    if (!missing(value) || !(await this.retired(tenant, collection, name))) return value;
    return read(await this.target(tenant, collection));
  }

  /** Whether `name`, the storage name a read of `collection` used, is no longer its version in use (asked afresh, cache refreshed). */
  private async retired(tenant: string, collection: string, name: string): Promise<boolean> {
    if (name !== collection && splitVersion(name)?.collection !== collection) return false;
    return (await this.target(tenant, collection, true)) !== name;
  }

  /** A plain name about to be written: refused while it is rebuilt; else its active version, read afresh. */
  private async writeTarget(tenant: string, collection: string): Promise<string> {
    const parts = splitVersion(collection);
    if (!parts || parts.collection !== collection) return collection;
    await this.assertWritable(tenant, collection);
    return this.target(tenant, collection, true);
  }

  /** Throws ReindexInProgressError while the collection is being rebuilt. */
  async assertWritable(tenant: string, collection: string): Promise<void> {
    const rebuild = await this.registry.rebuildInProgress(tenant, collection);
    if (rebuild) throw new ReindexInProgressError(collection, rebuild.run_id);
  }

  /**
   * The store with `collection` resolved to one version, once: a question
   * reads that version for all its calls, never two, even if the collection
   * is switched meanwhile (the old version is kept for a grace period).
   * Prefer readPinned, which also survives that version being dropped.
   */
  async pin(tenant: string, collection: string): Promise<VectorStore> {
    const parts = splitVersion(collection);
    if (!parts || parts.collection !== collection) return this;
    const pinned = versionedCollection(collection, await this.activeVersion(tenant, collection));
    return pinnedStore(this, this.inner, tenant, collection, pinned);
  }

  /**
   * `read` on the store pinned to the version of `collection` in use (pin):
   * every call it makes reads that one version. If the version is dropped
   * before `read` is done (a grace period shorter than the question, or a
   * stale cache), `read` runs again from the start on the version in use now,
   * so it still reads one version and does not fail for the drop. `read` must
   * be safe to run again until it has read the collection (a question's
   * answer is generated after retrieval, so nothing has been streamed yet).
   */
  async readPinned<T>(tenant: string, collection: string, read: (store: VectorStore) => Promise<T>, onRetry?: (version: number) => void): Promise<T> {
    const parts = splitVersion(collection);
    if (!parts || parts.collection !== collection) return read(this);
    let pinned = versionedCollection(collection, await this.activeVersion(tenant, collection));
    // Each retry follows a switch to a newer version: a few are plenty (a version lives at least through one question on it).
    for (let attempt = 1; ; attempt++) {
      try {
        return await read(pinnedStore(this, this.inner, tenant, collection, pinned));
      } catch (error) {
        if (!(error instanceof CollectionNotFoundError) || attempt >= READ_PINNED_ATTEMPTS) throw error;
        const active = await this.activeVersion(tenant, collection, true);
        const now = versionedCollection(collection, active);
        if (now === pinned) throw error;
        pinned = now;
        onRetry?.(active);
      }
    }
  }

  async ensureCollection(tenant: string, collection: string, embedder: EmbedderInfo): Promise<void> {
    return this.inner.ensureCollection(tenant, await this.target(tenant, collection, true), embedder);
  }
  async collectionInfo(tenant: string, collection: string): Promise<CollectionInfo | undefined> {
    const info = await this.read(
      tenant,
      collection,
      (name) => this.inner.collectionInfo(tenant, name),
      (found) => found === undefined,
    );
    return info && { ...info, name: collection };
  }
  async replaceDocument(tenant: string, collection: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    return this.inner.replaceDocument(tenant, await this.writeTarget(tenant, collection), docId, chunks);
  }
  async deleteDocument(tenant: string, collection: string, docId: string): Promise<void> {
    return this.inner.deleteDocument(tenant, await this.writeTarget(tenant, collection), docId);
  }
  /** A plain name drops every version of the collection and forgets them; a versioned name drops that version only. */
  async deleteCollection(tenant: string, collection: string): Promise<boolean> {
    const parts = splitVersion(collection);
    if (!parts || parts.collection !== collection) return this.inner.deleteCollection(tenant, collection);
    await this.assertWritable(tenant, collection);
    const versions = await this.inner.collectionVersions(tenant, collection);
    let deleted = false;
    for (const version of versions) deleted = (await this.inner.deleteCollection(tenant, versionedCollection(collection, version))) || deleted;
    await this.registry.forget(tenant, collection);
    this.cache.delete(`${tenant}\u0000${collection}`);
    return deleted;
  }
  async documentHash(tenant: string, collection: string, docId: string): Promise<string | undefined> {
    return this.read(tenant, collection, (name) => this.inner.documentHash(tenant, name, docId));
  }
  async listDocuments(tenant: string, collection: string): Promise<StoredDocument[]> {
    return this.read(
      tenant,
      collection,
      (name) => this.inner.listDocuments(tenant, name),
      (docs) => docs.length === 0,
    );
  }
  async documentChunks(tenant: string, collection: string, docId: string): Promise<Chunk[]> {
    return this.read(
      tenant,
      collection,
      (name) => this.inner.documentChunks(tenant, name, docId),
      (chunks) => chunks.length === 0,
    );
  }
  async collectionVersions(tenant: string, collection: string): Promise<number[]> {
    return this.inner.collectionVersions(tenant, collection);
  }
  /** Each collection once, whichever versions it has. */
  async listCollections(tenant: string): Promise<string[]> {
    return this.inner.listCollections(tenant);
  }
  async hasCollection(tenant: string, collection: string): Promise<boolean> {
    return (await this.collectionInfo(tenant, collection)) !== undefined;
  }
  async sampleChunks(tenant: string, collection: string, limit: number): ReturnType<VectorStore['sampleChunks']> {
    return this.read(
      tenant,
      collection,
      (name) => this.inner.sampleChunks(tenant, name, limit),
      (chunks) => chunks.length === 0,
    );
  }
  async searchVector(tenant: string, collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.read(tenant, collection, (name) => this.inner.searchVector(tenant, name, vector, limit, filter), noHits);
  }
  async searchText(tenant: string, collection: string, query: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.read(tenant, collection, (name) => this.inner.searchText(tenant, name, query, limit, filter), noHits);
  }
  async hybridSearch(tenant: string, collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.read(tenant, collection, (name) => this.inner.hybridSearch(tenant, name, query, limit, filter), noHits);
  }
  async compact(tenant: string, collection: string): Promise<void> {
    return this.inner.compact(tenant, await this.target(tenant, collection, true));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * `read` on `store` with the collection fixed to one version (readPinned); a
 * store without versions as it is.
 */
export function readOneVersion<T>(
  store: VectorStore,
  tenant: string,
  collection: string,
  read: (store: VectorStore) => Promise<T>,
  onRetry?: (version: number) => void,
): Promise<T> {
  return store instanceof VersionedVectorStore ? store.readPinned(tenant, collection, read, onRetry) : read(store);
}

/**
 * `store` with one tenant's collection fixed to the storage name `pinned`,
 * read and written in `inner` (where a plain name is version 1); every other
 * collection through `store` as usual.
 */
function pinnedStore(store: VectorStore, inner: VectorStore, tenant: string, collection: string, pinned: string): VectorStore {
  const on = (t: string, c: string) => (t === tenant && c === collection ? { via: inner, name: pinned } : { via: store, name: c });
  // A store may answer a search of a dropped collection with no hits (LanceDB does): no hits from the pinned
  // version is told apart from a version dropped meanwhile, which readPinned reads again on the version in use.
  const found = async (t: string, c: string, search: Promise<SearchHit[]>): Promise<SearchHit[]> => {
    const hits = await search;
    if (hits.length === 0 && t === tenant && c === collection && !(await inner.collectionInfo(t, pinned))) throw new CollectionNotFoundError(c);
    return hits;
  };
  return {
    backend: store.backend,
    base: store,
    ensureCollection: (t, c, e) => on(t, c).via.ensureCollection(t, on(t, c).name, e),
    collectionInfo: async (t, c) => {
      const info = await on(t, c).via.collectionInfo(t, on(t, c).name);
      return info && { ...info, name: c };
    },
    replaceDocument: (t, c, d, chunks) => store.replaceDocument(t, c, d, chunks),
    deleteDocument: (t, c, d) => store.deleteDocument(t, c, d),
    deleteCollection: (t, c) => store.deleteCollection(t, c),
    listDocuments: (t, c) => on(t, c).via.listDocuments(t, on(t, c).name),
    documentChunks: (t, c, d) => on(t, c).via.documentChunks(t, on(t, c).name, d),
    collectionVersions: (t, c) => store.collectionVersions(t, c),
    documentHash: (t, c, d) => on(t, c).via.documentHash(t, on(t, c).name, d),
    listCollections: (t) => store.listCollections(t),
    hasCollection: async (t, c) => (await on(t, c).via.collectionInfo(t, on(t, c).name)) !== undefined,
    sampleChunks: (t, c, l) => on(t, c).via.sampleChunks(t, on(t, c).name, l),
    searchVector: (t, c, v, l, f) => found(t, c, on(t, c).via.searchVector(t, on(t, c).name, v, l, f)),
    searchText: (t, c, q, l, f) => found(t, c, on(t, c).via.searchText(t, on(t, c).name, q, l, f)),
    hybridSearch: (t, c, q, l, f) => found(t, c, on(t, c).via.hybridSearch(t, on(t, c).name, q, l, f)),
    compact: (t, c) => store.compact(t, c),
    // The pinned view is borrowed for one question; the store it wraps is closed by its owner.
    close: async () => undefined,
  };
}
