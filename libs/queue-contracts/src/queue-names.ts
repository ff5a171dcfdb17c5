/**
 * Queue and job names shared by every producer and consumer.
 *
 * WARNING: these strings are the keys of live data in Redis. Renaming one
 * strands every job already queued under the old name: ship a migration note
 * (drain the old queue, or move its jobs) with any change here.
 */
export const QueueName = {
  /** Interactive questions: small, latency-sensitive jobs. */
  Query: 'rag-query',
  /** Bulk document loading; never allowed to delay questions. */
  Ingest: 'rag-ingest',
  /** Signed webhook deliveries of finished jobs, retried with backoff. */
  Webhooks: 'rag-webhooks',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  Answer: 'answer',
  IngestDocument: 'ingest-document',
  DeliverWebhook: 'deliver-webhook',
  /** On the ingest queue, delayed: drops the collection version a reindex replaced once its grace period is over. */
  DropCollectionVersion: 'drop-collection-version',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];
