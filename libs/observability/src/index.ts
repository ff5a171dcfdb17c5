export { currentContext, runWithContext, type LogContext } from './context';
export { createLogger, errorMessage, type Logger, type LoggerOptions } from './logger';
export { JobMetrics, createMetricsRegistry, httpRequestDuration, scrapedGauge, type JobOutcome } from './metrics';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { GENERIC_FAILURE, INTERNAL_ERROR, TenantFacingError, errorCode, forTenant, hasPublicMessage, tenantMessage, type PublicError } from './tenant-message';
export { MASK, redactSecrets, registerSecrets } from './redact';
