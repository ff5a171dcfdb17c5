import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import type { Chunk, EmbeddedChunk, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';
import { searchableText } from '../searchable-text';

const COLUMNS = ['id', 'doc_id', 'source', 'title', 'heading', 'position', 'text', 'content_hash'];

export class VectorSizeMismatchError extends Error {
  readonly permanent = true;
  constructor(collection: string, expected: number, got: number) {
    super(`collection "${collection}" holds ${expected}-dimensional vectors but the embedder produced ${got}; re-ingest the collection with the current embedder or configure the embedder it was built with`);
    this.name = 'VectorSizeMismatchError';
  }
}

/** SQL string literal for LanceDB filters: single quotes doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function whereClause(filter?: SearchFilter): string | undefined {
  if (!filter?.sources?.length) return undefined;
  return `doc_id IN (${filter.sources.map(sqlString).join(', ')})`;
}

function toChunk(row: Record<string, unknown>): Chunk {
  return {
    id: String(row.id),
    docId: String(row.doc_id),
    source: String(row.source),
    title: String(row.title ?? ''),
    heading: String(row.heading ?? ''),
    position: Number(row.position),
    text: String(row.text),
    contentHash: String(row.content_hash),
  };
}

/**
 * The embedded vector store: one LanceDB table per collection in a local
 * folder, with a full-text index beside the vectors. Readers see other
 * processes' writes at once (readConsistencyInterval 0), which the workers
 * need while the CLI ingests.
 */
export class LanceDbStore implements VectorStore {
  readonly backend = 'lancedb';
  private readonly tables = new Map<string, Promise<lancedb.Table>>();

  private constructor(private readonly db: lancedb.Connection) {}

  static async open(dir: string): Promise<LanceDbStore> {
    return new LanceDbStore(await lancedb.connect(dir, { readConsistencyInterval: 0 }));
  }

  async listCollections(): Promise<string[]> {
    return (await this.db.tableNames()).sort();
  }

  async hasCollection(collection: string): Promise<boolean> {
    if (this.tables.has(collection)) return true;
    return (await this.db.tableNames()).includes(collection);
  }

  async replaceDocument(collection: string, docId: string, chunks: EmbeddedChunk[]): Promise<void> {
    const table = await this.table(collection, chunks[0]?.vector.length);
    if (!table) return;
    const dimension = await this.dimension(table);
    for (const c of chunks) {
      if (c.docId !== docId) throw new Error(`chunk ${c.id} belongs to ${c.docId}, not ${docId}`);
      if (c.vector.length !== dimension) throw new VectorSizeMismatchError(collection, dimension, c.vector.length);
    }
    const rows = chunks.map((c) => ({
      id: c.id,
      doc_id: c.docId,
      source: c.source,
      title: c.title,
      heading: c.heading,
      position: c.position,
      text: c.text,
      search_text: searchableText(c),
      content_hash: c.contentHash,
      vector: c.vector,
    }));
    // One commit: readers see the old chunks or the new ones, never neither or both.
    await table
      .mergeInsert('id')
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .whenNotMatchedBySourceDelete({ where: `doc_id = ${sqlString(docId)}` })
      .execute(rows);
  }

  async deleteDocument(collection: string, docId: string): Promise<void> {
    const table = await this.table(collection);
    if (table) await table.delete(`doc_id = ${sqlString(docId)}`);
  }

  async listDocuments(collection: string): Promise<StoredDocument[]> {
    const table = await this.table(collection);
    if (!table) return [];
    const rows = await table.query().select(['doc_id', 'content_hash']).toArray();
    const docs = new Map<string, StoredDocument>();
    for (const row of rows) {
      const docId = String(row.doc_id);
      const doc = docs.get(docId);
      if (doc) doc.chunks++;
      else docs.set(docId, { docId, contentHash: String(row.content_hash), chunks: 1 });
    }
    return [...docs.values()].sort((a, b) => a.docId.localeCompare(b.docId));
  }

  async searchVector(collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const table = await this.table(collection);
    if (!table) return [];
    const dimension = await this.dimension(table);
    if (vector.length !== dimension) throw new VectorSizeMismatchError(collection, dimension, vector.length);
    let query = table.vectorSearch(vector).distanceType('cosine').select([...COLUMNS, '_distance']).limit(limit);
    const where = whereClause(filter);
    if (where) query = query.where(where);
    const rows = await query.toArray();
    return rows.map((row) => ({ chunk: toChunk(row), score: 1 - Number(row._distance) }));
  }

  async searchText(collection: string, text: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    const table = await this.table(collection);
    if (!table || !text.trim()) return [];
    // MatchQuery takes the user's words literally: no phrase or operator syntax.
    let query = table.query().fullTextSearch(new lancedb.MatchQuery(text, 'search_text')).select([...COLUMNS, '_score']).limit(limit);
    const where = whereClause(filter);
    if (where) query = query.where(where);
    const rows = await query.toArray();
    return rows.map((row) => ({ chunk: toChunk(row), score: Number(row._score) }));
  }

  /** Folds new rows into the indexes and drops old versions; run after a load. */
  async compact(collection: string): Promise<void> {
    const table = await this.table(collection);
    if (table) await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
  }

  async close(): Promise<void> {
    for (const table of this.tables.values()) (await table.catch(() => undefined))?.close();
    this.tables.clear();
    this.db.close();
  }

  /** The collection's table; created (with its full-text index) when `createWithDimension` is given. */
  private async table(collection: string, createWithDimension?: number): Promise<lancedb.Table | undefined> {
    const cached = this.tables.get(collection);
    if (cached) return cached;
    const names = await this.db.tableNames();
    // A concurrent call may have started opening or creating it while we awaited.
    const raced = this.tables.get(collection);
    if (raced) return raced;
    let opening: Promise<lancedb.Table>;
    if (names.includes(collection)) opening = this.db.openTable(collection);
    else if (createWithDimension !== undefined) opening = this.create(collection, createWithDimension);
    else return undefined;
    this.tables.set(collection, opening);
    opening.catch(() => this.tables.delete(collection));
    return opening;
  }

  private async create(collection: string, dimension: number): Promise<lancedb.Table> {
    const text = (name: string) => new Field(name, new Utf8(), false);
    const schema = new Schema([
      text('id'),
      text('doc_id'),
      text('source'),
      text('title'),
      text('heading'),
      new Field('position', new Int32(), false),
      text('text'),
      text('search_text'),
      text('content_hash'),
      new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
    ]);
    const table = await this.db.createEmptyTable(collection, schema, { mode: 'create', existOk: true });
    const indices = await table.listIndices();
    if (!indices.some((i) => i.columns.includes('search_text'))) {
      await table.createIndex('search_text', { config: lancedb.Index.fts(), replace: true });
    }
    return table;
  }

  private readonly dimensions = new WeakMap<lancedb.Table, number>();

  private async dimension(table: lancedb.Table): Promise<number> {
    const known = this.dimensions.get(table);
    if (known !== undefined) return known;
    const field = (await table.schema()).fields.find((f) => f.name === 'vector');
    const size = (field?.type as FixedSizeList | undefined)?.listSize;
    if (!size) throw new Error(`table ${table.name} has no fixed-size vector column`);
    this.dimensions.set(table, size);
    return size;
  }
}
