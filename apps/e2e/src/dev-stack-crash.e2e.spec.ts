import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { QueueName } from '@rag/queue-contracts';
import { freePort, json, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import type { ChildProcess } from 'node:child_process';
import { launchDevStack, stopDevStack } from './support/dev-stack';

interface Worker {
  pid: number;
  stale: boolean;
  queues: { name: string; active: number }[];
}

const QUESTIONS = ['How many vacation days do new employees get?', 'Who approves expense reports?', 'Where do visitors park?'];

// The crash drill of issue #13 under `npm start` itself (nx run-many, the supervisor, two workers): one worker
// is killed with SIGKILL while questions are in flight. A worker must take the queue again within 10 s, the
// other worker must never be stopped, and every accepted question must complete exactly once.
describe('npm start: a worker killed with SIGKILL', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let fake: FakeOpenAI;
  let launcher: ChildProcess;
  let watcher: Bull.Queue;
  let output = '';
  let base: string;
  let auth: Record<string, string>;
  const completions = new Map<string, number>();
  const figures: Record<string, number> = {};

  /** JSON log lines of the stack (nx prefixes each with its project name). */
  const logs = () =>
    output.split('\n').flatMap((line) => {
      const at = line.indexOf('{');
      try {
        return at < 0 ? [] : [JSON.parse(line.slice(at)) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const listWorkers = async (): Promise<Worker[]> => (await json(await fetch(`${base}/v1/admin/workers`, { headers: auth }))).workers;
  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}\n${output.slice(-3000)}`);
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-devstack-crash-');
    // Every answer takes 1.5 s, so a kill lands while the victim holds jobs.
    fake = await startFakeOpenAI({ firstTokenMs: 1500 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redis.url,
      PORT: String(port),
      DATA_DIR: data.path,
      WORKER_METRICS_PORT: '0',
      LLM: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'k',
      JOB_ATTEMPTS: '5',
    };
    launcher = launchDevStack(env, (text) => (output += text));
    await until('the dev key printed', () => /dev API key \(tenant default[^)]*\): rag_/.test(output) || launcher.exitCode !== null, 90_000);
    auth = { authorization: `Bearer ${/dev API key \(tenant default[^)]*\): (rag_[A-Za-z0-9_-]+)/.exec(output)?.[1]}` };
    await until('two workers listed', async () => (await listWorkers().catch(() => [])).filter((w) => !w.stale).length === 2, 90_000);
    watcher = new Bull(QueueName.Query, redis.url, { prefix: 'rag' });
    watcher.on('global:completed', (id: string | number) => completions.set(String(id), (completions.get(String(id)) ?? 0) + 1));
    await watcher.isReady();
  }, 200_000);

  afterAll(async () => {
    await stopDevStack(launcher, 30_000);
    await watcher?.close();
    await fake?.close();
    await redis?.stop();
    data?.remove();
    process.stdout.write(`dev-stack crash figures: ${JSON.stringify(figures)}\n`);
  });

  const ask = async (i: number): Promise<string> => {
    const res = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: QUESTIONS[i % QUESTIONS.length], collection: 'sample' }),
    });
    expect(res.status).toBe(202);
    return (await json(res)).job_id;
  };

  it('restarts it, never stops the other one, and completes every accepted question exactly once', async () => {
    const [victim, survivor] = (await listWorkers()).map((w) => w.pid);
    const startedBy = (pid: number) =>
      logs()
        .filter((l) => l.message === 'job started' && l.pid === pid)
        .map((l) => String(l.job_id));
    const completedBy = (pid: number) =>
      new Set(
        logs()
          .filter((l) => l.message === 'job completed' && l.pid === pid)
          .map((l) => String(l.job_id)),
      );

    // Questions in flight on both workers (8 fill their 4 + 4 slots, so none waits), then the kill.
    const accepted: string[] = [];
    for (let i = 0; i < 8; i++) accepted.push(await ask(i));
    await until('the victim runs jobs', () => startedBy(victim).length >= 1, 20_000);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const inFlight = startedBy(victim).filter((id) => !completedBy(victim).has(id));
    figures.victim_jobs_in_flight = inFlight.length;
    expect(inFlight.length).toBeGreaterThan(0);
    // The supervisor brings the victim back as a new process (watched from now on, beside the questions below).
    const restarted = until(
      'a restarted worker listed',
      async () => (await listWorkers()).some((w) => !w.stale && w.pid !== victim && w.pid !== survivor),
      10_000,
    ).then(() => (figures.restarted_worker_listed_s = (Date.now() - killedAt) / 1000));
    restarted.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled

    // New questions right after the kill: a worker takes them at once.
    const after: string[] = [];
    for (let i = 0; i < 12; i++) after.push(await ask(100 + i));
    accepted.push(...after);
    await until('a question asked after the kill completed', () => after.some((id) => completions.has(id)), 10_000);
    figures.first_new_question_done_s = (Date.now() - killedAt) / 1000;

    await restarted;
    const restart = logs().find((l) => l.service === 'supervisor' && l.message === 'rag-worker exited unexpectedly; restarting it');
    expect(restart).toMatchObject({ pid: victim, signal: 'SIGKILL', level: 'error' });

    // The victim's jobs come back through Bull's stalled-job check once its locks lapse; then everything is done.
    await until('every accepted question completed', () => accepted.every((id) => completions.has(id)), 60_000);
    figures.victim_jobs_done_s = (Date.now() - killedAt) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const notOnce = accepted.filter((id) => completions.get(id) !== 1).map((id) => `${id}: ${completions.get(id) ?? 0}`);
    expect(notOnce).toEqual([]);
    for (const id of accepted) expect([id, await (await watcher.getJob(id))?.getState()]).toEqual([id, 'completed']);
    // Jobs the victim held were run again by another worker (and, above, completed once).
    const rerun = logs().filter((l) => l.message === 'job completed' && l.pid !== victim && inFlight.includes(String(l.job_id)));
    figures.victim_jobs_rerun = rerun.length;
    expect(rerun.length).toBeGreaterThan(0);

    // The other worker was never stopped: same process, no shutdown, still listed; the stack is still up.
    expect(logs().filter((l) => l.pid === survivor && String(l.message).startsWith('shutting down'))).toEqual([]);
    expect(() => process.kill(survivor, 0)).not.toThrow();
    expect((await listWorkers()).map((w) => w.pid)).toContain(survivor);
    expect(launcher.exitCode).toBeNull();
    figures.questions = accepted.length;
  }, 180_000);
});
