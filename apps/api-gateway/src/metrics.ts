import { JobMetrics, createMetricsRegistry, httpRequestDuration, type Histogram, type Registry } from '@rag/observability';
import { registerQueueMetrics } from '@rag/jobs';
import type { Queue } from 'bull';

export interface GatewayMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  jobs: JobMetrics;
}

/** The gateway's metrics: HTTP durations, jobs enqueued, queue depths of `queues`, Node process metrics. */
export function createGatewayMetrics(queues: Queue[]): GatewayMetrics {
  const registry = createMetricsRegistry('api-gateway');
  registerQueueMetrics(registry, queues);
  return { registry, http: httpRequestDuration(registry), jobs: new JobMetrics(registry) };
}
