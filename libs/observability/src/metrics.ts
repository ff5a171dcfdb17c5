import type { Breaker } from '@rag/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds buckets for HTTP requests: sub-millisecond gateway answers up to long-polls. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds buckets for jobs and their stages: LLM answers take seconds, ingest jobs longer. */
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * One process's Prometheus registry: Node's process metrics (prefixed
 * `rag_process_…`/`nodejs_…` by prom-client) and a `service` label on every
 * series, so the gateway's and the workers' series never mix.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // Gauges that prom-client names `_total`, which Prometheus keeps for counters (promtool refuses them);
  // the same figures are in nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return registry;
}

export type JobOutcome = 'completed' | 'failed' | 'retried' | 'cancelled' | 'dead_lettered';

/** The job counters and histograms, the same names in every process that has them. */
export class JobMetrics {
  readonly enqueued: Counter<'queue'>;
  readonly finished: Counter<'queue' | 'outcome'>;
  readonly duration: Histogram<'queue' | 'stage'>;

  constructor(registry: Registry) {
    this.enqueued = new Counter({
      name: 'rag_jobs_enqueued_total',
      help: 'Jobs put on a queue by this process.',
      labelNames: ['queue'],
      registers: [registry],
    });
    this.finished = new Counter({
      name: 'rag_jobs_finished_total',
      help: 'Job attempts that ended, by outcome: completed, failed (for good), retried (will run again), cancelled, dead_lettered.',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'rag_job_duration_seconds',
      help: 'Time a job spent, by stage: queued (waiting for a worker), retrieve, generate, ingest, total.',
      labelNames: ['queue', 'stage'],
      buckets: JOB_BUCKETS,
      registers: [registry],
    });
  }
}

/** HTTP request duration by method, route template and status; for the gateway. */
export function httpRequestDuration(registry: Registry): Histogram<'method' | 'route' | 'status'> {
  return new Histogram({
    name: 'rag_http_request_duration_seconds',
    help: 'HTTP requests answered by the gateway, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
}

/** A gauge whose value is read when Prometheus scrapes. */
export function scrapedGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  read: (gauge: Gauge<L>) => Promise<void> | void,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      await read(this);
    },
  });
}

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

/**
 * `rag_circuit_breaker_state{dependency, state}`: 1 for each breaker's
 * current state, 0 for the others, read when scraped. The same series in
 * every process that calls a guarded dependency (the workers' LLM, embeddings
 * and vector store; the reranker wherever it runs).
 */
export function breakerStateGauge(registry: Registry, breakers: readonly Breaker[]): Gauge<'dependency' | 'state'> {
  return scrapedGauge(
    registry,
    'rag_circuit_breaker_state',
    'Circuit breaker state per dependency: 1 for the current state, 0 for the others.',
    ['dependency', 'state'],
    (gauge) => {
      for (const breaker of breakers) for (const state of BREAKER_STATES) gauge.set({ dependency: breaker.name, state }, breaker.state === state ? 1 : 0);
    },
  );
}

/** `rag_reranker_fallbacks_total`: results that kept the fused order because the reranker failed. */
export function rerankerFallbacks(registry: Registry): Counter {
  return new Counter({
    name: 'rag_reranker_fallbacks_total',
    help: 'Answers or searches that went ahead in fused order because the reranker (RERANKER=http) failed; each failure is logged as a warning with its reason.',
    registers: [registry],
  });
}
