import { monitorRequests, useRedisSuite } from '@rag/testing';
import Redis from 'ioredis';
import { CancelSignals, JobCancelledError, requestCancel } from './cancel-signals';
import { JobEventsWriter } from './job-events.writer';

describe('CancelSignals (real Redis)', () => {
  const connections: Redis[] = [];
  // Before the suite's own afterAll stops the server, so none of them is left reconnecting.
  afterAll(() => connections.forEach((c) => c.disconnect()));
  const redis = useRedisSuite();

  async function signals(prefix: string): Promise<{ cancels: CancelSignals; client: Redis }> {
    const [subscriber, client] = [new Redis(redis.url), new Redis(redis.url)];
    connections.push(subscriber, client);
    const cancels = new CancelSignals(subscriber, client, prefix);
    await cancels.start();
    return { cancels, client };
  }

  /** The requests `client` sends Redis while `run` runs (a MULTI … EXEC block counted once). */
  async function requestsFrom(client: Redis, run: () => Promise<unknown>): Promise<number> {
    const port = `:${(client as unknown as { stream: { localPort: number } }).stream.localPort}`;
    const { requests } = await monitorRequests(redis.url, run, (source) => (source.endsWith(port) ? 'client' : undefined));
    return requests.get('client') ?? 0;
  }

  it('a cancel asked for before a job starts aborts its signal at once; one asked for later, when it is published', async () => {
    const { cancels } = await signals('early');
    await requestCancel(redis.client, 'early', 'job-1', 60);
    const early = await cancels.track('job-1');
    expect(early.aborted).toBe(true);
    expect(early.reason).toBeInstanceOf(JobCancelledError);

    const later = await cancels.track('job-2');
    expect(later.aborted).toBe(false);
    const aborted = new Promise((resolve) => later.addEventListener('abort', resolve));
    await requestCancel(redis.client, 'early', 'job-2', 60);
    await aborted;
    expect(later.reason).toBeInstanceOf(JobCancelledError);
    cancels.release('job-1');
    cancels.release('job-2');
    expect(cancels.tracked).toBe(0);
  });

  it('reads the cancels of jobs starting together in the MULTI of their first events: one round trip, not one more per job', async () => {
    const { cancels, client } = await signals('together');
    await requestCancel(redis.client, 'together', 'job-b', 60);
    let tracked: AbortSignal[] = [];
    const requests = await requestsFrom(client, async () => {
      const writers = ['job-a', 'job-b', 'job-c'].map((id) => new JobEventsWriter(client, id, { prefix: 'together', retentionSeconds: 60 }));
      // As the job runner starts a job: its `active` status, then its cancel check, in the same turn.
      tracked = await Promise.all(
        writers.map((writer, n) => {
          writer.emit('status', { status: 'active' });
          return cancels.track(['job-a', 'job-b', 'job-c'][n]);
        }),
      );
      await Promise.all(writers.map((w) => w.close()));
    });
    expect(tracked.map((s) => s.aborted)).toEqual([false, true, false]);
    expect(requests).toBe(1);
  });
});
