/* eslint-disable @typescript-eslint/no-explicit-any -- request bodies were checked against Qdrant's schema before they get here */

/** An error Qdrant would answer with: HTTP status and its `status.error` text. */
export class QdrantHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A request the fake understands but does not implement (a gap in the fake, not in the request). */
export class NotImplementedError extends QdrantHttpError {
  constructor(what: string) {
    super(501, `fake-qdrant does not implement ${what}`);
  }
}

type PointId = string | number;

interface SparseVector {
  indices: number[];
  values: number[];
}

interface StoredPoint {
  id: PointId;
  dense: Map<string, number[]>;
  sparse: Map<string, SparseVector>;
  payload: Record<string, unknown>;
  version: number;
}

interface DenseParams {
  size: number;
  distance: 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';
}

interface Collection {
  /** Named dense vectors; the unnamed (single-vector) form is stored under "". */
  vectors: Map<string, DenseParams>;
  /** True when the collection was created with one unnamed vector. */
  unnamed: boolean;
  sparse: Map<string, { modifier?: string | null }>;
  metadata: Record<string, unknown> | null;
  payloadIndexes: Map<string, unknown>;
  points: Map<string, StoredPoint>;
  operations: number;
}

interface ScoredPoint {
  point: StoredPoint;
  score: number;
}

/** Qdrant's default RRF constant (lib/segment reciprocal_rank_fusion.rs). */
const DEFAULT_RRF_K = 2;

const notFound = (name: string) => new QdrantHttpError(404, `Not found: Collection \`${name}\` doesn't exist!`);
const badRequest = (message: string) => new QdrantHttpError(400, `Wrong input: ${message}`);

/**
 * Qdrant's data model in memory: collections of points with named dense and
 * sparse vectors and a JSON payload, searched by exact (brute-force) scoring.
 * Implements the parts of the API the Qdrant store uses, the way Qdrant
 * answers them; anything else is a NotImplementedError, never a guess.
 */
export class QdrantMemory {
  private readonly collections = new Map<string, Collection>();
  /** Alias → collection. An alias reaches its collection for search, retrieval and changes (get), as in Qdrant. */
  private readonly aliases = new Map<string, string>();

  constructor(private readonly options: { requirePayloadIndexForFilters: boolean }) {}

  listCollections(): { collections: { name: string }[] } {
    return { collections: [...this.collections.keys()].map((name) => ({ name })) };
  }

  exists(name: string): { exists: boolean } {
    return { exists: this.collections.has(name) };
  }

  createCollection(name: string, body: any): boolean {
    if (this.collections.has(name)) throw new QdrantHttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = new Map<string, DenseParams>();
    const unnamed = body.vectors !== undefined && typeof body.vectors.size === 'number';
    if (unnamed) vectors.set('', body.vectors);
    else for (const [vectorName, params] of Object.entries(body.vectors ?? {})) vectors.set(vectorName, params as DenseParams);
    for (const params of vectors.values()) {
      if (params.distance === 'Euclid' || params.distance === 'Manhattan') throw new NotImplementedError(`${params.distance} distance`);
      if ((params as any).multivector_config) throw new NotImplementedError('multivectors');
    }
    const sparse = new Map(Object.entries(body.sparse_vectors ?? {}) as [string, { modifier?: string | null }][]);
    this.collections.set(name, { vectors, unnamed, sparse, metadata: body.metadata ?? null, payloadIndexes: new Map(), points: new Map(), operations: 0 });
    return true;
  }

  deleteCollection(name: string): boolean {
    const deleted = this.collections.delete(name);
    // Qdrant drops a collection's aliases with it.
    for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
    return deleted;
  }

  /**
   * POST /collections/aliases: the actions applied in order, all or none (a
   * failing action leaves every alias as it was). create_alias needs the
   * collection to exist and the alias not to be a collection's name, and
   * points an existing alias elsewhere; delete_alias deletes it if it exists;
   * rename_alias needs the old alias.
   */
  updateAliases(body: any): boolean {
    const next = new Map(this.aliases);
    for (const action of body.actions as any[]) {
      if (action.create_alias) {
        const { collection_name: collection, alias_name: alias } = action.create_alias;
        if (!this.collections.has(collection)) throw notFound(collection);
        if (this.collections.has(alias)) throw new QdrantHttpError(409, `Wrong input: Collection \`${alias}\` already exists!`);
        next.set(alias, collection);
      } else if (action.delete_alias) {
        next.delete(action.delete_alias.alias_name);
      } else if (action.rename_alias) {
        const { old_alias_name: old, new_alias_name: renamed } = action.rename_alias;
        const target = next.get(old);
        if (target === undefined) throw new QdrantHttpError(404, `Not found: Alias ${old} does not exists!`);
        if (this.collections.has(renamed)) throw new QdrantHttpError(409, `Wrong input: Collection \`${renamed}\` already exists!`);
        next.delete(old);
        next.set(renamed, target);
      } else {
        throw new NotImplementedError(`the alias action ${Object.keys(action).join(', ')}`);
      }
    }
    this.aliases.clear();
    for (const [alias, target] of next) this.aliases.set(alias, target);
    return true;
  }

  /** GET /aliases, or GET /collections/{name}/aliases with `collection`. */
  listAliases(collection?: string): { aliases: { alias_name: string; collection_name: string }[] } {
    if (collection !== undefined) this.get(collection);
    return {
      aliases: [...this.aliases]
        .filter(([, target]) => collection === undefined || target === collection)
        .map(([alias_name, collection_name]) => ({ alias_name, collection_name })),
    };
  }

  collectionInfo(name: string): unknown {
    const c = this.get(name);
    const vectors = c.unnamed ? { ...c.vectors.get('') } : Object.fromEntries(c.vectors);
    const payloadSchema = Object.fromEntries(
      [...c.payloadIndexes].map(([field, schema]) => [
        field,
        {
          data_type: typeof schema === 'string' ? schema : (schema as { type: string }).type,
          points: [...c.points.values()].filter((p) => fieldValues(p.payload, field).length > 0).length,
        },
      ]),
    );
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors,
          ...(c.sparse.size ? { sparse_vectors: Object.fromEntries(c.sparse) } : {}),
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, flush_interval_sec: 5 },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 },
        quantization_config: null,
        ...(c.metadata ? { metadata: c.metadata } : {}),
      },
      payload_schema: payloadSchema,
    };
  }

  createPayloadIndex(name: string, body: any): unknown {
    const c = this.get(name);
    c.payloadIndexes.set(body.field_name, body.field_schema ?? 'keyword');
    return this.updated(c);
  }

  upsert(name: string, body: any): unknown {
    const c = this.get(name);
    if (!Array.isArray(body.points)) throw new NotImplementedError('upserts in the batch (column) format');
    const points = (body.points as any[]).map((p) => this.toStored(c, p));
    const version = c.operations;
    for (const p of points) c.points.set(idKey(p.id), { ...p, version });
    return this.updated(c);
  }

  deletePoints(name: string, body: any): unknown {
    const c = this.get(name);
    if (Array.isArray(body.points)) {
      for (const id of body.points as PointId[]) c.points.delete(idKey(canonicalId(id)));
    } else {
      this.checkIndexed(c, body.filter);
      for (const [key, p] of c.points) if (matches(p, body.filter)) c.points.delete(key);
    }
    return this.updated(c);
  }

  count(name: string, body: any): { count: number } {
    const c = this.get(name);
    this.checkIndexed(c, body?.filter);
    return { count: [...c.points.values()].filter((p) => matches(p, body?.filter)).length };
  }

  scroll(name: string, body: any): unknown {
    const c = this.get(name);
    if (body.order_by) throw new NotImplementedError('scroll with order_by');
    this.checkIndexed(c, body.filter);
    const limit: number = body.limit ?? 10;
    let points = sortById([...c.points.values()]).filter((p) => matches(p, body.filter));
    if (body.offset !== undefined && body.offset !== null) {
      const from = canonicalId(body.offset);
      points = points.filter((p) => compareIds(p.id, from) >= 0);
    }
    const page = points.slice(0, limit);
    return {
      points: page.map((p) => this.record(c, p, body.with_payload ?? true, body.with_vector ?? false)),
      next_page_offset: points.length > limit ? points[limit].id : null,
    };
  }

  query(name: string, body: any): unknown {
    const c = this.get(name);
    if (body.lookup_from) throw new NotImplementedError('lookup_from');
    const scored = this.runQuery(c, body, undefined);
    const offset: number = body.offset ?? 0;
    return {
      points: scored
        .slice(offset, offset + (body.limit ?? 10))
        .map((s) => ({ ...this.record(c, s.point, body.with_payload ?? false, body.with_vector ?? false), version: s.point.version, score: s.score })),
    };
  }

  private runQuery(c: Collection, q: any, outerFilter: unknown): ScoredPoint[] {
    const filter = andFilters(outerFilter, q.filter);
    this.checkIndexed(c, filter);
    const prefetches: any[] = q.prefetch === undefined || q.prefetch === null ? [] : Array.isArray(q.prefetch) ? q.prefetch : [q.prefetch];
    const limitOf = (p: any) => (p.offset ?? 0) + (p.limit ?? 10);
    if (prefetches.length) {
      const lists = prefetches.map((p) => this.runQuery(c, p, filter).slice(0, limitOf(p)));
      if (q.query?.fusion === 'rrf') return rrf(lists, DEFAULT_RRF_K);
      if (q.query?.rrf) return rrf(lists, q.query.rrf.k ?? DEFAULT_RRF_K, q.query.rrf.weights ?? undefined);
      if (q.query?.fusion) throw new NotImplementedError(`fusion "${q.query.fusion}"`);
      const candidates = new Map(lists.flat().map((s) => [idKey(s.point.id), s.point]));
      if (q.query === undefined || q.query === null) return sortById([...candidates.values()]).map((point) => ({ point, score: 0 }));
      return this.search(c, q, [...candidates.values()]);
    }
    const points = [...c.points.values()].filter((p) => matches(p, filter));
    if (q.query === undefined || q.query === null) return sortById(points).map((point) => ({ point, score: 0 }));
    if (q.query.fusion || q.query.rrf) throw new QdrantHttpError(400, 'Bad request: Fusion queries require prefetches');
    return this.search(c, q, points);
  }

  /** Exact nearest-neighbour search of `points` by a dense or sparse query vector. */
  private search(c: Collection, q: any, points: StoredPoint[]): ScoredPoint[] {
    const vector = q.query.nearest ?? q.query;
    if (q.query.nearest && q.query.mmr) throw new NotImplementedError('MMR');
    const using: string = q.using ?? '';
    let scored: ScoredPoint[];
    if (Array.isArray(vector) && vector.every((x: unknown) => typeof x === 'number')) {
      const params = c.vectors.get(using);
      if (!params) throw badRequest(`Not existing vector name error: ${using}`);
      if (vector.length !== params.size) throw badRequest(`Vector dimension error: expected dim: ${params.size}, got ${vector.length}`);
      const query = params.distance === 'Cosine' ? normalise(vector) : vector;
      scored = points.flatMap((point) => {
        const stored = point.dense.get(using);
        return stored ? [{ point, score: dot(query, stored) }] : [];
      });
    } else if (vector && Array.isArray(vector.indices)) {
      const params = c.sparse.get(using);
      if (!params) throw badRequest(`Not existing vector name error: ${using}`);
      checkSparse(vector);
      const weights = params.modifier === 'idf' ? this.idf(c, using, vector) : vector.values;
      scored = points.flatMap((point) => {
        const stored = point.sparse.get(using);
        if (!stored) return [];
        let score = 0;
        let overlap = false;
        vector.indices.forEach((index: number, i: number) => {
          const at = stored.indices.indexOf(index);
          if (at >= 0) {
            overlap = true;
            score += weights[i] * stored.values[at];
          }
        });
        // Like Qdrant's inverted index: only points sharing a dimension with the query are found.
        return overlap ? [{ point, score }] : [];
      });
    } else {
      throw new NotImplementedError('this kind of query (only dense and sparse vectors, nearest, and rrf fusion are)');
    }
    scored.sort((a, b) => b.score - a.score || compareIds(a.point.id, b.point.id));
    if (typeof q.score_threshold === 'number') scored = scored.filter((s) => s.score >= q.score_threshold);
    return scored;
  }

  /** The query's values times each dimension's IDF over the collection, as Qdrant's `idf` modifier does. */
  private idf(c: Collection, using: string, query: SparseVector): number[] {
    const vectors = [...c.points.values()].flatMap((p) => p.sparse.get(using) ?? []);
    const n = vectors.length;
    return query.indices.map((index, i) => {
      const df = vectors.filter((v) => v.indices.includes(index)).length;
      return query.values[i] * Math.log(1 + (n - df + 0.5) / (df + 0.5));
    });
  }

  private toStored(c: Collection, p: any): StoredPoint {
    const id = canonicalId(p.id);
    const dense = new Map<string, number[]>();
    const sparse = new Map<string, SparseVector>();
    const named: Record<string, unknown> = Array.isArray(p.vector) ? { '': p.vector } : p.vector;
    if (c.unnamed !== Array.isArray(p.vector))
      throw badRequest(
        c.unnamed ? 'the collection has one unnamed vector; send the vector as an array' : 'the collection has named vectors; send them as an object',
      );
    for (const [vectorName, value] of Object.entries(named)) {
      const params = c.vectors.get(vectorName);
      if (params) {
        if (!Array.isArray(value) || !value.every((x) => typeof x === 'number')) throw badRequest(`vector ${vectorName} must be a dense vector`);
        if (value.length !== params.size) throw badRequest(`Vector dimension error: expected dim: ${params.size}, got ${value.length}`);
        dense.set(vectorName, params.distance === 'Cosine' ? normalise(value) : [...value]);
      } else if (c.sparse.has(vectorName)) {
        const v = value as SparseVector;
        if (!v || !Array.isArray(v.indices)) throw badRequest(`vector ${vectorName} must be a sparse vector`);
        checkSparse(v);
        sparse.set(vectorName, { indices: [...v.indices], values: [...v.values] });
      } else {
        throw badRequest(`Not existing vector name error: ${vectorName}`);
      }
    }
    return { id, dense, sparse, payload: p.payload ?? {}, version: 0 };
  }

  private record(c: Collection, p: StoredPoint, withPayload: unknown, withVector: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = { id: p.id };
    const payload = selectPayload(p.payload, withPayload);
    if (payload) out.payload = payload;
    if (withVector === true || Array.isArray(withVector)) {
      const wanted = (name: string) => withVector === true || (withVector as string[]).includes(name);
      if (c.unnamed) out.vector = p.dense.get('');
      else {
        const vectors: Record<string, unknown> = {};
        for (const [name, v] of p.dense) if (wanted(name)) vectors[name] = v;
        for (const [name, v] of p.sparse) if (wanted(name)) vectors[name] = v;
        out.vector = vectors;
      }
    }
    return out;
  }

  private updated(c: Collection): { operation_id: number; status: 'completed' } {
    return { operation_id: c.operations++, status: 'completed' };
  }

  private get(name: string): Collection {
    const c = this.collections.get(name) ?? this.collections.get(this.aliases.get(name) ?? '');
    if (!c) throw notFound(name);
    return c;
  }

  /** Qdrant Cloud's strict mode refuses filters on payload fields without an index; so does the fake, by default. */
  private checkIndexed(c: Collection, filter: unknown): void {
    if (!this.options.requirePayloadIndexForFilters) return;
    for (const key of filterKeys(filter)) {
      if (!c.payloadIndexes.has(key))
        throw new QdrantHttpError(
          400,
          `Bad request: Index required but not found for "${key}" of one of the following types: [keyword]. Help: Create an index for this key.`,
        );
    }
  }
}

// ---- filters ----

function asList(x: unknown): any[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

function andFilters(a: unknown, b: unknown): unknown {
  if (!a) return b;
  if (!b) return a;
  return { must: [a, b] };
}

/** Whether the point satisfies a Qdrant filter (must, should, must_not, min_should). */
function matches(point: StoredPoint, filter: any): boolean {
  if (!filter) return true;
  if (!asList(filter.must).every((c) => condition(point, c))) return false;
  const should = asList(filter.should);
  if (should.length && !should.some((c) => condition(point, c))) return false;
  if (asList(filter.must_not).some((c) => condition(point, c))) return false;
  if (filter.min_should) {
    const met = asList(filter.min_should.conditions).filter((c) => condition(point, c)).length;
    if (met < filter.min_should.min_count) return false;
  }
  return true;
}

function condition(point: StoredPoint, c: any): boolean {
  if ('has_id' in c) return (c.has_id as PointId[]).some((id) => idKey(canonicalId(id)) === idKey(point.id));
  if ('must' in c || 'should' in c || 'must_not' in c || 'min_should' in c) return matches(point, c);
  if ('is_empty' in c) return fieldValues(point.payload, c.is_empty.key).length === 0;
  if ('is_null' in c) return getPath(point.payload, c.is_null.key) === null;
  if ('key' in c) {
    const values = fieldValues(point.payload, c.key);
    if (c.match) {
      if ('value' in c.match) return values.some((v) => v === c.match.value);
      if ('any' in c.match) return values.some((v) => (c.match.any as unknown[]).includes(v));
      if ('except' in c.match) return values.some((v) => !(c.match.except as unknown[]).includes(v));
      throw new NotImplementedError(`match ${JSON.stringify(c.match)}`);
    }
    if (c.range) {
      const r = c.range;
      return values.some(
        (v) =>
          typeof v === 'number' && (r.gt == null || v > r.gt) && (r.gte == null || v >= r.gte) && (r.lt == null || v < r.lt) && (r.lte == null || v <= r.lte),
      );
    }
    throw new NotImplementedError(`the condition ${JSON.stringify(c)}`);
  }
  throw new NotImplementedError(`the condition ${JSON.stringify(c)}`);
}

/** Payload keys a filter reads (has_id reads none). */
function filterKeys(filter: any): string[] {
  if (!filter) return [];
  const conditions = [...asList(filter.must), ...asList(filter.should), ...asList(filter.must_not), ...asList(filter.min_should?.conditions)];
  return conditions.flatMap((c) => ('key' in c && c.match ? [c.key as string] : 'must' in c || 'should' in c || 'must_not' in c ? filterKeys(c) : []));
}

function getPath(payload: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), payload);
}

function fieldValues(payload: Record<string, unknown>, key: string): unknown[] {
  const value = getPath(payload, key);
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function selectPayload(payload: Record<string, unknown>, selector: any): Record<string, unknown> | undefined {
  if (selector === false || selector === undefined || selector === null) return undefined;
  if (selector === true) return { ...payload };
  const pick = (keys: string[]) => Object.fromEntries(Object.entries(payload).filter(([k]) => keys.includes(k)));
  if (Array.isArray(selector)) return pick(selector);
  if (selector.include) return pick(asList(selector.include));
  if (selector.exclude) return Object.fromEntries(Object.entries(payload).filter(([k]) => !asList(selector.exclude).includes(k)));
  throw new NotImplementedError(`with_payload ${JSON.stringify(selector)}`);
}

// ---- ids, vectors, fusion ----

/** Qdrant's canonical form of an id: integers as they are, UUIDs lower-case and hyphenated. */
function canonicalId(id: PointId): PointId {
  if (typeof id === 'number') return id;
  const hex = id
    .replace(/[{}-]/g, '')
    .replace(/^urn:uuid:/i, '')
    .toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function idKey(id: PointId): string {
  return typeof id === 'number' ? `n:${id}` : `u:${id}`;
}

/** Qdrant's id order: integers first, ascending, then UUIDs by value. */
function compareIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortById(points: StoredPoint[]): StoredPoint[] {
  return points.sort((a, b) => compareIds(a.id, b.id));
}

function checkSparse(v: SparseVector): void {
  if (v.indices.length !== v.values.length)
    throw new QdrantHttpError(422, 'Validation error in JSON body: sparse vector indices and values must have the same length');
  if (new Set(v.indices).size !== v.indices.length) throw new QdrantHttpError(422, 'Validation error in JSON body: sparse vector indices must be unique');
}

function normalise(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : [...v];
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Qdrant's reciprocal rank fusion: each list adds weight-scaled 1 / (position + k), position from 0. */
function rrf(lists: ScoredPoint[][], k: number, weights?: number[]): ScoredPoint[] {
  if (weights && weights.length !== lists.length) {
    throw new QdrantHttpError(400, `Bad request: Number of weights in RRF should match number of pre-fetches: got ${weights.length}, expected ${lists.length}`);
  }
  const fused = new Map<string, ScoredPoint>();
  lists.forEach((list, l) => {
    const weight = weights?.[l] ?? 1;
    list.forEach((s, position) => {
      const add = weight <= 0 ? 0 : 1 / ((position + 1) / weight + k - 1);
      const entry = fused.get(idKey(s.point.id));
      if (entry) entry.score += add;
      else fused.set(idKey(s.point.id), { point: s.point, score: add });
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score || compareIds(a.point.id, b.point.id));
}
