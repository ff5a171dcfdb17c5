import type { JobRunnerRuntime } from '@rag/jobs';
import type { WorkerMetrics } from './metrics';

/** What the worker gives the runners of its queues: the job runner's runtime, with the worker's own metrics. */
export interface WorkerRuntime extends JobRunnerRuntime {
  metrics?: WorkerMetrics;
}
