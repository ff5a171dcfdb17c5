import { JobMetrics, createMetricsRegistry, httpRequestDuration, scrapedGauge, type Histogram, type Registry } from '@rag/observability';
import { registerQueueMetrics, type JobEventsFanout, type WorkerHeartbeats } from '@rag/jobs';
import type { Queue } from 'bull';

export interface GatewayMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  jobs: JobMetrics;
}

/** The gateway's metrics: HTTP durations, jobs enqueued, queue depths of `queues`, live workers, open event streams, Node process metrics. */
export function createGatewayMetrics(queues: Queue[], workers: WorkerHeartbeats, eventsFanout: JobEventsFanout): GatewayMetrics {
  const registry = createMetricsRegistry('api-gateway');
  registerQueueMetrics(registry, queues);
  scrapedGauge(registry, 'rag_workers', 'Workers whose heartbeat is younger than WORKER_STALE_SECONDS.', [], async (gauge) => {
    gauge.set(await workers.aliveCount());
  });
  scrapedGauge(
    registry,
    'rag_event_streams',
    'Job event streams (SSE, streamed chat completions) this gateway serves now; capped by SSE_MAX_CLIENTS.',
    [],
    (gauge) => {
      gauge.set(eventsFanout.subscriberCount);
    },
  );
  return { registry, http: httpRequestDuration(registry), jobs: new JobMetrics(registry) };
}
