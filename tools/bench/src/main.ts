/**
 * `npm run bench [-- <scenario>... [--flag value]...]`: runs the named
 * scenarios (all by default), and for each writes its figures to
 * docs/benchmarks/<name>.json (with the machine, versions, date and command)
 * and its table into docs/benchmarks.md between the scenario's markers.
 */
import { WORKSPACE_ROOT } from '@rag/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gatewayScenario } from './gateway.bench';
import { ingestRemoteScenario, ingestScenario } from './ingest.bench';
import { overheadScenario } from './overhead.bench';
import { retrievalScenario } from './retrieval.bench';
import { retrievalQualityScenario } from './retrieval-quality.bench';
import { machine, type Scenario } from './scenario';
import { sseClientsScenario } from './sse-clients.bench';
import { sseFanoutScenario } from './sse-fanout.bench';
import { workersScenario } from './workers.bench';

const SCENARIOS: Scenario[] = [
  gatewayScenario,
  workersScenario,
  overheadScenario,
  retrievalScenario,
  retrievalQualityScenario,
  ingestScenario,
  ingestRemoteScenario,
  sseFanoutScenario,
  sseClientsScenario,
];
const DOC = path.join(WORKSPACE_ROOT, 'docs/benchmarks.md');

/** Replaces the text between `<!-- bench:name -->` and `<!-- /bench:name -->` in docs/benchmarks.md. */
export function writeSection(doc: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md has no ${open} … ${close} section`);
  return `${doc.slice(0, start + open.length)}\n${body}\n${doc.slice(end)}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const names = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  const chosen = names.length ? names.map((n) => SCENARIOS.find((s) => s.name === n) ?? fail(n)) : SCENARIOS;
  for (const scenario of chosen) {
    const started = new Date();
    const result = await scenario.run(args);
    const command = [`npm run bench -- ${scenario.name}`, ...args.filter((a) => !names.includes(a))].join(' ');
    const stamp = { scenario: scenario.name, command, date: started.toISOString(), machine: machine() };
    fs.mkdirSync(path.join(WORKSPACE_ROOT, 'docs/benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(WORKSPACE_ROOT, 'docs/benchmarks', `${scenario.name}.json`), `${JSON.stringify({ ...stamp, results: result.data }, null, 2)}\n`);
    const m = stamp.machine as { cpus: number; cpu_model: string; node: string };
    const body = [
      '```',
      command,
      '```',
      '',
      result.markdown,
      '',
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
