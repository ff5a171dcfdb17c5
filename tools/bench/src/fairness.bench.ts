/**
 * A fair share under a burst: tenant A keeps --backlog questions waiting
 * (its cap, topped up as the worker takes them) while tenant B asks one
 * question every --b-every-ms. B's queue wait (Bull's processedOn minus the
 * job's timestamp) with fair share on, against the idle queue (B alone) and
 * against first in, first out (FAIR_SHARE=off, the behaviour before). Real
 * gateway and worker processes, the LLM a tools/fake-openai server answering
 * after --llm-ms. Then what the admission script costs Redis (its own time
 * per call, INFO commandstats) with 0, 2,000 and 20,000 questions waiting:
 * fair share inserts by walking the wait list.
 *
 *   npm run bench -- fairness [--backlog N] [--b-questions N] [--b-every-ms N] [--llm-ms N]
 */
import { startFakeOpenAI } from '@rag/fake-openai';
import { QuestionAdmission, openQueryQueue, queryJobOptions } from '@rag/jobs';
import { freePort, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { median, numberFlag, percentile, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, consuming, fakeLLM, ingestSample, listening } from './stack';

const CONCURRENCY = 8;
const KEYS = { acme: 'bench_fair_acme_0123456789abcdef', globex: 'bench_fair_globex_0123456789abcdef' };
const WAIT = 'rag:rag-query:wait';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Mode = 'idle' | 'fair' | 'fifo';

interface Waits {
  mode: Mode;
  questions: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** A's questions waiting when B's were asked (median of the samples). */
  a_waiting: number;
  /** The median time a worker spent on one of B's jobs (processedOn to finishedOn). */
  job_ms: number;
}

interface Cost {
  waiting: number;
  fair_share: boolean;
  /** Redis's time per admission (usec_per_call of EVALSHA), for a question of: a tenant with none waiting, */
  new_tenant_us: number;
  /** the tenant with `waiting` waiting, */
  waiting_tenant_us: number;
  /** a third tenant with MIDDLE waiting (its place is inside the list, past the lift limit: the walk). */
  middle_tenant_us: number;
}

/** The third tenant's backlog in the cost measure. */
const MIDDLE = 1500;

function ask(port: number, tenant: keyof typeof KEYS): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[tenant]}` },
    body: JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' }),
  });
}

/** Redis's own microseconds per EVALSHA since `CONFIG RESETSTAT`. */
async function usecPerScript(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/^cmdstat_evalsha:.*usec_per_call=([\d.]+)/m.exec(stats)?.[1] ?? NaN);
}

/**
 * The admission script's Redis time with `waiting` of tenant A's questions waiting (and MIDDLE of tenant M's), fair
 * share on or off: 100 questions of each kind, each taken out again with plain commands so every one sees the same queue.
 */
async function admissionCost(redisUrl: string, client: Redis, waiting: number, fairShare: boolean): Promise<Cost> {
  const prefix = `cost${waiting}${fairShare ? 'f' : 'o'}`;
  const queue = openQueryQueue({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix });
  try {
    const admission = new QuestionAdmission(queue, prefix, 600, fairShare);
    const admit = (tenant: string, jobId: string) =>
      admission.admit(
        { tenant, jobId, maxWaiting: 1e9, maxPerTenant: 1e9 },
        { name: 'answer', data: { tenant }, opts: queryJobOptions({ JOB_ATTEMPTS: 1, JOB_BACKOFF_MS: 1000, JOB_RETENTION_SECONDS: 600 }, jobId) },
      );
    const fill = async (tenant: string, count: number) => {
      for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => admit(tenant, `${tenant}${i + j}`)));
    };
    await fill('a', waiting);
    await fill('m', MIDDLE);
    const timed = async (tenant: (i: number) => string) => {
      await client.config('RESETSTAT');
      for (let i = 0; i < 100; i++) {
        const id = `${tenant(i)}-measured-${i}`;
        await admit(tenant(i), id);
        await client.multi().lrem(queue.toKey('wait'), 1, id).zrem(queue.toKey('priority'), id).del(queue.toKey(id)).exec();
      }
      return usecPerScript(client);
    };
    return {
      waiting,
      fair_share: fairShare,
      new_tenant_us: await timed((i) => `t${i}`),
      waiting_tenant_us: await timed(() => 'a'),
      middle_tenant_us: await timed(() => 'm'),
    };
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export const fairnessScenario: Scenario = {
  name: 'fairness',
  async run(args) {
    const backlog = numberFlag(args, '--backlog', 2000);
    const bQuestions = numberFlag(args, '--b-questions', 15);
    const bEveryMs = numberFlag(args, '--b-every-ms', 1000);
    const llmMs = numberFlag(args, '--llm-ms', 100);
    const redis = await startRedis();
    const data = tempDir('rag-bench-fairness-');
    const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: llmMs });
    const client = new Redis(redis.url);
    const env = benchEnv(redis.url, data.path, {
      ...fakeLLM(fake.url),
      LOG_LEVEL: 'info',
      EMBEDDINGS: 'local',
      API_KEYS: `acme:query:${KEYS.acme},globex:query:${KEYS.globex}`,
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_METRICS_PORT: '0',
      MAX_WAITING_JOBS: '1000000',
      MAX_WAITING_JOBS_PER_TENANT: String(backlog),
    });
    const apps: AppProcess[] = [];
    try {
      await ingestSample(env, 'acme');
      await ingestSample(env, 'globex');
      const worker = startApp('apps/rag-worker/src/main.ts', env);
      apps.push(worker);
      await consuming(worker);

      const measure = async (mode: Mode): Promise<Waits> => {
        const port = await freePort();
        const gateway = startApp('apps/api-gateway/src/main.ts', { ...env, PORT: String(port), FAIR_SHARE: mode === 'fifo' ? 'off' : 'on' });
        apps.push(gateway);
        await listening(gateway);
        // A tops its backlog up to `backlog` waiting, 50 questions at a time.
        let feeding = mode !== 'idle';
        const feeder = (async () => {
          while (feeding) {
            const missing = backlog - (await client.llen(WAIT));
            if (missing <= 0) await sleep(20);
            else await Promise.all(Array.from({ length: Math.min(50, missing) }, () => ask(port, 'acme').then((r) => r.arrayBuffer())));
          }
        })();
        if (mode !== 'idle') while ((await client.llen(WAIT)) < backlog * 0.95) await sleep(100);
        const ids: string[] = [];
        const aWaiting: number[] = [];
        for (let i = 0; i < bQuestions; i++) {
          aWaiting.push(await client.llen(WAIT));
          const res = await ask(port, 'globex');
          if (res.status !== 202) throw new Error(`B's question was refused: ${res.status} ${await res.text()}`);
          ids.push(((await res.json()) as { job_id: string }).job_id);
          await sleep(bEveryMs);
        }
        const times = async () => Promise.all(ids.map((id) => client.hmget(`rag:rag-query:${id}`, 'timestamp', 'processedOn', 'finishedOn')));
        for (const deadline = Date.now() + 600_000; (await times()).some((t) => !t[2]);) {
          if (Date.now() > deadline) throw new Error(`B's questions not answered in 600 s (${mode})`);
          await sleep(200);
        }
        feeding = false;
        await feeder;
        await gateway.stop('SIGTERM');
        // The next run starts from an empty queue: A's backlog is dropped, the jobs running end.
        const queue = openQueryQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: 'rag' });
        await queue.empty();
        while ((await queue.getActiveCount()) > 0) await sleep(100);
        await queue.close();
        await client.del('rag:tenant-waiting:acme');
        const measured = (await times()).map((t) => t.map(Number));
        const waits = measured.map(([timestamp, processedOn]) => processedOn - timestamp);
        process.stderr.write(`bench fairness: ${mode}: B waited p50 ${median(waits)} ms, max ${Math.max(...waits)} ms\n`);
        return {
          mode,
          questions: ids.length,
          p50_ms: median(waits),
          p95_ms: percentile(waits, 95),
          max_ms: Math.max(...waits),
          a_waiting: median(aWaiting),
          job_ms: median(measured.map(([, processedOn, finishedOn]) => finishedOn - processedOn)),
        };
      };
      const runs = [await measure('idle'), await measure('fair'), await measure('fifo')];
      const costs: Cost[] = [];
      for (const waiting of [0, 2000, 20000]) for (const fairShare of [true, false]) costs.push(await admissionCost(redis.url, client, waiting, fairShare));

      const [idle, fair] = runs;
      const bound = idle.p95_ms + idle.job_ms;
      const label: Record<Mode, string> = { idle: 'idle queue (B alone)', fair: 'fair share (FAIR_SHARE=on)', fifo: 'first in, first out (FAIR_SHARE=off)' };
      const lines = [
        `Tenant A keeps ${backlog} questions waiting (its cap, topped up as they are taken) while tenant B asks one question every ${bEveryMs / 1000} s, ` +
          `${bQuestions} in all; one worker process (concurrency ${CONCURRENCY}, LLM answering after ${llmMs} ms, tools/fake-openai), one gateway, both on POST /v1/chat. ` +
          `B's queue wait is Bull's processedOn minus the job's timestamp.`,
        '',
        "| queue | A's questions waiting | B's wait p50 | p95 | max |",
        '|---|---|---|---|---|',
        ...runs.map((r) => `| ${label[r.mode]} | ${r.a_waiting} | ${r.p50_ms} ms | ${r.p95_ms} ms | ${r.max_ms} ms |`),
        '',
        `The goal: B waits no longer than with an idle queue plus one job's time (a worker slot frees within one job): ${idle.p95_ms} + ${idle.job_ms} = ${bound} ms; ` +
          `fair share's max ${fair.max_ms} ms ${fair.max_ms <= bound ? 'meets it' : '**misses it**'}.`,
        '',
        `What one admission costs Redis (its own time per script call, INFO commandstats; 100 calls each, each question taken out again), ` +
          `with tenant A's questions waiting and ${MIDDLE} of tenant M's: a question of a new tenant (its place is a step from the list's end: lifted), ` +
          `of A (its place is at the list's other end) and of M (its place is past ${MIDDLE} of A's and M's, inside the list: walked).`,
        '',
        "| A's waiting | fair share | new tenant's question | A's question | M's question |",
        '|---|---|---|---|---|',
        ...costs.map(
          (c) =>
            `| ${c.waiting} | ${c.fair_share ? 'on' : 'off'} | ${c.new_tenant_us.toFixed(1)} µs | ${c.waiting_tenant_us.toFixed(1)} µs | ${c.middle_tenant_us.toFixed(1)} µs |`,
        ),
      ];
      return {
        markdown: lines.join('\n'),
        data: { backlog, b_questions: bQuestions, b_every_ms: bEveryMs, llm_ms: llmMs, concurrency: CONCURRENCY, runs, bound_ms: bound, costs },
      };
    } finally {
      client.disconnect();
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await fake.close();
      await redis.stop();
      data.remove();
    }
  },
};
