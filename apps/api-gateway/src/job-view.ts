import type { Job, JobStatus as BullState } from 'bull';
import type { JobStatus, JobView, QueryResult } from '@rag/queue-contracts';

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : undefined);

export function statusOf(state: BullState | 'stuck', job: Job): JobStatus {
  switch (state) {
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'active':
      return 'active';
    case 'delayed':
      return job.attemptsMade > 0 ? 'retrying' : 'queued';
    default:
      return 'queued';
  }
}

/**
 * The public record of a job, read from Bull's own job hash. The state is read
 * after the hash, so a job that finished in between is read again to pick up
 * its result instead of showing "completed" without one.
 */
export async function jobView(job: Job, reload: () => Promise<Job | null>): Promise<JobView<QueryResult> | null> {
  const state = await job.getState();
  if ((state === 'completed' || state === 'failed') && !job.finishedOn) {
    const fresh = await reload();
    return fresh ? jobView(fresh, reload) : null;
  }
  const status = statusOf(state, job);
  const maxAttempts = job.opts.attempts ?? 1;
  const view: JobView<QueryResult> = {
    job_id: String(job.id),
    status,
    // Bull counts failed attempts only; the running or successful one counts too.
    attempts: job.attemptsMade + (status === 'active' || status === 'completed' ? 1 : 0),
    created_at: iso(job.timestamp) ?? new Date(0).toISOString(),
    started_at: iso(job.processedOn),
    finished_at: status === 'completed' || status === 'failed' ? iso(job.finishedOn) : undefined,
  };
  if (status === 'completed') view.result = job.returnvalue as QueryResult;
  if (status === 'failed') {
    view.error = { message: job.failedReason ?? 'failed', permanent: job.attemptsMade < maxAttempts };
  }
  return view;
}
