import { WORKSPACE_ROOT } from '@rag/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chartLinks, chartsFor, type StampedResult } from './benchmark-charts';
import { xmlProblems } from './well-formed';

const stamp = { command: 'npm run bench -- gateway --runs 1', date: '2026-11-29T10:00:00.000Z', machine: { cpus: 2, cpu_model: 'AMD EPYC', node: '20.20.2' } };
const load = (requestsPerSecond: number, p50: number, p99: number) => ({ requestsPerSecond, p50, p99, non2xx: 0, errors: 0 });
const gateway = (withPython: boolean): StampedResult => ({
  ...stamp,
  scenario: 'gateway',
  results: {
    seconds: 5,
    runs: 1,
    rows: [
      { system: 'queue gateway (this service)', key: 'gateway', connections: 64, load: load(809.2, 74, 176) },
      { system: 'bare Express handler', key: 'bare-express', connections: 64, load: load(3778.5, 14, 51) },
      ...(withPython ? [{ system: 'original design: FastAPI + RQ enqueue', key: 'fastapi-rq', connections: 64, load: load(980.4, 60, 99) }] : []),
      { system: 'synchronous pipeline, 1 s LLM', key: 'synchronous', connections: 64, load: load(49.9, 1153, 1661) },
    ],
    ...(withPython ? {} : { fastapi_rq: { skipped: 'no python3 with fastapi, uvicorn and rq' } }),
  },
});
const values = (svg: string) => [...svg.matchAll(/<rect class="bar" data-series="([^"]*)" data-value="([^"]*)"/g)].map((m) => [m[1], Number(m[2])]);

describe('gateway charts', () => {
  it('draw requests/s of every system with the figures, and mark the goals of 60 % of bare Express and 3× FastAPI + RQ', () => {
    const [throughput] = chartsFor(gateway(true));
    expect(throughput.file).toBe('gateway-throughput.svg');
    expect(xmlProblems(throughput.svg)).toEqual([]);
    expect(values(throughput.svg)).toEqual([
      ['requests/s', 809.2],
      ['requests/s', 3778.5],
      ['requests/s', 980.4],
      ['requests/s', 49.9],
    ]);
    for (const label of [
      'our gateway',
      'bare Express handler',
      'FastAPI + RQ (original design)',
      '809',
      '3,779',
      '980',
      'requests per second',
      '64 connections',
    ])
      expect(throughput.svg).toContain(`>${label}</text>`);
    const goals = [...throughput.svg.matchAll(/<line class="goal" data-value="([^"]*)"/g)].map((m) => Number(m[1]));
    expect(goals).toEqual([3778.5 * 0.6, 980.4 * 3]);
    expect(throughput.svg).toContain('npm run bench -- gateway --runs 1 · 2 × AMD EPYC, Node 20.20.2, 2026-11-29');
  });

  it('draw p50 and p99 per system on a log scale, with the p99 goal at 64 connections', () => {
    const latency = chartsFor(gateway(true))[1];
    expect(latency.file).toBe('gateway-latency.svg');
    expect(xmlProblems(latency.svg)).toEqual([]);
    expect(values(latency.svg)).toEqual([
      ['p50', 74],
      ['p99', 176],
      ['p50', 14],
      ['p99', 51],
      ['p50', 60],
      ['p99', 99],
      ['p50', 1153],
      ['p99', 1661],
    ]);
    expect(latency.svg).toContain('>latency, milliseconds (log scale)</text>');
    expect(latency.svg).toContain('<line class="goal" data-value="50"');
  });

  it('say the original design was skipped when its row is missing, instead of dropping it', () => {
    const [throughput] = chartsFor(gateway(false));
    expect(xmlProblems(throughput.svg)).toEqual([]);
    expect(throughput.svg).toContain('>skipped: Python packages absent</text>');
    expect(values(throughput.svg)).toHaveLength(3);
    expect(throughput.svg.match(/class="goal"/g)).toHaveLength(1);
  });
});

describe('gateway charts of a run on a loaded machine', () => {
  it('draw no latency bars for a system that answered nothing (its p50 and p99 of 0 are no figures), but its 0 requests/s', () => {
    const json = gateway(true);
    const rows = (json.results as { rows: { key: string; load: Record<string, number> }[] }).rows;
    rows.find((r) => r.key === 'synchronous')!.load = { requestsPerSecond: 0, answered: 0, p50: 0, p99: 0, non2xx: 0, errors: 0 };
    const [throughput, latency] = chartsFor(json);
    expect(xmlProblems(latency.svg)).toEqual([]);
    expect(values(latency.svg)).toHaveLength(6);
    expect(latency.svg).toContain('>no answer in the run</text>');
    expect(latency.svg).not.toContain('>0 ms</text>');
    expect(values(throughput.svg)).toContainEqual(['requests/s', 0]);
  });
});

describe('workers and overhead charts', () => {
  it('draw completed/s against worker count per concurrency', () => {
    const rows = [1, 2, 4].flatMap((workers) => [4, 16].map((concurrency) => ({ workers, concurrency, perSecond: workers * concurrency * 0.9 })));
    const [chart] = chartsFor({ ...stamp, scenario: 'workers', results: { jobs: 1000, llm_ms: 200, runs: 3, rows } });
    expect(chart.file).toBe('workers-throughput.svg');
    expect(xmlProblems(chart.svg)).toEqual([]);
    expect(chart.svg.match(/<circle class="point"/g)).toHaveLength(6);
    for (const label of ['concurrency 4', 'concurrency 16', '57.6', 'worker processes', 'completed questions per second'])
      expect(chart.svg).toContain(`>${label}</text>`);
  });

  it('draw every phase of the queue overhead with its p50 and p99, and the 3 ms goal', () => {
    const l = (p50: number, p99: number) => ({ p50, p99 });
    const median = {
      end_to_end: l(22.4, 49),
      pipeline: l(11, 32),
      ours: l(11.02, 28.7),
      phases: { accept: l(5.65, 21.4), pickup: l(1, 5), worker: l(4, 17), deliver: l(3.92, 14.9) },
      bull_raw: l(0.64, 4.86),
      bare_post: l(1.23, 8.05),
    };
    const [chart] = chartsFor({ ...stamp, scenario: 'overhead', results: { median } });
    expect(chart.file).toBe('overhead-phases.svg');
    expect(xmlProblems(chart.svg)).toEqual([]);
    expect(values(chart.svg)).toHaveLength(18);
    for (const label of ['accept (POST until 202)', 'pickup (created → started)', '5.65 ms', '3.92 ms', '0.64 ms', 'time, milliseconds'])
      expect(chart.svg).toContain(`>${label}</text>`);
    expect(chart.svg).toContain('<line class="goal" data-value="3"');
  });

  it('are none for a scenario without charts, and linked as Markdown images', () => {
    expect(chartsFor({ ...stamp, scenario: 'retrieval', results: {} })).toEqual([]);
    expect(chartLinks(chartsFor(gateway(true)))).toBe(
      '![Gateway: accepted requests per second](benchmarks/gateway-throughput.svg)\n![Gateway: latency p50 and p99](benchmarks/gateway-latency.svg)',
    );
  });
});

describe('the committed charts', () => {
  const dir = path.join(WORKSPACE_ROOT, 'docs/benchmarks');
  const stamped = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as StampedResult);

  it('are exactly what the committed JSON draws (regenerate with `npm run bench -- charts`)', () => {
    const charts = stamped.flatMap(chartsFor);
    expect(charts.map((c) => c.file).sort()).toEqual(
      expect.arrayContaining(['gateway-latency.svg', 'gateway-throughput.svg', 'overhead-phases.svg', 'workers-throughput.svg']),
    );
    for (const chart of charts) {
      expect(xmlProblems(chart.svg)).toEqual([]);
      expect([chart.file, fs.readFileSync(path.join(dir, chart.file), 'utf8')]).toEqual([chart.file, chart.svg]);
    }
  });

  it('are linked from docs/benchmarks.md', () => {
    const doc = fs.readFileSync(path.join(WORKSPACE_ROOT, 'docs/benchmarks.md'), 'utf8');
    const links = stamped.flatMap(chartsFor).map((chart) => `![${chart.title}](benchmarks/${chart.file})`);
    expect(links.filter((link) => !doc.includes(link))).toEqual([]);
  });
});
