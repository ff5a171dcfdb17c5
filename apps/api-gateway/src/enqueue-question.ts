import type { Config } from '@rag/config';
import { TenantBacklog, queryJobOptions, signJob } from '@rag/jobs';
import { ChatRequestDto, JobName, QueryJobPayload, QueueName, cancelKey, cancelledKey, describeIssues, validatePlain } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { createHash, randomUUID } from 'node:crypto';
import { HttpError } from './http/http-error';

export interface Accepted {
  job_id: string;
  status: 'queued';
  status_url: string;
}

export interface EnqueueResult {
  accepted: Accepted;
  /** True when an Idempotency-Key matched an existing job and no new job was made. */
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

/** A job id derived from tenant and key: the same request retried maps to the same job. */
export function idempotentJobId(tenant: string, key: string): string {
  const hex = createHash('sha256').update(`${tenant}\n${key}`).digest('hex');
  // Formatted as a UUID (version 5 and variant bits set) so it looks like every other job id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function sameRequest(a: QueryJobPayload, b: QueryJobPayload): boolean {
  return a.query === b.query && a.collection === b.collection && a.top_k === b.top_k && JSON.stringify(a.filters ?? null) === JSON.stringify(b.filters ?? null);
}

/** The per-tenant count of waiting questions. */
export function tenantBacklog(queue: Queue, config: Pick<Config, 'QUEUE_PREFIX' | 'JOB_RETENTION_SECONDS'>): TenantBacklog {
  return new TenantBacklog(queue, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
}

/**
 * Validates a chat request and puts one `rag-query` job on the queue. Nothing
 * here waits for a worker: the answer is the job's id and where to read it.
 * Above MAX_WAITING_JOBS waiting questions it refuses with 503 and
 * Retry-After instead of accepting work it cannot do in time; above
 * MAX_WAITING_JOBS_PER_TENANT of the caller's tenant, with 429, so one
 * tenant cannot take the whole queue.
 */
export async function enqueueQuestion(
  queue: Queue<QueryJobPayload>,
  config: Config,
  body: unknown,
  requestId: string,
  /** From the caller's API key, never from the body. */
  tenant: string,
  idempotencyKey?: string,
): Promise<EnqueueResult> {
  const checked = validatePlain(ChatRequestDto, body);
  if (!checked.ok) {
    throw new HttpError(400, 'invalid_request', `invalid request: ${describeIssues(checked.issues)}`, checked.issues);
  }
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  const request = checked.value;
  // Signed: the workers run a question only as the tenant its producer signed for.
  const payload: QueryJobPayload = signJob(config, QueueName.Query, {
    query: request.query,
    collection: request.collection ?? config.DEFAULT_COLLECTION,
    top_k: request.top_k ?? config.DEFAULT_TOP_K,
    ...(request.filters?.sources ? { filters: { sources: request.filters.sources } } : {}),
    stream: request.stream ?? false,
    request_id: requestId,
    tenant,
  });
  const jobId = idempotencyKey ? idempotentJobId(tenant, idempotencyKey) : randomUUID();
  const accepted: Accepted = { job_id: jobId, status: 'queued', status_url: `/v1/jobs/${jobId}` };
  try {
    if (idempotencyKey) {
      const existing = await queue.getJob(jobId);
      if (existing) {
        if (!sameRequest(existing.data, payload)) {
          throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request; use a new key');
        }
        return { accepted, replayed: true };
      }
      // A key reused after its job was cancelled and removed starts afresh.
      await queue.client.del(cancelKey(config.QUEUE_PREFIX, jobId), cancelledKey(config.QUEUE_PREFIX, jobId));
    }
    const backlog = tenantBacklog(queue, config);
    // Both limits read at once: one round trip on the hot path, not two. The global one answers first.
    const [waiting, own] = await Promise.all([queue.getWaitingCount(), backlog.check(tenant, config.MAX_WAITING_JOBS_PER_TENANT)]);
    if (waiting >= config.MAX_WAITING_JOBS) {
      throw new HttpError(503, 'overloaded', `${waiting} questions are waiting; retry after the Retry-After delay`, { retry_after_seconds: 5 });
    }
    if (!own.allowed) {
      throw new HttpError(429, 'tenant_queue_full', `${own.waiting} of your questions are already waiting (limit ${config.MAX_WAITING_JOBS_PER_TENANT}); retry after the Retry-After delay`, {
        retry_after_seconds: 5,
      });
    }
    await queue.add(JobName.Answer, payload, queryJobOptions(config, jobId));
    await backlog.added(tenant, jobId);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(503, 'queue_unavailable', 'the job queue is unavailable; retry in a few seconds', { retry_after_seconds: 5 }, { cause: error });
  }
  return { accepted, replayed: false };
}
