import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { ALL_TENANTS, DeadLetters, IngestRuns, MAX_STALLED_COUNT } from '@rag/jobs';
import { JobName, QueueName } from '@rag/queue-contracts';
import { freePort, json, runApp, startApp, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import * as path from 'node:path';
import { loggedJobIds, openAIEnv } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');
const QUESTIONS: [string, string][] = [
  ['When do production releases leave?', 'guides/deploy.md'],
  ['How long are database backups kept?', 'guides/database.md'],
  ['What time is lunch served in the cafeteria?', 'cafeteria.txt'],
  ['How much does a parking permit cost?', 'parking.html'],
];

interface Figures {
  [name: string]: Record<string, number>;
}
const figures: Figures = {};

// Failure drills with real processes: workers killed with SIGKILL while jobs
// flow, Redis (AOF, appendfsync always) killed and restarted, and workers
// stopped with SIGTERM mid-job. Every accepted job must complete exactly once
// with the right answer.
describe('reliability under failures', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let fake: FakeOpenAI;
  let env: NodeJS.ProcessEnv;
  let redisPort: number;

  beforeAll(async () => {
    redisPort = await freePort();
    data = tempDir('rag-reliability-');
    redis = await startRedis({ port: redisPort, dir: path.join(data.path), args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    // Each answer streams for a few hundred milliseconds, so kills land mid-job.
    fake = await startFakeOpenAI({ dimension: 64, perTokenMs: 15 });
    env = {
      REDIS_URL: redis.url,
      DATA_DIR: path.join(data.path, 'data'),
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      ...openAIEnv(fake.url, 'k'),
      WORKER_CONCURRENCY: '4',
      JOB_ATTEMPTS: '5',
      JOB_BACKOFF_MS: '200',
    };
    const ingest = await runApp('apps/ingest-cli/src/main.ts', env, [CORPUS, '--collection', 'handbook', '--no-progress']);
    expect(ingest.code).toBe(0);
  });

  afterAll(async () => {
    await fake?.close();
    await redis?.stop();
    data?.remove();
    process.stdout.write(`reliability figures: ${JSON.stringify(figures)}\n`);
  });

  /** Watches a queue's global completions: how many times each job completed. */
  const watchCompletions = async (prefix: string) => {
    const watcher = new Bull(QueueName.Query, redis.url, { prefix });
    const completions = new Map<string, number>();
    watcher.on('global:completed', (jobId: string | number) => completions.set(String(jobId), (completions.get(String(jobId)) ?? 0) + 1));
    await watcher.isReady();
    return { watcher, completions };
  };

  const startGateway = async (prefix: string) => {
    const port = await freePort();
    const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, PORT: String(port), QUEUE_PREFIX: prefix });
    await gateway.waitForLog((l) => l.message === 'listening');
    return { gateway, base: `http://127.0.0.1:${port}` };
  };

  const startWorker = (prefix: string) => startApp('apps/rag-worker/src/main.ts', { ...env, QUEUE_PREFIX: prefix });

  const submit = async (base: string, i: number) => {
    const [query, source] = QUESTIONS[i % QUESTIONS.length];
    const res = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, collection: 'handbook' }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await json(res), source };
  };

  const verify = async (queue: Bull.Queue, accepted: { id: string; source: string }[], completions: Map<string, number>) => {
    const wrong: string[] = [];
    for (const { id, source } of accepted) {
      const job = await queue.getJob(id);
      const state = await job?.getState();
      const cited = (job?.returnvalue as { citations?: { source: string }[] } | undefined)?.citations?.[0]?.source;
      if (state !== 'completed' || cited !== source) wrong.push(`${id}: ${state} ${cited} ${job?.failedReason ?? ''}`);
    }
    expect(wrong).toEqual([]);
    const duplicates = accepted.filter(({ id }) => completions.get(id) !== 1).map(({ id }) => `${id}: ${completions.get(id) ?? 0}`);
    expect(duplicates).toEqual([]);
  };

  const waitForAll = async (queue: Bull.Queue, count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await queue.getCompletedCount()) < count) await new Promise((r) => setTimeout(r, 250));
  };

  it('completes 300 jobs exactly once while a worker is killed with SIGKILL every few seconds', async () => {
    const prefix = 'crash';
    const { watcher, completions } = await watchCompletions(prefix);
    const { gateway, base } = await startGateway(prefix);
    const steady = startWorker(prefix);
    let victim = startWorker(prefix);
    const everyWorker = [steady, victim];
    await Promise.all([steady, victim].map((w) => w.waitForLog((l) => l.message === 'consuming')));
    const started = Date.now();
    let killing = true;
    let killer: Promise<void> | undefined;
    try {
      let kills = 0;
      /** Rounds without a kill because a job had reached the stall limit. */
      let held = 0;
      // The killer starts with the first question, not after the last: the workers get through 300 answers
      // in a few seconds, and a killer that waited for the submissions could find nothing left to interrupt.
      killer = (async () => {
        while (killing && (await watcher.getCompletedCount()) < 300 && kills < 8) {
          await new Promise((r) => setTimeout(r, 2500));
          // Kill it just after it starts a job (answers stream for a few hundred ms), so every kill lands mid-job.
          const startedSoFar = () => victim.logs().filter((l) => l.message === 'job started').length;
          // A job whose worker dies under it more than MAX_STALLED_COUNT times is failed on purpose (a poison
          // pill). Stalled jobs go back to the head of the queue, where a restarted victim often takes them
          // again, so the drill holds its fire while any waiting or running job has reached that count.
          const atStallLimit = async () => {
            const ids = [...(await watcher.client.lrange(watcher.toKey('wait'), 0, -1)), ...(await watcher.client.lrange(watcher.toKey('active'), 0, -1))];
            const pipeline = watcher.client.pipeline();
            for (const id of ids) pipeline.hget(watcher.toKey(id), 'stalledCounter');
            return ((await pipeline.exec()) ?? []).some(([, count]) => Number(count ?? 0) >= MAX_STALLED_COUNT);
          };
          const before = startedSoFar();
          for (const until = Date.now() + 10_000; Date.now() < until && startedSoFar() === before;) await new Promise((r) => setTimeout(r, 10));
          if (await atStallLimit()) {
            held++;
            continue;
          }
          await victim.stop('SIGKILL');
          kills++;
          victim = startWorker(prefix);
          everyWorker.push(victim);
          await victim.waitForLog((l) => l.message === 'consuming').catch(() => undefined);
        }
      })();
      const accepted: { id: string; source: string }[] = [];
      for (let i = 0; i < 300; i++) {
        const r = await submit(base, i);
        expect(r.status).toBe(202);
        accepted.push({ id: r.body.job_id, source: r.source });
      }
      await waitForAll(watcher, 300, 150_000);
      await killer;
      // Jobs a killed worker had started and another worker ran again after the stalled-job check.
      const starts = new Map<string, number>();
      for (const line of everyWorker.flatMap((w) => w.logs())) {
        if (line.message === 'job started') starts.set(String(line.job_id), (starts.get(String(line.job_id)) ?? 0) + 1);
      }
      const rerun = [...starts.values()].filter((n) => n > 1).length;
      figures.worker_crashes = {
        jobs: 300,
        kills,
        jobs_rerun_after_a_kill: rerun,
        kills_held_at_stall_limit: held,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        completed: await watcher.getCompletedCount(),
        failed: await watcher.getFailedCount(),
      };
      expect(kills).toBeGreaterThan(0);
      expect(rerun).toBeGreaterThan(0);
      await verify(watcher, accepted, completions);
    } finally {
      killing = false;
      await killer?.catch(() => undefined);
      await Promise.all([gateway, steady, victim].map((p) => p.stop('SIGKILL')));
      await watcher.close();
    }
  }, 240_000);

  it('completes every accepted job when Redis is killed and restarted while jobs flow', async () => {
    const prefix = 'redis';
    const { gateway, base } = await startGateway(prefix);
    const workers = [startWorker(prefix), startWorker(prefix)];
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.message === 'consuming')));
    const accepted: { id: string; source: string }[] = [];
    let refused = 0;
    /** Answers other than 202, or 503 with Retry-After and the JSON error: there must be none. */
    const unexpected: string[] = [];
    let submitted = 0;
    let restartedAt = 0;
    let acceptedAfterRestart = 0;
    const started = Date.now();
    try {
      // Questions keep coming before, during and after the outage.
      const producer = (async () => {
        while (!(restartedAt && acceptedAfterRestart >= 20) && !(restartedAt && Date.now() > restartedAt + 15_000)) {
          const r = await submit(base, submitted++).catch((error: unknown) => ({ status: 0, retryAfter: null, body: { error: String(error) }, source: '' }));
          if (r.status === 202) {
            accepted.push({ id: r.body.job_id, source: r.source });
            if (restartedAt) acceptedAfterRestart++;
          } else if (r.status === 503 && Number(r.retryAfter) > 0 && r.body?.error?.code === 'queue_unavailable') refused++;
          else unexpected.push(`${r.status} retry-after=${r.retryAfter} ${JSON.stringify(r.body).slice(0, 200)}`);
          await new Promise((res) => setTimeout(res, 25));
        }
      })();
      await new Promise((r) => setTimeout(r, 1500));
      // SIGKILL: no shutdown save; appendfsync always means every acknowledged write is on disk.
      await redis.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
      redis = await startRedis({ port: redisPort, dir: path.join(data.path), args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
      restartedAt = Date.now();
      await producer;
      const { watcher, completions } = await watchCompletions(prefix);
      try {
        await waitForAll(watcher, accepted.length, 120_000);
        figures.redis_restart = {
          submitted,
          accepted: accepted.length,
          accepted_after_restart: acceptedAfterRestart,
          refused_with_503: refused,
          seconds: Math.round((Date.now() - started) / 100) / 10,
          completed: await watcher.getCompletedCount(),
        };
        // The gateway refused (503 with Retry-After, JSON) while Redis was down, nothing else, and accepted again once it was back.
        expect(unexpected).toEqual([]);
        expect(refused).toBeGreaterThan(0);
        expect(acceptedAfterRestart).toBe(20);
        // Completions seen before the watcher subscribed are not counted; check states, then no duplicates among those seen.
        for (const a of accepted) if (!completions.has(a.id)) completions.set(a.id, 1);
        await verify(watcher, accepted, completions);
      } finally {
        await watcher.close();
      }
    } finally {
      await Promise.all([gateway, ...workers].map((p) => p.stop('SIGKILL')));
    }
  }, 240_000);

  it('loses and duplicates nothing when workers get SIGTERM during active jobs', async () => {
    const prefix = 'sigterm';
    const { watcher, completions } = await watchCompletions(prefix);
    const { gateway, base } = await startGateway(prefix);
    let workers = [startWorker(prefix), startWorker(prefix)];
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.message === 'consuming')));
    const started = Date.now();
    try {
      const accepted: { id: string; source: string }[] = [];
      for (let i = 0; i < 60; i++) {
        const r = await submit(base, i);
        accepted.push({ id: r.body.job_id, source: r.source });
      }
      await workers[0].waitForLog((l) => l.message === 'job started');
      const workersBefore = workers;
      const exits = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      const activeAfterStop = await watcher.getActiveCount();
      workers = [startWorker(prefix), startWorker(prefix)];
      await waitForAll(watcher, 60, 60_000);
      figures.sigterm = { jobs: 60, left_active_after_stop: activeAfterStop, seconds: Math.round((Date.now() - started) / 100) / 10 };
      // Every job a stopping worker had started, it finished before exiting.
      const startedBy = loggedJobIds(workersBefore, 'job started');
      const finishedBy = new Set(loggedJobIds(workersBefore, 'job completed'));
      expect(startedBy.filter((id) => !finishedBy.has(id))).toEqual([]);
      // A job Bull fetched just as the worker closed (active, never started) is returned by the stalled-job
      // check; either way every job completes exactly once.
      await verify(watcher, accepted, completions);
    } finally {
      await Promise.all([gateway, ...workers].map((p) => p.stop('SIGKILL')));
      await watcher.close();
    }
  }, 120_000);

  /**
   * Leaves a waiting job as the queue holds it after MAX_STALLED_COUNT workers died under it: active,
   * unlocked, counted stalled that often, and seen active by the last check.
   */
  const leaveAsStalledOut = async (queue: Bull.Queue, jobId: string) => {
    await queue.client
      .multi()
      .lrem(queue.toKey('wait'), 0, jobId)
      .lpush(queue.toKey('active'), jobId)
      .hset(queue.toKey(jobId), 'stalledCounter', String(MAX_STALLED_COUNT))
      .sadd(queue.toKey('stalled'), jobId)
      .exec();
  };

  it('dead-letters a question whose workers died under it more than the allowed number of times, payload and all', async () => {
    const prefix = 'stalled-out';
    const queue = new Bull(QueueName.Query, redis.url, { prefix });
    const worker = { app: undefined as ReturnType<typeof startWorker> | undefined };
    try {
      const payload = { query: 'How long are backups kept?', collection: 'handbook', top_k: 4, stream: false, request_id: 'req-stalled', tenant: 'default' };
      const job = await queue.add(JobName.Answer, payload, { jobId: 'stalled-1', attempts: 5 });
      await leaveAsStalledOut(queue, String(job.id));
      worker.app = startWorker(prefix);
      // A starting worker runs the stalled-job check at once; its dies-once-more verdict fails the job.
      await worker.app.waitForLog(
        (l) => l.message === 'job failed: its worker stopped under it too many times; dead-lettered' && l.job_id === 'stalled-1',
        30_000,
      );
      const failed = await queue.getJob('stalled-1');
      expect(await failed?.getState()).toBe('failed');
      expect(failed?.failedReason).toBe('job stalled more than allowable limit');
      const letters = new DeadLetters(queue.client, { prefix, jobRetentionSeconds: 600, retentionSeconds: 600, maxEntries: 10 });
      const letter = await letters.get(ALL_TENANTS, 'stalled-1');
      expect(letter).toMatchObject({ job_id: 'stalled-1', queue: QueueName.Query, job_name: JobName.Answer, payload });
      expect(letter?.final_error).toMatch(/stalled more than allowable limit: .*replay it/);
    } finally {
      await worker.app?.stop('SIGKILL');
      await queue.close();
    }
  }, 60_000);

  it('counts a document whose workers died under it too often as failed in its ingest run, so the run finishes', async () => {
    const prefix = 'stalled-out-ingest';
    const queue = new Bull(QueueName.Ingest, redis.url, { prefix });
    const runs = new IngestRuns(queue.client, prefix, 600);
    const worker = { app: undefined as ReturnType<typeof startWorker> | undefined };
    try {
      await runs.create({ run_id: 'run-1', tenant: 'default', collection: 'handbook', queued: 1, unchanged: 0, created_at: new Date().toISOString() });
      const job = await queue.add(
        JobName.IngestDocument,
        { run_id: 'run-1', tenant: 'default', collection: 'handbook', doc_id: 'big.pdf', source: 'big.pdf', content_hash: 'h' },
        { jobId: 'ingest-stalled-1', attempts: 3 },
      );
      await leaveAsStalledOut(queue, String(job.id));
      expect((await runs.get('run-1'))?.finished).toBe(false);
      worker.app = startWorker(prefix);
      await worker.app.waitForLog((l) => l.message === 'document failed: its worker stopped under it too many times' && l.doc_id === 'big.pdf', 30_000);
      for (const until = Date.now() + 5000; Date.now() < until && !(await runs.get('run-1'))?.finished;) await new Promise((r) => setTimeout(r, 50));
      const run = await runs.get('run-1');
      expect(run).toMatchObject({ finished: true, failed: 1, status: 'completed_with_failures' });
      expect(run?.failures).toEqual([
        { doc_id: 'big.pdf', error: expect.stringMatching(/stalled more than allowable limit: .*load it again/), code: 'worker_lost' },
      ]);
    } finally {
      await worker.app?.stop('SIGKILL');
      await queue.close();
    }
  }, 60_000);
});
