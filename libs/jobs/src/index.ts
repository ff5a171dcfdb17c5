export { JITTER_BACKOFF, jitteredDelay } from './backoff';
export { CancelSignals, JobCancelledError, isCancelRequested, requestCancel } from './cancel-signals';
export { ALL_TENANTS, DeadLetters, openDeadLetters, type AttemptRecord, type DeadLetter, type DeadLetterOptions, type TenantScope } from './dead-letters';
export { JOB_REFUSED, signJob, verifyJob, withJobSigningKey, type JobSigningConfig, type Signed } from './job-signature';
export { JobEventsWriter, type JobEventsOptions } from './job-events.writer';
export { JOB_EVENTS_CONNECTION, JobEventsFanout, type JobEventsFanoutOptions } from './job-events.fanout';
export {
  InvalidEventIdError,
  JobEventsUnavailableError,
  SubscriberLimitError,
  SubscriberTooSlowError,
  isTerminalEvent,
  parseEventId,
  type JobEventsSubscription,
  type StreamedJobEvent,
} from './job-events.reader';
export {
  MAX_STALLED_COUNT,
  STALLED_OUT,
  WORKER_LOST,
  ingestJobId,
  ingestJobOptions,
  openIngestQueue,
  openQueryQueue,
  openWebhookQueue,
  queryJobOptions,
} from './queues';
export { type ContentRef, type PendingCheck } from './ingest-content';
export { DocumentBusyError, DocumentLockLostError, DocumentLocks, type DocumentLockOptions } from './document-locks';
export {
  CollectionVersions,
  type CollectionVersionView,
  type DropQueue,
  type RebuildRecord,
  type RebuildStateName,
  type RebuildView,
} from './collection-versions';
export { IngestRuns, type IngestOutcome, type IngestRunInfo, type IngestRunStatus } from './ingest-runs';
export { DeadLetterNotReplayableError, replayDeadLetter } from './replay';
export { QuestionAdmission, type Admission, type AdmissionOutcome, type AdmissionRequest, type AdmittedJob } from './question-admission';
export { RedisScript } from './redis-script';
export { registerQueueMetrics } from './queue-metrics';
export { WorkerHeartbeat, WorkerHeartbeats, type WorkerHeartbeatOptions, type WorkerIdentity, type WorkerStatus } from './worker-heartbeats';
export { idempotentJobId, newJobId } from './lifecycle/job-ids';
export { JobWaiter, type Wakeup } from './lifecycle/job-waiter';
export { jobEventsOpener } from './lifecycle/job-events';
export { QuestionProducer, type QuestionDraft, type QuestionOutcome, type QuestionProducerConfig } from './lifecycle/question-producer';
export { DocumentProducer, type DocumentDraft, type DocumentProducerConfig } from './lifecycle/document-producer';
export { QueryJobs, type CancelOutcome } from './lifecycle/query-jobs';
export {
  InvalidPayloadError,
  JobRefusedError,
  JobRunner,
  JobTimeoutError,
  type AttemptFailure,
  type JobEventSink,
  type JobHandler,
  type JobRunnerMetrics,
  type JobRunnerRuntime,
  type JobSummary,
  type RunningJob,
} from './job-runner';
export { NO_ALLOWED_HOSTS, forbiddenRange, parseAllowList, refusedAddress, refusedCallbackUrl, type WebhookAllowList } from './webhooks/webhook-address';
export { deliverWebhook, type DeliveryResult } from './webhooks/webhook-delivery';
export { WebhookDeliveries, type WebhookConfig } from './webhooks/webhook-deliveries';
export { WebhookRecords } from './webhooks/webhook-records';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature, webhookSecretKey, withWebhookSigningSecret } from './webhooks/webhook-signature';
