import { verifyJob, type CollectionVersions, type JobSigningConfig } from '@rag/jobs';
import type { Logger } from '@rag/observability';
import { DropVersionPayload, QueueName, describeIssues, validatePlain } from '@rag/queue-contracts';
import { dropRetiredVersion, type VectorStore } from '@rag/retrieval';
import type { Job } from 'bull';

export interface DropVersionDeps {
  /** The store under the versions (VersionedVectorStore.inner). */
  store: VectorStore;
  versions: CollectionVersions;
  signing: JobSigningConfig;
  logger: Logger;
}

/**
 * The delayed job a reindex queues at its switch: drops the version it
 * replaced once the grace period is over, unless that version is in use
 * again. Runs only signed jobs; a refused or invalid one fails without
 * retries (Bull keeps it, failed, for the operator).
 */
export function dropVersionProcessor(deps: DropVersionDeps): (job: Job) => Promise<{ dropped: boolean }> {
  return async (job) => {
    if (!verifyJob(deps.signing, QueueName.Ingest, job.data)) {
      deps.logger.error('collection version drop refused: not signed by our producers', { job_id: String(job.id) });
      await job.discard();
      throw new Error('job refused: not signed');
    }
    const checked = validatePlain(DropVersionPayload, job.data);
    if (!checked.ok) {
      await job.discard();
      throw new Error(`invalid drop job: ${describeIssues(checked.issues)}`);
    }
    const { tenant, collection, version, run_id } = checked.value;
    const dropped = await dropRetiredVersion({ store: deps.store, registry: deps.versions, logger: deps.logger }, { tenant, collection, version });
    if (dropped) await deps.versions.markDropped(run_id);
    return { dropped };
  };
}
