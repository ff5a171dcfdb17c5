import { PermanentError } from '@rag/core';
import { errorMessage, type Logger } from '@rag/observability';
import type { IngestJobPayload } from '@rag/queue-contracts';
import { randomUUID } from 'node:crypto';
import type { ChunkOptions } from '../chunk/chunk-document';
import { embedderInfo } from '../embed/embedder-info';
import { CollectionNotFoundError } from '../errors';
import { versionedCollection } from '../store/tenant-namespace';
import { ReindexInProgressError, type VersionRegistry } from '../store/versioned.store';
import type { DocumentParser } from '../parse/parse-pool';
import type { DocumentWriteLock, Embedder, StoredDocument, VectorStore } from '../types';
import { embedChunks } from './ingest-documents';
import { reassembleDocument } from './reassemble-document';

/** One rebuild of a collection: from the version in use to a new one, as one ingest run. */
export interface RebuildState {
  run_id: string;
  tenant: string;
  collection: string;
  from_version: number;
  to_version: number;
  /** Seconds the old version is kept after the switch, for questions that started on it. */
  grace_seconds: number;
}

/** The shared record of rebuilds (CollectionVersions in @rag/jobs). */
export interface RebuildRegistry extends VersionRegistry {
  /** Claims the collection for `state`: 'busy' when another rebuild holds it, 'moved' when its active version is no longer `from_version`. */
  beginRebuild(state: RebuildState): Promise<'started' | 'busy' | 'moved'>;
  /** The switch: makes `to_version` active, in one step, if this rebuild still holds the collection; false otherwise. */
  completeRebuild(state: RebuildState): Promise<boolean>;
  /** Releases the collection after a failed rebuild (the old version stays active) and records why. */
  abortRebuild(state: RebuildState, error: string): Promise<void>;
  /** The rebuild run by its id, while it is kept. */
  rebuildOf(runId: string): Promise<RebuildState | undefined>;
  /** Drops `from_version` once `grace_seconds` have passed (a delayed job), and records it. */
  scheduleDrop(state: RebuildState): Promise<void>;
}

/** The ingest run a rebuild is counted in (IngestRuns in @rag/jobs). */
export interface RebuildRuns {
  create(info: { run_id: string; tenant: string; collection: string; queued: number; unchanged: number; created_at: string }): Promise<void>;
}

export interface ReindexDeps {
  /** The store under the versions (VersionedVectorStore.inner): a plain name is version 1, `<name>.v<N>` version N. */
  store: VectorStore;
  registry: RebuildRegistry;
  runs: RebuildRuns;
  /** Puts the run's jobs on the `rag-ingest` queue, signed (DocumentProducer in @rag/jobs). */
  producer: { enqueue(drafts: readonly Omit<IngestJobPayload, 'signature'>[]): Promise<void> };
  /** The embedder the new version is built for (the current settings). */
  embedder: Embedder;
  logger?: Logger;
}

export interface ReindexRequest {
  tenant: string;
  collection: string;
  graceSeconds: number;
  requestId?: string;
}

export interface ReindexStarted {
  run_id: string;
  collection: string;
  from_version: number;
  to_version: number;
  documents: number;
}

export class CollectionEmptyError extends PermanentError {
  constructor(collection: string) {
    super(`collection "${collection}" has no documents to rebuild; delete it and load it again with the current settings`, { code: 'collection_empty' });
    this.name = 'CollectionEmptyError';
  }
}

/**
 * Starts rebuilding a collection with the current settings (chunking and
 * embedder of the workers): claims the collection in the registry (writes are
 * refused from then on), creates the next version for the embedder, and puts
 * one job per document on the ingest queue as one ingest run, whose progress
 * `rag-ingest status` and GET /v1/ingest-runs/:id show. Questions keep being
 * answered from the version in use; the worker that finishes the run's last
 * document switches (finishRebuild).
 */
export async function startReindex(deps: ReindexDeps, request: ReindexRequest): Promise<ReindexStarted> {
  const { tenant, collection } = request;
  const from = await deps.registry.activeVersion(tenant, collection);
  const source = versionedCollection(collection, from);
  if (!(await deps.store.collectionInfo(tenant, source))) throw new CollectionNotFoundError(collection);
  // Above every version the store holds, a half-built one left by a crash included.
  const to = Math.max(from, ...(await deps.store.collectionVersions(tenant, collection))) + 1;
  const state: RebuildState = { run_id: randomUUID(), tenant, collection, from_version: from, to_version: to, grace_seconds: request.graceSeconds };
  const claimed = await deps.registry.beginRebuild(state);
  if (claimed !== 'started') {
    const current = await deps.registry.rebuildInProgress(tenant, collection);
    throw new ReindexInProgressError(collection, current?.run_id ?? 'unknown');
  }
  const target = versionedCollection(collection, to);
  try {
    const documents = await deps.store.listDocuments(tenant, source);
    if (documents.length === 0) throw new CollectionEmptyError(collection);
    await deps.store.ensureCollection(tenant, target, await embedderInfo(deps.embedder));
    await deps.runs.create({ run_id: state.run_id, tenant, collection, queued: documents.length, unchanged: 0, created_at: new Date().toISOString() });
    await deps.producer.enqueue(
      documents.map((d) => ({
        run_id: state.run_id,
        tenant,
        collection,
        doc_id: d.docId,
        content_hash: d.contentHash,
        bytes: 0,
        rebuild_from: from,
        rebuild_to: to,
        ...(request.requestId ? { request_id: request.requestId } : {}),
      })),
    );
    deps.logger?.info('reindex started', { tenant, collection, run_id: state.run_id, from_version: from, to_version: to, documents: documents.length });
    return { run_id: state.run_id, collection, from_version: from, to_version: to, documents: documents.length };
  } catch (error) {
    await abandon({ store: deps.store, registry: deps.registry, logger: deps.logger }, state, errorMessage(error));
    throw error;
  }
}

export interface RebuildDocumentDeps {
  /** The store under the versions (VersionedVectorStore.inner). */
  store: VectorStore;
  embedder: Embedder;
  /** Cuts the document in a thread (ParsePool), as ingestion does. */
  parser: DocumentParser;
  locks?: DocumentWriteLock;
  chunking: ChunkOptions;
  embedBatch: number;
}

/** One document of a rebuild: the fields of its ingest job. */
export interface RebuildDocument {
  tenant: string;
  collection: string;
  doc_id: string;
  rebuild_from: number;
  rebuild_to: number;
}

/**
 * Rebuilds one document into the new version: its chunks in the old version
 * put back together (reassembleDocument), chunked with the current settings
 * (in a parse thread),
 * embedded with the current embedder and written to the new version in one
 * write. Returns the chunk count.
 */
export async function rebuildDocument(deps: RebuildDocumentDeps, doc: RebuildDocument, signal?: AbortSignal): Promise<number> {
  const source = versionedCollection(doc.collection, doc.rebuild_from);
  const target = versionedCollection(doc.collection, doc.rebuild_to);
  const stored = await deps.store.documentChunks(doc.tenant, source, doc.doc_id);
  if (stored.length === 0) throw new PermanentError(`${doc.doc_id} is no longer in version ${doc.rebuild_from} of collection "${doc.collection}"`);
  const chunks = await deps.parser.rechunk(reassembleDocument(stored), deps.chunking, signal);
  signal?.throwIfAborted();
  const embedded = await embedChunks(deps.embedder, chunks, deps.embedBatch, signal);
  signal?.throwIfAborted();
  const write = () => deps.store.replaceDocument(doc.tenant, target, doc.doc_id, embedded);
  if (!deps.locks) await write();
  else {
    await deps.locks.hold({ tenant: doc.tenant, collection: target, docId: doc.doc_id }, async (fence) => {
      await fence();
      await write();
    });
  }
  return chunks.length;
}

export interface FinishRebuildDeps {
  /** The store under the versions (VersionedVectorStore.inner). */
  store: VectorStore;
  registry: RebuildRegistry;
  /** The run's failures, read once it is finished. */
  failures(runId: string): Promise<{ doc_id: string; error: string }[]>;
  logger: Logger;
  /** Pauses before each new try when finishing throws (Redis or the store briefly away); default FINISH_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
}

/**
 * How long finishRebuild waits before trying again (about 30 s in all). The
 * worker that finishes a run's last document is the only one that ever will:
 * giving up leaves the collection held (writes refused) until the rebuild's
 * record expires.
 */
export const FINISH_RETRY_DELAYS_MS: readonly number[] = [500, 2_000, 5_000, 10_000, 15_000];

/**
 * Called by the worker that finished a rebuild run's last document. Switches
 * to the new version when every document was rebuilt and the old version
 * still holds exactly the documents rebuilt (same ids and hashes), then
 * schedules the old version's drop after the grace period. Otherwise the old
 * version stays in use and the new one is dropped. A step that throws (Redis
 * or the store away for a moment) is tried again, from the start, with pauses
 * (`retryDelaysMs`): every step is safe to repeat, and a switch whose answer
 * was lost is recognised as done. Never throws: what it decided is in the
 * registry and the logs.
 */
export async function finishRebuild(deps: FinishRebuildDeps, runId: string): Promise<void> {
  const delays = deps.retryDelaysMs ?? FINISH_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await finishOnce(deps, runId);
      return;
    } catch (error) {
      if (attempt < delays.length) {
        deps.logger.warn('finishing the reindex failed; trying again', { run_id: runId, attempt: attempt + 1, error: errorMessage(error) });
        await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
        continue;
      }
      deps.logger.error(
        'finishing the reindex failed for good; the old version stays in use and the collection refuses writes until the rebuild record expires (JOB_RETENTION_SECONDS): check Redis and the vector store, then run reindex again',
        { run_id: runId, attempts: attempt + 1, error: errorMessage(error) },
      );
      const state = await deps.registry.rebuildOf(runId).catch(() => undefined);
      if (state) await abandon(deps, state, `finishing the rebuild failed: ${errorMessage(error)}`).catch(() => undefined);
      return;
    }
  }
}

/** One try at finishing: throws when a step fails, so that finishRebuild tries again. */
async function finishOnce(deps: FinishRebuildDeps, runId: string): Promise<void> {
  const state = await deps.registry.rebuildOf(runId);
  if (!state) {
    deps.logger.error('reindex finished but its record is gone (expired or flushed); the old version stays in use', { run_id: runId });
    return;
  }
  const fields = { tenant: state.tenant, collection: state.collection, run_id: runId, from_version: state.from_version, to_version: state.to_version };
  if ((await deps.registry.activeVersion(state.tenant, state.collection)) !== state.to_version) {
    const failures = await deps.failures(runId);
    if (failures.length > 0) {
      const first = failures[0];
      await abandon(deps, state, `${failures.length} document(s) could not be rebuilt (first: ${first.doc_id}: ${first.error})`);
      return;
    }
    const [before, after] = await Promise.all([
      deps.store.listDocuments(state.tenant, versionedCollection(state.collection, state.from_version)),
      deps.store.listDocuments(state.tenant, versionedCollection(state.collection, state.to_version)),
    ]);
    const changed = differences(before, after);
    if (changed.length > 0) {
      await abandon(deps, state, `the documents changed during the rebuild (${changed.slice(0, 5).join(', ')}); run reindex again`);
      return;
    }
    await deps.store.compact(state.tenant, versionedCollection(state.collection, state.to_version));
    if (!(await deps.registry.completeRebuild(state))) {
      // An earlier try may have switched and lost the answer: then the new version is in use, and stays.
      if ((await deps.registry.activeVersion(state.tenant, state.collection)) !== state.to_version) {
        await abandon(deps, state, 'the rebuild no longer held the collection when it finished (it expired); run reindex again');
        return;
      }
    }
    deps.logger.info('reindex switched to the new version', { ...fields, grace_seconds: state.grace_seconds });
  }
  // The backend's own pointer (a Qdrant alias) follows, for clients reading the backend directly; questions go by the registry.
  await deps.store
    .publishVersion?.(state.tenant, state.collection, state.to_version)
    .catch((error: unknown) =>
      deps.logger.error('backend alias not moved to the new version; run reindex again to move it', { ...fields, error: errorMessage(error) }),
    );
  await deps.registry
    .scheduleDrop(state)
    .catch((error: unknown) =>
      deps.logger.error('old collection version not scheduled for dropping; drop it by hand', { ...fields, error: errorMessage(error) }),
    );
}

/** The document ids whose presence or hash differ between two versions. */
function differences(before: StoredDocument[], after: StoredDocument[]): string[] {
  const a = new Map(before.map((d) => [d.docId, d.contentHash]));
  const b = new Map(after.map((d) => [d.docId, d.contentHash]));
  return [...new Set([...a.keys(), ...b.keys()])].filter((id) => a.get(id) !== b.get(id)).sort();
}

/** A failed rebuild: the half-built version dropped, the collection released with the old version in use. */
async function abandon(deps: { store: VectorStore; registry: RebuildRegistry; logger?: Logger }, state: RebuildState, error: string): Promise<void> {
  const fields = { tenant: state.tenant, collection: state.collection, run_id: state.run_id, from_version: state.from_version, to_version: state.to_version };
  deps.logger?.warn('reindex failed; the old version stays in use', { ...fields, error });
  try {
    await deps.store.deleteCollection(state.tenant, versionedCollection(state.collection, state.to_version));
  } catch (dropError) {
    deps.logger?.error('half-built collection version not dropped; the next reindex builds above it', { ...fields, error: errorMessage(dropError) });
  }
  await deps.registry.abortRebuild(state, error);
}

/**
 * The delayed drop of a version a rebuild replaced: only a version that is
 * neither in use nor being built is dropped. Returns whether it was.
 */
export async function dropRetiredVersion(
  deps: { store: VectorStore; registry: VersionRegistry; logger: Logger },
  job: { tenant: string; collection: string; version: number },
): Promise<boolean> {
  const active = await deps.registry.activeVersion(job.tenant, job.collection);
  const building = await deps.registry.rebuildInProgress(job.tenant, job.collection);
  if (active === job.version || building?.to_version === job.version) {
    deps.logger.warn('collection version not dropped: it is in use again', { ...job });
    return false;
  }
  const dropped = await deps.store.deleteCollection(job.tenant, versionedCollection(job.collection, job.version));
  deps.logger.info('old collection version dropped', { ...job, dropped });
  return dropped;
}
