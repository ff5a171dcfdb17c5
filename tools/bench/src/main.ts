/**
 * `npm run bench [-- <scenario>... [--flag value]...]`: runs the named
 * scenarios (all by default), and for each writes its figures to
 * docs/benchmarks/<name>.json (with the machine, versions, date and command),
 * its charts to docs/benchmarks/*.svg (drawn from that JSON) and its table,
 * with links to the charts, into docs/benchmarks.md between the scenario's
 * markers.
 *
 * `npm run bench -- charts` redraws every chart from the JSON files already
 * there, running nothing.
 */
import { WORKSPACE_ROOT } from '@rag/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capacityScenario } from './capacity.bench';
import { clusterFailoverScenario } from './cluster-failover.bench';
import { chartLinks, chartsFor, type Chart, type StampedResult } from './charts/benchmark-charts';
import { fairnessScenario } from './fairness.bench';
import { gatewayScenario } from './gateway.bench';
import { gatewayProfileScenario } from './gateway-profile.bench';
import { ingestRemoteScenario, ingestScenario } from './ingest.bench';
import { memoryScenario } from './memory.bench';
import { overheadScenario } from './overhead.bench';
import { retrievalScenario } from './retrieval.bench';
import { retrievalQualityScenario } from './retrieval-quality.bench';
import { scalingScenario } from './scaling.bench';
import { machine, type Scenario } from './scenario';
import { sseClientsScenario } from './sse-clients.bench';
import { sseFanoutScenario } from './sse-fanout.bench';
import { workersScenario } from './workers.bench';

const SCENARIOS: Scenario[] = [
  gatewayScenario,
  gatewayProfileScenario,
  memoryScenario,
  workersScenario,
  scalingScenario,
  clusterFailoverScenario,
  overheadScenario,
  capacityScenario,
  fairnessScenario,
  retrievalScenario,
  retrievalQualityScenario,
  ingestScenario,
  ingestRemoteScenario,
  sseFanoutScenario,
  sseClientsScenario,
];
const DOC = path.join(WORKSPACE_ROOT, 'docs/benchmarks.md');
const OUT = path.join(WORKSPACE_ROOT, 'docs/benchmarks');

/** Replaces the text between `<!-- bench:name -->` and `<!-- /bench:name -->` in docs/benchmarks.md. */
export function writeSection(doc: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md has no ${open} … ${close} section`);
  return `${doc.slice(0, start + open.length)}\n${body}\n${doc.slice(end)}`;
}

/** Writes the charts of one scenario's JSON to docs/benchmarks/. */
function writeCharts(json: StampedResult): Chart[] {
  const charts = chartsFor(json);
  for (const chart of charts) fs.writeFileSync(path.join(OUT, chart.file), chart.svg);
  return charts;
}

/** `charts`: every chart redrawn from the JSON files in docs/benchmarks/. */
function redrawCharts(): void {
  for (const file of fs
    .readdirSync(OUT)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    for (const chart of writeCharts(JSON.parse(fs.readFileSync(path.join(OUT, file), 'utf8')) as StampedResult)) {
      process.stdout.write(`docs/benchmarks/${chart.file} (from ${file})\n`);
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const names = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  if (names.includes('charts')) {
    if (names.length > 1) throw new Error('`charts` redraws from the JSON files and runs no scenario: run it on its own');
    redrawCharts();
    return;
  }
  const chosen = names.length ? names.map((n) => SCENARIOS.find((s) => s.name === n) ?? fail(n)) : SCENARIOS;
  for (const scenario of chosen) {
    const started = new Date();
    const result = await scenario.run(args);
    const command = [`npm run bench -- ${scenario.name}`, ...args.filter((a) => !names.includes(a))].join(' ');
    const stamp = { scenario: scenario.name, command, date: started.toISOString(), machine: machine() };
    fs.mkdirSync(OUT, { recursive: true });
    const json = JSON.parse(JSON.stringify({ ...stamp, results: result.data })) as StampedResult;
    fs.writeFileSync(path.join(OUT, `${scenario.name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    const charts = writeCharts(json);
    const m = stamp.machine as { cpus: number; cpu_model: string; node: string };
    const body = [
      '```',
      command,
      '```',
      '',
      result.markdown,
      '',
      ...(charts.length ? [chartLinks(charts), ''] : []),
      `_${m.cpus} × ${m.cpu_model}, Node ${m.node}, ${stamp.date.slice(0, 10)}; raw figures in docs/benchmarks/${scenario.name}.json._`,
    ].join('\n');
    fs.writeFileSync(DOC, writeSection(fs.readFileSync(DOC, 'utf8'), scenario.name, body));
    process.stdout.write(`${result.markdown}\n\n`);
  }
}

function fail(name: string): never {
  throw new Error(`no scenario "${name}"; the scenarios are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
