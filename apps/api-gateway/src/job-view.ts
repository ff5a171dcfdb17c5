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

/** The public record of a job, read from Bull's own job hash. */
export async function jobView(job: Job): Promise<JobView<QueryResult>> {
  const status = statusOf(await job.getState(), job);
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
