import type { Breaker } from '@rag/core';
import {
  JobMetrics,
  breakerStateGauge,
  createMetricsRegistry,
  httpRequestDuration,
  rerankerFallbacks,
  scrapedGauge,
  type Counter,
  type Histogram,
  type Registry,
} from '@rag/observability';
import { registerQueueMetrics, type JobEventsFanout, type WorkerHeartbeats } from '@rag/jobs';
import type { Queue } from 'bull';

export interface GatewayMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  jobs: JobMetrics;
  /** Searches that kept the mode's order because the reranker failed. */
  rerankFallbacks: Counter;
}

/**
 * The gateway's metrics: HTTP durations, jobs enqueued, queue depths of
 * `queues`, live workers, open event streams, the state of the `breakers` of
 * what the gateway calls itself (the reranker of searches), reranker
 * fallbacks, Node process metrics.
 */
export function createGatewayMetrics(
  queues: Queue[],
  workers: WorkerHeartbeats,
  eventsFanout: JobEventsFanout,
  breakers: readonly Breaker[] = [],
): GatewayMetrics {
  const registry = createMetricsRegistry('api-gateway');
  breakerStateGauge(registry, breakers);
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
  return { registry, http: httpRequestDuration(registry), jobs: new JobMetrics(registry), rerankFallbacks: rerankerFallbacks(registry) };
}
