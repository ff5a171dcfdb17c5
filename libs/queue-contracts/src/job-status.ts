import type { WebhookView } from './webhook';
export const JOB_STATUSES = ['queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['completed', 'failed', 'cancelled']);

export interface JobError {
  /** A stable name of the failure a program can act on (`llm_auth_failed`, `collection_not_found`, `internal_error`). */
  code: string;
  message: string;
  /** True when the failure will not go away by retrying. */
  permanent: boolean;
}

/** What `GET /v1/jobs/:id` answers. */
export interface JobView<R = unknown> {
  job_id: string;
  status: JobStatus;
  attempts: number;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  result?: R;
  error?: JobError;
  /** Present when the job has a callback_url: its delivery and every attempt. */
  webhook?: WebhookView;
}
