// Run as a child process by tracing.int.spec.ts: which OpenTelemetry packages a process has loaded
// after importing the library and tracing with tracing off, then after turning it on.
import { shutdownTracing, startTracing, withSpan } from './index';

const loaded = () =>
  [
    ...new Set(
      Object.keys(require.cache)
        .filter((k) => k.includes('node_modules/@opentelemetry/'))
        .map((k) => k.split('node_modules/').pop()?.split('/').slice(0, 2).join('/') ?? k),
    ),
  ].sort();

async function main(): Promise<void> {
  const on = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: '' }, 'probe');
  const answer = await withSpan('probe', { n: 1 }, (span) => (span.setAttributes({ m: 2 }), span.traceparent() ?? 'none'));
  const whenOff = loaded();
  // Nothing listens on port 9 (discard): the span is dropped at shutdown, which is all this needs.
  const onAfter = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: '' }, 'probe');
  const traced = await withSpan('probe', {}, (span) => span.traceparent());
  const whenOn = loaded();
  await shutdownTracing().catch(() => undefined);
  process.stdout.write(JSON.stringify({ on, answer, whenOff, onAfter, traced, whenOn }));
}

void main();
