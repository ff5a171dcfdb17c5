/**
 * The Redis Cluster failover drill: the stack on a private cluster of 3
 * masters with a replica each (AOF on), QUEUE_PREFIX={rag}, a steady stream
 * of questions; midway the master that owns {rag}'s slot (every key of the
 * queue) is stopped (SIGTERM by default, --signal SIGKILL for a crash) and its
 * replica takes over. Then the stream stops and the backlog drains: every
 * question the gateway accepted (202) must be completed exactly once (Bull's
 * completed set against the 202s, the workers' `job completed` lines against
 * both). Questions refused during the failover (503) are counted: a client
 * retries those.
 *
 *   npm run bench -- cluster-failover [--rate N] [--seconds N] [--workers N] [--llm-ms N] [--signal SIGTERM|SIGKILL]
 */
import { openRedis } from '@rag/config';
import { startFakeOpenAI } from '@rag/fake-openai';
import { freePort, startApp, startRedisCluster, tempDir, type AppProcess } from '@rag/testing';
import { numberFlag, type Scenario } from './scenario';
import { benchEnv, consuming, fakeLLM, ingestSample, listening, postQuestion } from './stack';

const CONCURRENCY = 4;
const PREFIX = '{rag}';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const clusterFailoverScenario: Scenario = {
  name: 'cluster-failover',
  async run(args) {
    const rate = numberFlag(args, '--rate', 20);
    const seconds = numberFlag(args, '--seconds', 20);
    const workerCount = numberFlag(args, '--workers', 2);
    const llmMs = numberFlag(args, '--llm-ms', 200);
    const signal = (args.includes('--signal') ? args[args.indexOf('--signal') + 1] : 'SIGTERM') as NodeJS.Signals;
    const cluster = await startRedisCluster({ replicas: 1, args: ['--appendonly', 'yes'] });
    const data = tempDir('rag-bench-failover-');
    const fake = await startFakeOpenAI({ dimension: 64, firstTokenMs: llmMs });
    const port = await freePort();
    const env = benchEnv('redis://127.0.0.1:1', data.path, {
      ...fakeLLM(fake.url),
      REDIS_CLUSTER_NODES: cluster.nodesSetting,
      QUEUE_PREFIX: PREFIX,
      PORT: String(port),
      LOG_LEVEL: 'info',
      EMBEDDINGS: 'local',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_METRICS_PORT: '0',
      MAX_WAITING_JOBS: '1000000',
      MAX_WAITING_JOBS_PER_TENANT: '1000000',
    });
    const client = openRedis({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: cluster.nodesSetting });
    const gateway = startApp('apps/api-gateway/src/main.ts', env);
    const workers: AppProcess[] = [];
    const accepted = new Set<string>();
    const refusedAt: number[] = [];
    let sending = true;
    try {
      await ingestSample(env);
      for (let i = 0; i < workerCount; i++) workers.push(startApp('apps/rag-worker/src/main.ts', env));
      await Promise.all([listening(gateway), ...workers.map(consuming)]);
      const started = performance.now();
      const stream = (async () => {
        const inFlight = new Set<Promise<void>>();
        for (let sent = 0; sending; sent++) {
          const due = started + (sent * 1000) / rate;
          if (due > performance.now()) await sleep(due - performance.now());
          const post = postQuestion(port)
            .then(async (res) => {
              if (res.status === 202) accepted.add(((await res.json()) as { job_id: string }).job_id);
              else refusedAt.push(performance.now() - started);
            })
            .catch(() => void refusedAt.push(performance.now() - started))
            .finally(() => inFlight.delete(post));
          inFlight.add(post);
        }
        await Promise.all(inFlight);
      })();

      await sleep((seconds * 1000) / 3);
      const owner = await cluster.masterOf(PREFIX);
      const stoppedAt = performance.now() - started;
      await owner.stop(signal);
      let promoted = owner;
      while (promoted === owner) {
        await sleep(100);
        promoted = await cluster.masterOf(PREFIX).catch(() => owner);
      }
      const promotedAt = performance.now() - started;
      process.stderr.write(
        `bench cluster-failover: master :${owner.port} stopped (${signal}), replica :${promoted.port} promoted after ${((promotedAt - stoppedAt) / 1000).toFixed(1)} s\n`,
      );
      await sleep(Math.max(0, seconds * 1000 - (performance.now() - started)));
      sending = false;
      await stream;

      const completed = () => client.zcard(`${PREFIX}:rag-query:completed`);
      const deadline = Date.now() + 120_000;
      while ((await completed()) < accepted.size && Date.now() < deadline) await sleep(200);
      const done = new Set(await client.zrange(`${PREFIX}:rag-query:completed`, 0, -1));
      const failed = await client.zcard(`${PREFIX}:rag-query:failed`);
      const lost = [...accepted].filter((id) => !done.has(id)).length;
      const completions = new Map<string, number>();
      for (const worker of workers) {
        for (const line of worker.logs()) {
          if (line.message === 'job completed' && typeof line.job_id === 'string') completions.set(line.job_id, (completions.get(line.job_id) ?? 0) + 1);
        }
      }
      const twice = [...completions.values()].filter((n) => n > 1).length;
      const unlogged = [...accepted].filter((id) => !completions.has(id)).length;
      const refusedAfterStop = refusedAt.filter((t) => t >= stoppedAt);
      const figures = {
        rate,
        seconds,
        workers: workerCount,
        llm_ms: llmMs,
        signal,
        promotion_seconds: (promotedAt - stoppedAt) / 1000,
        accepted: accepted.size,
        refused: refusedAt.length,
        refused_window_seconds: refusedAfterStop.length > 0 ? (Math.max(...refusedAfterStop) - stoppedAt) / 1000 : 0,
        completed: done.size,
        failed,
        lost,
        completed_twice: twice,
        completions_not_logged: unlogged,
      };
      const lines = [
        `The stack on a private Redis Cluster (3 masters, a replica each, AOF on, cluster-node-timeout 1 s), QUEUE_PREFIX=${PREFIX}: ` +
          `${rate} questions a second for ${seconds} s, ${workerCount} workers (concurrency ${CONCURRENCY}, LLM after ${llmMs} ms, tools/fake-openai). ` +
          `After ${(stoppedAt / 1000).toFixed(1)} s the master owning {rag}'s slot is stopped with ${signal}; its replica is promoted ${figures.promotion_seconds.toFixed(1)} s later.`,
        '',
        `Accepted ${accepted.size} questions, refused ${refusedAt.length} (503 while the slot had no master; the last ${figures.refused_window_seconds.toFixed(1)} s after the stop); ` +
          `completed ${done.size}, failed ${failed}, lost ${lost}, completed twice ${twice}, completed without a worker's log line ${unlogged}.`,
      ];
      if (lost > 0 || twice > 0 || failed > 0) lines.push('', '**The drill failed: an accepted question was lost, failed or answered twice.**');
      return { markdown: lines.join('\n'), data: figures };
    } finally {
      sending = false;
      client.disconnect();
      await Promise.all([gateway, ...workers].map((a) => a.stop('SIGKILL')));
      await fake.close();
      await cluster.stop();
      data.remove();
    }
  },
};
