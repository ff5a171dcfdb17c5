import type { Config } from '@rag/config';
import { IngestRuns, openIngestQueue, withJobSigningKey, type IngestRunStatus } from '@rag/jobs';
import { SUPPORTED_EXTENSIONS, contentHash } from '@rag/retrieval';
import { randomUUID } from 'node:crypto';
import { discoverFiles } from '../discover-files';
import { documentsBar } from '../progress-bar';
import type { IngestCommandOptions, Output } from './ingest.command';
import { sendDocuments, type ChangedDocument } from './send-documents';
import { openVersionedStore } from './versioned-store';

const POLL_MS = 250;
/** Say once that no worker seems to be running when nothing moved for this long. */
const IDLE_HINT_MS = 15_000;

export interface QueuedIngestOptions extends IngestCommandOptions {
  /** Wait for the workers and show progress (default); false: queue, print the run id, and exit. */
  wait?: boolean;
}

/**
 * `rag-ingest <paths> --via-queue`: one `rag-ingest` job per changed
 * document, loaded by the workers beside their questions. The CLI compares
 * content hashes with the collection first (one listing), so unchanged files
 * are not even sent; the bytes of the others wait in Redis until a worker
 * takes them (within the tenant's pending bytes; see sendDocuments). It then follows the run in a progress bar, prunes if asked,
 * and prints the same summary as a direct load.
 */
export async function queuedIngestCommand(config: Config, targets: string[], options: QueuedIngestOptions, io: Output): Promise<number> {
  const tenant = options.tenant ?? 'default';
  const { collection } = options;
  const discovery = await discoverFiles(targets);
  for (const file of discovery.unsupported) io.err(`skipped ${file}: unsupported file type (supported: ${SUPPORTED_EXTENSIONS.join(', ')})`);
  if (discovery.files.length === 0) {
    io.err(`no supported documents found in ${targets.join(', ')}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
    return 1;
  }

  const store = await openVersionedStore(config);
  const queue = openIngestQueue(config);
  const started = Date.now();
  try {
    await queue.isReady();
    const runs = new IngestRuns(queue.client, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
    const known = new Map((await store.listDocuments(tenant, collection)).map((d) => [d.docId, d.contentHash]));

    // Hash first (bytes are not kept), so unchanged files cost no upload.
    const changed: ChangedDocument[] = [];
    const notSent: { id: string; error: string }[] = [];
    let unchanged = 0;
    for (const file of discovery.files) {
      const bytes = await file.read();
      if (bytes.length > config.INGEST_MAX_DOCUMENT_BYTES) {
        notSent.push({
          id: file.id,
          error: `${bytes.length} bytes is over INGEST_MAX_DOCUMENT_BYTES (${config.INGEST_MAX_DOCUMENT_BYTES}); raise it or split the file`,
        });
        continue;
      }
      if (bytes.length > config.INGEST_MAX_PENDING_BYTES_PER_TENANT) {
        notSent.push({
          id: file.id,
          error: `${bytes.length} bytes is over INGEST_MAX_PENDING_BYTES_PER_TENANT (${config.INGEST_MAX_PENDING_BYTES_PER_TENANT}); raise it or split the file`,
        });
        continue;
      }
      const hash = contentHash(bytes);
      if (known.get(file.id) === hash) unchanged++;
      else changed.push({ id: file.id, hash, size: bytes.length, read: file.read });
    }

    const runId = randomUUID();
    await runs.create({ run_id: runId, tenant, collection, queued: changed.length, unchanged, created_at: new Date().toISOString() });
    // Jobs are signed with the key the workers check (JOB_SIGNING_KEY, or the one shared through Redis).
    const unsent = await sendDocuments(await withJobSigningKey(queue.client, config), queue, runs, changed, { runId, tenant, collection }, io);
    if (unsent.length > 0) {
      // The run counts only what was sent, so it can finish.
      await runs.addQueued(runId, -unsent.length);
      for (const doc of unsent) {
        notSent.push({
          id: doc.id,
          error:
            'not sent: the workers loaded nothing of this tenant for a long time while its pending bytes were at INGEST_MAX_PENDING_BYTES_PER_TENANT; start a worker, then run the same command again',
        });
      }
    }
    const sent = changed.length - unsent.length;
    io.err(`run ${runId}: ${sent} document(s) queued for collection ${collection}, ${unchanged} unchanged (not sent)`);
    if (options.wait === false) {
      io.out(options.json ? JSON.stringify({ run_id: runId, queued: sent, unchanged }) : `run ${runId} queued; follow it with: rag-ingest status ${runId}`);
      return notSent.length + discovery.unsupported.length > 0 ? 1 : 0;
    }

    const status = await follow(runs, runId, sent, options.progress !== false, io);
    let removed: string[] = [];
    if (options.prune) {
      const present = new Set(discovery.files.map((f) => f.id));
      removed = [...known.keys()].filter((id) => !present.has(id)).sort();
      for (const id of removed) await store.deleteDocument(tenant, collection, id);
    }
    // The worker that finished the run's last document indexed the collection; only pruning is left to fold in.
    if (removed.length > 0) await store.compact(tenant, collection);

    const failed = [...notSent, ...status.failures.map((f) => ({ id: f.doc_id, error: f.error }))];
    const seconds = (Date.now() - started) / 1000;
    for (const failure of failed) io.err(`failed ${failure.id}: ${failure.error}`);
    if (options.json) {
      io.out(
        JSON.stringify({
          run_id: runId,
          tenant,
          collection,
          documents: discovery.files.length,
          added: status.added,
          updated: status.updated,
          unchanged: status.skipped,
          failed,
          chunks: status.chunks,
          removed,
          dryRun: false,
          seconds,
          skipped: discovery.skipped.length,
        }),
      );
    } else {
      io.out(
        `collection ${collection}: ${discovery.files.length} documents (${status.added} added, ${status.updated} updated, ${status.skipped} unchanged, ` +
          `${failed.length} failed${options.prune ? `, ${removed.length} removed` : ''}), ${status.chunks} chunks embedded in ${seconds.toFixed(2)} s (run ${runId})`,
      );
    }
    const failures = failed.length + discovery.unsupported.length;
    if (failures > 0) {
      io.err(`${failures} file(s) not loaded; fix or remove them and run the same command again (unchanged documents are skipped)`);
      return 1;
    }
    return 0;
  } finally {
    await queue.close().catch(() => undefined);
    await store.close();
  }
}

/** Follows a run until every queued document is done, with a progress bar on stderr. */
export async function follow(runs: IngestRuns, runId: string, total: number, showProgress: boolean, io: Output): Promise<IngestRunStatus> {
  const bar = documentsBar(io.stream);
  const started = Date.now();
  if (showProgress) bar.start(total, 0, { chunks: 0, failed: 0, rate: '0.0' });
  let lastDone = -1;
  let lastMove = Date.now();
  let hinted = false;
  try {
    for (;;) {
      const status = await runs.get(runId);
      if (!status) throw new Error(`run ${runId} disappeared from Redis (was it flushed?); load the documents again`);
      const done = status.done;
      if (showProgress)
        bar.update(done, { chunks: status.chunks, failed: status.failed, rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
      if (status.finished) return status;
      if (done !== lastDone) {
        lastDone = done;
        lastMove = Date.now();
      } else if (!hinted && Date.now() - lastMove > IDLE_HINT_MS) {
        hinted = true;
        io.err(
          `\nno document finished in ${IDLE_HINT_MS / 1000} s: is a worker running (npm start, or nx serve rag-worker with INGEST_CONCURRENCY ≥ 1)? The run waits in the queue; Ctrl-C leaves it there (rag-ingest status ${runId}).`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    if (showProgress) bar.stop();
  }
}

/** `rag-ingest status <run>`: what a queued run has done so far. */
export async function statusCommand(config: Config, runId: string, json: boolean, io: Output): Promise<number> {
  const queue = openIngestQueue(config);
  try {
    await queue.isReady();
    const status = await new IngestRuns(queue.client, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS).get(runId);
    if (!status) {
      io.err(`no run ${runId}: runs are kept for JOB_RETENTION_SECONDS (${config.JOB_RETENTION_SECONDS} s); check the id printed by "rag-ingest --via-queue"`);
      return 1;
    }
    if (json) io.out(JSON.stringify(status));
    else {
      io.out(
        `run ${status.run_id} (tenant ${status.tenant}, collection ${status.collection}, started ${status.created_at}): ${status.status}, ` +
          `${status.done}/${status.queued} queued documents done (${status.added} added, ${status.updated} updated, ${status.skipped} unchanged, ${status.failed} failed), ${status.chunks} chunks`,
      );
      for (const f of status.failures) io.out(`failed ${f.doc_id}: ${f.error}`);
    }
    return 0;
  } finally {
    await queue.close().catch(() => undefined);
  }
}
