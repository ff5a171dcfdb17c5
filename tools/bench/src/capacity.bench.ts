/**
 * What one question costs Redis, for the capacity model in
 * docs/operations.md: the round trips each process makes (a MULTI … EXEC
 * block or a script is one), the commands Redis executes for it
 * (inside scripts too), Redis's own CPU time, and the bytes it keeps until
 * the job's retention ends. Questions are asked one at a time as a client
 * would (POST /v1/chat, then a long-poll), with a stored API key, so
 * authentication and the rate limit are counted too; commands are told apart
 * by the process whose socket sent them (MONITOR, matched with `ss -tnp`).
 *
 *   npm run bench -- capacity [--questions N]
 */
import { ApiKeyStore } from '@rag/auth';
import { freePort, monitorRequests, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import { spawnSync } from 'node:child_process';
import { numberFlag, type Scenario } from './scenario';
import { SAMPLE_QUESTION, benchEnv, consuming, ingestSample, listening } from './stack';

/** How long Redis's CPU use is sampled with the stack idle, to take it out of the run's. */
const IDLE_MS = 5000;

/** The local ports of the TCP connections `pid` holds to Redis's `port`. */
function clientPorts(pid: number, port: number): Set<string> {
  const ss = spawnSync('ss', ['-tnpH', 'state', 'established', `dport = :${port}`], { encoding: 'utf8' });
  if (ss.error) throw new Error(`ss (iproute2) is needed to tell the processes' connections apart: apt-get install iproute2 (${ss.error.message})`);
  return new Set(
    ss.stdout
      .split('\n')
      .filter((l) => l.includes(`pid=${pid},`))
      .map((l) => l.trim().split(/\s+/)[2]?.split(':').pop() ?? ''),
  );
}

/** Redis's own CPU seconds (user + system) so far. */
async function redisCpu(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function usedMemory(client: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1] ?? NaN);
}

export const capacityScenario: Scenario = {
  name: 'capacity',
  async run(args) {
    const questions = numberFlag(args, '--questions', 200);
    const redis = await startRedis();
    const data = tempDir('rag-bench-capacity-');
    const port = await freePort();
    const env = benchEnv(redis.url, data.path, { PORT: String(port), LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' });
    const client = new Redis(redis.url);
    const apps: AppProcess[] = [];
    try {
      await ingestSample(env);
      const key = (await new ApiKeyStore(client, 'rag').create({ tenant: 'default', scopes: ['query'], name: 'capacity' })).key;
      const gateway = startApp('apps/api-gateway/src/main.ts', env);
      const worker = startApp('apps/rag-worker/src/main.ts', env);
      apps.push(gateway, worker);
      await Promise.all([listening(gateway), consuming(worker)]);
      const headers = { authorization: `Bearer ${key}` };
      const ask = async () => {
        const accepted = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query: SAMPLE_QUESTION, collection: 'sample' }),
        });
        if (accepted.status !== 202) throw new Error(`POST /v1/chat answered ${accepted.status}: ${await accepted.text()}`);
        const { job_id } = (await accepted.json()) as { job_id: string };
        const done = (await (await fetch(`http://127.0.0.1:${port}/v1/jobs/${job_id}?wait=10`, { headers })).json()) as { status: string };
        if (done.status !== 'completed') throw new Error(`job ${job_id} ended ${done.status}`);
      };
      // Warm: the key in the gateway's cache, the collection open, the scripts loaded.
      for (let i = 0; i < 5; i++) await ask();
      const sides = { gateway: clientPorts(gateway.child.pid ?? -1, redis.port), worker: clientPorts(worker.child.pid ?? -1, redis.port) };
      if (sides.gateway.size === 0 || sides.worker.size === 0) throw new Error('`ss -tnp` shows no connection of the gateway or the worker to Redis');

      const sample = Math.min(questions, 50);
      const portOf = (source: string) => source.split(':').pop() ?? '';
      const monitored = await monitorRequests(
        redis.url,
        async () => {
          for (let i = 0; i < sample; i++) await ask();
        },
        (source) => (sides.gateway.has(portOf(source)) ? 'gateway' : sides.worker.has(portOf(source)) ? 'worker' : 'other'),
      );
      // Without MONITOR (it costs Redis CPU itself): CPU time and memory over the whole run, less what Redis
      // spends idle in as long (its timers, Bull's stalled-job checks, the workers' heartbeats).
      const idleStart = [await redisCpu(client), performance.now()];
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const idlePerMs = ((await redisCpu(client)) - idleStart[0]) / (performance.now() - idleStart[1]);
      const [cpu0, memory0, t0] = [await redisCpu(client), await usedMemory(client), performance.now()];
      for (let i = 0; i < questions; i++) await ask();
      const [cpu1, memory1, t1] = [await redisCpu(client), await usedMemory(client), performance.now()];

      const per = (n: number) => n / sample;
      const figures = {
        questions,
        monitored_questions: sample,
        round_trips_per_question: Object.fromEntries((['gateway', 'worker', 'other'] as const).map((side) => [side, per(monitored.requests.get(side) ?? 0)])),
        commands_per_question: per(monitored.commands),
        redis_cpu_ms_per_question: ((cpu1 - cpu0 - idlePerMs * (t1 - t0)) * 1000) / questions,
        redis_idle_cpu_percent: idlePerMs * 1000 * 100,
        bytes_kept_per_question: (memory1 - memory0) / questions,
      };
      const rt = figures.round_trips_per_question;
      const lines = [
        `${questions} questions one at a time (POST /v1/chat, then GET /v1/jobs/:id?wait=10), with a stored API key (authentication and the rate limit on), ` +
          `embedded defaults, sample collection, a gateway and a worker through tsx on a private redis-server. Round trips and commands from ${sample} of them under MONITOR ` +
          `(a MULTI … EXEC block or a script counted once; commands run by scripts counted among the commands); Redis CPU time and memory over all ${questions}, without MONITOR.`,
        '',
        '| per question | |',
        '|---|---|',
        `| round trips from the gateway (accept, rate limits, long-poll) | ${rt.gateway.toFixed(1)} |`,
        `| round trips from the worker (take, events, finish) | ${rt.worker.toFixed(1)} |`,
        `| commands Redis executes (scripts' included) | ${figures.commands_per_question.toFixed(0)} |`,
        `| Redis CPU time (less its idle use, ${figures.redis_idle_cpu_percent.toFixed(2)} % of a core) | ${figures.redis_cpu_ms_per_question.toFixed(3)} ms |`,
        `| bytes kept until the retention ends (job record, events, indexes) | ${(figures.bytes_kept_per_question / 1024).toFixed(1)} KiB |`,
        '',
        `One Redis core at this CPU cost serves about ${Math.floor(1000 / figures.redis_cpu_ms_per_question).toLocaleString('en-US')} questions a second ` +
          `(docs/operations.md, "Capacity model", works from these figures).`,
      ];
      return { markdown: lines.join('\n'), data: figures };
    } finally {
      client.disconnect();
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await redis.stop();
      data.remove();
    }
  },
};
