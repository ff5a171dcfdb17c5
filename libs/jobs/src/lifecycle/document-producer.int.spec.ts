import { JobName, QueueName, jobEventsKey } from '@rag/queue-contracts';
import { useRedisSuite } from '@rag/testing';
import { verifyJob } from '../job-signature';
import { ingestJobId, openIngestQueue } from '../queues';
import { DocumentProducer } from './document-producer';
import { jobEventsOpener } from './job-events';

const config = { JOB_SIGNING_KEY: 'k'.repeat(32), JOB_ATTEMPTS: 4, JOB_BACKOFF_MS: 100, JOB_TIMEOUT_MS: 5000, JOB_RETENTION_SECONDS: 900 };

describe('DocumentProducer and the job event stream (real Redis)', () => {
  const redis = useRedisSuite();

  it('queues each document signed, under its run id, with the ingest options; the same document twice in a run is one job', async () => {
    const queue = openIngestQueue({ REDIS_URL: redis.url, QUEUE_PREFIX: 'dp' });
    try {
      const doc = (doc_id: string) => ({ run_id: 'run-1', tenant: 'acme', collection: 'docs', doc_id, content_hash: 'h'.repeat(64), bytes: 10 });
      const producer = new DocumentProducer(queue, config);
      await producer.enqueue([doc('a.md'), doc('b.md')]);
      await producer.enqueue([doc('a.md')]);
      await producer.enqueue([]);
      expect(await queue.getWaitingCount()).toBe(2);
      const job = await queue.getJob(ingestJobId('run-1', 'a.md'));
      expect(job?.name).toBe(JobName.IngestDocument);
      expect(verifyJob(config, QueueName.Ingest, job?.data)).toBe(true);
      expect(verifyJob(config, QueueName.Query, job?.data)).toBe(false);
      expect(job?.opts).toMatchObject({ attempts: 4, backoff: { options: { delay: 100 } }, removeOnComplete: { age: 900 }, removeOnFail: { age: 900 } });
    } finally {
      await queue.close();
    }
  });

  it("opens a job's events on its stream under the deployment's prefix, expiring with the job record", async () => {
    const open = jobEventsOpener(redis.client, { QUEUE_PREFIX: 'ev', JOB_RETENTION_SECONDS: 900 });
    const events = open('job-1');
    events.emit('status', { status: 'active' });
    await events.close();
    const key = jobEventsKey('ev', 'job-1');
    expect((await redis.client.xrange(key, '-', '+')).map(([, fields]) => fields)).toEqual([['type', 'status', 'data', '{"status":"active"}']]);
    expect(await redis.client.ttl(key)).toBeGreaterThan(800);
  });
});
