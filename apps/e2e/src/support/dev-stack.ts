import { WORKSPACE_ROOT } from '@rag/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/**
 * Runs `npm start`'s launcher (tools/dev-stack/start.mjs) as a user would, in
 * a process group of its own; everything it prints goes to `onOutput`.
 */
export function launchDevStack(env: NodeJS.ProcessEnv, onOutput: (text: string) => void): ChildProcess {
  const launcher = spawn(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/dev-stack/start.mjs')], {
    cwd: WORKSPACE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  launcher.stdout?.on('data', (d: Buffer) => onOutput(d.toString()));
  launcher.stderr?.on('data', (d: Buffer) => onOutput(d.toString()));
  return launcher;
}

/**
 * Stops a launcher still running the way a user would (SIGTERM), so nothing it
 * started (its redis-server, nx, the apps) outlives the suite; kills its
 * process group only if it has not exited within `graceMs`.
 */
export async function stopDevStack(launcher: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!launcher || launcher.exitCode !== null || !launcher.pid) return;
  const exited = new Promise((resolve) => launcher.once('exit', resolve));
  launcher.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), graceMs).unref())]);
  if (!stopped) process.kill(-launcher.pid, 'SIGKILL');
}
