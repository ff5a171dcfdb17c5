import { PermanentError, isPermanent } from '@rag/core';
import { STALLED_OUT, WORKER_LOST, type ContentRef, type DeadLetters, type IngestRuns, type JobSigningConfig } from '@rag/jobs';
import type { Logger } from '@rag/observability';
import { errorCode, errorMessage, forTenant, runWithContext, tenantMessage } from '@rag/observability';
import { IngestJobPayload, QueueName, describeIssues, validatePlain } from '@rag/queue-contracts';
import { contentHash, embedderInfo, replaceDocumentFrom, type ChunkOptions, type DocumentParser, type DocumentWriteLock, type Embedder, type VectorStore } from '@rag/retrieval';
import type { Job } from 'bull';
import type { WorkerMetrics } from './metrics';
import { isGenuine, refuseJob } from './refuse-job';

export interface IngestProcessorDeps {
  store: VectorStore;
  embedder: Embedder;
  parser: DocumentParser;
  runs: IngestRuns;
  /** One writer per document across workers and CLI loads (a re-run of a stalled job, the same file twice). */
  locks?: DocumentWriteLock;
  chunking: ChunkOptions;
  embedBatch: number;
  /** Aborts one attempt (its embeddings requests included) after this long. */
  timeoutMs?: number;
  metrics?: WorkerMetrics;
  /** The key the producers signed jobs with: a job without a valid signature is refused. */
  signing: JobSigningConfig;
  /** Where refused (unsigned) jobs are kept as evidence. */
  deadLetters?: DeadLetters;
}

export interface IngestJobResult {
  doc_id: string;
  outcome: 'added' | 'updated' | 'unchanged';
  chunks: number;
}

class ContentMissingError extends PermanentError {
  override readonly code = 'content_expired';
  constructor(docId: string) {
    super(`the bytes of ${docId} are no longer in Redis (they expire after JOB_RETENTION_SECONDS); load the document again`);
  }
}

/**
 * The `rag-ingest` processor: one document per job, refused unless signed by
 * our producers. A document whose stored
 * hash already matches is skipped; otherwise its bytes are read from Redis,
 * parsed, chunked, embedded (in batches, within the shared LLM limits) and
 * its chunks replaced in one write. Progress and failures go to the run.
 */
export function ingestProcessor(deps: IngestProcessorDeps, logger: Logger) {
  return (job: Job<unknown>): Promise<IngestJobResult> => {
    // Before anything else, and before any run or document bytes of the tenant it names are touched.
    if (!isGenuine(deps.signing, QueueName.Ingest, job)) return refuseJob(job, deps.deadLetters, logger, deps.metrics);
    const data = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as Partial<Record<keyof IngestJobPayload, unknown>>;
    const requestId = typeof data.request_id === 'string' ? data.request_id : undefined;
    const tenant = typeof data.tenant === 'string' ? data.tenant : undefined;
    return runWithContext({ job_id: String(job.id), request_id: requestId, tenant, queue: job.queue.name }, async () => {
      const attempt = job.attemptsMade + 1;
      const started = Date.now();
      const runId = typeof data.run_id === 'string' ? data.run_id : undefined;
      const docId = typeof data.doc_id === 'string' ? data.doc_id : '(unknown)';
      try {
        const checked = validatePlain(IngestJobPayload, job.data);
        if (!checked.ok) throw new PermanentError(`invalid ingest job payload: ${describeIssues(checked.issues)}`);
        const p = checked.value;
        const signal = deps.timeoutMs ? AbortSignal.timeout(deps.timeoutMs) : undefined;
        const stored = await deps.store.documentHash(p.tenant, p.collection, p.doc_id);
        let result: IngestJobResult;
        if (stored === p.content_hash) {
          result = { doc_id: p.doc_id, outcome: 'unchanged', chunks: 0 };
        } else {
          const bytes = await deps.runs.getContent(p);
          if (!bytes) throw new ContentMissingError(p.doc_id);
          if (contentHash(bytes) !== p.content_hash) throw new PermanentError(`the bytes stored for ${p.doc_id} do not match its hash; load the document again`);
          await deps.store.ensureCollection(p.tenant, p.collection, await embedderInfo(deps.embedder, signal));
          const chunks = await replaceDocumentFrom(
            { store: deps.store, embedder: deps.embedder, locks: deps.locks, parser: deps.parser },
            { tenant: p.tenant, collection: p.collection, docId: p.doc_id, bytes, chunking: deps.chunking, embedBatch: deps.embedBatch, signal },
          );
          result = { doc_id: p.doc_id, outcome: stored === undefined ? 'added' : 'updated', chunks };
        }
        // Deleted before the run counts it done, so a finished run has left no bytes behind.
        await dropBytes(deps.runs, p, logger);
        if (await deps.runs.recordDone(p.run_id, result.outcome, result.chunks)) await indexRun(deps, p.tenant, p.collection, logger);
        logger.info('document ingested', { doc_id: p.doc_id, tenant: p.tenant, outcome: result.outcome, chunks: result.chunks, attempt, duration_ms: Date.now() - started });
        if (deps.metrics) {
          const queue = job.queue.name;
          deps.metrics.jobs.finished.inc({ queue, outcome: 'completed' });
          deps.metrics.jobs.duration.observe({ queue, stage: 'queued' }, Math.max(0, started - job.timestamp) / 1000);
          deps.metrics.jobs.duration.observe({ queue, stage: 'ingest' }, (Date.now() - started) / 1000);
          deps.metrics.jobs.duration.observe({ queue, stage: 'total' }, Math.max(0, Date.now() - job.timestamp) / 1000);
        }
        return result;
      } catch (error) {
        const permanent = isPermanent(error);
        if (permanent) job.discard();
        const final = permanent || attempt >= (job.opts.attempts ?? 1);
        if (final && runId) {
          if (tenant) await dropBytes(deps.runs, { tenant, run_id: runId, doc_id: docId }, logger);
          const last = await deps.runs.recordFailed(runId, docId, tenantMessage(error, requestId ?? String(job.id)), errorCode(error)).catch((e: unknown) => {
            logger.warn('ingest failure not recorded', { error: errorMessage(e) });
            return false;
          });
          if (last && tenant && typeof data.collection === 'string') await indexRun(deps, tenant, data.collection, logger);
        }
        deps.metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: final ? 'failed' : 'retried' });
        logger.warn('document ingest failed', { doc_id: docId, attempt, permanent, will_retry: !final, error: errorMessage(error) });
        // The run's failures and the job's failure reason reach the tenant: never a library's text or a server path.
        throw forTenant(error, requestId ?? String(job.id));
      }
    });
  };
}

/** No job needs a document's bytes once it is loaded or has failed for good; if this fails they expire. */
async function dropBytes(runs: IngestRuns, ref: ContentRef, logger: Logger): Promise<void> {
  await runs.dropContent([ref]).catch((error: unknown) => logger.warn('document bytes not deleted; they expire with JOB_RETENTION_SECONDS', { doc_id: ref.doc_id, error: errorMessage(error) }));
}

/**
 * The worker that finished a run's last document folds the run's new rows
 * into the collection's indexes, once per run: searches then read the index,
 * not every row written since the last compaction. A failure here fails no
 * document: the rows are stored, only searches cost more until the next one.
 */
async function indexRun(deps: IngestProcessorDeps, tenant: string, collection: string, logger: Logger): Promise<void> {
  const started = Date.now();
  try {
    await deps.store.compact(tenant, collection);
    logger.info('ingest run finished; collection indexed', { tenant, collection, duration_ms: Date.now() - started });
  } catch (error) {
    logger.warn('ingest run finished; indexing the collection failed (searches read its new rows unindexed until the next compaction)', { tenant, collection, error: errorMessage(error) });
  }
}

/**
 * A document failed by Bull's stalled-job check (its workers died under it
 * more than MAX_STALLED_COUNT times) never reaches the processor; it still
 * counts as failed in its run, so the run can finish.
 */
export async function recordStalledOutDocument(job: Job<unknown> | null, error: Error, runs: IngestRuns, logger: Logger, metrics?: WorkerMetrics): Promise<void> {
  const data = (typeof job?.data === 'object' && job.data !== null ? job.data : {}) as { run_id?: unknown; doc_id?: unknown; tenant?: unknown };
  if (!job || error.message !== STALLED_OUT || typeof data.run_id !== 'string') return;
  const docId = typeof data.doc_id === 'string' ? data.doc_id : String(job.id);
  metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'failed' });
  logger.error('document failed: its worker stopped under it too many times', { job_id: job.id, doc_id: docId });
  if (typeof data.tenant === 'string') await dropBytes(runs, { tenant: data.tenant, run_id: data.run_id, doc_id: docId }, logger);
  await runs.recordFailed(data.run_id, docId, `${STALLED_OUT}: its worker stopped while loading it too many times; load it again`, WORKER_LOST);
}
