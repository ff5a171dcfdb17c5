import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const TSCONFIG = path.join(WORKSPACE_ROOT, 'tsconfig.base.json');

/**
 * One node process with tsx's loader (not the tsx CLI, which forks a second
 * process): signals sent to the child reach the app itself.
 */
function spawnTs(entry: string, env: NodeJS.ProcessEnv, args: string[], nodeArgs: string[] = []) {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(WORKSPACE_ROOT, entry), ...args], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface AppProcess {
  child: ChildProcess;
  /** Every line written so far, stdout and stderr. */
  lines: string[];
  /** JSON log lines parsed (non-JSON lines skipped). */
  logs(): Record<string, unknown>[];
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript entry point (e.g. `apps/rag-worker/src/main.ts`) as a real child process; `nodeArgs` go to node itself (e.g. `--cpu-prof`). */
export function startApp(entry: string, env: NodeJS.ProcessEnv, args: string[] = [], nodeArgs: string[] = []): AppProcess {
  const child = spawnTs(entry, env, args, nodeArgs);
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (line: string) => {
    if (line) lines.push(line);
    for (const l of listeners) l();
  };
  // Whole lines however the pipe cuts the output: a logger writes many lines in one write.
  for (const output of [child.stdout, child.stderr]) if (output) createInterface({ input: output, crlfDelay: Infinity }).on('line', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  const logs = () =>
    lines.flatMap((l) => {
      try {
        const parsed: unknown = JSON.parse(l);
        return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  return {
    child,
    lines,
    logs,
    exited,
    waitForLog(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs().find(predicate);
          if (found) {
            cleanup();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`${entry} exited before the expected log line:\n${lines.slice(-20).join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${entry}: expected log line not seen in ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a TypeScript entry point to completion and returns its exit code and output. */
export function runApp(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(entry, env, args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // 'close', not 'exit': output still in the pipes when the process ends is read first.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
