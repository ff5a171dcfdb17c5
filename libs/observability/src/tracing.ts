import { TRACEPARENT_PATTERN } from '@rag/core';
import type { OpenSpan, SpanAttributes, SpanOptions, TimedSpan, TraceSpan, TracingBackend } from './tracing-types';

/**
 * Traces (OpenTelemetry), on when OTEL_EXPORTER_OTLP_ENDPOINT is set: one
 * trace per question, from the gateway's request through the queue wait to
 * the worker's retrieval and LLM calls. Off, every helper here is a no-op and
 * the SDK is never loaded (tracing-sdk.ts is required only by startTracing),
 * so a process without traces keeps its memory at rest.
 *
 * Attributes are ids, names and counts only: never a question, a document's
 * text or a secret.
 */
export type { OpenSpan, SpanAttributes, SpanKindName, SpanOptions, TraceSpan } from './tracing-types';

/** What tracing is configured with (from @rag/config). */
export interface TracingSettings {
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
  OTEL_SERVICE_NAME: string;
}

const NOOP: TimedSpan = { setAttributes: () => undefined, traceparent: () => undefined, end: () => undefined };

let backend: TracingBackend | undefined;

/**
 * Starts exporting spans over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set, as OTEL_SERVICE_NAME or
 * `defaultService`. Returns whether tracing is on. Call once at start.
 */
export function startTracing(settings: TracingSettings, defaultService: string, version?: string): boolean {
  if (settings.OTEL_EXPORTER_OTLP_ENDPOINT === '' || backend) return backend !== undefined;
  // A require, not an import: the SDK is loaded only here, only when tracing is on.
  const sdk = require('./tracing-sdk') as typeof import('./tracing-sdk');
  backend = sdk.startBackend({
    endpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: settings.OTEL_SERVICE_NAME || defaultService,
    version,
  });
  return true;
}

/** Whether spans are recorded. */
export function tracingEnabled(): boolean {
  return backend !== undefined;
}

/** Exports the spans still buffered and stops tracing (at shutdown). */
export async function shutdownTracing(): Promise<void> {
  const stopping = backend;
  backend = undefined;
  await stopping?.shutdown();
}

/** A traceparent, when it is one in W3C's exact form (what a job carries, or a client sends). */
export function validTraceparent(value: unknown): string | undefined {
  return typeof value === 'string' && TRACEPARENT_PATTERN.test(value) ? value : undefined;
}

/**
 * Runs `fn` inside a new span (the active span's child, or `options.parent`'s)
 * and ends it when `fn` settles; a failure marks the span failed and is
 * rethrown. With tracing off, just runs `fn`.
 */
export function withSpan<T>(name: string, attributes: SpanAttributes, fn: (span: TraceSpan) => Promise<T> | T, options: SpanOptions = {}): Promise<T> {
  if (!backend) return Promise.resolve().then(() => fn(NOOP));
  return backend.withSpan(name, attributes, fn, options);
}

/** Starts a span its caller ends (not made active: pass its traceparent() as the parent of its children). */
export function startSpan(name: string, attributes: SpanAttributes, options: SpanOptions = {}): OpenSpan {
  return backend ? backend.startSpan(name, attributes, options) : NOOP;
}

/** Records a span that has already happened, from `start` to `end` (ms since the epoch): a job's wait in the queue. */
export function recordSpan(name: string, attributes: SpanAttributes, start: number, end: number, options: Omit<SpanOptions, 'startTime'> = {}): void {
  if (!backend) return;
  backend.startSpan(name, attributes, { ...options, startTime: start }).end(undefined, end);
}

/** The active span (a job's, a request's), to add attributes to; a no-op one when none or tracing is off. */
export function activeSpan(): TraceSpan {
  return backend?.activeSpan() ?? NOOP;
}
