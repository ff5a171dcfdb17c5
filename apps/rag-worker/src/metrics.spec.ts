import type { JobRunnerMetrics } from '@rag/jobs';
import { createLlmResilience } from '@rag/llm-client';
import { createLogger } from '@rag/observability';
import { captureLogs } from '@rag/testing';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createWorkerMetrics, serveWorkerMetrics, type WorkerMetrics } from './metrics';

const listening = (server: Server) => new Promise<number>((resolve) => server.once('listening', () => resolve((server.address() as AddressInfo).port)));
const closed = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('worker metrics', () => {
  const resilience = createLlmResilience();
  let metrics: WorkerMetrics;
  beforeEach(() => {
    metrics = createWorkerMetrics([resilience.breakers.chat, resilience.breakers.embeddings], resilience);
  });

  it("are the job runner's metrics: what the runner counts is what Prometheus reads", async () => {
    const runner: JobRunnerMetrics = metrics;
    runner.jobs.finished.inc({ queue: 'rag-query', outcome: 'retried' });
    runner.jobs.duration.observe({ queue: 'rag-ingest', stage: 'ingest' }, 0.2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('rag_jobs_finished_total{queue="rag-query",outcome="retried",service="rag-worker"} 1');
    expect(text).toContain('rag_job_duration_seconds_count{service="rag-worker",queue="rag-ingest",stage="ingest"} 1');
  });

  it('report each breaker in its current state, tokens, and the waits for the shared limits', async () => {
    metrics.tokens.inc({ kind: 'prompt' }, 12);
    const text = await metrics.registry.metrics();
    for (const dependency of ['chat', 'embeddings']) {
      expect(text).toContain(`rag_circuit_breaker_state{dependency="${dependency}",state="closed",service="rag-worker"} 1`);
      expect(text).toContain(`rag_circuit_breaker_state{dependency="${dependency}",state="open",service="rag-worker"} 0`);
    }
    expect(text).toContain('rag_llm_tokens_total{kind="prompt",service="rag-worker"} 12');
    expect(text).toContain('rag_llm_rate_limit_waits_total{service="rag-worker"} 0');
  });
});

describe('serveWorkerMetrics (real HTTP on 127.0.0.1)', () => {
  const resilience = createLlmResilience();
  const metrics = createWorkerMetrics([resilience.breakers.chat], resilience);
  const logs = captureLogs();
  const logger = createLogger({ service: 'rag-worker', stream: logs.stream });
  let ready = true;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = serveWorkerMetrics(metrics, 0, '127.0.0.1', async () => (ready ? 'PONG' : Promise.reject(new Error('redis down'))), logger);
    base = `http://127.0.0.1:${await listening(server)}`;
  });
  afterAll(() => closed(server));

  it('serves /metrics for Prometheus', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('rag_circuit_breaker_state');
  });

  it('answers /healthz while the process runs, and /readyz while Redis answers', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    ready = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { redis: { ok: false } } });
    ready = true;
  });

  it('says what it serves, and only to GET', async () => {
    const missing = await fetch(`${base}/jobs`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'the worker serves /metrics, /healthz and /readyz' } });
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('runs without /metrics when its port is taken, saying how to give each worker its own', async () => {
    const port = Number(new URL(base).port);
    const second = serveWorkerMetrics(metrics, port, '127.0.0.1', async () => 'PONG', logger);
    await new Promise((resolve) => second.once('error', resolve));
    expect(logs.lines.find((l) => l.message === 'metrics port not available; this worker runs without /metrics')).toMatchObject({
      level: 'warn',
      port,
      hint: expect.stringContaining('WORKER_METRICS_PORT'),
    });
  });
});
