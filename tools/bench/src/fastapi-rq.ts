/**
 * The original design's server (servers/fastapi_rq.py) as a child process:
 * uvicorn with one worker process on a free 127.0.0.1 port, enqueuing on the
 * benchmark's own redis-server. Python and its packages come from Debian, so
 * the benchmark looks for an interpreter that has them and skips the row when
 * none does.
 */
import { WORKSPACE_ROOT, freePort } from '@rag/testing';
import * as path from 'node:path';
import { answering, runCommand, startChild, type Child } from './child-process';

export const FASTAPI_RQ_INSTALL = 'apt-get install -y python3-fastapi python3-uvicorn python3-rq';

export interface PythonStack {
  python: string;
  /** Versions of Python and the packages, for the scenario's JSON. */
  versions: Record<string, string>;
}

const PROBE =
  'import sys, fastapi, uvicorn, rq, redis; print(sys.version.split()[0], fastapi.__version__, uvicorn.__version__, rq.__version__, redis.__version__)';

/** The first of $PYTHON, python3 on the PATH and Debian's /usr/bin/python3 that imports FastAPI, uvicorn and RQ; null when none does. */
export function findPythonStack(): PythonStack | null {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const python of candidates) {
    const probe = runCommand(python, ['-c', PROBE]);
    if (probe.code !== 0) continue;
    const [pythonVersion, fastapi, uvicorn, rq, redis] = probe.stdout.trim().split(' ');
    return { python, versions: { python: pythonVersion, fastapi, uvicorn, rq, redis } };
  }
  return null;
}

/** Starts the server and resolves once it answers; its POST /v1/chat URL. */
export async function startFastapiRq(stack: PythonStack, redisUrl: string): Promise<{ url: string; server: Child }> {
  const port = await freePort();
  const server = startChild(
    stack.python,
    [
      '-m',
      'uvicorn',
      'fastapi_rq:app',
      '--app-dir',
      path.join(WORKSPACE_ROOT, 'tools/bench/src/servers'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    // No __pycache__ left in the source tree.
    { cwd: WORKSPACE_ROOT, env: { PATH: process.env.PATH, REDIS_URL: redisUrl, PYTHONDONTWRITEBYTECODE: '1' } },
  );
  try {
    await answering(`http://127.0.0.1:${port}/`, server);
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
  return { url: `http://127.0.0.1:${port}/v1/chat`, server };
}
