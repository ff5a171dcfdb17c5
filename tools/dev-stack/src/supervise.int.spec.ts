import { startApp, type AppProcess } from '@rag/testing';

// A stand-in worker: says when it is up and when it got a stop signal (then exits 0, as a drained worker does).
const CHILD = `
const say = (message) => process.stdout.write(JSON.stringify({ message, child: process.pid, port: process.env.WORKER_METRICS_PORT }) + '\\n');
say('child up');
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { say('child got ' + signal); process.exit(0); });
setInterval(() => undefined, 1000);
`;

const SUPERVISE = 'tools/dev-stack/src/supervise.ts';

// The supervisor as `npm start` runs it, with real child processes.
describe('supervise.ts', () => {
  const started: AppProcess[] = [];
  const supervise = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const app = startApp(SUPERVISE, { WORKER_METRICS_PORT: '9600', ...env }, args);
    started.push(app);
    return app;
  };
  const childrenUp = (app: AppProcess) => app.logs().filter((l) => l.message === 'child up');
  const until = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
    for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    }
  };

  afterAll(async () => {
    await Promise.all(started.map((app) => app.stop('SIGKILL')));
  });

  it('restarts a killed child on its own and leaves the others alone; SIGTERM stops them all', async () => {
    const app = supervise(['--count', '3', '--', 'node', '-e', CHILD]);
    await until('three children up', () => childrenUp(app).length === 3);
    // Each instance has its own metrics port.
    expect(
      childrenUp(app)
        .map((l) => l.port)
        .sort(),
    ).toEqual(['9600', '9601', '9602']);
    const [victim, ...others] = childrenUp(app).map((l) => Number(l.child));
    process.kill(victim, 'SIGKILL');
    await until('a fourth child up', () => childrenUp(app).length === 4);
    const exited = app.logs().find((l) => l.message === 'rag-worker exited unexpectedly; restarting it');
    expect(exited).toMatchObject({ level: 'error', service: 'supervisor', signal: 'SIGKILL', code: null, restarts: 1, restart_in_ms: 500 });
    expect(exited?.pid).toBe(victim);
    // The others were never signalled and still run.
    expect(app.logs().filter((l) => String(l.message).startsWith('child got'))).toEqual([]);
    for (const pid of others) expect(() => process.kill(pid, 0)).not.toThrow();
    const replacement = Number(childrenUp(app)[3].child);
    expect(childrenUp(app)[3].port).toBe(childrenUp(app).find((l) => Number(l.child) === victim)?.port);

    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const stopped = app
      .logs()
      .filter((l) => l.message === 'child got SIGTERM')
      .map((l) => Number(l.child));
    expect(stopped.sort()).toEqual([...others, replacement].sort());
    for (const pid of [...others, replacement]) expect(() => process.kill(pid, 0)).toThrow();
    expect(app.logs().filter((l) => l.message === 'rag-worker started')).toHaveLength(4);
  }, 60_000);

  it('does not restart a child that was stopped gracefully (exit code 0), as when nx stops its tasks', async () => {
    const app = supervise(['--count', '2', '--', 'node', '-e', CHILD]);
    await until('two children up', () => childrenUp(app).length === 2);
    const [stopped, other] = childrenUp(app).map((l) => Number(l.child));
    process.kill(stopped, 'SIGTERM');
    const line = await app.waitForLog((l) => l.message === 'rag-worker stopped (exit code 0); not restarted');
    expect(line).toMatchObject({ level: 'info', pid: stopped });
    // Well past the first restart delay (500 ms), still no new child, and the other one untouched.
    await new Promise((r) => setTimeout(r, 1500));
    expect(childrenUp(app)).toHaveLength(2);
    expect(app.logs().filter((l) => l.level === 'error')).toEqual([]);
    expect(() => process.kill(other, 0)).not.toThrow();
    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('keeps restarting a child that crashes at once, and says it is crash-looping', async () => {
    const app = supervise(['--count', '1', '--', 'node', '-e', 'process.exit(3)']);
    const loop = await app.waitForLog((l) => String(l.message).startsWith('rag-worker is crash-looping'), 40_000);
    expect(loop).toMatchObject({ level: 'error', code: 3, crashes_in_window: 5, window_s: 120, restart_in_ms: 30_000 });
    // The delays before that doubled from 500 ms.
    const delays = app
      .logs()
      .filter((l) => l.message === 'rag-worker exited unexpectedly; restarting it')
      .map((l) => l.restart_in_ms);
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    // It never gives up: the supervisor itself is still running.
    expect(app.child.exitCode).toBeNull();
    expect(await app.stop('SIGINT')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('refuses a missing command with its usage and exit code 2', async () => {
    const app = supervise(['--count', '2']);
    expect((await app.exited).code).toBe(2);
    expect(app.lines.join('\n')).toContain('usage: supervise.ts');
  });
});
