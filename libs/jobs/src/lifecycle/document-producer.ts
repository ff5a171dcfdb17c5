import type { Config } from '@rag/config';
import { JobName, QueueName, type IngestJobPayload } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { signJob, type JobSigningConfig } from '../job-signature';
import { ingestJobId, ingestJobOptions } from '../queues';

export type DocumentProducerConfig = JobSigningConfig & Pick<Config, 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS' | 'JOB_RETENTION_SECONDS'>;

/** A document job as its producer states it; the signature is the producer's to add. */
export type DocumentDraft = Omit<IngestJobPayload, 'signature'>;

/**
 * The one way documents reach the `rag-ingest` queue (the gateway's uploads,
 * the CLI's `--via-queue`): each signed, under its run's deterministic id
 * (the same document twice in a run is one job), with the ingest job options,
 * in one round trip.
 */
export class DocumentProducer {
  constructor(
    private readonly queue: Queue<IngestJobPayload>,
    private readonly config: DocumentProducerConfig,
  ) {}

  async enqueue(drafts: readonly DocumentDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    await this.queue.addBulk(
      drafts.map((draft) => ({
        name: JobName.IngestDocument,
        data: signJob(this.config, QueueName.Ingest, draft),
        opts: ingestJobOptions(this.config, ingestJobId(draft.run_id, draft.doc_id)),
      })),
    );
  }
}
