import { runApp, startApp } from '@rag/testing';

const PROBE = 'libs/observability/src/buffered-lines.probe.ts';

// Lines are written at the end of the event-loop turn: a process that ends before then must still write them.
function probeLines(stdout: string): Record<string, unknown>[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function expectBurst(lines: Record<string, unknown>[], stage: string) {
  const burst = lines.filter((line) => line.stage === stage);
  expect(burst.map((line) => line.seq)).toEqual(Array.from({ length: 50 }, (_, seq) => seq));
  for (const line of burst) {
    expect(line).toMatchObject({ service: 'probe', level: 'info', message: `line ${String(line.seq)}`, request_id: `req-${stage}`, job_id: `job-${stage}` });
  }
}

describe('buffered log lines reach stdout when the process ends (a real child process)', () => {
  it('on process.exit() in the same turn', async () => {
    const run = await runApp(PROBE, {}, ['exit']);
    expect(run.code).toBe(3);
    expectBurst(probeLines(run.stdout), 'before');
  });

  it('on an uncaught exception, with the exception on stderr', async () => {
    const run = await runApp(PROBE, {}, ['throw']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('probe crashed');
    expectBurst(probeLines(run.stdout), 'before');
  });

  it('on an unhandled rejection', async () => {
    const run = await runApp(PROBE, {}, ['reject']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('probe rejected');
    expectBurst(probeLines(run.stdout), 'before');
  });

  it('from a SIGTERM handler that logs and exits', async () => {
    const app = startApp(PROBE, {}, ['sigterm']);
    await app.waitForLog((line) => line.message === 'ready');
    expect((await app.stop('SIGTERM')).code).toBe(0);
    // stdout may still hold output after 'exit': wait for the pipe to close.
    await new Promise((resolve) => (app.child.stdout?.closed ? resolve(undefined) : app.child.stdout?.once('close', resolve)));
    const lines = app.logs();
    expectBurst(lines, 'before');
    expectBurst(lines, 'stopping');
    expect(lines.map((line) => line.message).slice(-1)).toEqual(['line 49']);
  });
});
