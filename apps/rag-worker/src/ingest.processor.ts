import { JobRunner, WORKER_LOST, STALLED_OUT } from '@rag/jobs';
import { IngestJobPayload, QueueName } from '@rag/queue-contracts';
import { ingestQueuedDocument, recordQueuedDocumentFailed, type QueuedDocumentDeps, type QueuedDocumentResult } from '@rag/retrieval';
import type { WorkerRuntime } from './worker-runtime';

/** What the ingest use case needs besides the worker's logger. */
export type IngestProcessorDeps = Omit<QueuedDocumentDeps, 'logger'>;

/**
 * The `rag-ingest` queue's runner: one document per job, loaded by the
 * queued-document use case. A document that fails for good is counted in its
 * run (not dead-lettered: the run is where its tenant reads its failures),
 * as is one whose workers died under it too many times.
 */
export function ingestRunner(ingest: IngestProcessorDeps, runtime: WorkerRuntime): JobRunner<IngestJobPayload, QueuedDocumentResult> {
  const deps: QueuedDocumentDeps = { ...ingest, logger: runtime.logger };
  return new JobRunner(
    {
      queue: QueueName.Ingest,
      payload: IngestJobPayload,
      keepsOwnFailures: true,
      log: { completed: 'document ingested', failed: 'document ingest failed' },
      logFields: (data) => ({ doc_id: documentOf(data).doc_id ?? '(unknown)' }),
      run: (payload, job) => ingestQueuedDocument(deps, payload, job.signal),
      completed: (result, payload, job) => {
        const now = Date.now();
        return {
          log: { tenant: payload.tenant, outcome: result.outcome, chunks: result.chunks },
          durations: { queued: Math.max(0, job.startedAt - job.enqueuedAt), ingest: now - job.startedAt, total: Math.max(0, now - job.enqueuedAt) },
        };
      },
      failed: async (failure) => {
        const { run_id, doc_id = '(unknown)', ...doc } = documentOf(failure.data);
        if (failure.willRetry || run_id === undefined) return;
        await recordQueuedDocumentFailed(deps, { ...doc, run_id, doc_id }, { error: failure.shown, code: failure.code });
      },
      // Failed by Bull's stalled-job check (its workers died under it): it still counts as failed in its run, so the run can finish.
      stalledOut: async (job) => {
        const { run_id, doc_id = String(job.id), ...doc } = documentOf(job.data);
        if (run_id === undefined) return;
        runtime.logger.error('document failed: its worker stopped under it too many times', { job_id: job.id, doc_id });
        const error = `${STALLED_OUT}: its worker stopped while loading it too many times; load it again`;
        await recordQueuedDocumentFailed(deps, { ...doc, run_id, doc_id }, { error, code: WORKER_LOST });
      },
    },
    runtime,
  );
}

/** The document a job's data names, field by field where they are strings (the data may be why it failed). */
function documentOf(data: unknown): { run_id?: string; doc_id?: string; tenant?: string; collection?: string; rebuild?: boolean } {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const text = (key: string) => {
    const value = fields[key];
    return typeof value === 'string' ? value : undefined;
  };
  // A rebuild's failure abandons the rebuild when it is the run's last document.
  const rebuild = fields.rebuild_to !== undefined || fields.rebuild_from !== undefined;
  return { run_id: text('run_id'), doc_id: text('doc_id'), tenant: text('tenant'), collection: text('collection'), ...(rebuild ? { rebuild } : {}) };
}
