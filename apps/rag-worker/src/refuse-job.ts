import { PermanentError } from '@rag/core';
import { JOB_REFUSED, verifyJob, type DeadLetters, type JobSigningConfig } from '@rag/jobs';
import type { Logger } from '@rag/observability';
import { errorMessage } from '@rag/observability';
import type { Job } from 'bull';
import type { WorkerMetrics } from './metrics';

/** A job no producer of ours signed: never retried, never run. */
export class JobRefusedError extends PermanentError {
  constructor() {
    super(JOB_REFUSED);
    this.name = 'JobRefusedError';
  }
}

/** Whether a job was queued (and signed) by one of our producers for `queue`. */
export function isGenuine(signing: JobSigningConfig, queue: string, job: Job<unknown>): boolean {
  return verifyJob(signing, queue, job.data);
}

/**
 * Refuses a job that was not signed by our producers, before anything of it
 * is read or run: it fails for good, is kept as a dead letter (the evidence),
 * and is logged as a security warning. Whatever tenant it names is only a
 * claim, so nothing of that tenant's (runs, bytes, collections) is touched.
 */
export async function refuseJob(job: Job<unknown>, deadLetters: DeadLetters | undefined, logger: Logger, metrics?: WorkerMetrics): Promise<never> {
  const jobId = String(job.id);
  const data = typeof job.data === 'object' && job.data !== null ? (job.data as { tenant?: unknown }) : {};
  job.discard();
  logger.warn('security: job refused, it was not queued by the gateway (missing or invalid signature); kept as a dead letter', {
    security: true,
    job_id: jobId,
    queue: job.queue.name,
    job_name: job.name,
    claimed_tenant: typeof data.tenant === 'string' ? data.tenant.slice(0, 64) : undefined,
  });
  if (deadLetters) {
    const now = new Date().toISOString();
    await deadLetters
      .recordAttempt(jobId, { attempt: job.attemptsMade + 1, started_at: now, duration_ms: 0, error: JOB_REFUSED, permanent: true })
      // Filed under no tenant (operators only): the tenant it names is the forger's claim.
      .then(() => deadLetters.add({ job_id: jobId, queue: job.queue.name, job_name: job.name, payload: job.data, final_error: JOB_REFUSED, failed_at: now, tenant: null }))
      .catch((error: unknown) => logger.warn('refused job not dead-lettered', { job_id: jobId, error: errorMessage(error) }));
  }
  metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'failed' });
  if (deadLetters) metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'dead_lettered' });
  throw new JobRefusedError();
}
