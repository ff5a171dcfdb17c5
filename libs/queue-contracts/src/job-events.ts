/**
 * Events of one job, kept in a Redis Stream per job (trimmed, expiring) so a
 * client can follow a job live or resume after a disconnect.
 */
export const JOB_EVENT_TYPES = ['status', 'stage', 'token', 'citation', 'done', 'error'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export interface JobEvent {
  type: JobEventType;
  /** JSON-encoded payload: `{ text }` for tokens, `{ stage }` for stages, the result summary for done. */
  data: string;
}

/** Redis key of a job's event stream. */
export function jobEventsKey(prefix: string, jobId: string): string {
  return `${prefix}:job-events:${jobId}`;
}

/** Most events one job's stream keeps (older ones are trimmed). */
export const JOB_EVENTS_MAX = 5000;

/** Marks a job whose cancellation was asked for; lives as long as the job record. */
export function cancelKey(prefix: string, jobId: string): string {
  return `${prefix}:cancel:${jobId}`;
}

/** Pub/sub channel on which cancellations reach the workers at once. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * Pub/sub channel carrying the id of a job whose state changed without an
 * event from Bull (a waiting job removed by a cancel): every gateway's
 * long-polls of that job wake, whichever gateway made the change.
 */
export function jobChangedChannel(prefix: string): string {
  return `${prefix}:job-changed`;
}

/** A cancelled job's record after it left the queue (waiting jobs are removed on cancel). */
export function cancelledKey(prefix: string, jobId: string): string {
  return `${prefix}:cancelled:${jobId}`;
}
