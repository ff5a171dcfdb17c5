import { PermanentError } from '@rag/core';
import { errorMessage, type Logger } from '@rag/observability';
import type { IngestJobPayload } from '@rag/queue-contracts';
import type { ChunkOptions } from '../chunk/chunk-document';
import { embedderInfo } from '../embed/embedder-info';
import { contentHash } from '../load/load-document';
import type { VectorStore } from '../types';
import { replaceDocumentFrom, type IngestDeps } from './ingest-documents';
import { finishRebuild, rebuildDocument, type RebuildRegistry } from './rebuild-collection';

/** Where a queued document's bytes wait until it is loaded or has failed for good (libs/jobs IngestRuns). */
export interface QueuedContentRef {
  tenant: string;
  run_id: string;
  doc_id: string;
  /** Read only to find bytes stored under the old, shared by-hash key. */
  content_hash?: string;
}

/**
 * The run a queued document belongs to: its bytes, and the count of its
 * documents done and failed. `recordDone` and `recordFailed` return true for
 * the call that finished the run. (IngestRuns in @rag/jobs is one.)
 */
export interface QueuedDocumentRun {
  getContent(ref: QueuedContentRef): Promise<Buffer | null>;
  dropContent(refs: QueuedContentRef[]): Promise<void>;
  recordDone(runId: string, outcome: 'added' | 'updated' | 'unchanged', chunks: number): Promise<boolean>;
  recordFailed(runId: string, docId: string, error: string, code?: string): Promise<boolean>;
}

export interface QueuedDocumentDeps extends IngestDeps {
  runs: QueuedDocumentRun;
  chunking: ChunkOptions;
  embedBatch: number;
  logger: Logger;
  /** Rebuilds (reindex): absent, a rebuild job fails for good. */
  rebuild?: QueuedRebuildDeps;
}

/** What rebuild jobs need besides the ingest deps. */
export interface QueuedRebuildDeps {
  /** The store under the versions (VersionedVectorStore.inner). */
  store: VectorStore;
  registry: RebuildRegistry;
  /** A finished run's failures (IngestRuns.get). */
  failures(runId: string): Promise<{ doc_id: string; error: string }[]>;
}

/** One queued document: the payload of a `rag-ingest` job. */
export type QueuedDocument = Pick<IngestJobPayload, 'run_id' | 'tenant' | 'collection' | 'doc_id' | 'content_hash' | 'rebuild_from' | 'rebuild_to'>;

export interface QueuedDocumentResult {
  doc_id: string;
  outcome: 'added' | 'updated' | 'unchanged';
  chunks: number;
}

export class ContentMissingError extends PermanentError {
  constructor(docId: string) {
    super(`the bytes of ${docId} are no longer in Redis (they expire after JOB_RETENTION_SECONDS); load the document again`, { code: 'content_expired' });
  }
}

/**
 * Loads one queued document into its collection. A document whose stored
 * hash already matches is skipped; otherwise its bytes are read from the run,
 * checked against the hash, parsed, chunked, embedded (in batches) and its
 * chunks replaced in one write. The bytes are then dropped and the document
 * counted done in its run; the call that finishes the run indexes the
 * collection.
 */
export async function ingestQueuedDocument(deps: QueuedDocumentDeps, doc: QueuedDocument, signal?: AbortSignal): Promise<QueuedDocumentResult> {
  if (doc.rebuild_from !== undefined || doc.rebuild_to !== undefined) return rebuildQueuedDocument(deps, doc, signal);
  const stored = await deps.store.documentHash(doc.tenant, doc.collection, doc.doc_id);
  let result: QueuedDocumentResult;
  if (stored === doc.content_hash) {
    result = { doc_id: doc.doc_id, outcome: 'unchanged', chunks: 0 };
  } else {
    const bytes = await deps.runs.getContent(doc);
    if (!bytes) throw new ContentMissingError(doc.doc_id);
    if (contentHash(bytes) !== doc.content_hash) throw new PermanentError(`the bytes stored for ${doc.doc_id} do not match its hash; load the document again`);
    await deps.store.ensureCollection(doc.tenant, doc.collection, await embedderInfo(deps.embedder, signal));
    const chunks = await replaceDocumentFrom(deps, {
      tenant: doc.tenant,
      collection: doc.collection,
      docId: doc.doc_id,
      bytes,
      chunking: deps.chunking,
      embedBatch: deps.embedBatch,
      signal,
    });
    result = { doc_id: doc.doc_id, outcome: stored === undefined ? 'added' : 'updated', chunks };
  }
  // Deleted before the run counts it done, so a finished run has left no bytes behind.
  await dropBytes(deps, doc);
  if (await deps.runs.recordDone(doc.run_id, result.outcome, result.chunks)) await indexRun(deps, doc.tenant, doc.collection);
  return result;
}

/**
 * One document of a rebuild (reindex): read from the old version's chunks,
 * written to the new version, counted in the run; the call that finishes the
 * run switches versions, or abandons the rebuild if any document failed.
 */
async function rebuildQueuedDocument(deps: QueuedDocumentDeps, doc: QueuedDocument, signal?: AbortSignal): Promise<QueuedDocumentResult> {
  const { rebuild } = deps;
  const { rebuild_from, rebuild_to } = doc;
  if (!rebuild) throw new PermanentError('this worker cannot rebuild collections (it has no version registry)');
  if (rebuild_from === undefined || rebuild_to === undefined || rebuild_to <= rebuild_from) {
    throw new PermanentError('a rebuild job names both the version it reads (rebuild_from) and a later one it writes (rebuild_to)');
  }
  const chunks = await rebuildDocument(
    { ...deps, store: rebuild.store },
    { tenant: doc.tenant, collection: doc.collection, doc_id: doc.doc_id, rebuild_from, rebuild_to },
    signal,
  );
  if (await deps.runs.recordDone(doc.run_id, 'added', chunks)) await finishRebuild({ ...rebuild, logger: deps.logger }, doc.run_id);
  return { doc_id: doc.doc_id, outcome: 'added', chunks };
}

/**
 * A queued document that failed for good: its bytes are dropped and it is
 * counted failed in its run, with the message and code its tenant may read.
 * The call that finishes the run indexes the collection (when `collection` is
 * known: a payload that failed validation may not name one).
 */
export async function recordQueuedDocumentFailed(
  deps: Pick<QueuedDocumentDeps, 'runs' | 'store' | 'logger' | 'rebuild'>,
  doc: { run_id: string; doc_id: string; tenant?: string; collection?: string; rebuild?: boolean },
  failure: { error: string; code?: string },
): Promise<void> {
  const { tenant, collection } = doc;
  if (tenant !== undefined) await dropBytes(deps, { tenant, run_id: doc.run_id, doc_id: doc.doc_id });
  const last = await deps.runs.recordFailed(doc.run_id, doc.doc_id, failure.error, failure.code).catch((error: unknown) => {
    deps.logger.warn('ingest failure not recorded', { error: errorMessage(error) });
    return false;
  });
  if (!last) return;
  // A rebuild's last document: the rebuild is abandoned (it has a failure), the old version stays in use.
  if (doc.rebuild && deps.rebuild) await finishRebuild({ ...deps.rebuild, logger: deps.logger }, doc.run_id);
  else if (tenant !== undefined && collection !== undefined) await indexRun(deps, tenant, collection);
}

/** No job needs a document's bytes once it is loaded or has failed for good; if this fails they expire. */
async function dropBytes(deps: Pick<QueuedDocumentDeps, 'runs' | 'logger'>, ref: QueuedContentRef): Promise<void> {
  await deps.runs
    .dropContent([ref])
    .catch((error: unknown) =>
      deps.logger.warn('document bytes not deleted; they expire with JOB_RETENTION_SECONDS', { doc_id: ref.doc_id, error: errorMessage(error) }),
    );
}

/**
 * The worker that finished a run's last document folds the run's new rows
 * into the collection's indexes, once per run: searches then read the index,
 * not every row written since the last compaction. A failure here fails no
 * document: the rows are stored, only searches cost more until the next one.
 */
async function indexRun(deps: Pick<QueuedDocumentDeps, 'store' | 'logger'>, tenant: string, collection: string): Promise<void> {
  const started = Date.now();
  try {
    await deps.store.compact(tenant, collection);
    deps.logger.info('ingest run finished; collection indexed', { tenant, collection, duration_ms: Date.now() - started });
  } catch (error) {
    deps.logger.warn('ingest run finished; indexing the collection failed (searches read its new rows unindexed until the next compaction)', {
      tenant,
      collection,
      error: errorMessage(error),
    });
  }
}
