import type { Config } from '@rag/config';
import { QuestionAdmission, queryJobOptions, signJob } from '@rag/jobs';
import { ChatRequestDto, JobName, QueryJobPayload, QueueName, describeIssues, validatePlain } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { createHash, randomUUID } from 'node:crypto';
import { HttpError } from './http/http-error';
import { queueCall, queueUnavailable } from './http/queue-unavailable';

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

/** What a request asks (not who sent it or when): two requests with one Idempotency-Key must agree on it. */
function asked(p: QueryJobPayload): unknown[] {
  return [p.query, p.collection, p.top_k, p.filters ?? null];
}

function sameRequest(a: QueryJobPayload, b: QueryJobPayload): boolean {
  return JSON.stringify(asked(a)) === JSON.stringify(asked(b));
}

function requestFingerprint(p: QueryJobPayload): string {
  return createHash('sha256').update(JSON.stringify(asked(p))).digest('base64url');
}

function keyReused(): HttpError {
  return new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request; use a new key');
}

const admissions = new WeakMap<Queue, QuestionAdmission>();

/** The admission (caps, idempotency keys) of questions to `queue`. */
export function questionAdmission(queue: Queue, config: Pick<Config, 'QUEUE_PREFIX' | 'JOB_RETENTION_SECONDS'>): QuestionAdmission {
  let admission = admissions.get(queue);
  if (!admission) admissions.set(queue, (admission = new QuestionAdmission(queue, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS)));
  return admission;
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
  const admission = questionAdmission(queue, config);
  const keyed = idempotencyKey !== undefined;
  // Key, caps and reservation in one atomic step (one round trip); see QuestionAdmission.
  const { outcome, waiting } = await queueCall(() =>
    admission.admit({
      tenant,
      jobId,
      fingerprint: keyed ? requestFingerprint(payload) : undefined,
      maxWaiting: config.MAX_WAITING_JOBS,
      maxPerTenant: config.MAX_WAITING_JOBS_PER_TENANT,
    }),
  );
  switch (outcome) {
    case 'replay':
      return { accepted, replayed: true };
    case 'conflict':
      throw keyReused();
    case 'existing': {
      // A job older than its idempotency record: the record expired, the job is still kept.
      const existing = await queueCall(() => queue.getJob(jobId));
      if (existing && !sameRequest(existing.data, payload)) throw keyReused();
      return { accepted, replayed: true };
    }
    case 'overloaded':
      throw new HttpError(503, 'overloaded', `${waiting} questions are waiting; retry after the Retry-After delay`, { retry_after_seconds: 5 });
    case 'tenant_full':
      throw new HttpError(429, 'tenant_queue_full', `${waiting} of your questions are already waiting (limit ${config.MAX_WAITING_JOBS_PER_TENANT}); retry after the Retry-After delay`, {
        retry_after_seconds: 5,
      });
  }
  try {
    await queue.add(JobName.Answer, payload, queryJobOptions(config, jobId));
  } catch (error) {
    await admission.release(tenant, jobId, keyed).catch(() => undefined);
    throw queueUnavailable(error);
  }
  // The job now counts in Bull's wait list; a failure here leaves a reservation that lapses by itself.
  await admission.added(jobId).catch(() => undefined);
  return { accepted, replayed: false };
}
