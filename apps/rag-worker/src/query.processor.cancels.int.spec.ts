import { ExtractiveAnswerer } from '@rag/llm-client';
import { ALL_TENANTS, CancelSignals, DeadLetters, JobEventsWriter } from '@rag/jobs';
import { GENERIC_FAILURE, createLogger } from '@rag/observability';
import { JobName, QueueName, jobEventsKey } from '@rag/queue-contracts';
import { LanceDbStore, LocalHashEmbedder } from '@rag/retrieval';
import { startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import Redis from 'ioredis';
import { PassThrough } from 'node:stream';
import { queryRunner } from './query.processor';
import { TEST_SIGNING, signedQuery } from './testing/signed-jobs';

// Issue #14, part 6: the cancel subscription's Redis read ran before the
// processor's try, so a Redis error there skipped the failure path: no error
// event, no attempt record, no dead letter, and Redis's own words as the job's
// failure reason. It must fail like any other attempt.
describe('query processor when the cancel signals cannot reach Redis', () => {
  let redis: PrivateRedis;
  let data: TempDir;
  let store: LanceDbStore;
  let queue: Bull.Queue;
  let client: Redis;
  let broken: Redis;
  let subscriber: Redis;
  let deadLetters: DeadLetters;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-worker-cancels-');
    store = await LanceDbStore.open(data.path);
    client = new Redis(redis.url);
    subscriber = new Redis(redis.url);
    // The connection the cancel check reads through, closed: every command fails at once.
    broken = new Redis(redis.url);
    await broken.ping();
    broken.disconnect();
    deadLetters = new DeadLetters(client, { prefix: 'rag', jobRetentionSeconds: 60, retentionSeconds: 60, maxEntries: 100 });
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) =>
      d
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => logs.push(JSON.parse(l))),
    );
    queue = new Bull(QueueName.Query, redis.url, { prefix: 'rag' });
    const cancels = new CancelSignals(subscriber, broken, 'rag');
    void queue.process(
      JobName.Answer,
      1,
      queryRunner(
        { store, embedder: new LocalHashEmbedder(64), answerer: new ExtractiveAnswerer() },
        {
          logger: createLogger({ service: 'rag-worker', stream }),
          openEvents: (id) => new JobEventsWriter(client, id, { prefix: 'rag', retentionSeconds: 60 }),
          cancels,
          deadLetters,
          signing: TEST_SIGNING,
        },
      ).process,
    );
  });

  afterAll(async () => {
    await queue?.close();
    client?.disconnect();
    subscriber?.disconnect();
    await store?.close();
    await redis?.stop();
    data?.remove();
  });

  it('fails the job through the failure path: error event, attempt, dead letter, a tenant-safe reason', async () => {
    const job = await queue.add(
      JobName.Answer,
      signedQuery({ query: 'q', collection: 'policies', top_k: 3, stream: false, request_id: 'req-cancels', tenant: 'default' }),
      { attempts: 1 },
    );
    await expect(job.finished()).rejects.toThrow(`${GENERIC_FAILURE} (reference req-cancels)`);
    const jobId = String(job.id);
    expect((await queue.getJob(jobId))?.failedReason).toBe(`${GENERIC_FAILURE} (reference req-cancels)`);

    const letter = await deadLetters.get(ALL_TENANTS, jobId);
    expect(letter).toMatchObject({ job_id: jobId, final_error: `${GENERIC_FAILURE} (reference req-cancels)`, final_error_code: 'internal_error' });
    expect(letter?.attempts).toEqual([expect.objectContaining({ attempt: 1, code: 'internal_error', permanent: false })]);

    const events = await client.xrange(jobEventsKey('rag', jobId), '-', '+');
    expect(events.map(([, f]) => f[1])).toEqual(expect.arrayContaining(['status', 'error']));

    // The operator reads Redis's own words in the log.
    const failed = logs.find((l) => l.job_id === jobId && l.message === 'job attempt failed');
    expect(failed).toMatchObject({ request_id: 'req-cancels', error: expect.stringContaining('Connection is closed') });
  });
});
