#!/usr/bin/env node
// `npm test`: every test target of every project (unit, then integration, then
// end to end), then one closing line summed from Jest's JSON reports:
//   tests: N passed, N failed
// Exit code 0 only when everything ran and nothing failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const reports = path.join(root, 'reports/jest');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const nx = path.join(root, 'node_modules/.bin/nx');
// Unit tests in parallel; suites that start servers and processes one at a time.
const stages = [
  ['test', '--parallel=2'],
  ['int', '--parallel=1'],
  ['e2e', '--parallel=1'],
];
let runnerFailures = 0;
for (const [target, parallel] of stages) {
  const run = spawnSync(nx, ['run-many', '-t', target, parallel, '--outputStyle=stream', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
  if (run.status !== 0) runnerFailures++;
}

let passed = 0;
let failed = 0;
let suitesBroken = 0;
for (const file of existsSync(reports) ? readdirSync(reports).filter((f) => f.endsWith('.json')) : []) {
  const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A suite that cannot even load (syntax error, missing module) has no failed tests of its own.
  suitesBroken += report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.every((a) => a.status !== 'failed')).length;
}
failed += suitesBroken;
if (runnerFailures > 0 && failed === 0) failed = runnerFailures;
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
