import type { Config } from '@rag/config';
import { CollectionVersions, DocumentProducer, IngestRuns, openIngestQueue, withJobSigningKey, type RebuildView } from '@rag/jobs';
import { CollectionEmptyError, CollectionNotFoundError, ReindexInProgressError, createEmbedder, startReindex } from '@rag/retrieval';
import type { Output } from './ingest.command';
import { follow } from './queued-ingest.command';
import { openVersionedStore } from './versioned-store';

const POLL_MS = 250;
/** After the run's last document, how long the CLI waits to see the switch (or the failure) recorded. */
const OUTCOME_WAIT_MS = 60_000;

export interface ReindexOptions {
  collection: string;
  tenant: string;
  graceSeconds: number;
  /** Follow the rebuild to its switch (default); false: start it, print the run id and exit. */
  wait: boolean;
  json?: boolean;
  progress: boolean;
}

/**
 * `rag-ingest reindex --collection <name>`: rebuilds the collection with the
 * current settings (CHUNK_SIZE, CHUNK_OVERLAP, the embedder) through the
 * workers, as one ingest run (progress bar; `rag-ingest status <run>`), while
 * questions keep reading the version in use; the worker that finishes the
 * run switches versions, and the old one is dropped after the grace period.
 * Exit codes: 0 switched (or started, with --no-wait), 1 failed or refused.
 */
export async function reindexCommand(config: Config, options: ReindexOptions, io: Output): Promise<number> {
  const { tenant, collection } = options;
  const store = await openVersionedStore(config);
  const queue = openIngestQueue(config);
  try {
    await queue.isReady();
    const signed = await withJobSigningKey(queue.client, config);
    const runs = new IngestRuns(queue.client, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
    const versions = new CollectionVersions(queue.client, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
    let started;
    try {
      started = await startReindex(
        { store: store.inner, registry: versions, runs, producer: new DocumentProducer(queue, signed), embedder: createEmbedder(config) },
        { tenant, collection, graceSeconds: options.graceSeconds },
      );
    } catch (error) {
      if (error instanceof CollectionNotFoundError || error instanceof ReindexInProgressError || error instanceof CollectionEmptyError) {
        io.err(`error: ${error.message}`);
        return 1;
      }
      throw error;
    }
    const { run_id: runId } = started;
    io.err(
      `run ${runId}: rebuilding collection ${collection} as version ${started.to_version} (${started.documents} documents; version ${started.from_version} answers meanwhile)`,
    );
    if (!options.wait) {
      io.out(options.json ? JSON.stringify({ ...started, status: 'rebuilding' }) : `run ${runId} queued; follow it with: rag-ingest status ${runId}`);
      return 0;
    }
    const run = await follow(runs, runId, started.documents, options.progress, io);
    const outcome = await settled(versions, runId);
    if (options.json) io.out(JSON.stringify({ ...started, ...(outcome ?? {}), chunks: run.chunks, failures: run.failures }));
    if (outcome?.state === 'switched' || outcome?.state === 'old_version_dropped') {
      if (!options.json) {
        io.out(
          `collection ${collection}: switched to version ${outcome.to_version} (${run.chunks} chunks from ${started.documents} documents); ` +
            `version ${outcome.from_version} is dropped after ${outcome.grace_seconds} s (at ${outcome.drop_at})`,
        );
      }
      return 0;
    }
    for (const f of run.failures) io.err(`failed ${f.doc_id}: ${f.error}`);
    io.err(
      outcome?.state === 'failed'
        ? `reindex failed; version ${started.from_version} stays in use: ${outcome.error}`
        : `the run finished but no switch was recorded within ${OUTCOME_WAIT_MS / 1000} s; see rag-ingest status ${runId} and the workers' logs`,
    );
    return 1;
  } finally {
    await queue.close().catch(() => undefined);
    await store.close();
  }
}

/** The rebuild once the finishing worker has decided (switched or failed). */
async function settled(versions: CollectionVersions, runId: string): Promise<RebuildView | undefined> {
  const deadline = Date.now() + OUTCOME_WAIT_MS;
  for (;;) {
    const view = await versions.view(runId);
    if (!view || view.state !== 'rebuilding' || Date.now() > deadline) return view;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
