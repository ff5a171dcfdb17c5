import type { Breaker } from '@rag/core';
import type { LlmResilience } from '@rag/llm-client';
import type { Logger } from '@rag/observability';
import { Counter, JobMetrics, breakerStateGauge, createMetricsRegistry, errorMessage, rerankerFallbacks, type Registry } from '@rag/observability';
import { createServer, type Server } from 'node:http';

export interface WorkerMetrics {
  registry: Registry;
  jobs: JobMetrics;
  /** LLM tokens spent on answers, by kind (prompt, completion). */
  tokens: Counter<'kind'>;
  /** Answers that went ahead in fused order because the reranker failed. */
  rerankFallbacks: Counter;
}

/**
 * A worker's metrics: job outcomes and durations by stage, LLM tokens,
 * reranker fallbacks, circuit-breaker states, waits for the shared rate limits, and Node's
 * process metrics.
 */
export function createWorkerMetrics(breakers: Breaker[], resilience: LlmResilience): WorkerMetrics {
  const registry = createMetricsRegistry('rag-worker');
  breakerStateGauge(registry, breakers);
  // Read from the throttle's running totals when scraped.
  new Counter({
    name: 'rag_llm_rate_limit_waits_total',
    help: 'Times a call to the LLM provider waited for LLM_RPM/LLM_TPM or a Retry-After pause.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(resilience.throttle.waits.count);
    },
  });
  new Counter({
    name: 'rag_llm_rate_limit_wait_seconds_total',
    help: 'Seconds calls to the LLM provider spent waiting for the shared limits.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(resilience.throttle.waits.seconds);
    },
  });
  const tokens = new Counter({ name: 'rag_llm_tokens_total', help: 'LLM tokens spent on answers, by kind.', labelNames: ['kind'], registers: [registry] });
  const rerankFallbacks = rerankerFallbacks(registry);
  return { registry, jobs: new JobMetrics(registry), tokens, rerankFallbacks };
}

/**
 * The worker's side port: /metrics for Prometheus, /healthz (the process
 * answers) and /readyz (Redis answers) for probes. A port already taken is
 * logged, not fatal: several workers on one machine set WORKER_METRICS_PORT
 * apart, or 0 for any free port.
 */
export function serveWorkerMetrics(metrics: WorkerMetrics, port: number, host: string, ready: () => Promise<unknown>, logger: Logger): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'application/json', JSON.stringify({ error: { code: 'method_not_allowed', message: 'GET only' } }));
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(200, metrics.registry.contentType, text),
        (error: unknown) => send(500, 'application/json', JSON.stringify({ error: { code: 'metrics_failed', message: errorMessage(error) } })),
      );
    } else if (path === '/healthz') {
      send(200, 'application/json', '{"status":"ok"}');
    } else if (path === '/readyz') {
      ready().then(
        () => send(200, 'application/json', '{"status":"ready"}'),
        () => send(503, 'application/json', '{"status":"not_ready","checks":{"redis":{"ok":false}}}'),
      );
    } else {
      send(404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: 'the worker serves /metrics, /healthz and /readyz' } }));
    }
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    logger.warn('metrics port not available; this worker runs without /metrics', {
      port,
      error: errorMessage(error),
      hint: error.code === 'EADDRINUSE' ? 'another process uses it: give each worker its own WORKER_METRICS_PORT, or 0 for any free port' : undefined,
    });
  });
  server.listen(port, host, () => {
    const address = server.address();
    logger.info('metrics listening', { url: `http://${host}:${typeof address === 'object' && address ? address.port : port}/metrics` });
  });
  return server;
}
