import { WORKSPACE_ROOT, freePort, json, runApp } from '@rag/testing';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

/** The metric names docs/operations.md promises: every `rag_…` name in its metrics table. */
function documentedMetrics(): string[] {
  const doc = fs.readFileSync(path.join(WORKSPACE_ROOT, 'docs/operations.md'), 'utf8');
  return [...new Set([...doc.matchAll(/`(rag_[a-z_]+)`/g)].map((m) => m[1]))].sort();
}

/** Names of the series in a Prometheus text exposition (histograms by their base name too). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^# TYPE (\S+) /.exec(line);
    if (match) names.add(match[1]);
  }
  return names;
}

function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is not installed (apt-get install prometheus); .ci/run installs it: ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

// Both apps as real processes, the LLM over HTTP: a scrape of each after
// real traffic (answers, a permanent failure, a cancel, an upload) is accepted
// by promtool, and holds every metric docs/operations.md names.
describe('Prometheus metrics of the gateway and the worker', () => {
  const stack = useStack('rag-metrics-', { fakeOpenAI: { dimension: 64, perTokenMs: 2 } });
  let workerMetrics: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    workerMetrics = `http://127.0.0.1:${metricsPort}`;
    const env = { ...stack.env, WORKER_METRICS_PORT: String(metricsPort), ...stack.openAIEnv('k'), LLM_RPM: '1000', JOB_ATTEMPTS: '1' };
    const load = await runApp(CLI_MAIN, env, [path.join(WORKSPACE_ROOT, 'tools/dev-stack/sample-docs'), '--collection', 'sample', '--no-progress']);
    expect(load.code).toBe(0);
    await stack.startGatewayAndWorkers(env, { workerReady: 'metrics listening' });
  });

  const ask = async (query: string, collection = 'sample') => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, collection }),
    });
    return (await json(res)).job_id as string;
  };

  it('serves metrics that promtool accepts, with every documented metric, after real traffic', async () => {
    const answered = await Promise.all(['How many vacation days?', 'Who approves expenses?', 'Where is parking?'].map((q) => ask(q)));
    const missing = await ask('anything', 'no-such-collection');
    for (const id of [...answered, missing]) await json(await fetch(`${stack.base}/v1/jobs/${id}?wait=20`));
    // A cancel of a job that never ran, and an upload for the ingest queue.
    stack.fake.setOptions({ firstTokenMs: 3000 });
    const slow = await ask('How many vacation days do new employees get?');
    await new Promise((r) => setTimeout(r, 300));
    await fetch(`${stack.base}/v1/jobs/${slow}`, { method: 'DELETE' });
    stack.fake.setOptions({ firstTokenMs: 0 });
    const upload = new FormData();
    upload.append('file', new Blob(['# Metrics\n\nScraped every 15 seconds.']), 'metrics.md');
    const run = await json(await fetch(`${stack.base}/v1/collections/sample/documents`, { method: 'POST', body: upload }));
    for (let i = 0; i < 40; i++) {
      if ((await json(await fetch(`${stack.base}${run.status_url}`))).finished) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await json(await fetch(`${stack.base}/v1/jobs/${slow}?wait=10`));
    await fetch(`${stack.base}/v1/nothing-here-${Date.now()}`);

    const gatewayText = await (await fetch(`${stack.base}/metrics`)).text();
    const workerRes = await fetch(`${workerMetrics}/metrics`);
    expect(workerRes.headers.get('content-type')).toContain('text/plain');
    const workerText = await workerRes.text();
    for (const [name, text] of [
      ['gateway', gatewayText],
      ['worker', workerText],
    ]) {
      const checked = promtool(text);
      expect([name, checked.status, checked.output]).toEqual([name, 0, '']);
    }

    const names = new Set([...exposedNames(gatewayText), ...exposedNames(workerText)]);
    const documented = documentedMetrics();
    expect(documented.length).toBeGreaterThanOrEqual(10);
    expect(documented.filter((m) => !names.has(m))).toEqual([]);

    // The values follow what happened.
    expect(gatewayText).toMatch(/rag_jobs_enqueued_total\{[^}]*queue="rag-query"[^}]*\} 5/);
    expect(gatewayText).toMatch(/rag_jobs_enqueued_total\{[^}]*queue="rag-ingest"[^}]*\} 1/);
    expect(gatewayText).toMatch(/rag_http_request_duration_seconds_count\{[^}]*route="\/v1\/chat"[^}]*status="202"[^}]*\} 5/);
    // An unknown path is one "unmatched" series, never the path itself.
    expect(gatewayText).toContain('route="unmatched"');
    expect(gatewayText).not.toContain('nothing-here');
    expect(gatewayText).toMatch(/rag_queue_jobs\{[^}]*queue="rag-query"[^}]*state="completed"[^}]*\} 3/);
    expect(workerText).toMatch(/rag_jobs_finished_total\{[^}]*queue="rag-query"[^}]*outcome="completed"[^}]*\} 3/);
    expect(workerText).toMatch(/rag_jobs_finished_total\{[^}]*queue="rag-query"[^}]*outcome="failed"[^}]*\} 1/);
    expect(workerText).toMatch(/rag_jobs_finished_total\{[^}]*queue="rag-query"[^}]*outcome="dead_lettered"[^}]*\} 1/);
    expect(workerText).toMatch(/rag_jobs_finished_total\{[^}]*queue="rag-query"[^}]*outcome="cancelled"[^}]*\} 1/);
    expect(workerText).toMatch(/rag_jobs_finished_total\{[^}]*queue="rag-ingest"[^}]*outcome="completed"[^}]*\} 1/);
    expect(workerText).toMatch(/rag_job_duration_seconds_count\{[^}]*queue="rag-query"[^}]*stage="generate"[^}]*\} 3/);
    expect(workerText).toMatch(/rag_llm_tokens_total\{[^}]*kind="completion"[^}]*\} [1-9]/);
    expect(workerText).toMatch(/rag_circuit_breaker_state\{[^}]*dependency="chat"[^}]*state="closed"[^}]*\} 1/);
    expect(workerText).toContain('process_resident_memory_bytes');
  });

  it('answers probes on the worker side port', async () => {
    expect((await fetch(`${workerMetrics}/healthz`)).status).toBe(200);
    expect((await fetch(`${workerMetrics}/readyz`)).status).toBe(200);
    expect((await fetch(`${workerMetrics}/elsewhere`)).status).toBe(404);
  });
});
