import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORKSPACE_ROOT } from './app-process';

/** `ENV A=1 B=2` of docker/<app>.Dockerfile's runtime stage, as an object (a value may hold `=`: `NODE_OPTIONS=--flag=8`). */
export function imageEnv(app: string): Record<string, string> {
  const dockerfile = fs.readFileSync(path.join(WORKSPACE_ROOT, 'docker', `${app}.Dockerfile`), 'utf8');
  const runtime = dockerfile.split(/^FROM .* AS runtime$/m)[1] ?? '';
  const line = /^ENV (.+)$/m.exec(runtime)?.[1] ?? '';
  return Object.fromEntries(line.split(/\s+/).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}
