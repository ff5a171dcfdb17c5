// The OpenTelemetry SDK behind tracing.ts: required only by startTracing, so a
// process with tracing off never loads it (see tracing.int.spec.ts).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { errorCode } from './tenant-message';
import type { SpanAttributes, SpanKindName, SpanOptions, TimedSpan, TracingBackend } from './tracing-types';

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Attributes without the undefined ones (OpenTelemetry drops them with a warning). */
function defined(attributes: SpanAttributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)) as Attributes;
}

/** The context a span starts in: the remote parent a traceparent names, else the active one. */
function parentContext(traceparent: string | undefined): Context {
  if (!traceparent) return context.active();
  const [, traceId, spanId, flags] = traceparent.split('-');
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: parseInt(flags, 16) & 1, isRemote: true });
}

function traceparentOf(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? `00-${traceId}-${spanId}-0${traceFlags & 1}` : undefined;
}

/** Marks a span failed with the error's stable code (its message may hold a caller's words or a path). */
function fail(span: Span, error: unknown): void {
  const code = errorCode(error);
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

function handle(span: Span): TimedSpan {
  return {
    setAttributes: (attributes) => void span.setAttributes(defined(attributes)),
    traceparent: () => traceparentOf(span),
    end: (error, endTime) => {
      if (error !== undefined) fail(span, error);
      span.end(endTime);
    },
  };
}

/**
 * A tracer provider exporting in batches to `<endpoint>/v1/traces` as
 * OTLP/HTTP JSON, registered as the global one with the AsyncLocalStorage
 * context manager (a span made active stays active across awaits).
 */
export function startBackend(options: { endpoint: string; serviceName: string; version?: string }): TracingBackend {
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName, ...(options.version ? { 'service.version': options.version } : {}) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const tracer = provider.getTracer('rag-queue', options.version);
  const open = (name: string, attributes: SpanAttributes, o: SpanOptions) =>
    tracer.startSpan(name, { kind: KINDS[o.kind ?? 'internal'], attributes: defined(attributes), startTime: o.startTime }, parentContext(o.parent));

  return {
    async withSpan(name, attributes, fn, o) {
      const span = open(name, attributes, o);
      try {
        return await context.with(trace.setSpan(parentContext(o.parent), span), () => fn(handle(span)));
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    startSpan: (name, attributes, o) => handle(open(name, attributes, o)),
    activeSpan() {
      const span = trace.getActiveSpan();
      return span ? handle(span) : undefined;
    },
    shutdown: () => provider.shutdown(),
  };
}
