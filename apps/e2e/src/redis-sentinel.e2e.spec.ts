import { openRedis } from '@rag/config';
import { json, runApp, sentinelMasterPort, startRedisSentinel, type AppProcess, type PrivateRedisSentinel } from '@rag/testing';
import * as path from 'node:path';
import { CLI_MAIN, loggedJobIds, postChat, useStack } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');

// The stack on Sentinel-managed Redis (REDIS_SENTINELS, REDIS_SENTINEL_NAME): a
// master, its replica and a sentinel; the CLI, a gateway and a worker find the
// master through the sentinel and follow it when the sentinel fails over to the
// replica. REDIS_URL points where nothing listens.
describe('the stack under Redis Sentinel', () => {
  const stack = useStack('rag-sentinel-');
  let redis: PrivateRedisSentinel;
  let worker: AppProcess;

  beforeAll(async () => {
    // The documents are loaded meanwhile, offline (nothing answers on REDIS_URL); the CLI's own Redis use is proved on the cluster.
    const loaded = runApp(CLI_MAIN, { ...stack.env, DATA_DIR: stack.data.path, REDIS_URL: 'redis://127.0.0.1:1' }, [
      path.join(CORPUS, 'parking.html'),
      '--collection',
      'handbook',
      '--no-progress',
    ]);
    // A master with no replica in sync refuses writes (NOREPLICAS, a 503 the client retries): during a failover the
    // demoted master would otherwise take writes that its resync from the new master then throws away.
    redis = await startRedisSentinel({
      args: ['--appendonly', 'yes', '--min-replicas-to-write', '1', '--min-replicas-max-lag', '10', '--repl-diskless-sync-delay', '0'],
    });
    stack.onTeardown(() => redis.stop());
    expect((await loaded).code).toBe(0);
    ({
      workers: [worker],
    } = await stack.startGatewayAndWorkers({
      ...stack.env,
      DATA_DIR: stack.data.path,
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: redis.sentinelsSetting,
      REDIS_SENTINEL_NAME: redis.name,
    }));
  });

  /**
   * As a client does: a 503 (Redis moving to its new master) is asked again a moment later. With one replica and
   * min-replicas-to-write 1, the new master refuses writes until the sentinel has turned the old master into its
   * replica, which it does when it next reads the old master's INFO (every 10 s): 30 s covers that and the resync.
   */
  const retried = async (call: () => Promise<Response>) => {
    for (let attempt = 1; ; attempt++) {
      const res = await call();
      if (res.status !== 503 || attempt === 150) return res;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const askAndWait = async (query: string) => {
    const res = await retried(() => postChat(stack.base, { query, collection: 'handbook' }));
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    const done = await retried(() => fetch(`${stack.base}/v1/jobs/${job_id}?wait=15`));
    expect(done.status).toBe(200);
    return json(done);
  };

  it('answers questions through the master the sentinel names', async () => {
    const done = await askAndWait('How much does a parking permit cost?');
    expect(done.status).toBe('completed');
    expect(done.result.citations[0].source).toBe('parking.html');
  });

  it('follows a failover to the replica: questions asked before and after complete, each once', async () => {
    const before = await askAndWait('Where can I park my bicycle?');
    expect(before.status).toBe('completed');
    const sentinel = openRedis({ REDIS_URL: redis.sentinel.url });
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', redis.name);
    } finally {
      sentinel.disconnect();
    }
    for (let i = 0; i < 100 && (await sentinelMasterPort(redis.sentinel.port, redis.name)) !== redis.replica.port; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await sentinelMasterPort(redis.sentinel.port, redis.name)).toBe(redis.replica.port);

    // The gateway answers 503 while its connections move to the new master, as during any Redis outage: a client retries.
    for (let i = 0; i < 100 && (await fetch(`${stack.base}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const after = await askAndWait('How much does a parking permit cost?');
    expect(after.status).toBe('completed');
    // The question answered before the failover is still there, read from the promoted replica.
    expect((await json(await fetch(`${stack.base}/v1/jobs/${before.job_id}`))).status).toBe('completed');
    const completed = loggedJobIds([worker], 'job completed');
    expect(completed.filter((id) => id === before.job_id || id === after.job_id).sort()).toEqual([before.job_id, after.job_id].sort());
  });
});
