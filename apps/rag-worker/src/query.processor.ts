import type { Logger } from '@rag/observability';
import { errorMessage, runWithContext } from '@rag/observability';
import { QueryJobPayload, describeIssues, validatePlain, type QueryResult } from '@rag/queue-contracts';
import { PermanentError, answerQuestion, isPermanent, type AnswerDeps } from '@rag/retrieval';
import type { Job } from 'bull';
import type { JobEventsWriter } from './job-events.writer';

export class InvalidPayloadError extends PermanentError {
  constructor(detail: string) {
    super(`invalid job payload: ${detail}`);
    this.name = 'InvalidPayloadError';
  }
}

/** Opens the event stream of one job. */
export type JobEventsFactory = (jobId: string) => JobEventsWriter;

/**
 * The `rag-query` processor: validate the payload again, then run the answer
 * use case inside the job's log context, publishing its stages, tokens and
 * citations as job events. Permanent failures are discarded so Bull does not
 * retry them.
 */
export function queryProcessor(deps: AnswerDeps, logger: Logger, openEvents?: JobEventsFactory) {
  return (job: Job<unknown>): Promise<QueryResult> => {
    const requestId = typeof job.data === 'object' && job.data !== null ? (job.data as { request_id?: unknown }).request_id : undefined;
    return runWithContext({ job_id: String(job.id), request_id: typeof requestId === 'string' ? requestId : undefined, queue: job.queue.name }, async () => {
      const started = Date.now();
      const events = openEvents?.(String(job.id));
      logger.info('job started', { attempt: job.attemptsMade + 1 });
      events?.emit('status', { status: 'active', attempt: job.attemptsMade + 1 });
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
          onStage: (stage) => events?.emit('stage', { stage }),
          onToken: (text) => events?.token(text),
        });
        for (const citation of result.citations) events?.emit('citation', citation);
        events?.emit('done', { status: 'completed', model: result.model, usage: result.usage, timings: result.timings });
        await events?.close().catch((error: unknown) => logger.warn('job events not written', { error: errorMessage(error) }));
        logger.info('job completed', { duration_ms: Date.now() - started, citations: result.citations.length });
        return result;
      } catch (error) {
        const permanent = isPermanent(error);
        if (permanent) job.discard();
        const attempts = job.opts.attempts ?? 1;
        const willRetry = !permanent && job.attemptsMade + 1 < attempts;
        events?.emit('error', { message: errorMessage(error), permanent, will_retry: willRetry });
        await events?.close().catch(() => undefined);
        logger.warn('job attempt failed', { duration_ms: Date.now() - started, permanent, will_retry: willRetry, error: errorMessage(error) });
        throw error;
      }
    });
  };
}
