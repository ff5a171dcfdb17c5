/**
 * The charts of each scenario, drawn from its JSON file (docs/benchmarks/<name>.json)
 * and nothing else, so they cannot drift from the tables made of the same figures.
 */
import { GATEWAY_GOALS, MEMORY_GOAL_MIB, systemKey, type GatewayRow, type SystemKey } from '../goals';
import { barChart, lineChart, type BarGroup } from './svg';

/** A scenario's JSON file as main.ts writes it. */
export interface StampedResult {
  scenario: string;
  command: string;
  date: string;
  machine: { cpus: number; cpu_model: string; node: string };
  results: unknown;
}

export interface Chart {
  /** File name under docs/benchmarks/. */
  file: string;
  title: string;
  svg: string;
}

const footer = (json: StampedResult) =>
  `${json.command} · ${json.machine.cpus} × ${json.machine.cpu_model}, Node ${json.machine.node}, ${json.date.slice(0, 10)} · docs/benchmarks/${json.scenario}.json`;

const SYSTEM_LABELS: Record<SystemKey, string> = {
  gateway: 'our gateway',
  'bare-express': 'bare Express handler',
  'fastapi-rq': 'FastAPI + RQ (original design)',
  synchronous: 'synchronous pipeline, 1 s LLM',
};
const SYSTEM_ORDER: SystemKey[] = ['gateway', 'bare-express', 'fastapi-rq', 'synchronous'];

function gatewayCharts(json: StampedResult): Chart[] {
  const results = json.results as { rows: GatewayRow[]; seconds: number; runs: number; fastapi_rq?: { skipped?: string } };
  const connections = [...new Set(results.rows.map((r) => r.connections))].sort((a, b) => a - b);
  const load = (key: SystemKey, c: number) => results.rows.find((r) => systemKey(r) === key && r.connections === c)?.load;
  // FastAPI + RQ is always a row: "not measured" says the baseline is missing, rather than hiding it.
  const shown = SYSTEM_ORDER.filter((k) => k === 'fastapi-rq' || results.rows.some((r) => systemKey(r) === k));
  const missing = results.fastapi_rq?.skipped ? 'skipped: Python packages absent' : 'not measured in this run';
  const throughput: BarGroup[] = connections.map((c) => {
    const bare = load('bare-express', c)?.requestsPerSecond;
    const fastapi = load('fastapi-rq', c)?.requestsPerSecond;
    return {
      heading: `${c} connections`,
      rows: shown.map((k) => ({ label: SYSTEM_LABELS[k], values: [load(k, c)?.requestsPerSecond ?? null], missing })),
      goals: [
        ...(bare ? [{ value: bare * GATEWAY_GOALS.shareOfBareExpress, label: `goal ${GATEWAY_GOALS.shareOfBareExpress * 100} % of bare` }] : []),
        ...(fastapi ? [{ value: fastapi * GATEWAY_GOALS.timesFastapiRq, label: `goal ${GATEWAY_GOALS.timesFastapiRq}× FastAPI` }] : []),
      ],
    };
  });
  const latency: BarGroup[] = connections.map((c) => ({
    heading: `${c} connections`,
    rows: shown.map((k) => {
      const l = load(k, c);
      // A system that answered nothing in the run has latencies of 0: no bar, not a fast one.
      if (l && (l.answered === 0 || l.requestsPerSecond === 0)) return { label: SYSTEM_LABELS[k], values: [null, null], missing: 'no answer in the run' };
      return { label: SYSTEM_LABELS[k], values: [l?.p50 ?? null, l?.p99 ?? null], missing };
    }),
    goals: c === GATEWAY_GOALS.p99Connections ? [{ value: GATEWAY_GOALS.p99Ms, label: `goal: gateway p99 ≤ ${GATEWAY_GOALS.p99Ms} ms` }] : [],
  }));
  const about = `POST /v1/chat, autocannon, ${results.seconds} s per run, median of ${results.runs} runs; dashed lines: issue #19's goals for the gateway`;
  return [
    {
      file: 'gateway-throughput.svg',
      title: 'Gateway: accepted requests per second',
      svg: barChart({
        title: 'Gateway: accepted requests per second',
        subtitle: about,
        footer: footer(json),
        axisLabel: 'requests per second',
        series: ['requests/s'],
        groups: throughput,
      }),
    },
    {
      file: 'gateway-latency.svg',
      title: 'Gateway: latency p50 and p99',
      svg: barChart({
        title: 'Gateway: latency p50 and p99',
        subtitle: about,
        footer: footer(json),
        axisLabel: 'latency, milliseconds',
        unit: ' ms',
        scale: 'log',
        series: ['p50', 'p99'],
        groups: latency,
      }),
    },
  ];
}

function workersCharts(json: StampedResult): Chart[] {
  const results = json.results as { jobs: number; llm_ms: number; runs: number; rows: { workers: number; concurrency: number; perSecond: number }[] };
  const concurrencies = [...new Set(results.rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const workers = [...new Set(results.rows.map((r) => r.workers))].sort((a, b) => a - b);
  const series = concurrencies.flatMap((c, i) => {
    const rows = results.rows.filter((r) => r.concurrency === c).sort((a, b) => a.workers - b.workers);
    const one = rows.find((r) => r.workers === 1)?.perSecond;
    return [
      { name: `concurrency ${c}`, color: i, points: rows.map((r) => [r.workers, r.perSecond] as [number, number]) },
      ...(one
        ? [{ name: `linear from 1 worker (c ${c})`, color: i, dashed: true, points: rows.map((r) => [r.workers, one * r.workers] as [number, number]) }]
        : []),
    ];
  });
  return [
    {
      file: 'workers-throughput.svg',
      title: 'Workers: completed questions per second',
      svg: lineChart({
        title: 'Workers: completed questions per second',
        subtitle: `${results.jobs} questions, LLM answering after ${results.llm_ms} ms, median of ${results.runs} runs per point`,
        footer: footer(json),
        xLabel: 'worker processes',
        yLabel: 'completed questions per second',
        xTicks: workers,
        series,
      }),
    },
  ];
}

type Latency = { p50: number; p99: number };

function overheadCharts(json: StampedResult): Chart[] {
  const m = (
    json.results as {
      median: {
        end_to_end: Latency;
        pipeline: Latency;
        ours: Latency;
        phases: Record<'accept' | 'pickup' | 'worker' | 'deliver', Latency>;
        bull_raw: Latency;
        bare_post: Latency;
      };
    }
  ).median;
  const row = (label: string, l: Latency) => ({ label, values: [l.p50, l.p99] });
  return [
    {
      file: 'overhead-phases.svg',
      title: 'Queue overhead: one question with no load',
      svg: barChart({
        title: 'Queue overhead: one question with no load',
        subtitle: "Where the time of one question goes, by phase; dashed line: issue #19's goal for our layers (median)",
        footer: footer(json),
        axisLabel: 'time, milliseconds',
        unit: ' ms',
        series: ['p50', 'p99'],
        groups: [
          {
            heading: 'end to end',
            rows: [
              row('POST, then long-poll until the answer', m.end_to_end),
              row('the pipeline (retrieve + generate)', m.pipeline),
              row('our layers', m.ours),
            ],
            goals: [{ value: 3, label: 'goal: our layers ≤ 3 ms' }],
          },
          {
            heading: 'our layers, by phase',
            rows: [
              row('accept (POST until 202)', m.phases.accept),
              row('pickup (created → started)', m.phases.pickup),
              row('worker, less the pipeline', m.phases.worker),
              row('deliver (finished → answer)', m.phases.deliver),
            ],
          },
          { heading: 'for comparison', rows: [row('Bull alone: add → completed', m.bull_raw), row('bare Express POST', m.bare_post)] },
        ],
      }),
    },
  ];
}

function memoryCharts(json: StampedResult): Chart[] {
  const results = json.results as {
    questions: number;
    rows: { app: string; launch: 'bundle' | 'tsx'; startup: { rss_mib: number }; rest: { rss_mib: number } }[];
  };
  const how = { bundle: 'built bundle', tsx: 'through tsx' };
  return [
    {
      file: 'memory.svg',
      title: 'Resident memory of the gateway and the worker',
      svg: barChart({
        title: 'Resident memory of the gateway and the worker',
        subtitle: `RSS after start-up and at rest after ${results.questions} questions; dashed line: issue #19's goal for the built bundles`,
        footer: footer(json),
        axisLabel: 'resident set size, MiB',
        unit: ' MiB',
        series: ['after start-up', 'at rest'],
        groups: (['bundle', 'tsx'] as const).map((launch) => ({
          heading: how[launch],
          rows: results.rows.filter((r) => r.launch === launch).map((r) => ({ label: r.app, values: [r.startup.rss_mib, r.rest.rss_mib] })),
          goals: launch === 'bundle' ? [{ value: MEMORY_GOAL_MIB, label: `goal ≤ ${MEMORY_GOAL_MIB} MiB` }] : [],
        })),
      }),
    },
  ];
}

const CHARTS: Record<string, (json: StampedResult) => Chart[]> = {
  gateway: gatewayCharts,
  workers: workersCharts,
  overhead: overheadCharts,
  memory: memoryCharts,
};

/** The charts of `json`'s scenario (none for scenarios without charts). */
export function chartsFor(json: StampedResult): Chart[] {
  return CHARTS[json.scenario]?.(json) ?? [];
}

/** The Markdown image links main.ts puts under a scenario's table. */
export const chartLinks = (charts: Chart[]) => charts.map((c) => `![${c.title}](benchmarks/${c.file})`).join('\n');
