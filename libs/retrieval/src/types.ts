/** A run of text under one heading path: a paragraph, list, table or code block. */
export interface Block {
  headings: string[];
  text: string;
  /** 1-based page of a paged format (PDF). */
  page?: number;
}

/** A parsed document before chunking. */
export interface LoadedDocument {
  /** Stable id: the source path relative to the ingested folder. */
  id: string;
  source: string;
  title: string;
  blocks: Block[];
  /** sha256 of the raw bytes; decides whether the document is re-embedded. */
  contentHash: string;
}

export interface Chunk {
  /** `${docId}#${position}`: stable while the document does not change. */
  id: string;
  docId: string;
  source: string;
  title: string;
  /** Heading path joined with " > ". */
  heading: string;
  position: number;
  text: string;
  contentHash: string;
  /** 1-based page the chunk comes from, for paged formats (PDF); a chunk never spans two pages. */
  page?: number;
}

export interface EmbeddedChunk extends Chunk {
  vector: number[];
}

export interface SearchFilter {
  /** Only chunks of these document ids. */
  sources?: string[];
}

export interface SearchHit {
  chunk: Chunk;
  /** Backend score; higher is better. */
  score: number;
}

export interface StoredDocument {
  docId: string;
  contentHash: string;
  chunks: number;
}

export interface EmbedderInfo {
  /** Recorded with every collection and result, e.g. `local-hash-v4-2048`. */
  readonly id: string;
  readonly dimension: number;
}

export interface Embedder extends EmbedderInfo {
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /**
   * Learns what `id` and `dimension` depend on before they are read, when it
   * was not configured (an OpenAI-compatible model of unknown size asks its
   * API once). Absent: they are known from the start.
   */
  ready?(signal?: AbortSignal): Promise<void>;
  /**
   * How much its ranking counts in a hybrid search beside full-text search's
   * (1): a semantic model's 1 (default) weighs both equally; a lexical one,
   * whose ranking mostly repeats full-text search's with more noise, less.
   */
  readonly fusionWeight?: number;
  /**
   * A lexical embedder's distinct features of a text (LocalHashEmbedder).
   * With `embedQuery`, queries are embedded with each feature weighted by its
   * rarity among a sample of the searched collection's chunks
   * (embed/feature-rarity.ts). Absent (a semantic model): `embed` alone.
   */
  features?(text: string): Set<string>;
  /** The query's vector with each feature's weight multiplied by `weight(feature)`; see `features`. */
  embedQuery?(text: string, weight: (feature: string) => number): number[];
}

/** A chunk's searchable parts (searchableText), as `VectorStore.sampleChunks` reads them. */
export type ChunkText = Pick<Chunk, 'title' | 'heading' | 'text'>;

export interface CollectionInfo {
  name: string;
  /** The embedder the collection was built with; queries and loads must use the same. */
  embedder: EmbedderInfo;
}

export interface HybridQuery {
  text: string;
  vector: number[];
  /** The dense ranking's weight in the fusion, full-text search's being 1 (default 1; see Embedder.fusionWeight). */
  denseWeight?: number;
}

/**
 * One store holds many collections of many tenants; every call names the
 * tenant first, then the collection. A tenant sees only its own collections:
 * each store keeps a tenant's collection under a name derived from both
 * (store/tenant-namespace.ts), so no call can reach another tenant's chunks.
 * Tenant and collection names must be valid names (isValidName in @rag/queue-contracts);
 * a collection may also name one version of a collection (`<name>.v<N>`,
 * versionedCollection), which reindexing builds beside the version in use.
 */
export interface VectorStore {
  readonly backend: string;
  /**
   * A view of another store (one version of a collection pinned for a
   * question): that store. What is cached per store (a collection's feature
   * rarity) is cached for it, not for each short-lived view.
   */
  readonly base?: VectorStore;
  /**
   * Creates the collection for `embedder`, or checks that an existing one was
   * built with it (EmbedderMismatchError otherwise).
   */
  ensureCollection(tenant: string, collection: string, embedder: EmbedderInfo): Promise<void>;
  /** The collection's embedder, or undefined when it does not exist. */
  collectionInfo(tenant: string, collection: string): Promise<CollectionInfo | undefined>;
  /** Replaces every chunk of `docId` with `chunks` (which may be empty); the collection must exist. */
  replaceDocument(tenant: string, collection: string, docId: string, chunks: EmbeddedChunk[]): Promise<void>;
  deleteDocument(tenant: string, collection: string, docId: string): Promise<void>;
  /** Drops the tenant's collection with every chunk in it; false when it did not exist. */
  deleteCollection(tenant: string, collection: string): Promise<boolean>;
  listDocuments(tenant: string, collection: string): Promise<StoredDocument[]>;
  /** Every chunk of one document, ordered by position; empty when the document (or the collection) is absent. */
  documentChunks(tenant: string, collection: string, docId: string): Promise<Chunk[]>;
  /**
   * The versions of the collection the store holds (`versionedCollection` in
   * store/tenant-namespace.ts), ascending; empty when it has none. `collection`
   * is a plain name; every other call also takes a versioned one.
   */
  collectionVersions(tenant: string, collection: string): Promise<number[]>;
  /**
   * The stored content hash of one document (undefined when absent; '' when
   * its chunks disagree, e.g. after an interrupted replace). Indexed lookup,
   * not a scan of the collection.
   */
  documentHash(tenant: string, collection: string, docId: string): Promise<string | undefined>;
  /** The tenant's collections, sorted; never another tenant's. */
  listCollections(tenant: string): Promise<string[]>;
  hasCollection(tenant: string, collection: string): Promise<boolean>;
  /**
   * Up to `limit` of the collection's chunks, spread over it and the same ones
   * on every call while it does not change (LanceDB: the lowest hashes of the
   * chunk ids; Qdrant: the first points in id order, which hash the chunk
   * ids): what a lexical embedder's query weighting counts its features in.
   * Empty when the collection is absent.
   */
  sampleChunks(tenant: string, collection: string, limit: number): Promise<ChunkText[]>;
  /** Nearest chunks by vector. */
  searchVector(tenant: string, collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]>;
  /** Best chunks by full-text relevance. */
  searchText(tenant: string, collection: string, query: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]>;
  /** Dense and full-text candidates fused by reciprocal rank; scores are RRF scores. */
  hybridSearch(tenant: string, collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]>;
  /**
   * Points the backend's own name for the collection in use at `version`, in
   * one step, where the backend has one (a Qdrant alias,
   * `<tenant>.<collection>.current`), for clients that read the backend
   * directly. Absent: nothing to point (LanceDB; the version is in Redis).
   */
  publishVersion?(tenant: string, collection: string, version: number): Promise<void>;
  /** Housekeeping after a load: fold new rows into indexes, drop old versions. */
  compact(tenant: string, collection: string): Promise<void>;
  close(): Promise<void>;
}

/** The document one write is about: its lock's name. */
export interface DocumentRef {
  tenant: string;
  collection: string;
  docId: string;
}

/**
 * At most one writer per document at a time, across processes (DocumentLocks
 * in @rag/jobs holds it in Redis). `write` gets `fence`, which throws when the
 * lock was lost (it expired while the writer stalled): call it just before
 * the store write, so a writer that lost its lock never writes.
 */
export interface DocumentWriteLock {
  hold<T>(document: DocumentRef, write: (fence: () => Promise<void>) => Promise<T>): Promise<T>;
}
