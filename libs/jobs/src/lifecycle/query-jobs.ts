import { FINAL_STATUSES, QueueName, cancelledKey, jobChangedChannel, type JobView, type QueryJobPayload, type WebhookJobPayload } from '@rag/queue-contracts';
import type { Job, Queue } from 'bull';
import { isCancelRequested, requestCancel } from '../cancel-signals';
import type { AttemptRecord, DeadLetter, DeadLetters, TenantScope } from '../dead-letters';
import { verifyJob } from '../job-signature';
import { jobEventsOpener } from './job-events';
import { cancelledByRecord, jobView, readJob } from './job-view';
import type { JobWaiter } from './job-waiter';
import { WebhookRecords } from '../webhooks/webhook-records';
import { QuestionProducer, type QuestionDraft, type QuestionOutcome, type QuestionProducerConfig } from './question-producer';

export type CancelOutcome =
  /** No such job, or another tenant's. */
  | { outcome: 'not_found' }
  /** Completed or failed before the cancel: nothing to stop. */
  | { outcome: 'finished'; view: JobView }
  /** It will never run (removed while waiting), or was cancelled before: `view` says so. */
  | { outcome: 'cancelled'; view: JobView }
  /** It is running: its worker was signalled and stops it within seconds. */
  | { outcome: 'requested'; view: JobView };

/** Queues a final job's webhook (WebhookDeliveries): a job cancelled while waiting never reaches a worker, so its webhook is queued here. */
export interface WebhookQueuer {
  enqueue(draft: Omit<WebhookJobPayload, 'signature'>): Promise<void>;
}

/** A job's tenant; jobs queued before tenancy belong to `default`. */
const tenantOf = (data: { tenant?: unknown } | undefined) => (typeof data?.tenant === 'string' ? data.tenant : 'default');

/**
 * The lifecycle of `rag-query` jobs in one place: enqueue (signed and
 * admitted), read (the view a client sees, from Bull's record and the
 * attempts the worker recorded), wait (long-poll for a final state), cancel
 * (the signal, the removal of a waiting job, its cancelled record, its
 * admission place, the wake-up of waiting readers) and replay.
 *
 * Every read and transition is within one tenant: another tenant's job is
 * the same `undefined` / `not_found` as an unknown one.
 */
export class QueryJobs {
  readonly producer: QuestionProducer;
  private readonly webhooks: WebhookRecords;

  constructor(
    private readonly queue: Queue<QueryJobPayload>,
    private readonly config: QuestionProducerConfig,
    private readonly deadLetters: DeadLetters,
    /** Wakes this process's long-polls on any process's change; without one, `wait` only reads. */
    private readonly waiter?: JobWaiter,
    /** Queues the webhook of a job cancelled while waiting; without one, such a job gets none. */
    private readonly webhookQueuer?: WebhookQueuer,
  ) {
    this.producer = new QuestionProducer(queue, config);
    this.webhooks = new WebhookRecords(queue.client, { prefix: config.QUEUE_PREFIX, retentionSeconds: config.JOB_RETENTION_SECONDS });
  }

  enqueue(draft: QuestionDraft, idempotencyKey?: string): Promise<QuestionOutcome> {
    return this.producer.enqueue(draft, idempotencyKey);
  }

  replay(scope: TenantScope, jobId: string): Promise<DeadLetter | undefined> {
    return this.producer.replay(this.deadLetters, scope, jobId);
  }

  /**
   * The job's view when it belongs to `tenant`. A cancelled job shows as
   * `cancelled` whether it was removed while waiting (its cancelled record)
   * or stopped while active (the worker recorded the attempt as cancelled;
   * where no record tells, a failed job whose cancel was asked for).
   */
  async view(jobId: string, tenant: string): Promise<JobView | undefined> {
    // One round trip: the job, its state and the record of a cancel while it waited (there is no job then).
    const { job, state, extra: cancelled } = await readJob(this.queue, jobId, cancelledKey(this.config.QUEUE_PREFIX, jobId));
    if (!job) {
      const record = this.cancelledRecord(cancelled, tenant);
      return record && (record.webhook ? this.withWebhook(record.view) : record.view);
    }
    if (tenantOf(job.data) !== tenant) return undefined;
    let recorded: Promise<AttemptRecord[]> | undefined;
    const attempts = () => (recorded ??= this.deadLetters.attempts(jobId));
    const view = await jobView(job, state, attempts);
    const shown =
      view.status === 'failed' && (await this.stoppedByCancel(jobId, view, await attempts()))
        ? { ...view, status: 'cancelled' as const, error: undefined }
        : view;
    return (job.data as Partial<QueryJobPayload>).callback_url ? this.withWebhook(shown) : shown;
  }

  /** The view with its webhook's delivery, once one was queued. */
  private async withWebhook(view: JobView): Promise<JobView> {
    const webhook = await this.webhooks.view(view.job_id);
    return webhook ? { ...view, webhook } : view;
  }

  /**
   * The job's view, waiting up to `waitSeconds` for a final state: a waiting
   * reader costs no Redis traffic until its job changes (see JobWaiter).
   * `signal` ends the wait early (the client went away).
   */
  async wait(jobId: string, tenant: string, waitSeconds: number, signal?: AbortSignal): Promise<JobView | undefined> {
    const deadline = Date.now() + waitSeconds * 1000;
    const aborted = new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));
    for (;;) {
      // Registered before the read, so an event between the read and the wait is not lost.
      const wakeup = this.waiter?.next(jobId);
      let timer: NodeJS.Timeout | undefined;
      try {
        const view = await this.view(jobId, tenant);
        const remaining = deadline - Date.now();
        if (!view || FINAL_STATUSES.has(view.status) || remaining <= 0 || signal?.aborted) return view;
        await Promise.race([...(wakeup ? [wakeup.promise] : []), aborted, new Promise<void>((r) => (timer = setTimeout(r, remaining)))]);
      } finally {
        clearTimeout(timer);
        wakeup?.cancel();
      }
    }
  }

  /**
   * Cancels a job: a waiting one is removed and never runs; an active one is
   * signalled and its worker aborts it (its LLM request included) within
   * seconds. A finished job cannot be cancelled.
   */
  async cancel(jobId: string, tenant: string): Promise<CancelOutcome> {
    const { QUEUE_PREFIX: prefix, JOB_RETENTION_SECONDS: ttl } = this.config;
    const { job, state, extra: cancelled } = await readJob(this.queue, jobId, cancelledKey(prefix, jobId));
    if (!job || tenantOf(job.data) !== tenant) {
      const record = job ? undefined : this.cancelledRecord(cancelled, tenant);
      return record ? { outcome: 'cancelled', view: record.webhook ? await this.withWebhook(record.view) : record.view } : { outcome: 'not_found' };
    }
    const view = await jobView(job, state, () => this.deadLetters.attempts(jobId));
    if (view.status === 'completed' || view.status === 'failed') return { outcome: 'finished', view };
    await requestCancel(this.queue.client, prefix, jobId, ttl);
    if (view.status !== 'active') {
      const cancelled = await this.removeWaiting(job, view, tenant).catch(() => undefined);
      if (cancelled) {
        await this.queueWebhook(job);
        return { outcome: 'cancelled', view: cancelled };
      }
      // Otherwise a worker took it between our read and the removal: it is active now and sees the signal.
    }
    return { outcome: 'requested', view: { ...view, status: 'active' } };
  }

  /** Queues the webhook of a job removed by a cancel, when its (signed) payload asks for one. */
  private async queueWebhook(job: Job<QueryJobPayload>): Promise<void> {
    if (!this.webhookQueuer || !verifyJob(this.config, QueueName.Query, job.data) || !job.data.callback_url) return;
    const { tenant, callback_url, request_id } = job.data;
    await this.webhookQueuer.enqueue({ job_id: String(job.id), tenant, callback_url, request_id });
  }

  /** Takes a job that has not started off the queue and records it as cancelled. */
  private async removeWaiting(job: Job, view: JobView, tenant: string): Promise<JobView> {
    const jobId = String(job.id);
    const { QUEUE_PREFIX: prefix, JOB_RETENTION_SECONDS: ttl } = this.config;
    await job.remove();
    await this.producer.admission.removed(tenant, jobId);
    // No worker will ever write to its stream: the end is written here, or its event streams would never end.
    const events = jobEventsOpener(this.queue.client, this.config)(jobId);
    events.emit('status', { status: 'cancelled' });
    await events.close().catch(() => undefined);
    const cancelled: JobView = { ...view, status: 'cancelled', finished_at: new Date().toISOString() };
    // The tenant is kept with the record so other tenants still get a 404, and whether a webhook was asked for
    // (its delivery is then read with the record); both are stripped on read.
    const webhook = Boolean((job.data as Partial<QueryJobPayload>).callback_url);
    await this.queue.client.set(cancelledKey(prefix, jobId), JSON.stringify({ ...cancelled, tenant, webhook }), 'EX', ttl);
    // Bull publishes no event for a removed job: every gateway's long-polls of it (this one's too) wake through Redis.
    await this.queue.client.publish(jobChangedChannel(prefix), jobId);
    return cancelled;
  }

  /**
   * The record of a job removed by a cancel while it waited (as `readJob` read it), when it was `tenant`'s, and
   * whether its webhook's delivery is worth reading (records written before the flag: maybe).
   */
  private cancelledRecord(record: string | null, tenant: string): { view: JobView; webhook: boolean } | undefined {
    if (!record) return undefined;
    const { tenant: owner, webhook, ...view } = JSON.parse(record) as JobView & { tenant?: string; webhook?: boolean };
    return tenantOf({ tenant: owner }) === tenant ? { view, webhook: webhook !== false } : undefined;
  }

  /** Whether a failed job was stopped by a cancel: as its worker recorded, or, where no record tells, whether one was asked for. */
  private async stoppedByCancel(jobId: string, view: JobView, attempts: readonly AttemptRecord[]): Promise<boolean> {
    return cancelledByRecord(view.attempts, attempts) ?? (await isCancelRequested(this.queue.client, this.config.QUEUE_PREFIX, jobId));
  }
}
