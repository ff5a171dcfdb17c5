import { loadConfig } from '@rag/config';
import { ALL_TENANTS, openDeadLetters, signJob, withJobSigningKey } from '@rag/jobs';
import { JobName, QueueName } from '@rag/queue-contracts';
import { runApp } from '@rag/testing';
import Redis from 'ioredis';
import * as path from 'node:path';
import { CLI, useCliSuite } from './cli-suite.spec-helper';

// `rag-ingest dlq …` as real processes: the CLI holds the Redis URL, so it acts
// as an operator (every tenant, or one with --tenant), and never replays a job
// the workers refused as not queued by the gateway.
describe('rag-ingest dlq', () => {
  let client: Redis;
  let env: NodeJS.ProcessEnv;
  const suite = useCliSuite('rag-cli-dlq-', () => client?.disconnect());

  beforeAll(() => {
    client = new Redis(suite.redis.url);
    env = { REDIS_URL: suite.redis.url, QUEUE_PREFIX: 'rag-cli-dlq', DATA_DIR: path.join(suite.data.path, 'data') };
  });

  it("lists and purges one tenant's letters with --tenant, every tenant's without, and refuses to replay a forged job", async () => {
    const config = await withJobSigningKey(client, loadConfig(env));
    const letters = openDeadLetters(client, config);
    const add = (id: string, payload: object) =>
      letters.add({ job_id: id, queue: QueueName.Query, job_name: JobName.Answer, payload, final_error: 'boom', failed_at: new Date().toISOString() });
    const question = (tenant: string) => ({ query: 'q', collection: 'handbook', top_k: 3, stream: false, request_id: `r-${tenant}`, tenant });
    await add('acme-1', signJob(config, QueueName.Query, question('acme')));
    await add('globex-1', signJob(config, QueueName.Query, question('globex')));
    await add('forged-1', question('globex'));

    const acme = await runApp(CLI, env, ['dlq', 'list', '--json', '--tenant', 'acme']);
    expect(acme.code).toBe(0);
    expect(JSON.parse(acme.stdout).items.map((l: { job_id: string }) => l.job_id)).toEqual(['acme-1']);
    const all = await runApp(CLI, env, ['dlq', 'list', '--json']);
    expect(
      JSON.parse(all.stdout)
        .items.map((l: { job_id: string }) => l.job_id)
        .sort(),
    ).toEqual(['acme-1', 'forged-1', 'globex-1']);
    expect((await runApp(CLI, env, ['dlq', 'show', 'globex-1', '--tenant', 'acme'])).code).toBe(1);

    const forged = await runApp(CLI, env, ['dlq', 'replay', 'forged-1']);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('was not queued by the gateway');
    expect(await letters.get(ALL_TENANTS, 'forged-1')).toBeDefined();
    const replayed = await runApp(CLI, env, ['dlq', 'replay', 'globex-1']);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain('replayed globex-1');

    const purged = await runApp(CLI, env, ['dlq', 'purge', '--yes', '--tenant', 'acme']);
    expect(purged.stdout).toContain('purged 1 dead letter(s)');
    expect((await letters.list(ALL_TENANTS)).items.map((l) => l.job_id)).toEqual(['forged-1']);
  });
});
