import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EnvSchema } from './index';

// Runs loadConfigOrExit in a real child process: process.exit and the stderr
// stream cannot be observed for real inside Jest.
const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(WORKSPACE_ROOT, 'node_modules/.bin/tsx');
const TSCONFIG = path.join(WORKSPACE_ROOT, 'tsconfig.base.json');

const PROBE = `
import { loadConfigOrExit, maskedConfig } from '@rag/config';
const config = loadConfigOrExit('probe-svc');
process.stdout.write(JSON.stringify({ masked: maskedConfig(config), dataDir: config.dataDir }));
`;

let dir: string;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'rag-config-')));
  writeFileSync(path.join(dir, 'probe.ts'), PROBE);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runProbe(settings: Record<string, string>) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only the settings under test: nothing inherited from the shell or from Jest.
  for (const key of Object.keys(new EnvSchema())) delete env[key];
  const result = spawnSync(TSX, ['--tsconfig', TSCONFIG, path.join(dir, 'probe.ts')], {
    cwd: dir,
    env: { ...env, ...settings },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return result;
}

describe('loadConfigOrExit in a real process', () => {
  it('starts with a valid environment, resolving DATA_DIR against the process cwd', () => {
    const result = runProbe({ PORT: '8080' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as { masked: Record<string, unknown>; dataDir: string };
    expect(out.masked.PORT).toBe(8080);
    expect(out.dataDir).toBe(path.join(dir, 'data'));
  });

  it('exits with code 2 and lists every problem on stderr', () => {
    const result = runProbe({ PORT: 'abc', LOG_LEVEL: 'loud', WORKER_CONCURRENCY: '0' });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith('probe-svc: ')).toBe(true);
    for (const expected of ['PORT="abc"', 'LOG_LEVEL="loud"', 'WORKER_CONCURRENCY="0"']) expect(result.stderr).toContain(expected);
  });

  it('does not print the password of a rejected REDIS_URL', () => {
    const result = runProbe({ REDIS_URL: 'http://admin:hunter2-secret@cache:6379' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('REDIS_URL');
    expect(result.stderr).not.toContain('hunter2-secret');
  });
});
