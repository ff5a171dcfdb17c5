import type { Logger } from '@rag/observability';
import { errorMessage, runWithContext } from '@rag/observability';
import { QueryJobPayload, describeIssues, validatePlain, type QueryResult } from '@rag/queue-contracts';
import { PermanentError, answerQuestion, isPermanent, type AnswerDeps } from '@rag/retrieval';
import type { Job } from 'bull';

export class InvalidPayloadError extends PermanentError {
  constructor(detail: string) {
    super(`invalid job payload: ${detail}`);
    this.name = 'InvalidPayloadError';
  }
}

/**
 * The `rag-query` processor: validate the payload again, then run the answer
 * use case inside the job's log context. Permanent failures are discarded so
 * Bull does not retry them.
 */
export function queryProcessor(deps: AnswerDeps, logger: Logger) {
  return (job: Job<unknown>): Promise<QueryResult> => {
    const requestId = typeof job.data === 'object' && job.data !== null ? (job.data as { request_id?: unknown }).request_id : undefined;
    return runWithContext({ job_id: String(job.id), request_id: typeof requestId === 'string' ? requestId : undefined, queue: job.queue.name }, async () => {
      const started = Date.now();
      logger.info('job started', { attempt: job.attemptsMade + 1 });
      try {
        const checked = validatePlain(QueryJobPayload, job.data);
        if (!checked.ok) throw new InvalidPayloadError(describeIssues(checked.issues));
        const payload = checked.value;
        const result = await answerQuestion(deps, {
          query: payload.query,
          collection: payload.collection,
          topK: payload.top_k,
          filter: payload.filters,
          enqueuedAt: job.timestamp,
        });
        logger.info('job completed', { duration_ms: Date.now() - started, citations: result.citations.length });
        return result;
      } catch (error) {
        const permanent = isPermanent(error);
        if (permanent) job.discard();
        logger.warn('job attempt failed', { duration_ms: Date.now() - started, permanent, error: errorMessage(error) });
        throw error;
      }
    });
  };
}
