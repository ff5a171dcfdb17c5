export { currentContext, runWithContext, type LogContext } from './context';
export { createLogger, errorMessage, type Logger, type LoggerOptions } from './logger';
export { JobMetrics, createMetricsRegistry, httpRequestDuration, scrapedGauge, type JobOutcome } from './metrics';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { GENERIC_FAILURE, TenantFacingError, forTenant, hasPublicMessage, tenantMessage, type PublicError } from './tenant-message';
