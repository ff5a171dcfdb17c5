// The types of tracing.ts and of the SDK behind it (tracing-sdk.ts), apart so that neither imports the other's module.

/** Span attributes: ids, names and counts only (undefined ones are left out). */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface SpanOptions {
  /** The parent, as a W3C traceparent (a job's, or an incoming request's); the active span when absent. */
  parent?: string;
  kind?: SpanKindName;
  /** Start time in ms since the epoch (now when absent). */
  startTime?: number;
}

/** A span being recorded (a no-op one when tracing is off). */
export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** This span as a W3C traceparent, for a job's payload; undefined when tracing is off. */
  traceparent(): string | undefined;
}

/** A span its caller ends (a request's, whose end is an event). */
export interface OpenSpan extends TraceSpan {
  /** Ends the span, failed when `error` is given (its code, never its message, is recorded). */
  end(error?: unknown): void;
}

/** An open span that may also be ended at a given time (a wait recorded after the fact). */
export interface TimedSpan extends OpenSpan {
  end(error?: unknown, endTime?: number): void;
}

/** The SDK behind tracing.ts, loaded only when tracing is on. */
export interface TracingBackend {
  withSpan<T>(name: string, attributes: SpanAttributes, fn: (span: TraceSpan) => Promise<T> | T, options: SpanOptions): Promise<T>;
  startSpan(name: string, attributes: SpanAttributes, options: SpanOptions): TimedSpan;
  activeSpan(): TraceSpan | undefined;
  shutdown(): Promise<void>;
}
