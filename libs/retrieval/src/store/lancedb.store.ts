import * as lancedb from '@lancedb/lancedb';
import * as os from 'node:os';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import { PermanentError, fnv1a } from '@rag/core';
import { CollectionNotFoundError, EmbedderMismatchError, VectorSizeMismatchError, VectorStoreError } from '../errors';
import { reciprocalRankFusion } from '../fuse/reciprocal-rank-fusion';
import { searchableText } from '../searchable-text';
import { chunkFields, chunkFromFields, chunkText } from './chunk-record';
import { collectionVersionsIn, physicalName, tenantCollections } from './tenant-namespace';
import type { Chunk, CollectionInfo, EmbeddedChunk, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';

/**
 * LanceDB sizes its CPU pool at the core count less two — a single thread on a
 * 2-core machine or pod — and its full-text index writer can deadlock when that
 * pool has no thread to spare (lance-format/lance#6085, #7350): here, compacting
 * a collection near 100k chunks on 2 cores parked every thread for good. Unless
 * the operator sized the pool, it gets at least four threads. Read by LanceDB
 * when its pool starts, on first use, so setting it at import is in time.
 */
export const LANCE_MIN_CPU_THREADS = 4;
if (!process.env.LANCE_CPU_THREADS) process.env.LANCE_CPU_THREADS = String(Math.max(LANCE_MIN_CPU_THREADS, os.availableParallelism() - 2));

const BASE_COLUMNS = ['id', 'doc_id', 'source', 'title', 'heading', 'position', 'text', 'content_hash'];
/** Added later; tables made before it have no such column and keep working without pages. */
const PAGE_COLUMN = 'page';
/** Tries at making a collection's indexes while other processes make the same collection (see create). */
const CREATE_ATTEMPTS = 8;
/** Writes to one table between two compactions (see afterWrite). */
const COMPACT_EVERY = 100;
/** Chunks of one document read to check they all carry the same hash. */
const HASH_PROBE = 256;
const EMBEDDER_KEY = 'rag.embedder';
const DIMENSION_KEY = 'rag.dimension';
/** Set on tables whose vectors are stored at unit length (see OpenTable.normalized). */
const NORMALIZED_KEY = 'rag.normalized';
/** LanceDB's name for the full-text index on search_text. */
const FTS_INDEX = 'search_text_idx';

/** SQL string literal for LanceDB filters: single quotes doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function whereClause(filter?: SearchFilter): string | undefined {
  if (!filter?.sources?.length) return undefined;
  return `doc_id IN (${filter.sources.map(sqlString).join(', ')})`;
}

/**
 * The `limit` rows whose chunk ids hash lowest (fnv1a; two ids of one hash at
 * the limit, a rare tie, are taken in row order), or all of them when there
 * are no more: numeric work on a typed array, no sort of the rows.
 */
function lowestHashes(rows: Record<string, unknown>[], limit: number): Record<string, unknown>[] {
  if (rows.length <= limit) return rows;
  const hashes = Uint32Array.from(rows, (row) => fnv1a(String(row.id)));
  const threshold = Uint32Array.from(hashes).sort()[limit - 1];
  return rows.filter((_, i) => hashes[i] <= threshold).slice(0, limit);
}

function toChunk(row: Record<string, unknown>): Chunk {
  return chunkFromFields(row, row.id);
}

/** `vector` scaled to length 1 (a zero vector stays zero). */
export function unitVector(vector: number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  if (sum === 0 || Math.abs(sum - 1) < 1e-6) return vector;
  const norm = Math.sqrt(sum);
  return vector.map((x) => x / norm);
}

interface OpenTable {
  table: lancedb.Table;
  info: CollectionInfo;
  /** The chunk columns this table has (older tables lack `page`). */
  columns: string[];
  /**
   * Vectors are stored at unit length, so the search ranks by dot product:
   * the same order and scores as cosine, without LanceDB normalising every
   * stored vector on every query (about half the cost of a scan). Tables made
   * before this hold vectors as the embedder gave them and keep cosine.
   */
  normalized: boolean;
}

/**
 * The embedded vector store: one LanceDB table per collection in a local
 * folder, with a full-text index beside the vectors and the embedder recorded
 * in the table's schema metadata. Readers see other processes' writes at once
 * (readConsistencyInterval 0), which the workers need while the CLI loads.
 */
export class LanceDbStore implements VectorStore {
  readonly backend = 'lancedb';
  private readonly tables = new Map<string, Promise<OpenTable>>();
  /** Writes per table by this process, for periodic compaction. */
  private readonly writes = new Map<string, number>();
  /** Connections replaced by reconnect, closed with the store. */
  private readonly retired: lancedb.Connection[] = [];
  /** Rows full-text searches brought back from LanceDB: what a search costs beyond the index. */
  readonly counters = { textRowsRead: 0 };

  private constructor(
    private db: lancedb.Connection,
    private readonly dir: string,
  ) {}

  static async open(dir: string): Promise<LanceDbStore> {
    return new LanceDbStore(await connectTo(dir), dir);
  }

  /**
   * A new connection with its own caches, every table to be opened again. The
   * caches of a connection can outlive a table dropped and made again by
   * another process (same path, same version numbers), or hold what a commit
   * that lost a race wrote: reopening through the same connection then reads
   * files that are not there. The old connection stays open for the calls
   * still running on its tables.
   */
  private async reconnect(): Promise<void> {
    const next = await connectTo(this.dir);
    this.retired.push(this.db);
    this.db = next;
    this.tables.clear();
  }

  /** The tenant's collections only, by their names without the tenant prefix. */
  async listCollections(tenant: string): Promise<string[]> {
    return tenantCollections(tenant, await this.db.tableNames());
  }

  async hasCollection(tenant: string, name: string): Promise<boolean> {
    return (await this.collectionInfo(tenant, name)) !== undefined;
  }

  async collectionInfo(tenant: string, name: string): Promise<CollectionInfo | undefined> {
    const info = (await this.fresh(physicalName(tenant, name), name))?.info;
    return info && { ...info, name };
  }

  async ensureCollection(tenant: string, name: string, embedder: EmbedderInfo): Promise<void> {
    const collection = physicalName(tenant, name);
    let opened = await this.fresh(collection, name);
    if (!opened) {
      const creating = this.create(collection, embedder).catch((error: unknown) => {
        throw storeFailure('create collection', name, error);
      });
      this.remember(collection, creating);
      opened = await creating;
    }
    const stored = opened.info.embedder;
    if (stored.id !== embedder.id || stored.dimension !== embedder.dimension) {
      throw new EmbedderMismatchError(name, stored, embedder);
    }
  }

  async replaceDocument(tenant: string, name: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    const collection = physicalName(tenant, name);
    await this.withTable(
      collection,
      name,
      'replace document',
      (opened) => this.writeDocument(opened, name, docId, chunks),
      () => {
        throw new CollectionNotFoundError(name);
      },
    );
    const opened = await this.open(collection).catch(() => undefined);
    if (opened) await this.afterWrite(collection, opened.table);
  }

  /**
   * Appends a new document's chunks, or replaces a stored one's in one merge.
   * The check and the append are two steps: callers that may race on one
   * document (workers, the CLI) hold its lock across the call (DocumentLocks).
   */
  private async writeDocument({ table, info, columns, normalized }: OpenTable, name: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    for (const c of chunks) {
      if (c.docId !== docId) throw new Error(`chunk ${c.id} belongs to ${c.docId}, not ${docId}`);
      if (c.vector.length !== info.embedder.dimension) throw new VectorSizeMismatchError(name, info.embedder.dimension, c.vector.length);
    }
    const rows = chunks.map((c) => {
      const { page, ...fields } = chunkFields(c);
      return {
        id: c.id,
        ...fields,
        ...(columns.includes(PAGE_COLUMN) ? { page } : {}),
        search_text: searchableText(c),
        vector: normalized ? unitVector(c.vector) : c.vector,
      };
    });
    const present =
      (
        await table
          .query()
          .where(`doc_id = ${sqlString(docId)}`)
          .select(['id'])
          .limit(1)
          .toArray()
      ).length > 0;
    if (!present) {
      // A new document: an append, whose cost does not grow with the table.
      if (rows.length > 0) await table.add(rows);
    } else {
      // One commit: readers see the old chunks or the new ones, never neither or both.
      await table
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete({ where: `doc_id = ${sqlString(docId)}` })
        .execute(rows);
    }
  }

  /**
   * Every write adds a fragment, and replacing a document costs more the more
   * fragments there are; every COMPACT_EVERY writes to a table this process
   * folds them together (and into the indexes), so a long load stays linear.
   * A compaction that loses a race with another process's write is skipped:
   * the table is unchanged and the next round tries again.
   */
  private async afterWrite(collection: string, table: lancedb.Table): Promise<void> {
    const writes = (this.writes.get(collection) ?? 0) + 1;
    this.writes.set(collection, writes);
    if (writes % COMPACT_EVERY !== 0) return;
    await table.optimize().catch(() => undefined);
  }

  async deleteDocument(tenant: string, name: string, docId: string): Promise<void> {
    const collection = physicalName(tenant, name);
    const table = await this.withTable(
      collection,
      name,
      'delete document',
      async ({ table }) => {
        await table.delete(`doc_id = ${sqlString(docId)}`);
        return table;
      },
      () => undefined,
    );
    if (table) await this.afterWrite(collection, table);
  }

  async deleteCollection(tenant: string, name: string): Promise<boolean> {
    const collection = physicalName(tenant, name);
    const opened = await this.open(collection);
    if (!opened) return false;
    this.tables.delete(collection);
    opened.table.close();
    try {
      await this.db.dropTable(collection);
    } catch (error) {
      // Dropped by another process since we looked.
      if (!(await this.tableExists(collection, name))) return false;
      throw storeFailure('delete collection', name, error);
    }
    return true;
  }

  async documentHash(tenant: string, name: string, docId: string): Promise<string | undefined> {
    // doc_id has a BTREE index (tables made before it scan the column instead).
    const rows = await this.withTable(
      physicalName(tenant, name),
      name,
      'read document',
      ({ table }) =>
        table
          .query()
          .where(`doc_id = ${sqlString(docId)}`)
          .select(['content_hash'])
          .limit(HASH_PROBE)
          .toArray(),
      () => [],
    );
    if (rows.length === 0) return undefined;
    const hashes = new Set(rows.map((r: Record<string, unknown>) => String(r.content_hash)));
    return hashes.size === 1 ? [...hashes][0] : '';
  }

  async listDocuments(tenant: string, name: string): Promise<StoredDocument[]> {
    const rows = await this.withTable(
      physicalName(tenant, name),
      name,
      'list documents',
      ({ table }) => table.query().select(['doc_id', 'content_hash']).toArray(),
      () => [],
    );
    const docs = new Map<string, StoredDocument>();
    for (const row of rows) {
      const docId = String(row.doc_id);
      const doc = docs.get(docId);
      if (doc) doc.chunks++;
      else docs.set(docId, { docId, contentHash: String(row.content_hash), chunks: 1 });
    }
    return [...docs.values()].sort((a, b) => a.docId.localeCompare(b.docId));
  }

  async documentChunks(tenant: string, name: string, docId: string): Promise<Chunk[]> {
    const rows = await this.withTable(
      physicalName(tenant, name),
      name,
      'read document',
      ({ table, columns }) =>
        table
          .query()
          .where(`doc_id = ${sqlString(docId)}`)
          .select(columns)
          .toArray(),
      () => [],
    );
    return rows.map((row: Record<string, unknown>) => toChunk(row)).sort((a, b) => a.position - b.position);
  }

  /**
   * `limit` rows chosen by a hash of their chunk ids (the lowest), so the
   * sample is spread over the whole collection and is the same whatever order
   * the rows were written or compacted in; every row when the table has no
   * more than `limit`. Reads the ids of every row: linear in the collection,
   * once per count (embed/feature-rarity.ts).
   */
  async sampleChunks(tenant: string, name: string, limit: number): ReturnType<VectorStore['sampleChunks']> {
    const rows = await this.withTable(
      physicalName(tenant, name),
      name,
      'sample chunks',
      async ({ table }) => {
        const columns = ['title', 'heading', 'text'];
        const chosen = lowestHashes(await table.query().select(['id']).withRowId().toArray(), limit);
        // Rows moved by a compaction or rewritten by another process meanwhile come back missing, not as an error.
        const taken = await table
          .takeRowIds(chosen.map((row) => row._rowid as bigint))
          .select(columns)
          .toArray()
          .catch(() => []);
        if (taken.length === chosen.length) return taken;
        return table
          .query()
          .where(`id IN (${chosen.map((row) => sqlString(String(row.id))).join(', ')})`)
          .select(columns)
          .toArray();
      },
      () => [],
    );
    return rows.map((row: Record<string, unknown>) => chunkText(row));
  }

  async collectionVersions(tenant: string, name: string): Promise<number[]> {
    return collectionVersionsIn(tenant, name, await this.db.tableNames());
  }

  async searchVector(tenant: string, name: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    return this.withTable(
      physicalName(tenant, name),
      name,
      'vector search',
      (opened) => this.vectorSearch(opened, name, vector, limit, filter),
      () => [],
    );
  }

  private async vectorSearch(opened: OpenTable, name: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const dimension = opened.info.embedder.dimension;
    if (vector.length !== dimension) throw new VectorSizeMismatchError(name, dimension, vector.length);
    const where = whereClause(filter);
    // Dot product of unit vectors: LanceDB's distance is 1 - cosine either way.
    const probe = opened.normalized ? unitVector(vector) : vector;
    const search = (columns: string[]) => {
      const query = opened.table
        .vectorSearch(probe)
        .distanceType(opened.normalized ? 'dot' : 'cosine')
        .select([...columns, '_distance'])
        .limit(limit);
      return where ? query.where(where) : query;
    };
    // The scan reads only ids, then the chunks of the best few are fetched by row id:
    // reading every column during the scan costs a third more.
    const best = await search(['id']).withRowId().toArray();
    if (best.length === 0) return [];
    const rows = await this.takeChunks(opened, best);
    if (rows) return best.map((hit) => ({ chunk: toChunk(rows.get(String(hit.id)) as Record<string, unknown>), score: 1 - Number(hit._distance) }));
    // A compaction by another process moved the rows in between: search again, reading everything at once.
    const full = await search(opened.columns).toArray();
    return full.map((row) => ({ chunk: toChunk(row), score: 1 - Number(row._distance) }));
  }

  /** The rows of `hits` by row id, keyed by chunk id; undefined if any row is no longer where it was. */
  private async takeChunks(opened: OpenTable, hits: Record<string, unknown>[]): Promise<Map<string, Record<string, unknown>> | undefined> {
    try {
      const rows = await opened.table
        .takeRowIds(hits.map((h) => h._rowid as bigint))
        .select(opened.columns)
        .toArray();
      const byId = new Map(rows.map((row) => [String(row.id), row as Record<string, unknown>]));
      return hits.every((h) => byId.has(String(h.id))) ? byId : undefined;
    } catch {
      return undefined;
    }
  }

  async searchText(tenant: string, name: string, text: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    if (!text.trim()) return [];
    return this.withTable(
      physicalName(tenant, name),
      name,
      'text search',
      (opened) => this.textSearch(opened, text, limit, filter),
      () => [],
    );
  }

  private async textSearch(opened: OpenTable, text: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    // LanceDB 0.31 ranks rows not yet in the full-text index badly when the
    // index holds no live row (built on an empty table, or all its rows since
    // replaced): it keeps the first matches, not the best, in no order. Then
    // every live row is an unindexed one, so fetching `limit` more than the
    // unindexed rows brings every match, ranked here; when the index does hold
    // live rows, its best `limit` plus the unindexed matches are all a ranking
    // needs. Either way the cost is bounded by the rows not yet indexed, never
    // by the table (a queued run leaves its collection indexed, see compact).
    const stats = await opened.table.indexStats(FTS_INDEX);
    const pending = stats?.numUnindexedRows ?? 0;
    const fetch = limit + pending;
    // MatchQuery takes the user's words literally: no phrase or operator syntax.
    let query = opened.table
      .query()
      .fullTextSearch(new lancedb.MatchQuery(text, 'search_text'))
      .select([...opened.columns, '_score'])
      .limit(fetch);
    const where = whereClause(filter);
    if (where) query = query.where(where);
    const rows = await query.toArray();
    this.counters.textRowsRead += rows.length;
    return rows
      .map((row) => ({ chunk: toChunk(row), score: Number(row._score) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }

  async hybridSearch(tenant: string, collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const candidates = Math.max(20, limit * 4);
    const [dense, text] = await Promise.all([
      this.searchVector(tenant, collection, query.vector, candidates, filter),
      this.searchText(tenant, collection, query.text, candidates, filter),
    ]);
    return reciprocalRankFusion([dense, text], limit, undefined, [query.denseWeight ?? 1, 1]);
  }

  /** Folds new rows into the indexes and drops old versions; run after a load. */
  async compact(tenant: string, name: string): Promise<void> {
    await this.withTable(
      physicalName(tenant, name),
      name,
      'compact',
      async ({ table }) => {
        try {
          await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
        } catch (error) {
          // Another process compacted the table at the same moment (a worker finishing a run while the CLI prunes): its compaction did the work.
          if (!isCommitConflict(error)) throw error;
        }
      },
      () => undefined,
    );
  }

  async close(): Promise<void> {
    for (const opening of this.tables.values()) (await opening.catch(() => undefined))?.table.close();
    this.tables.clear();
    for (const db of [...this.retired, this.db]) db.close();
  }

  /**
   * Runs `fn` on the collection's open table. Another process may have
   * dropped the table since it was opened here (the cached handle then fails
   * with LanceDB's "Not found"), or dropped and created it again: the handle is
   * forgotten and the table opened afresh, and a collection that is really
   * gone gives `missing()`. Any other LanceDB failure becomes a retryable
   * VectorStoreError naming the operation.
   */
  private async withTable<T>(collection: string, name: string, operation: string, fn: (opened: OpenTable) => Promise<T>, missing: () => T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const opened = await this.open(collection).catch((error: unknown) => {
        throw storeFailure(operation, name, error);
      });
      if (!opened) return missing();
      try {
        return await fn(opened);
      } catch (error) {
        if (!isMissingTable(error) || attempt >= 3) throw storeFailure(operation, name, error);
        await this.reconnect();
      }
    }
  }

  /**
   * The collection as it is now, its schema read again: a table dropped and
   * created again by another process (maybe with another embedder) is seen
   * as it is, not as it was when this process opened it.
   */
  private async fresh(collection: string, name: string): Promise<OpenTable | undefined> {
    return this.withTable(
      collection,
      name,
      'read collection',
      async (opened) => {
        const now = await describeTable(collection, opened.table);
        if (
          now.info.embedder.id !== opened.info.embedder.id ||
          now.info.embedder.dimension !== opened.info.embedder.dimension ||
          now.normalized !== opened.normalized
        ) {
          this.tables.set(collection, Promise.resolve(now));
        }
        return now;
      },
      () => undefined,
    );
  }

  private async tableExists(collection: string, name: string): Promise<boolean> {
    try {
      return (await this.db.tableNames()).includes(collection);
    } catch (error) {
      throw storeFailure('list collections', name, error);
    }
  }

  /** The collection's table and info, or undefined when it does not exist. */
  private async open(collection: string): Promise<OpenTable | undefined> {
    const cached = this.tables.get(collection);
    if (cached) return cached;
    const names = await this.db.tableNames();
    // A concurrent call may have started opening or creating it while we awaited.
    const raced = this.tables.get(collection);
    if (raced) return raced;
    if (!names.includes(collection)) return undefined;
    const opening = this.db.openTable(collection).then((table) => describeTable(collection, table));
    this.remember(collection, opening);
    // Dropped by another process between the listing and the opening.
    return opening.catch((error: unknown) => {
      if (isMissingTable(error)) return undefined;
      throw error;
    });
  }

  private remember(collection: string, opening: Promise<OpenTable>): void {
    this.tables.set(collection, opening);
    opening.catch(() => this.tables.delete(collection));
  }

  private async create(collection: string, embedder: EmbedderInfo): Promise<OpenTable> {
    const text = (name: string) => new Field(name, new Utf8(), false);
    const schema = new Schema(
      [
        text('id'),
        text('doc_id'),
        text('source'),
        text('title'),
        text('heading'),
        new Field('position', new Int32(), false),
        text('text'),
        text('search_text'),
        text('content_hash'),
        new Field(PAGE_COLUMN, new Int32(), false),
        new Field('vector', new FixedSizeList(embedder.dimension, new Field('item', new Float32(), true)), false),
      ],
      new Map([
        [EMBEDDER_KEY, embedder.id],
        [DIMENSION_KEY, String(embedder.dimension)],
        [NORMALIZED_KEY, 'true'],
      ]),
    );
    let table = await this.db.createEmptyTable(collection, schema, { mode: 'create', existOk: true });
    for (let attempt = 1; ; attempt++) {
      try {
        await createIndexes(table);
        return await describeTable(collection, table);
      } catch (error) {
        // Another process made the same table and its indexes at the same moment: look again, with caches our lost commit did not touch.
        // Each index is its own commit, so two creators can collide more than once; a random pause lets one of them go first.
        if (!isCommitConflict(error) || attempt >= CREATE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80 * attempt));
        await this.reconnect();
        table = await this.db.openTable(collection);
      }
    }
  }
}

async function connectTo(dir: string): Promise<lancedb.Connection> {
  return lancedb.connect(dir, { readConsistencyInterval: 0 }, new lancedb.Session());
}

/** The full-text index, and a BTREE on doc_id for per-document lookups (hash checks, replace, delete) without a scan. */
async function createIndexes(table: lancedb.Table): Promise<void> {
  const indices = await table.listIndices();
  if (!indices.some((i) => i.columns.includes('search_text'))) {
    await table.createIndex('search_text', { config: lancedb.Index.fts(), replace: true });
  }
  if (!indices.some((i) => i.columns.includes('doc_id'))) {
    await table.createIndex('doc_id', { config: lancedb.Index.btree(), replace: true });
  }
}

/** A write that lost to another process's write of the same table version. */
function isCommitConflict(error: unknown): boolean {
  return /commit conflict|preempted by concurrent|incompatible with concurrent/i.test(error instanceof Error ? error.message : String(error));
}

/**
 * LanceDB's words for a table (or one of its files) that is not there: the
 * table was dropped, perhaps by another process. Matched on text because the
 * native errors all share one class.
 */
export function isMissingTable(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /\bNot found\b|was not found|does not exist|No such file or directory/i.test(message);
}

/** A LanceDB failure as ours: the operation and collection named, retryable, LanceDB's text kept for the logs only. */
function storeFailure(operation: string, name: string, error: unknown): Error {
  if (error instanceof PermanentError || error instanceof VectorStoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new VectorStoreError(`LanceDB ${operation} on collection "${name}" failed: ${detail}`, { cause: error });
}

async function describeTable(collection: string, table: lancedb.Table): Promise<OpenTable> {
  const schema = await table.schema();
  const hasPage = schema.fields.some((f) => f.name === PAGE_COLUMN);
  return {
    table,
    info: readInfo(collection, schema),
    columns: hasPage ? [...BASE_COLUMNS, PAGE_COLUMN] : BASE_COLUMNS,
    normalized: schema.metadata.get(NORMALIZED_KEY) === 'true',
  };
}

function readInfo(collection: string, schema: Schema): CollectionInfo {
  const field = schema.fields.find((f) => f.name === 'vector');
  const dimension = (field?.type as FixedSizeList | undefined)?.listSize;
  if (!dimension) throw new Error(`table ${collection} has no fixed-size vector column; it was not created by this service`);
  // Tables made before the embedder was recorded carry only their dimension.
  const id = schema.metadata.get(EMBEDDER_KEY) ?? `unknown-${dimension}`;
  return { name: collection, embedder: { id, dimension } };
}
