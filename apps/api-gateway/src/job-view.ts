import type { Job, JobStatus as BullState, Queue } from 'bull';
import type { DeadLetters } from '@rag/jobs';
import { INTERNAL_ERROR } from '@rag/observability';
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
    default:
      // Waiting or delayed after a failed attempt: the job is between retries.
      return job.attemptsMade > 0 ? 'retrying' : 'queued';
  }
}

/**
 * A job's state in one round trip, independent of the queue's length: sorted
 * set lookups for completed, failed and delayed, and a position search in the
 * active list (as long as the workers' concurrency). Bull's own getState scans
 * the whole waiting list, which grows with the queue.
 */
export async function jobState(queue: Queue, jobId: string): Promise<BullState> {
  const replies = await queue.client
    .multi()
    .zscore(queue.toKey('completed'), jobId)
    .zscore(queue.toKey('failed'), jobId)
    .zscore(queue.toKey('delayed'), jobId)
    .lpos(queue.toKey('active'), jobId)
    .exec();
  const [completed, failed, delayed, active] = (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  if (completed !== null) return 'completed';
  if (failed !== null) return 'failed';
  if (delayed !== null) return 'delayed';
  if (active !== null) return 'active';
  return 'waiting';
}

/**
 * The public record of a job, read from Bull's own job hash. The state is read
 * after the hash, so a job that finished in between is read once more to pick
 * up its result instead of showing "completed" without one.
 */
export async function jobView(queue: Queue, job: Job, reread = true): Promise<JobView<QueryResult> | null> {
  const state = await jobState(queue, String(job.id));
  if ((state === 'completed' || state === 'failed') && !job.finishedOn && reread) {
    const fresh = await queue.getJob(String(job.id));
    return fresh ? jobView(queue, fresh, false) : null;
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
    // The code is the worker's (see failureCode); until it is read, what no class of ours names.
    view.error = { code: INTERNAL_ERROR, message: job.failedReason ?? 'failed', permanent: job.attemptsMade < maxAttempts };
  }
  return view;
}

/**
 * The code of a failed job: Bull keeps only the failure's text, so the code
 * comes from the last attempt the worker recorded (with the dead letters).
 * Records from before codes, or an attempt that could not be recorded, read
 * as `internal_error`.
 */
export async function failureCode(deadLetters: DeadLetters, jobId: string): Promise<string> {
  const attempts = await deadLetters.attempts(jobId);
  return attempts.at(-1)?.code ?? INTERNAL_ERROR;
}
