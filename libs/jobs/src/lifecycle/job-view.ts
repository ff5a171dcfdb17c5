import { INTERNAL_ERROR } from '@rag/core';
import type { JobStatus, JobView, QueryResult } from '@rag/queue-contracts';
import Bull, { type Job, type JobStatus as BullState, type Queue } from 'bull';
import type { AttemptRecord } from '../dead-letters';

/** The code the worker records for an attempt stopped by a cancel. */
export const CANCELLED = 'cancelled';

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

/** Bull's Job class, exported by the package but not by its typings: it parses a job hash as Bull's own getJob does. */
const BullJob = (Bull as unknown as { Job: { fromJSON(queue: Queue, json: Record<string, string>, jobId: string): Job } }).Job;

/** A job as one read saw it: its record (absent when there is none) and its state at that same moment. */
export interface JobRead {
  job: Job | undefined;
  state: BullState;
  /** The value of the `extra` key asked for in the same read (null when it does not exist). */
  extra: string | null;
}

/**
 * A job's record, its state and, optionally, one more key, in one round trip
 * (a MULTI, so the state and the record agree: a job read as completed has its
 * result), independent of the queue's length: the job hash, sorted set lookups
 * for completed, failed and delayed, and a position search in the active list
 * (as long as the workers' concurrency). Bull's own getState scans the whole
 * waiting list, which grows with the queue.
 */
export async function readJob(queue: Queue, jobId: string, extra?: string): Promise<JobRead> {
  const multi = queue.client.multi().hgetall(queue.toKey(jobId));
  stateLookups(multi, queue, jobId);
  if (extra) multi.get(extra);
  const [hash, ...replies] = unwrap(await multi.exec());
  const record = hash as Record<string, string>;
  return {
    job: Object.keys(record).length > 0 ? BullJob.fromJSON(queue, record, jobId) : undefined,
    state: stateOf(replies),
    extra: extra ? ((replies[4] as string | null) ?? null) : null,
  };
}

/** A job's state in one round trip (see readJob). */
export async function jobState(queue: Queue, jobId: string): Promise<BullState> {
  const multi = queue.client.multi();
  stateLookups(multi, queue, jobId);
  return stateOf(unwrap(await multi.exec()));
}

function stateLookups(multi: ReturnType<Queue['client']['multi']>, queue: Queue, jobId: string): void {
  multi.zscore(queue.toKey('completed'), jobId).zscore(queue.toKey('failed'), jobId).zscore(queue.toKey('delayed'), jobId).lpos(queue.toKey('active'), jobId);
}

function unwrap(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

function stateOf([completed, failed, delayed, active]: unknown[]): BullState {
  if (completed !== null) return 'completed';
  if (failed !== null) return 'failed';
  if (delayed !== null) return 'delayed';
  if (active !== null) return 'active';
  return 'waiting';
}

/**
 * The worker's record of the attempt that failed `job` for good, when it has
 * one: Bull counts that attempt in `attemptsMade`, and the worker numbers its
 * records the same way. A job failed by Bull's stalled-job check ran no
 * processor, so its last record (if any) is an earlier attempt's.
 */
export function finalAttempt(attemptsMade: number, attempts: readonly AttemptRecord[]): AttemptRecord | undefined {
  const last = attempts.at(-1);
  return last && last.attempt === attemptsMade ? last : undefined;
}

/** Whether the worker recorded the job's final attempt as stopped by a cancel; undefined when no record tells. */
export function cancelledByRecord(attemptsMade: number, attempts: readonly AttemptRecord[]): boolean | undefined {
  const final = finalAttempt(attemptsMade, attempts);
  return final ? final.code === CANCELLED : undefined;
}

/**
 * The public record of a job as `readJob` read it, with the attempts the
 * worker recorded (`attempts`, oldest first, read only for a failed job).
 */
export async function jobView(job: Job, state: BullState, attempts: () => Promise<readonly AttemptRecord[]>): Promise<JobView<QueryResult>> {
  const status = statusOf(state, job);
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
    const recorded = await attempts();
    view.error = { code: failureCode(recorded), message: job.failedReason ?? 'failed', permanent: failedForGood(job, recorded) };
  }
  return view;
}

/**
 * Whether a failed job's failure will not go away by retrying, as the worker
 * recorded it for the final attempt. Without that record (a processor that
 * records nothing, a record that could not be written, a job failed by the
 * stalled-job check): failing with attempts left means the worker discarded
 * it as permanent.
 */
function failedForGood(job: Job, attempts: readonly AttemptRecord[]): boolean {
  const recorded = finalAttempt(job.attemptsMade, attempts)?.permanent;
  return typeof recorded === 'boolean' ? recorded : job.attemptsMade < (job.opts.attempts ?? 1);
}

/**
 * The code of a failed job: Bull keeps only the failure's text, so the code
 * comes from the last attempt the worker recorded. Records from before
 * codes, or an attempt that could not be recorded, read as `internal_error`.
 */
function failureCode(attempts: readonly AttemptRecord[]): string {
  return attempts.at(-1)?.code ?? INTERNAL_ERROR;
}
