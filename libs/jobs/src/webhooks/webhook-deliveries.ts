import { PermanentError, RetryableError } from '@rag/core';
import type { Config } from '@rag/config';
import { errorMessage, runWithContext, type Logger } from '@rag/observability';
import { JobName, QueueName, WebhookJobPayload, type QueryJobPayload, type WebhookAttempt, type WebhookStatus } from '@rag/queue-contracts';
import type { Job, Queue } from 'bull';
import { JobRefusedError, validPayload } from '../job-runner';
import { signJob, verifyJob, type JobSigningConfig } from '../job-signature';
import { jobState } from '../lifecycle/job-view';
import type { QueryJobs } from '../lifecycle/query-jobs';
import { webhookJobOptions } from '../queues';
import { parseAllowList, type WebhookAllowList } from './webhook-address';
import { deliverWebhook, type DeliveryResult } from './webhook-delivery';
import type { WebhookRecords } from './webhook-records';
import { SIGNATURE_HEADER, signWebhook, type WebhookSigningConfig } from './webhook-signature';

export type WebhookConfig = JobSigningConfig &
  WebhookSigningConfig &
  Pick<Config, 'QUEUE_PREFIX' | 'JOB_RETENTION_SECONDS' | 'WEBHOOK_ATTEMPTS' | 'WEBHOOK_BACKOFF_MS' | 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_ALLOWED_HOSTS'>;

/** A receiver's answer worth another attempt: it may succeed later. */
const retryableStatus = (code: number) => code === 408 || code === 429 || code >= 500;

/** What an attempt's result means for the webhook. */
function outcomeOf(result: DeliveryResult): WebhookAttempt['outcome'] {
  if (result.kind === 'refused') return 'refused';
  if (result.kind === 'network') return 'retry';
  if (result.statusCode >= 200 && result.statusCode < 300) return 'delivered';
  return retryableStatus(result.statusCode) ? 'retry' : 'failed';
}

/**
 * Webhooks of `rag-query` jobs: queued on `rag-webhooks` (signed, one per
 * job) when a job reaches its final state, and delivered by the workers
 * with Bull's retries and backoff. Each attempt is recorded with the job
 * (WebhookRecords), which the job view shows.
 */
export class WebhookDeliveries {
  private readonly allow: WebhookAllowList;

  constructor(
    private readonly queue: Queue<WebhookJobPayload>,
    private readonly records: WebhookRecords,
    private readonly config: WebhookConfig,
  ) {
    this.allow = parseAllowList(config.WEBHOOK_ALLOWED_HOSTS);
  }

  /**
   * For the `rag-query` queue's `completed` and `failed` events (Bull fires
   * them once the job's state is stored): queues the webhook of a job that
   * asked for one and is final (a failed attempt with retries left is not).
   */
  readonly jobFinished = async (job: Job<unknown> | null): Promise<void> => {
    if (!job) return;
    // Only a payload one of our producers signed names a callback_url we may call.
    if (!verifyJob(this.config, QueueName.Query, job.data)) return;
    const data = job.data as QueryJobPayload;
    if (!data.callback_url) return;
    const state = await jobState(job.queue, String(job.id));
    if (state !== 'completed' && state !== 'failed') return;
    await this.enqueue({ job_id: String(job.id), tenant: data.tenant, callback_url: data.callback_url, request_id: data.request_id });
  };

  /** Queues the delivery of a final job's record (once per job: the job id is the webhook's). */
  async enqueue(draft: Omit<WebhookJobPayload, 'signature'>): Promise<void> {
    await this.records.setStatus(draft.job_id, 'pending');
    await this.queue.add(JobName.DeliverWebhook, signJob(this.config, QueueName.Webhooks, draft), webhookJobOptions(this.config, draft.job_id));
  }

  /** Bull's processor of `rag-webhooks`: one delivery attempt of one job's record. */
  processor(jobs: QueryJobs, logger: Logger): (job: Job<unknown>) => Promise<void> {
    return async (job) => {
      if (!verifyJob(this.config, QueueName.Webhooks, job.data)) {
        job.discard();
        logger.warn('security: webhook job refused, it was not queued by a worker (missing or invalid signature)', { security: true, job_id: String(job.id) });
        throw new JobRefusedError();
      }
      const payload = validPayload(WebhookJobPayload, job.data);
      const context = { job_id: payload.job_id, request_id: payload.request_id, tenant: payload.tenant, queue: QueueName.Webhooks };
      return runWithContext(context, () => this.attempt(job, payload, jobs, logger));
    };
  }

  private async attempt(job: Job<unknown>, payload: WebhookJobPayload, jobs: QueryJobs, logger: Logger): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const view = await jobs.view(payload.job_id, payload.tenant);
    const started = Date.now();
    let result: DeliveryResult;
    if (!view) result = { kind: 'refused', error: 'the job record expired before its webhook was delivered' };
    else {
      const { webhook: _own, ...record } = view;
      const body = JSON.stringify(record);
      result = await deliverWebhook(payload.callback_url, body, {
        allow: this.allow,
        timeoutMs: this.config.WEBHOOK_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'rag-webhooks/1',
          [SIGNATURE_HEADER]: signWebhook(this.config, body, Math.floor(Date.now() / 1000)),
          'x-rag-job-id': payload.job_id,
          'x-rag-delivery-attempt': String(attempt),
        },
      });
    }
    let outcome = outcomeOf(result);
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    if (outcome === 'retry' && lastAttempt) outcome = 'failed';
    const status: WebhookStatus = outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'pending' : 'failed';
    const record: WebhookAttempt = {
      attempt,
      at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      ...(result.kind === 'answered' ? { status_code: result.statusCode } : { error: result.error }),
      outcome,
    };
    await this.records
      .recordAttempt(payload.job_id, record, status)
      .catch((e: unknown) => logger.warn('webhook attempt not recorded', { error: errorMessage(e) }));
    const fields = { attempt, outcome, status_code: record.status_code, error: record.error, duration_ms: record.duration_ms };
    if (outcome === 'delivered') {
      logger.info('webhook delivered', fields);
      return;
    }
    logger.warn(outcome === 'retry' ? 'webhook not delivered; it will be retried' : 'webhook not delivered; giving up', fields);
    const reason = record.error ?? `the receiver answered ${record.status_code}`;
    if (outcome === 'retry') throw new RetryableError(`webhook not delivered: ${reason}`);
    job.discard();
    throw new PermanentError(`webhook not delivered: ${reason}`);
  }
}
