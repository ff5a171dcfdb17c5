export { JITTER_BACKOFF, jitteredDelay } from './backoff';
export { CancelSignals, JobCancelledError, isCancelRequested, isCancellation, requestCancel } from './cancel-signals';
export { DeadLetters, openDeadLetters, type AttemptRecord, type DeadLetter, type DeadLetterOptions } from './dead-letters';
export { JobEventsWriter, type JobEventsOptions } from './job-events.writer';
export { openQueryQueue, queryJobOptions } from './queues';
export { replayDeadLetter } from './replay';
export { TenantBacklog, type BacklogCheck } from './tenant-backlog';
