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
