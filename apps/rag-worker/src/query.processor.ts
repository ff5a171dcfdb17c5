import { PermanentError, RetryableError, isCancellation, isPermanent } from '@rag/core';
import type { CancelSignals, DeadLetters, JobEventsWriter, JobSigningConfig } from '@rag/jobs';
import { JobCancelledError, STALLED_OUT, WORKER_LOST } from '@rag/jobs';
import type { Logger } from '@rag/observability';
import { errorCode, errorMessage, forTenant, runWithContext, tenantMessage } from '@rag/observability';
import { QueryJobPayload, QueueName, describeIssues, validatePlain, type QueryResult } from '@rag/queue-contracts';
import { answerQuestion, type AnswerDeps } from '@rag/retrieval';
import type { Job } from 'bull';
import type { WorkerMetrics } from './metrics';
import { isGenuine, refuseJob } from './refuse-job';

export class InvalidPayloadError extends PermanentError {
  override readonly code = 'invalid_payload';
  constructor(detail: string) {
    super(`invalid job payload: ${detail}`);
    this.name = 'InvalidPayloadError';
  }
}

export class JobTimeoutError extends RetryableError {
  override readonly code = 'job_timeout';
  constructor(ms: number) {
    super(`job timed out after ${ms} ms; it will be retried (raise JOB_TIMEOUT_MS if answers are slow)`);
    this.name = 'JobTimeoutError';
  }
}

/** Opens the event stream of one job. */
export type JobEventsFactory = (jobId: string) => JobEventsWriter;

export interface ProcessorRuntime {
  /** The key the producers signed jobs with: a job without a valid signature is refused. */
  signing: JobSigningConfig;
  /** Cancellation signals from the gateway. */
  cancels?: CancelSignals;
  /** Where attempts are recorded and jobs that failed for good are kept. */
  deadLetters?: DeadLetters;
  /** Aborts the attempt (its LLM request included) after this long. */
  timeoutMs?: number;
  /** Job outcomes, stage durations and tokens for Prometheus. */
  metrics?: WorkerMetrics;
}

/**
 * The `rag-query` processor: check the job's signature (refused without a
 * valid one), validate the payload again, then run the answer
 * use case inside the job's log context, publishing its stages, tokens and
 * citations as job events. A cancelled or timed-out attempt is aborted,
 * LLM request included. Permanent failures are discarded so Bull does not
 * retry them; a job that fails for good is recorded as a dead letter.
 */
export function queryProcessor(deps: AnswerDeps, logger: Logger, openEvents: JobEventsFactory | undefined, runtime: ProcessorRuntime) {
  return (job: Job<unknown>): Promise<QueryResult> => {
    // Before anything else: a job our producers did not sign names a tenant it has no right to.
    if (!isGenuine(runtime.signing, QueueName.Query, job)) return refuseJob(job, runtime.deadLetters, logger, runtime.metrics);
    const jobId = String(job.id);
    const data = typeof job.data === 'object' && job.data !== null ? (job.data as { request_id?: unknown; tenant?: unknown }) : {};
    const context = {
      job_id: jobId,
      request_id: typeof data.request_id === 'string' ? data.request_id : undefined,
      tenant: typeof data.tenant === 'string' ? data.tenant : undefined,
      queue: job.queue.name,
    };
    return runWithContext(context, async () => {
      const started = Date.now();
      const attempt = job.attemptsMade + 1;
      const events = openEvents?.(jobId);
      let signal: AbortSignal | undefined;
      logger.info('job started', { attempt });
      events?.emit('status', { status: 'active', attempt });
      try {
        // Inside the try: a Redis error while subscribing to cancels fails the attempt like any other (events, dead letter).
        const signals: AbortSignal[] = [];
        if (runtime.cancels) signals.push(await runtime.cancels.track(jobId));
        if (runtime.timeoutMs) signals.push(AbortSignal.timeout(runtime.timeoutMs));
        signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
        signal?.throwIfAborted();
        const checked = validatePlain(QueryJobPayload, job.data);
        if (!checked.ok) throw new InvalidPayloadError(describeIssues(checked.issues));
        const payload = checked.value;
        const result = await answerQuestion(deps, {
          // The tenant of the key that asked (set by the gateway, never from the body): the store searches only its collections.
          tenant: payload.tenant,
          query: payload.query,
          collection: payload.collection,
          topK: payload.top_k,
          filter: payload.filters,
          enqueuedAt: job.timestamp,
          signal,
          onStage: (stage) => events?.emit('stage', { stage }),
          onToken: (text) => events?.token(text),
        });
        // An answer that finished as the cancel arrived still counts as cancelled.
        signal?.throwIfAborted();
        for (const citation of result.citations) events?.emit('citation', citation);
        events?.emit('done', { status: 'completed', model: result.model, usage: result.usage, timings: result.timings });
        await events?.close().catch((error: unknown) => logger.warn('job events not written', { error: errorMessage(error) }));
        logger.info('job completed', { attempt, tenant: payload.tenant, duration_ms: Date.now() - started, citations: result.citations.length });
        const metrics = runtime.metrics;
        if (metrics) {
          const queue = job.queue.name;
          metrics.jobs.finished.inc({ queue, outcome: 'completed' });
          const t = result.timings;
          for (const [stage, ms] of [['queued', t.queued_ms], ['retrieve', t.retrieve_ms], ['generate', t.generate_ms], ['total', t.total_ms]] as const) {
            metrics.jobs.duration.observe({ queue, stage }, ms / 1000);
          }
          metrics.tokens.inc({ kind: 'prompt' }, result.usage.prompt_tokens);
          metrics.tokens.inc({ kind: 'completion' }, result.usage.completion_tokens);
        }
        return result;
      } catch (thrown) {
        const error = abortReason(signal, runtime.timeoutMs) ?? thrown;
        // The job's error, events and dead letter reach the tenant: never a library's text or a server path.
        const reference = context.request_id ?? jobId;
        const shown = tenantMessage(error, reference);
        const code = errorCode(error);
        const permanent = isPermanent(error);
        if (permanent) job.discard();
        const cancelled = isCancellation(error);
        const willRetry = !permanent && attempt < (job.opts.attempts ?? 1);
        events?.emit(cancelled ? 'status' : 'error', cancelled ? { status: 'cancelled' } : { code, message: shown, permanent, will_retry: willRetry });
        await events?.close().catch(() => undefined);
        const final = !willRetry && !cancelled;
        await recordFailure(job, runtime.deadLetters, { attempt, started, error: shown, code, permanent, final }).catch((e: unknown) =>
          logger.warn('attempt not recorded', { error: errorMessage(e) }),
        );
        runtime.metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: cancelled ? 'cancelled' : willRetry ? 'retried' : 'failed' });
        if (final && runtime.deadLetters) runtime.metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'dead_lettered' });
        logger.warn(cancelled ? 'job cancelled' : 'job attempt failed', { attempt, duration_ms: Date.now() - started, permanent, will_retry: willRetry, error: errorMessage(error) });
        throw forTenant(error, reference);
      } finally {
        runtime.cancels?.release(jobId);
      }
    });
  };
}

/** Why the attempt's signal fired, as the error the job should fail with. */
function abortReason(signal: AbortSignal | undefined, timeoutMs: number | undefined): Error | undefined {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof JobCancelledError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new JobTimeoutError(timeoutMs ?? 0);
  return reason instanceof Error ? reason : undefined;
}

async function recordFailure(
  job: Job<unknown>,
  deadLetters: DeadLetters | undefined,
  /** `error` and `code`: the tenant-facing text and code (dead letters are read through the admin API); the detail is in the logs. */
  failure: { attempt: number; started: number; error: string; code: string; permanent: boolean; final: boolean },
): Promise<void> {
  if (!deadLetters) return;
  const jobId = String(job.id);
  await deadLetters.recordAttempt(jobId, {
    attempt: failure.attempt,
    started_at: new Date(failure.started).toISOString(),
    duration_ms: Date.now() - failure.started,
    error: failure.error,
    code: failure.code,
    permanent: failure.permanent,
  });
  if (failure.final) {
    await deadLetters.add({
      job_id: jobId,
      queue: job.queue.name,
      job_name: job.name,
      payload: job.data,
      final_error: failure.error,
      final_error_code: failure.code,
      failed_at: new Date().toISOString(),
    });
  }
}

/**
 * A job whose workers died under it more than MAX_STALLED_COUNT times is
 * failed by Bull's stalled-job check, in whichever worker ran the check; no
 * processor sees it, so it is recorded here as a dead letter (payload and
 * attempts kept, replayable like any other) instead of vanishing from view.
 */
export async function recordStalledOut(job: Job<unknown> | null, error: Error, deadLetters: DeadLetters, logger: Logger, metrics?: WorkerMetrics): Promise<void> {
  if (!job || error.message !== STALLED_OUT) return;
  const jobId = String(job.id);
  const finalError = `${STALLED_OUT}: its worker stopped (crashed or was killed) while running it more than the allowed number of times; look for worker crashes around that time, then replay it`;
  await deadLetters.add({ job_id: jobId, queue: job.queue.name, job_name: job.name, payload: job.data, final_error: finalError, final_error_code: WORKER_LOST, failed_at: new Date().toISOString() });
  metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'failed' });
  metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'dead_lettered' });
  logger.error('job failed: its worker stopped under it too many times; dead-lettered', { job_id: jobId, queue: job.queue.name });
}
