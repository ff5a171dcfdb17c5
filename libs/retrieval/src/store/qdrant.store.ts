import type { QdrantClient, QdrantClientParams, Schemas } from '@qdrant/js-client-rest';
import { PermanentError } from '@rag/core';
import { v5 as uuidv5 } from 'uuid';
import { CollectionNotFoundError, EmbedderMismatchError, VectorSizeMismatchError, VectorStoreError } from '../errors';
import { reciprocalRankFusion } from '../fuse/reciprocal-rank-fusion';
import { searchableText } from '../searchable-text';
import { chunkFields, chunkFromFields, chunkText } from './chunk-record';
import { checkNames, collectionVersionsIn, physicalName, tenantCollections, versionedCollection } from './tenant-namespace';
import { BM25_ENCODER_VERSION, Bm25Encoder, type SparseVector } from '../sparse/bm25-encoder';
import type { Chunk, CollectionInfo, EmbeddedChunk, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';

export interface QdrantStoreOptions {
  /** Qdrant's REST URL; a URL without a port means the scheme's default port, a path is kept as a prefix. */
  url: string;
  apiKey?: string;
  /** Timeout of one request. Default 10 s. */
  timeoutMs?: number;
  /** Points per upsert request. Default 128. */
  batchSize?: number;
  encoder?: Bm25Encoder;
}

/** The named vectors of every collection this store creates. */
export const DENSE_VECTOR = 'dense';
export const SPARSE_VECTOR = 'bm25';

/** Recorded in the collection's metadata; tells our collections from others and records how they were built. */
interface RagMetadata {
  embedder: EmbedderInfo;
  sparse_encoder: string;
}

/** Candidates each half of a hybrid search brings to the fusion. */
const candidatesFor = (limit: number) => Math.max(20, limit * 4);

/**
 * Qdrant's RRF adds 1 / (k + position), position counted from 0; with k = 61
 * that is exactly reciprocalRankFusion's 1 / (60 + rank), so both stores rank
 * and score a hybrid search alike (Qdrant's own default k is 2).
 */
const RRF_K = 61;

const SCROLL_PAGE = 1000;

/** Namespace of the name-based (v5) UUIDs of points. Never change it: point ids derive from it. */
const POINT_ID_NAMESPACE = '4f0b7a3e-9c1d-4e2a-8b6f-5c3d2e1a0b9c';

/**
 * The point id of a chunk: Qdrant takes only unsigned integers and UUIDs, so a
 * name-based UUID (v5) of the chunk id, the same on every load.
 */
export function qdrantPointId(chunkId: string): string {
  return uuidv5(chunkId, POINT_ID_NAMESPACE);
}

/**
 * The client's connection settings for a URL. The client itself would use
 * port 6333 for a URL without a port and drop a URL's path.
 */
export function qdrantClientParams(options: Pick<QdrantStoreOptions, 'url' | 'apiKey' | 'timeoutMs'>): QdrantClientParams {
  const url = new URL(options.url);
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    url: `${url.protocol}//${url.host}`,
    port: url.port ? Number(url.port) : null,
    ...(prefix ? { prefix } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    timeout: options.timeoutMs ?? 10_000,
    checkCompatibility: false,
  };
}

/**
 * The production vector store: one Qdrant collection per collection, each
 * point a chunk with a named dense vector (`dense`, cosine) and a BM25 sparse
 * vector (`bm25`, IDF applied by Qdrant), its fields in the payload, and a
 * keyword index on `doc_id` for the document filters. Hybrid search is one
 * Query API call: dense and sparse prefetches fused by RRF inside Qdrant.
 */
export class QdrantStore implements VectorStore {
  readonly backend = 'qdrant';
  private readonly params: QdrantClientParams;
  private loaded?: Promise<QdrantClient>;
  private readonly encoder: Bm25Encoder;
  private readonly batchSize: number;
  private readonly apiKey: string;
  /** Collections seen to exist; a collection's embedder never changes while it exists. */
  private readonly known = new Map<string, CollectionInfo>();

  constructor(options: QdrantStoreOptions) {
    this.params = qdrantClientParams(options);
    this.encoder = options.encoder ?? new Bm25Encoder();
    this.batchSize = options.batchSize ?? 128;
    this.apiKey = options.apiKey ?? '';
  }

  /**
   * Qdrant's client, imported with the first call: it brings its own undici
   * (~5 MiB of heap, 120 modules), which a process using LanceDB never needs.
   */
  private client(): Promise<QdrantClient> {
    this.loaded ??= import('@qdrant/js-client-rest').then(({ QdrantClient }) => new QdrantClient(this.params));
    return this.loaded;
  }

  /** The tenant's collections only, by their names without the tenant prefix. */
  async listCollections(tenant: string): Promise<string[]> {
    try {
      const { collections } = await (await this.client()).getCollections();
      return tenantCollections(
        tenant,
        collections.map((c) => c.name),
      );
    } catch (error) {
      throw this.failure('list collections', undefined, error);
    }
  }

  async hasCollection(tenant: string, name: string): Promise<boolean> {
    const collection = physicalName(tenant, name);
    try {
      return (await (await this.client()).collectionExists(collection)).exists;
    } catch (error) {
      throw this.failure('check collection', collection, error);
    }
  }

  /** Always asks Qdrant, so a collection dropped or rebuilt elsewhere is seen at once. */
  async collectionInfo(tenant: string, name: string): Promise<CollectionInfo | undefined> {
    const info = await this.read(physicalName(tenant, name));
    return info && { ...info, name };
  }

  async ensureCollection(tenant: string, name: string, embedder: EmbedderInfo): Promise<void> {
    const collection = physicalName(tenant, name);
    let existing = await this.describe(collection);
    if (!existing) {
      const metadata: RagMetadata = { embedder: { id: embedder.id, dimension: embedder.dimension }, sparse_encoder: BM25_ENCODER_VERSION };
      try {
        const client = await this.client();
        await client.createCollection(collection, {
          vectors: { [DENSE_VECTOR]: { size: embedder.dimension, distance: 'Cosine' } },
          sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' } },
          metadata: { rag: metadata as unknown as Record<string, unknown> },
        });
      } catch (error) {
        // Another worker may have created it since we looked; that is not a failure.
        existing = await this.describe(collection);
        if (!existing) throw this.failure('create collection', collection, error);
      }
      existing ??= await this.describe(collection);
      if (!existing) throw new VectorStoreError(`Qdrant created collection "${collection}" but does not find it`);
    }
    const stored = existing.info.embedder;
    if (stored.id !== embedder.id || stored.dimension !== embedder.dimension) {
      throw new EmbedderMismatchError(name, stored, embedder);
    }
    // Idempotent, and done here rather than on reads so that a read-only API key can search.
    if (!existing.indexed) {
      try {
        await (await this.client()).createPayloadIndex(collection, { field_name: 'doc_id', field_schema: 'keyword', wait: true });
      } catch (error) {
        throw this.failure('create payload index', collection, error);
      }
    }
  }

  async replaceDocument(tenant: string, name: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    const collection = physicalName(tenant, name);
    const info = await this.require(collection);
    const dimension = info.embedder.dimension;
    for (const c of chunks) {
      if (c.docId !== docId) throw new Error(`chunk ${c.id} belongs to ${c.docId}, not ${docId}`);
      if (c.vector.length !== dimension) throw new VectorSizeMismatchError(name, dimension, c.vector.length);
    }
    const points = chunks.map((c) => this.toPoint(c));
    // New points first, then the old ones not among them: readers always find
    // the document (old, new, or briefly both), never missing. An interrupted
    // replace leaves chunks of two versions, which listDocuments reports with
    // an empty hash so the next load replaces the document again.
    try {
      for (let i = 0; i < points.length; i += this.batchSize) {
        await (await this.client()).upsert(collection, { wait: true, points: points.slice(i, i + this.batchSize) });
      }
      const keep = points.map((p) => p.id);
      const client = await this.client();
      await client.delete(collection, {
        wait: true,
        filter: { must: [docCondition(docId)], ...(keep.length ? { must_not: [{ has_id: keep }] } : {}) },
      });
    } catch (error) {
      throw this.failure('replace document', collection, error);
    }
  }

  async deleteDocument(tenant: string, name: string, docId: string): Promise<void> {
    const collection = physicalName(tenant, name);
    if (!(await this.cached(collection))) return;
    try {
      await (await this.client()).delete(collection, { wait: true, filter: { must: [docCondition(docId)] } });
    } catch (error) {
      if (statusOf(error) === 404) return this.forget(collection);
      throw this.failure('delete document', collection, error);
    }
  }

  async deleteCollection(tenant: string, name: string): Promise<boolean> {
    const collection = physicalName(tenant, name);
    this.forget(collection);
    try {
      // Qdrant answers true when it dropped the collection, false when there was none.
      return await (await this.client()).deleteCollection(collection);
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw this.failure('delete collection', collection, error);
    }
  }

  async documentHash(tenant: string, name: string, docId: string): Promise<string | undefined> {
    const collection = physicalName(tenant, name);
    if (!(await this.cached(collection))) return undefined;
    try {
      // doc_id is a keyword payload index: a filtered scroll, not a scan.
      const client = await this.client();
      const { points } = await client.scroll(collection, {
        limit: 256,
        filter: { must: [docCondition(docId)] },
        with_payload: ['content_hash'],
        with_vector: false,
      });
      if (points.length === 0) return undefined;
      const hashes = new Set(points.map((p) => String(p.payload?.content_hash ?? '')));
      return hashes.size === 1 ? [...hashes][0] : '';
    } catch (error) {
      if (statusOf(error) === 404) {
        this.forget(collection);
        return undefined;
      }
      throw this.failure('read document', collection, error);
    }
  }

  async listDocuments(tenant: string, name: string): Promise<StoredDocument[]> {
    const docs = new Map<string, StoredDocument>();
    const found = await this.scrollAll('list documents', physicalName(tenant, name), { with_payload: ['doc_id', 'content_hash'] }, (point) => {
      const docId = String(point.payload?.doc_id);
      const hash = String(point.payload?.content_hash ?? '');
      const doc = docs.get(docId);
      if (!doc) docs.set(docId, { docId, contentHash: hash, chunks: 1 });
      else {
        doc.chunks++;
        if (doc.contentHash !== hash) doc.contentHash = '';
      }
    });
    return found ? [...docs.values()].sort((a, b) => a.docId.localeCompare(b.docId)) : [];
  }

  async documentChunks(tenant: string, name: string, docId: string): Promise<Chunk[]> {
    const chunks: Chunk[] = [];
    const found = await this.scrollAll('read document', physicalName(tenant, name), { filter: { must: [docCondition(docId)] }, with_payload: true }, (point) =>
      chunks.push(chunkFromFields(point.payload ?? {}, point.payload?.chunk_id ?? point.id)),
    );
    return found ? chunks.sort((a, b) => a.position - b.position) : [];
  }

  /** The first `limit` points in Qdrant's id order (point ids are hashes of the chunk ids, so no one document's). */
  async sampleChunks(tenant: string, name: string, limit: number): ReturnType<VectorStore['sampleChunks']> {
    const chunks: ReturnType<typeof chunkText>[] = [];
    const request = { with_payload: ['title', 'heading', 'text'] };
    await this.scrollAll('sample chunks', physicalName(tenant, name), request, (point) => chunks.push(chunkText(point.payload ?? {})), limit);
    return chunks;
  }

  /**
   * Every point of a collection (matching `request`'s filter), page by page,
   * without vectors, or its first `max`; false when the collection does not
   * exist (then or while scrolling).
   */
  private async scrollAll(
    what: string,
    collection: string,
    request: Pick<Schemas['ScrollRequest'], 'filter' | 'with_payload'>,
    onPoint: (point: Schemas['Record']) => void,
    max = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    if (!(await this.cached(collection))) return false;
    try {
      let offset: Schemas['ExtendedPointId'] | null | undefined;
      let seen = 0;
      do {
        const limit = Math.min(SCROLL_PAGE, max - seen);
        if (limit <= 0) break;
        const page = await (await this.client()).scroll(collection, { ...request, limit, offset: offset ?? undefined, with_vector: false });
        for (const point of page.points) onPoint(point);
        seen += page.points.length;
        offset = page.next_page_offset as Schemas['ExtendedPointId'] | null | undefined;
      } while (offset !== undefined && offset !== null);
      return true;
    } catch (error) {
      if (statusOf(error) === 404) {
        this.forget(collection);
        return false;
      }
      throw this.failure(what, collection, error);
    }
  }

  async collectionVersions(tenant: string, name: string): Promise<number[]> {
    try {
      const { collections } = await (await this.client()).getCollections();
      return collectionVersionsIn(
        tenant,
        name,
        collections.map((c) => c.name),
      );
    } catch (error) {
      throw this.failure('list collections', undefined, error);
    }
  }

  /**
   * Points the alias `<tenant>.<collection>.current` at `version` in one
   * update-aliases request (delete and create together, so a client reading
   * through the alias sees the old collection or the new one, never neither).
   * Three parts whose last is not `v<N>`: no collection of ours is named so.
   */
  async publishVersion(tenant: string, name: string, version: number): Promise<void> {
    const target = physicalName(tenant, versionedCollection(name, version));
    const alias = currentAlias(tenant, name);
    try {
      const client = await this.client();
      await client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: target, alias_name: alias } }],
      });
    } catch (error) {
      throw this.failure('point alias', target, error);
    }
  }

  /** The collection the alias `<tenant>.<collection>.current` points at, if any. */
  async publishedCollection(tenant: string, name: string): Promise<string | undefined> {
    const alias = currentAlias(tenant, name);
    try {
      const { aliases } = await (await this.client()).getAliases();
      return aliases.find((a) => a.alias_name === alias)?.collection_name;
    } catch (error) {
      throw this.failure('list aliases', undefined, error);
    }
  }

  async searchVector(tenant: string, name: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const collection = physicalName(tenant, name);
    const info = await this.cached(collection);
    if (!info || limit < 1) return [];
    checkDimension(name, info, vector);
    return this.query('vector search', collection, { query: vector, using: DENSE_VECTOR, limit, filter: toFilter(filter) });
  }

  async searchText(tenant: string, name: string, text: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const collection = physicalName(tenant, name);
    const info = await this.cached(collection);
    const sparse = this.encoder.encodeQuery(text);
    if (!info || limit < 1 || sparse.indices.length === 0) return [];
    return this.query('text search', collection, { query: sparse, using: SPARSE_VECTOR, limit, filter: toFilter(filter) });
  }

  async hybridSearch(tenant: string, name: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const collection = physicalName(tenant, name);
    const info = await this.cached(collection);
    if (!info || limit < 1) return [];
    checkDimension(name, info, query.vector);
    const candidates = candidatesFor(limit);
    const denseWeight = query.denseWeight ?? 1;
    if (denseWeight !== 1) {
      // Qdrant's weighted RRF stretches ranks (1 / (k + rank / weight)) where ours scales
      // contributions (weight / (k + rank)): both halves here and fused as LanceDB fuses them,
      // so a collection ranks alike in either store. Only lexical embedders weigh below 1.
      const [dense, text] = await Promise.all([
        this.searchVector(tenant, name, query.vector, candidates, filter),
        this.searchText(tenant, name, query.text, candidates, filter),
      ]);
      return reciprocalRankFusion([dense, text], limit, undefined, [denseWeight, 1]);
    }
    const where = toFilter(filter);
    const sparse = this.encoder.encodeQuery(query.text);
    const prefetch: Schemas['Prefetch'][] = [{ query: query.vector, using: DENSE_VECTOR, limit: candidates, ...(where ? { filter: where } : {}) }];
    // A query of stop words only has no lexical half; the dense ranking is fused alone.
    if (sparse.indices.length) prefetch.push({ query: sparse, using: SPARSE_VECTOR, limit: candidates, ...(where ? { filter: where } : {}) });
    return this.query('hybrid search', collection, { prefetch, query: { rrf: { k: RRF_K } }, limit });
  }

  /** Qdrant indexes as it goes; there is nothing to fold in. */
  async compact(tenant: string, collection: string): Promise<void> {
    physicalName(tenant, collection);
    // nothing to do
  }

  /** The client holds no resources that need releasing. */
  async close(): Promise<void> {
    this.known.clear();
  }

  private async query(operation: string, collection: string, request: Schemas['QueryRequest']): Promise<SearchHit[]> {
    try {
      const { points } = await (await this.client()).query(collection, { ...request, with_payload: true, with_vector: false });
      return points.map((p) => ({ chunk: toChunk(p.payload ?? {}), score: p.score }));
    } catch (error) {
      if (statusOf(error) === 404) {
        this.forget(collection);
        return [];
      }
      throw this.failure(operation, collection, error);
    }
  }

  private toPoint(c: EmbeddedChunk): Schemas['PointStruct'] {
    const sparse: SparseVector = this.encoder.encodeDocument(searchableText(c));
    return {
      id: qdrantPointId(c.id),
      // A chunk with no terms (only stop words) has no sparse vector rather than an empty one.
      vector: { [DENSE_VECTOR]: c.vector, ...(sparse.indices.length ? { [SPARSE_VECTOR]: sparse } : {}) },
      payload: { chunk_id: c.id, ...chunkFields(c) },
    };
  }

  private async require(collection: string): Promise<CollectionInfo> {
    const info = await this.cached(collection);
    if (!info) throw new CollectionNotFoundError(collection.slice(collection.indexOf('.') + 1));
    return info;
  }

  private async cached(collection: string): Promise<CollectionInfo | undefined> {
    return this.known.get(collection) ?? this.read(collection);
  }

  private forget(collection: string): void {
    this.known.delete(collection);
  }

  private async read(collection: string): Promise<CollectionInfo | undefined> {
    return (await this.describe(collection))?.info;
  }

  /** The collection as Qdrant describes it now, or undefined when it does not exist. */
  private async describe(collection: string): Promise<{ info: CollectionInfo; indexed: boolean } | undefined> {
    let described: Schemas['CollectionInfo'];
    try {
      described = await (await this.client()).getCollection(collection);
    } catch (error) {
      if (statusOf(error) === 404) {
        this.forget(collection);
        return undefined;
      }
      throw this.failure('read collection', collection, error);
    }
    const info = parseCollection(collection, described);
    this.known.set(collection, info);
    return { info, indexed: described.payload_schema?.doc_id !== undefined };
  }

  /** The client's error as ours: operation and collection named, Qdrant's own words kept, the API key never shown. */
  private failure(operation: string, collection: string | undefined, error: unknown): Error {
    if (error instanceof PermanentError || error instanceof VectorStoreError) return error;
    const status = statusOf(error);
    // Named as the tenant knows it: without the tenant prefix.
    const shown = collection?.slice(collection.indexOf('.') + 1);
    if (status === 404 && collection) {
      this.forget(collection);
      return new CollectionNotFoundError(shown ?? collection);
    }
    const where = shown === undefined ? '' : ` on collection "${shown}"`;
    let message = `Qdrant ${operation}${where} failed${status ? ` (HTTP ${status})` : ''}: ${detailOf(error)}`;
    if (this.apiKey) message = message.split(this.apiKey).join('[redacted]');
    // The request itself was refused (bad input, bad key): sending it again cannot help.
    const permanent = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
    return new VectorStoreError(message, { cause: error, permanent, status });
  }
}

function parseCollection(collection: string, described: Schemas['CollectionInfo']): CollectionInfo {
  const notOurs = (why: string) =>
    new VectorStoreError(`Qdrant collection "${collection}" was not created by this service (${why}); choose another collection name`, { permanent: true });
  const vectors = described.config.params.vectors as Record<string, Schemas['VectorParams'] | undefined> | undefined;
  const dense = vectors?.[DENSE_VECTOR];
  if (!dense || typeof dense.size !== 'number') throw notOurs(`it has no dense vector named "${DENSE_VECTOR}"`);
  if (!described.config.params.sparse_vectors?.[SPARSE_VECTOR]) throw notOurs(`it has no sparse vector named "${SPARSE_VECTOR}"`);
  const rag = (described.config.metadata as { rag?: Partial<RagMetadata> } | null | undefined)?.rag;
  if (rag?.sparse_encoder !== undefined && rag.sparse_encoder !== BM25_ENCODER_VERSION) {
    throw new VectorStoreError(
      `Qdrant collection "${collection}" holds sparse vectors of ${rag.sparse_encoder}, but this version encodes ${BM25_ENCODER_VERSION}; load the documents into a new collection`,
      { permanent: true },
    );
  }
  // Its dense size is what the collection really holds, whatever the metadata says.
  return { name: collection, embedder: { id: rag?.embedder?.id ?? `unknown-${dense.size}`, dimension: dense.size } };
}

function checkDimension(collection: string, info: CollectionInfo, vector: number[]): void {
  if (vector.length !== info.embedder.dimension) throw new VectorSizeMismatchError(collection, info.embedder.dimension, vector.length);
}

function docCondition(docId: string): Schemas['FieldCondition'] {
  return { key: 'doc_id', match: { value: docId } };
}

function toFilter(filter?: SearchFilter): Schemas['Filter'] | undefined {
  // Qdrant wants the values of `any` unique.
  const sources = [...new Set(filter?.sources ?? [])];
  return sources.length ? { must: [{ key: 'doc_id', match: { any: sources } }] } : undefined;
}

function toChunk(payload: Record<string, unknown>): Chunk {
  return chunkFromFields(payload, payload.chunk_id);
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Qdrant's own error text when it answered, else the client's (with the network cause). */
function detailOf(error: unknown): string {
  // Duck-typed: errors raised inside Node's fetch need not be instances of this realm's Error.
  const e = error as {
    message?: unknown;
    data?: { status?: { error?: unknown } };
    cause?: { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  } | null;
  if (typeof e?.data?.status?.error === 'string') return e.data.status.error;
  if (typeof e?.message !== 'string') return String(error);
  const cause = e.cause;
  const code = [cause?.code, cause?.errors?.[0]?.code, cause?.message].find((x): x is string => typeof x === 'string' && x !== '');
  return code ? `${e.message} (${code})` : e.message;
}

/** The alias that names a collection's version in use: `<tenant>.<collection>.current`, tenant `default` included. */
export function currentAlias(tenant: string, collection: string): string {
  checkNames(tenant, collection);
  return `${tenant}.${collection}.current`;
}
