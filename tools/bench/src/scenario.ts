import * as os from 'node:os';

/** What a scenario measured: Markdown for docs/benchmarks.md and the raw figures for its JSON file. */
export interface ScenarioResult {
  markdown: string;
  data: unknown;
}

export interface Scenario {
  /** Also what selects it: `npm run bench -- <name>` runs only this scenario (the command docs/benchmarks.md shows). */
  name: string;
  run(args: string[]): Promise<ScenarioResult>;
}

/** The machine and versions every result is stamped with. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
  };
}

/** A numeric `--name value` flag from `args`, or `fallback`. */
export function numberFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : fallback;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value below which `p` % of `values` fall (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The median and 99th percentile of a set of latencies. */
export function latencyStats(values: number[]): { p50: number; p99: number } {
  return { p50: median(values), p99: percentile(values, 99) };
}
