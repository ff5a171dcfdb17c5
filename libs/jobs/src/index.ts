export { JITTER_BACKOFF, jitteredDelay } from './backoff';
export { CancelSignals, JobCancelledError, isCancelRequested, isCancellation, requestCancel } from './cancel-signals';
export { DeadLetters, openDeadLetters, type AttemptRecord, type DeadLetter, type DeadLetterOptions } from './dead-letters';
export { JobEventsWriter, type JobEventsOptions } from './job-events.writer';
export { MAX_STALLED_COUNT, STALLED_OUT, ingestJobId, openIngestQueue, openQueryQueue, queryJobOptions } from './queues';
export { IngestRuns, type IngestOutcome, type IngestRunInfo, type IngestRunStatus } from './ingest-runs';
export { replayDeadLetter } from './replay';
export { TenantBacklog, type BacklogCheck } from './tenant-backlog';
export { registerQueueMetrics } from './queue-metrics';
