export { currentContext, runWithContext, type LogContext } from './context';
export { createLogger, errorMessage, type Logger, type LoggerOptions } from './logger';
export { JobMetrics, breakerStateGauge, createMetricsRegistry, httpRequestDuration, rerankerFallbacks, scrapedGauge, type JobOutcome } from './metrics';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { GENERIC_FAILURE, TenantFacingError, errorCode, forTenant, tenantMessage } from './tenant-message';
/** Re-exported for callers that name the code of a failure no class of ours describes. */
export { INTERNAL_ERROR } from '@rag/core';
export { MASK, redactSecrets, registerSecrets } from './redact';
export {
  activeSpan,
  recordSpan,
  shutdownTracing,
  startSpan,
  startTracing,
  tracingEnabled,
  validTraceparent,
  withSpan,
  type OpenSpan,
  type SpanAttributes,
  type SpanOptions,
  type TraceSpan,
  type TracingSettings,
} from './tracing';
