import type { Config } from '@rag/config';
import { ChatRequestDto, JobName, QueryJobPayload, describeIssues, validatePlain } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { HttpError } from './http/http-error';

export interface Accepted {
  job_id: string;
  status: 'queued';
  status_url: string;
}

/**
 * Validates a chat request and puts one `rag-query` job on the queue. Nothing
 * here waits for a worker: the answer is the job's id and where to read it.
 */
export async function enqueueQuestion(queue: Queue<QueryJobPayload>, config: Config, body: unknown, requestId: string): Promise<Accepted> {
  const checked = validatePlain(ChatRequestDto, body);
  if (!checked.ok) {
    throw new HttpError(400, 'invalid_request', `invalid request: ${describeIssues(checked.issues)}`, checked.issues);
  }
  const request = checked.value;
  const payload: QueryJobPayload = Object.assign(new QueryJobPayload(), {
    query: request.query,
    collection: request.collection ?? config.DEFAULT_COLLECTION,
    top_k: request.top_k ?? config.DEFAULT_TOP_K,
    filters: request.filters?.sources ? { sources: request.filters.sources } : undefined,
    stream: request.stream ?? false,
    request_id: requestId,
    tenant: 'default',
  });
  const jobId = randomUUID();
  try {
    await queue.add(JobName.Answer, { ...payload }, {
      jobId,
      attempts: config.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS },
      timeout: config.JOB_TIMEOUT_MS,
      removeOnComplete: { age: config.JOB_RETENTION_SECONDS },
      removeOnFail: { age: config.JOB_RETENTION_SECONDS },
    });
  } catch (error) {
    throw new HttpError(503, 'queue_unavailable', 'the job queue is unavailable; retry in a few seconds', undefined, { cause: error });
  }
  return { job_id: jobId, status: 'queued', status_url: `/v1/jobs/${jobId}` };
}
