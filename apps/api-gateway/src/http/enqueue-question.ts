import type { Config } from '@rag/config';
import { parseAllowList, refusedCallbackUrl, type QueryJobs, type QuestionDraft } from '@rag/jobs';
import { withSpan } from '@rag/observability';
import { boundHistory } from '@rag/llm-client';
import { ChatRequestDto, QueueName, conversationOf, describeIssues, validatePlain } from '@rag/queue-contracts';
import { HttpError } from './http-error';
import { queueCall } from './queue-unavailable';

export interface Accepted {
  job_id: string;
  status: 'queued';
  status_url: string;
  /** The job's events as Server-Sent Events (`stream: true` asks for nothing more: the client follows this). */
  events_url: string;
}

export interface EnqueueResult {
  accepted: Accepted;
  /** True when an Idempotency-Key matched an existing job and no new job was made. */
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

function keyReused(): HttpError {
  return new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request; use a new key');
}

/**
 * Validates a chat request and puts one `rag-query` job on the queue through
 * the job lifecycle (signed, admitted). Nothing here waits for a worker: the
 * answer is the job's id and where to read it. Above MAX_WAITING_JOBS waiting
 * questions it refuses with 503 and Retry-After instead of accepting work it
 * cannot do in time; above MAX_WAITING_JOBS_PER_TENANT of the caller's
 * tenant, with 429, so one tenant cannot take the whole queue.
 */
export async function enqueueQuestion(
  jobs: QueryJobs,
  config: Config,
  body: unknown,
  requestId: string,
  /** From the caller's API key, never from the body. */
  tenant: string,
  idempotencyKey?: string,
  /** The request's span (req.traceparent), when traced: the job's spans join its trace. */
  traceparent?: string,
): Promise<EnqueueResult> {
  const checked = validatePlain(ChatRequestDto, body);
  if (!checked.ok) {
    throw new HttpError(400, 'invalid_request', `invalid request: ${describeIssues(checked.issues)}`, checked.issues);
  }
  const request = checked.value;
  const refused = request.callback_url && refusedCallbackUrl(request.callback_url, parseAllowList(config.WEBHOOK_ALLOWED_HOSTS));
  if (refused) throw new HttpError(400, 'invalid_callback_url', refused, [{ field: 'callback_url', problems: [refused] }]);
  // `query` and/or `messages` (see conversation.dto.ts); the history within CHAT_HISTORY_MAX_TOKENS, oldest turns dropped first.
  const { question, history } = conversationOf(request);
  const bounded = boundHistory(history, config.CHAT_HISTORY_MAX_TOKENS);
  const draft = {
    query: question,
    ...(bounded.length > 0 ? { history: bounded } : {}),
    collection: request.collection ?? config.DEFAULT_COLLECTION,
    top_k: request.top_k ?? config.DEFAULT_TOP_K,
    ...(request.filters?.sources ? { filters: { sources: request.filters.sources } } : {}),
    stream: request.stream ?? false,
    ...(request.callback_url ? { callback_url: request.callback_url } : {}),
    request_id: requestId,
    tenant,
  };
  const { jobId, replayed } = await submitQuestion(jobs, draft, idempotencyKey, traceparent);
  const statusUrl = `/v1/jobs/${jobId}`;
  const accepted: Accepted = { job_id: jobId, status: 'queued', status_url: statusUrl, events_url: `${statusUrl}/events` };
  return { accepted, replayed };
}

/**
 * Puts a validated question on the queue through the lifecycle, or refuses
 * it as HTTP: a bad or reused Idempotency-Key, the queue or the tenant full.
 * `replayed` when the key matched an existing job and nothing new was queued.
 * Traced, the enqueue is a span under `traceparent` (the request's), and
 * the job carries that span's traceparent (signed with the rest).
 */
export async function submitQuestion(
  jobs: QueryJobs,
  draft: QuestionDraft,
  idempotencyKey?: string,
  traceparent?: string,
): Promise<{ jobId: string; replayed: boolean }> {
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  const attributes = {
    'messaging.destination.name': QueueName.Query,
    'rag.tenant': draft.tenant,
    'rag.collection': draft.collection,
    'rag.top_k': draft.top_k,
  };
  const result = await withSpan(
    `enqueue ${QueueName.Query}`,
    attributes,
    async (span) => {
      const traced = span.traceparent();
      const outcome = await queueCall(() => jobs.enqueue(traced ? { ...draft, traceparent: traced } : draft, idempotencyKey));
      span.setAttributes({ 'rag.enqueue.outcome': outcome.outcome, 'messaging.message.id': 'jobId' in outcome ? outcome.jobId : undefined });
      return outcome;
    },
    { parent: traceparent, kind: 'producer' },
  );
  switch (result.outcome) {
    case 'queued':
    case 'replayed':
      return { jobId: result.jobId, replayed: result.outcome === 'replayed' };
    case 'conflict':
      throw keyReused();
    case 'overloaded':
      throw new HttpError(503, 'overloaded', `${result.waiting} questions are waiting; retry after the Retry-After delay`, { retry_after_seconds: 5 });
    case 'tenant_full':
      throw new HttpError(
        429,
        'tenant_queue_full',
        `${result.waiting} of your questions are already waiting (limit ${result.limit}); retry after the Retry-After delay`,
        {
          retry_after_seconds: 5,
        },
      );
  }
}
