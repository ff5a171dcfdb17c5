import { PermanentError, RetryableError, isCancellation, isPermanent } from '@rag/core';
import type { JobOutcome, Logger } from '@rag/observability';
import {
  errorCode,
  errorMessage,
  forTenant,
  recordSpan,
  runWithContext,
  tenantMessage,
  tracingEnabled,
  validTraceparent,
  withSpan,
  type LogContext,
} from '@rag/observability';
import { describeIssues, validatePlain, type JobEventType } from '@rag/queue-contracts';
import type { Job } from 'bull';
import { JobCancelledError, type CancelSignals } from './cancel-signals';
import type { DeadLetters } from './dead-letters';
import type { JobEventsWriter } from './job-events.writer';
import { JOB_REFUSED, verifyJob, type JobSigningConfig } from './job-signature';
import { STALLED_OUT, WORKER_LOST } from './queues';

/** A job's payload failed validation: the same payload can never pass, so it fails for good. */
export class InvalidPayloadError extends PermanentError {
  constructor(detail: string) {
    super(`invalid job payload: ${detail}`, { code: 'invalid_payload' });
  }
}

/** An attempt ran out of JOB_TIMEOUT_MS; the job is retried while it has attempts left. */
export class JobTimeoutError extends RetryableError {
  constructor(readonly ms: number) {
    super(`job timed out after ${ms} ms; it will be retried (raise JOB_TIMEOUT_MS if answers are slow)`, { code: 'job_timeout' });
  }
}

/** A job no producer of ours signed: never retried, never run. */
export class JobRefusedError extends PermanentError {
  constructor() {
    super(JOB_REFUSED);
  }
}

/** The job metrics the runner keeps (the worker's JobMetrics, from @rag/observability, is one). */
export interface JobRunnerMetrics {
  jobs: {
    finished: { inc(labels: { queue: string; outcome: JobOutcome }): void };
    duration: { observe(labels: { queue: string; stage: string }, seconds: number): void };
  };
}

/** What a use case may publish while its job runs: its stages, tokens, citations and end. */
export interface JobEventSink {
  emit(type: JobEventType, payload: unknown): void;
  token(text: string): void;
}

/** The job a use case runs for, as the runner hands it over. */
export interface RunningJob {
  id: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** When the job was queued (ms since the epoch). */
  enqueuedAt: number;
  /** When this attempt started (ms since the epoch). */
  startedAt: number;
  /** Fires when the job is cancelled or the attempt's time is up. */
  signal: AbortSignal;
  /** The job's event stream; events emitted once the attempt has ended are dropped. */
  events: JobEventSink;
}

/** What a finished job is logged and measured with. */
export interface JobSummary {
  /** Extra fields of the "completed" log line. */
  log?: Record<string, unknown>;
  /** Time spent by stage, in ms, for `rag_job_duration_seconds`. */
  durations?: Record<string, number>;
}

/** A failed attempt, as the queue's own failure hook sees it. */
export interface AttemptFailure {
  /** The job's data as queued: not validated (an invalid payload may be why it failed). */
  data: unknown;
  attempt: number;
  error: unknown;
  /** What the tenant may read, and its stable code. */
  shown: string;
  code: string;
  permanent: boolean;
  cancelled: boolean;
  willRetry: boolean;
}

/** One queue's job: its payload class, its use case and what the queue does around it. */
export interface JobHandler<P extends object, R> {
  /** The queue its producers sign jobs for: a job signed for any other (or not at all) is refused. */
  queue: string;
  /** The class every payload is validated against; one that fails is failed for good. */
  payload: new () => P;
  /** The use case. It should stop when `job.signal` fires; if it does not, the attempt fails then anyway. */
  run(payload: P, job: RunningJob): Promise<R>;
  /** After a run that was not cancelled meanwhile: publish its result and say how to log and measure it. */
  completed?(result: R, payload: P, job: RunningJob): JobSummary;
  /** After a failed attempt (ingest: a document that failed for good is counted in its run). */
  failed?(failure: AttemptFailure): Promise<void>;
  /** A job failed by Bull's stalled-job check, which no processor sees; by default it is dead-lettered. */
  stalledOut?(job: Job<unknown>): Promise<void>;
  /** The queue keeps its failures itself (ingest: in its run): they are not recorded as attempts and dead letters. */
  keepsOwnFailures?: boolean;
  /** Fields every log line of the runner carries for this queue (ingest: the document). */
  logFields?(data: unknown): Record<string, unknown>;
  /** The log lines of an attempt: started (none when absent), completed, failed. */
  log: { started?: string; completed: string; failed: string };
  /**
   * With tracing on, each attempt is a `process <queue>` span, and a first
   * attempt's time in the queue a `wait <queue>` span before it, both in the
   * trace the payload's `traceparent` names (a new one without it).
   */
  traced?: boolean;
}

/** What a worker gives the runners of all its queues. */
export interface JobRunnerRuntime {
  logger: Logger;
  /** The key the producers signed jobs with: a job without a valid signature is refused. */
  signing: JobSigningConfig;
  /** Cancellation signals from the gateway. */
  cancels?: CancelSignals;
  /** Where attempts are recorded and jobs that failed for good (or were refused) are kept. */
  deadLetters?: DeadLetters;
  /** Opens the event stream of one job. */
  openEvents?: (jobId: string) => JobEventsWriter;
  /** An attempt fails with JobTimeoutError (and is retried) after this long. */
  timeoutMs?: number;
  metrics?: JobRunnerMetrics;
}

/**
 * Runs one queue's jobs around its use case: refuses a job our producers did
 * not sign, validates the payload (failing it for good when invalid), runs
 * the use case inside the job's log context with a signal that fires on
 * cancel or timeout (the attempt fails at the deadline even if the use case
 * ignores it), publishes the job's status and error events, counts outcomes
 * and durations, and on failure discards permanent failures (so Bull does
 * not retry them), gives the tenant a safe message, and records the attempt
 * and the dead letter.
 */
export class JobRunner<P extends object, R> {
  constructor(
    private readonly handler: JobHandler<P, R>,
    private readonly runtime: JobRunnerRuntime,
  ) {}

  /** Bull's processor function. */
  readonly process = (job: Job<unknown>): Promise<R> => {
    // Before anything else, before any run, bytes or collection of the tenant it names is touched.
    if (!verifyJob(this.runtime.signing, this.handler.queue, job.data)) return this.refuse(job);
    const context = jobContext(job);
    const run = () => runWithContext(context, () => this.attempt(job, context));
    return this.handler.traced && tracingEnabled() ? this.traced(job, context, run) : run();
  };

  /**
   * `run` inside the attempt's span, after recording the job's wait: from
   * when its producer queued it (Bull's timestamp) to now. Only a first
   * attempt's: Bull keeps no time for when a failed attempt ended. The
   * traceparent is read before validation (the signature is verified: it is
   * our producer's); one not in W3C's form starts a new trace, and the
   * payload's validation then fails the job.
   */
  private traced(job: Job<unknown>, context: LogContext, run: () => Promise<R>): Promise<R> {
    const queue = job.queue.name;
    const parent = validTraceparent(fieldsOf(job.data).traceparent);
    const attempt = job.attemptsMade + 1;
    const attributes = {
      'messaging.destination.name': queue,
      'messaging.message.id': String(job.id),
      'rag.attempt': attempt,
      'rag.tenant': context.tenant,
      'rag.request_id': context.request_id,
    };
    const now = Date.now();
    // A producer's clock ahead of ours would make it negative: a wait of 0 then.
    if (attempt === 1) recordSpan(`wait ${queue}`, attributes, Math.min(job.timestamp, now), now, { parent });
    return withSpan(`process ${queue}`, attributes, run, { parent, kind: 'consumer' });
  }

  /**
   * Bull's `failed` listener: a job whose workers died under it more than
   * MAX_STALLED_COUNT times is failed by Bull's stalled-job check, in whichever
   * worker ran the check; no processor sees it, so it is recorded here (by
   * default as a dead letter: payload and attempts kept, replayable like any
   * other) instead of vanishing from view.
   */
  readonly stalledOut = async (job: Job<unknown> | null, error: Error): Promise<void> => {
    if (!job || error.message !== STALLED_OUT) return;
    const { logger, metrics, deadLetters } = this.runtime;
    const queue = job.queue.name;
    try {
      metrics?.jobs.finished.inc({ queue, outcome: 'failed' });
      if (this.handler.stalledOut) return await this.handler.stalledOut(job);
      const finalError = `${STALLED_OUT}: its worker stopped (crashed or was killed) while running it more than the allowed number of times; look for worker crashes around that time, then replay it`;
      // No processor ran to end its event stream, so its followers would wait forever: end it here.
      await this.endEventsLost(String(job.id), finalError);
      if (!deadLetters) return;
      await deadLetters.add({
        job_id: String(job.id),
        queue,
        job_name: job.name,
        payload: job.data,
        final_error: finalError,
        final_error_code: WORKER_LOST,
        failed_at: new Date().toISOString(),
      });
      metrics?.jobs.finished.inc({ queue, outcome: 'dead_lettered' });
      logger.error('job failed: its worker stopped under it too many times; dead-lettered', { job_id: String(job.id), queue });
    } catch (e) {
      logger.error('stalled-out job not recorded', { job_id: job.id, queue, error: errorMessage(e) });
    }
  };

  /** Writes the terminal `error` of a job that no attempt will end (its workers were lost under it). */
  private async endEventsLost(jobId: string, message: string): Promise<void> {
    const events = this.runtime.openEvents?.(jobId);
    if (!events) return;
    events.emit('error', { code: WORKER_LOST, message, permanent: false, will_retry: false });
    await events.close().catch((e: unknown) => this.runtime.logger.warn('job events not written', { job_id: jobId, error: errorMessage(e) }));
  }

  private async attempt(job: Job<unknown>, context: LogContext): Promise<R> {
    const { handler, runtime } = this;
    const { logger, metrics } = runtime;
    const jobId = String(job.id);
    const queue = job.queue.name;
    const started = Date.now();
    const attempt = job.attemptsMade + 1;
    const fields = handler.logFields?.(job.data) ?? {};
    const events = new AttemptEvents(runtime.openEvents?.(jobId));
    const timeout = runtime.timeoutMs ? AbortSignal.timeout(runtime.timeoutMs) : undefined;
    let signal: AbortSignal | undefined;
    if (handler.log.started) logger.info(handler.log.started, { ...fields, attempt });
    events.emit('status', { status: 'active', attempt });
    try {
      // Inside the try: a Redis error while subscribing to cancels fails the attempt like any other (events, dead letter).
      const signals = timeout ? [timeout] : [];
      if (runtime.cancels) signals.push(await runtime.cancels.track(jobId));
      signal = AbortSignal.any(signals);
      signal.throwIfAborted();
      const payload = validPayload(handler.payload, job.data);
      const running: RunningJob = { id: jobId, attempt, enqueuedAt: job.timestamp, startedAt: started, signal, events };
      const result = await untilAborted(handler.run(payload, running), signal);
      // A use case that finished as the cancel arrived still counts as cancelled.
      signal.throwIfAborted();
      const summary = handler.completed?.(result, payload, running) ?? {};
      await events.close().catch((error: unknown) => logger.warn('job events not written', { error: errorMessage(error) }));
      logger.info(handler.log.completed, { ...fields, attempt, ...summary.log, duration_ms: Date.now() - started });
      metrics?.jobs.finished.inc({ queue, outcome: 'completed' });
      for (const [stage, ms] of Object.entries(summary.durations ?? {})) metrics?.jobs.duration.observe({ queue, stage }, ms / 1000);
      return result;
    } catch (thrown) {
      const error = abortReason(signal, timeout, runtime.timeoutMs) ?? thrown;
      // The job's error, events and dead letter reach the tenant: never a library's text or a server path.
      const reference = context.request_id ?? jobId;
      const shown = tenantMessage(error, reference);
      const code = errorCode(error);
      const permanent = isPermanent(error);
      if (permanent) job.discard();
      const cancelled = isCancellation(error);
      const willRetry = !permanent && attempt < (job.opts.attempts ?? 1);
      events.emit(cancelled ? 'status' : 'error', cancelled ? { status: 'cancelled' } : { code, message: shown, permanent, will_retry: willRetry });
      await events.close().catch(() => undefined);
      const deadLettered = !willRetry && !cancelled && !handler.keepsOwnFailures && runtime.deadLetters !== undefined;
      if (!handler.keepsOwnFailures) {
        await this.recordAttempt(job, { attempt, started, error: shown, code, permanent, final: deadLettered }).catch((e: unknown) =>
          logger.warn('attempt not recorded', { error: errorMessage(e) }),
        );
      }
      await handler
        .failed?.({ data: job.data, attempt, error, shown, code, permanent, cancelled, willRetry })
        .catch((e: unknown) => logger.warn('job failure not recorded', { error: errorMessage(e) }));
      metrics?.jobs.finished.inc({ queue, outcome: cancelled ? 'cancelled' : willRetry ? 'retried' : 'failed' });
      if (deadLettered) metrics?.jobs.finished.inc({ queue, outcome: 'dead_lettered' });
      logger.warn(cancelled ? 'job cancelled' : handler.log.failed, {
        ...fields,
        attempt,
        duration_ms: Date.now() - started,
        permanent,
        will_retry: willRetry,
        error: errorMessage(error),
      });
      throw forTenant(error, reference);
    } finally {
      events.seal();
      runtime.cancels?.release(jobId);
    }
  }

  /** `error` and `code`: the tenant-facing text and code (dead letters are read through the admin API); the detail is in the logs. */
  private async recordAttempt(
    job: Job<unknown>,
    failure: { attempt: number; started: number; error: string; code: string; permanent: boolean; final: boolean },
  ): Promise<void> {
    const deadLetters = this.runtime.deadLetters;
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
   * Refuses a job that was not signed by our producers, before anything of it
   * is read or run: it fails for good, is kept as a dead letter (the evidence),
   * and is logged as a security warning. Whatever tenant it names is only a
   * claim, so nothing of that tenant's (runs, bytes, collections) is touched.
   */
  private async refuse(job: Job<unknown>): Promise<never> {
    const { logger, metrics, deadLetters } = this.runtime;
    const jobId = String(job.id);
    const tenant = fieldsOf(job.data).tenant;
    job.discard();
    logger.warn('security: job refused, it was not queued by the gateway (missing or invalid signature); kept as a dead letter', {
      security: true,
      job_id: jobId,
      queue: job.queue.name,
      job_name: job.name,
      claimed_tenant: typeof tenant === 'string' ? tenant.slice(0, 64) : undefined,
    });
    if (deadLetters) {
      const now = new Date().toISOString();
      await deadLetters
        .recordAttempt(jobId, { attempt: job.attemptsMade + 1, started_at: now, duration_ms: 0, error: JOB_REFUSED, permanent: true })
        // Filed under no tenant (operators only): the tenant it names is the forger's claim.
        .then(() =>
          deadLetters.add({
            job_id: jobId,
            queue: job.queue.name,
            job_name: job.name,
            payload: job.data,
            final_error: JOB_REFUSED,
            failed_at: now,
            tenant: null,
          }),
        )
        .catch((error: unknown) => logger.warn('refused job not dead-lettered', { job_id: jobId, error: errorMessage(error) }));
    }
    metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'failed' });
    if (deadLetters) metrics?.jobs.finished.inc({ queue: job.queue.name, outcome: 'dead_lettered' });
    throw new JobRefusedError();
  }
}

/** The fields of a job's data, whatever it holds. */
function fieldsOf(data: unknown): Record<string, unknown> {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
}

/** The log context of a job: its id and queue, and the request and tenant its data names (validated or not). */
export function jobContext(job: { id: Job['id']; data: unknown; queue: { name: string } }): LogContext {
  const data = fieldsOf(job.data);
  return {
    job_id: String(job.id),
    request_id: typeof data.request_id === 'string' ? data.request_id : undefined,
    tenant: typeof data.tenant === 'string' ? data.tenant : undefined,
    queue: job.queue.name,
  };
}

/** The payload as an instance of its class, or InvalidPayloadError. */
export function validPayload<P extends object>(payloadClass: new () => P, data: unknown): P {
  const checked = validatePlain(payloadClass, data);
  if (!checked.ok) throw new InvalidPayloadError(describeIssues(checked.issues));
  return checked.value;
}

/**
 * `work`, or the signal's reason as soon as it fires: an attempt ends at its
 * deadline (or its cancel) even when the work does not listen to the signal.
 * The work left behind is not awaited; its outcome is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Why the attempt's signal fired, as the error the job should fail with. */
export function abortReason(signal: AbortSignal | undefined, timeout: AbortSignal | undefined, timeoutMs: number | undefined): Error | undefined {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof JobCancelledError) return reason;
  if (timeout?.aborted && reason === timeout.reason) return new JobTimeoutError(timeoutMs ?? 0);
  return reason instanceof Error ? reason : undefined;
}

/** One attempt's view of the job's event stream: closed for good when the attempt ends. */
class AttemptEvents implements JobEventSink {
  private open = true;

  constructor(private readonly writer: JobEventsWriter | undefined) {}

  emit(type: JobEventType, payload: unknown): void {
    if (this.open) this.writer?.emit(type, payload);
  }

  token(text: string): void {
    if (this.open) this.writer?.token(text);
  }

  /** Writes what was emitted; nothing emitted after this is. */
  async close(): Promise<void> {
    this.open = false;
    await this.writer?.close();
  }

  seal(): void {
    this.open = false;
  }
}
