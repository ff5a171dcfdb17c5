import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createInterface } from 'node:readline';

/** A benchmark's own child process (a Python server, a built bundle): what @rag/testing's startApp is for TypeScript entries. */
export interface Child {
  child: ChildProcess;
  /** The last lines it wrote, stdout and stderr (bounded: servers that log every request run for minutes). */
  tail(): string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const KEEP_LINES = 200;

export function startChild(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (line: string) => {
    if (line) lines.push(line);
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  };
  // Whole lines however the pipe cuts the output: our loggers write many lines in one write.
  for (const output of [child.stdout, child.stderr]) if (output) createInterface({ input: output, crlfDelay: Infinity }).on('line', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (e) => lines.push(`cannot start ${command}: ${e.message}`));
  return {
    child,
    tail: () => [...lines],
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Resolves once `url` answers at all (any status); throws with the child's last lines if it exits or `timeoutMs` passes. */
export async function answering(url: string, process: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null || process.child.signalCode !== null)
      throw new Error(`${url}: the server exited:\n${process.tail().slice(-20).join('\n')}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url}: no answer in ${timeoutMs} ms:\n${process.tail().slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Resident set size of a live process in MiB (VmRSS), and its peak (VmHWM), from /proc. */
export function residentMemory(pid: number): { rss_mib: number; peak_mib: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss_mib: kib('VmRSS') / 1024, peak_mib: kib('VmHWM') / 1024 };
}

/** User + system CPU time of a live process so far (every thread), in ms, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100 a second).
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs a command to completion; its exit code and output. */
export function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
}
