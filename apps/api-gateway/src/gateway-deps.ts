import type { Authenticator } from '@rag/auth';
import type { Config } from '@rag/config';
import type { DeadLetters, WorkerHeartbeats } from '@rag/jobs';
import type { Logger } from '@rag/observability';
import type { IngestJobPayload, QueryJobPayload } from '@rag/queue-contracts';
import type { VectorStore } from '@rag/retrieval';
import type { Queue } from 'bull';
import type { JobWaiter } from './job-waiter';
import type { GatewayMetrics } from './metrics';

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  queue: Queue<QueryJobPayload>;
  /** Uploaded documents go here, one job each, for the workers to load. */
  ingestQueue: Queue<IngestJobPayload>;
  waiter: JobWaiter;
  /** The tenant's collections and documents (listing and deleting; loading goes through the CLI). */
  store: VectorStore;
  deadLetters: DeadLetters;
  /** API keys and whether they are required. */
  auth: Authenticator;
  /** Prometheus metrics served at /metrics. */
  metrics: GatewayMetrics;
  /** The workers' heartbeats: GET /v1/admin/workers, the rag_workers gauge, /readyz's `degraded`. */
  workers: WorkerHeartbeats;
  /** Named dependency checks for /readyz; each rejects when its dependency is down. */
  readiness: Record<string, () => Promise<unknown>>;
}
