import { ExtractiveAnswerer } from '@rag/llm-client';
import { ALL_TENANTS, CancelSignals } from '@rag/jobs';
import { GENERIC_FAILURE } from '@rag/observability';
import { JobName, QueueName, jobEventsKey } from '@rag/queue-contracts';
import { LocalHashEmbedder } from '@rag/retrieval';
import { queryRunner } from './query.processor';
import { signedQuery } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

// Issue #14, part 6: the cancel subscription's Redis read ran before the
// processor's try, so a Redis error there skipped the failure path: no error
// event, no attempt record, no dead letter, and Redis's own words as the job's
// failure reason. It must fail like any other attempt.
describe('query processor when the cancel signals cannot reach Redis', () => {
  const suite = useWorkerSuite(QueueName.Query, 'rag-worker-cancels-');
  const { logs } = suite;

  beforeAll(async () => {
    // The connection the cancel check reads through, closed: every command fails at once.
    const broken = suite.connect();
    await broken.ping();
    broken.disconnect();
    const cancels = new CancelSignals(suite.connect(), broken, 'rag');
    void suite.queue.process(
      JobName.Answer,
      1,
      queryRunner(
        { store: suite.store, embedder: new LocalHashEmbedder(64), answerer: new ExtractiveAnswerer() },
        suite.runtime({ openEvents: suite.openEvents, cancels }),
      ).process,
    );
  });

  it('fails the job through the failure path: error event, attempt, dead letter, a tenant-safe reason', async () => {
    const job = await suite.queue.add(
      JobName.Answer,
      signedQuery({ query: 'q', collection: 'policies', top_k: 3, stream: false, request_id: 'req-cancels', tenant: 'default' }),
      { attempts: 1 },
    );
    await expect(job.finished()).rejects.toThrow(`${GENERIC_FAILURE} (reference req-cancels)`);
    const jobId = String(job.id);
    expect((await suite.queue.getJob(jobId))?.failedReason).toBe(`${GENERIC_FAILURE} (reference req-cancels)`);

    const letter = await suite.deadLetters.get(ALL_TENANTS, jobId);
    expect(letter).toMatchObject({ job_id: jobId, final_error: `${GENERIC_FAILURE} (reference req-cancels)`, final_error_code: 'internal_error' });
    expect(letter?.attempts).toEqual([expect.objectContaining({ attempt: 1, code: 'internal_error', permanent: false })]);

    const events = await suite.client.xrange(jobEventsKey('rag', jobId), '-', '+');
    expect(events.map(([, f]) => f[1])).toEqual(expect.arrayContaining(['status', 'error']));

    // The operator reads Redis's own words in the log.
    const failed = logs.find((l) => l.job_id === jobId && l.message === 'job attempt failed');
    expect(failed).toMatchObject({ request_id: 'req-cancels', error: expect.stringContaining('Connection is closed') });
  });
});
