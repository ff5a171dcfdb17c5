import { runApp } from '@rag/testing';

// Tracing off must be free: without OTEL_EXPORTER_OTLP_ENDPOINT none of the OpenTelemetry SDK is loaded
// (the SDK and its exporter cost memory at rest in every gateway and worker); with it, the SDK is.
describe('tracing loads the OpenTelemetry SDK only when it is on (a real child process)', () => {
  it('loads nothing of it with the library imported and spans run with tracing off, the SDK once it is on', async () => {
    const run = await runApp('libs/observability/src/tracing.probe.ts', {});
    expect(run.stderr).toBe('');
    const { on, answer, whenOff, onAfter, traced, whenOn } = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(on).toBe(false);
    expect(answer).toBe('none');
    // prom-client loads the (small) API package itself, for its CPU metric; the SDK and the exporter are what cost.
    expect((whenOff as string[]).filter((name) => name !== '@opentelemetry/api')).toEqual([]);
    expect(onAfter).toBe(true);
    expect(traced).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(whenOn).toEqual(expect.arrayContaining(['@opentelemetry/api', '@opentelemetry/sdk-trace-node', '@opentelemetry/exporter-trace-otlp-http']));
  });
});
