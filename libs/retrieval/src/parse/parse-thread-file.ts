import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** What a parse thread runs, and how. */
export interface ParseThreadEntry {
  filename: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** The thread's entry in a built app: apps/<app>/src/parse-thread.ts, an extra esbuild entry point (project.json). */
export const BUNDLED_THREAD_FILE = 'parse-thread.cjs';

/**
 * Finds the parse thread's entry for the way this code runs. In a built app
 * this module is inlined into main.cjs and the entry was emitted beside it.
 * From source (tsx, jest) the entry is TypeScript: the thread compiles it
 * with tsx, reading the workspace's path aliases, because neither tsx's
 * loader in the main thread nor jest's transform reaches a worker thread.
 */
export function parseThreadEntry(): ParseThreadEntry {
  const bundled = path.join(__dirname, BUNDLED_THREAD_FILE);
  if (fs.existsSync(bundled)) return { filename: bundled };
  const source = path.join(__dirname, 'parse-thread-source.ts');
  if (!fs.existsSync(source)) throw new Error(`the parse thread's entry is missing: neither ${bundled} nor ${source} exists; rebuild the app`);
  const root = workspaceRoot(__dirname);
  // tsx as the workspace has it (a built app has none, and must not list it among its dependencies).
  const fromWorkspace = createRequire(path.join(root, 'package.json'));
  return {
    filename: source,
    execArgv: ['--require', fromWorkspace.resolve('tsx/cjs')],
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json') },
  };
}

function workspaceRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'tsconfig.base.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no tsconfig.base.json above ${from}: run from the workspace or a built app`);
  }
}
