import { DocumentProducer, type IngestRuns } from '@rag/jobs';
import type { Config } from '@rag/config';
import type { IngestJobPayload } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import type { Output } from './ingest.command';

/** Jobs sent to the queue per round trip. */
const BATCH = 100;
const ROOM_POLL_MS = 1000;
/** Stop waiting for room when the workers freed no byte of the tenant's for this long. */
const NO_PROGRESS_LIMIT_MS = 120_000;

export interface ChangedDocument {
  id: string;
  hash: string;
  size: number;
  read: () => Promise<Buffer>;
}

export interface SendOptions {
  runId: string;
  tenant: string;
  collection: string;
  /** Milliseconds to wait without progress before giving up (tests shorten it). */
  noProgressLimitMs?: number;
}

/**
 * Puts each changed document's bytes in Redis and its job on the queue, in
 * batches. The tenant's bytes waiting in Redis are capped
 * (INGEST_MAX_PENDING_BYTES_PER_TENANT): at the cap the documents stored so
 * far are queued, and the CLI waits for the workers to load some before
 * storing more. If no worker frees anything for a long time it stops and
 * returns the documents it did not send.
 */
export async function sendDocuments(
  config: Config,
  queue: Queue<IngestJobPayload>,
  runs: IngestRuns,
  changed: ChangedDocument[],
  options: SendOptions,
  io: Output,
): Promise<ChangedDocument[]> {
  const { runId, tenant, collection } = options;
  const cap = config.INGEST_MAX_PENDING_BYTES_PER_TENANT;
  const limitMs = options.noProgressLimitMs ?? NO_PROGRESS_LIMIT_MS;
  const producer = new DocumentProducer(queue, config);
  let batch: ChangedDocument[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.enqueue(batch.map((doc) => ({ run_id: runId, tenant, collection, doc_id: doc.id, content_hash: doc.hash, bytes: doc.size })));
    batch = [];
  };
  const ref = (doc: ChangedDocument) => ({ tenant, run_id: runId, doc_id: doc.id });
  let hinted = false;
  try {
    for (let i = 0; i < changed.length; i++) {
      const doc = changed[i];
      const bytes = await doc.read();
      let check = await runs.putContent(ref(doc), bytes, cap);
      if (!check.stored) {
        // Our own stored documents must reach the workers, or the wait could never end.
        await flush();
        let lowest = check.pending;
        let moved = Date.now();
        while (!check.stored) {
          if (!hinted) {
            hinted = true;
            io.err(
              `tenant ${tenant} has ${check.pending} bytes waiting for the workers (INGEST_MAX_PENDING_BYTES_PER_TENANT ${cap}); waiting for them to load earlier documents`,
            );
          }
          if (Date.now() - moved > limitMs) return changed.slice(i);
          await new Promise((r) => setTimeout(r, ROOM_POLL_MS));
          check = await runs.putContent(ref(doc), bytes, cap);
          if (check.pending < lowest) {
            lowest = check.pending;
            moved = Date.now();
          }
        }
      }
      batch.push(doc);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    return [];
  } catch (error) {
    // Stored but never queued: no job would delete them.
    await runs.dropContent(batch.map(ref)).catch(() => undefined);
    throw error;
  }
}
