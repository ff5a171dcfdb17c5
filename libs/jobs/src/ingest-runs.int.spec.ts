import { startRedis, type PrivateRedis } from '@rag/testing';
import Redis from 'ioredis';
import { IngestRuns } from './ingest-runs';

describe('IngestRuns (real Redis)', () => {
  let redis: PrivateRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 4; i++) clients.push(new Redis(redis.url));
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it("tells exactly one of the workers recording a run's documents at once that it finished the run", async () => {
    // Four workers (one connection each) record 40 documents of one run concurrently.
    const workers = clients.map((c) => new IngestRuns(c, 'rag-runs', 600));
    await workers[0].create({ run_id: 'r1', tenant: 'acme', collection: 'kb', queued: 40, unchanged: 2, created_at: new Date().toISOString() });
    const outcomes = ['added', 'updated', 'unchanged'] as const;
    const finished = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const runs = workers[i % workers.length];
        return i % 5 === 0 ? runs.recordFailed('r1', `d${i}.md`, 'not a readable PDF') : runs.recordDone('r1', outcomes[i % 3], 2);
      }),
    );
    expect(finished.filter(Boolean)).toHaveLength(1);
    expect(await workers[0].get('r1')).toMatchObject({ done: 40, failed: 8, finished: true });
  });

  it('never reports a run finished before its last document, nor for an unknown run', async () => {
    const runs = new IngestRuns(clients[0], 'rag-runs', 600);
    await runs.create({ run_id: 'r2', tenant: 'acme', collection: 'kb', queued: 2, unchanged: 0, created_at: new Date().toISOString() });
    expect(await runs.recordDone('r2', 'added', 1)).toBe(false);
    expect(await runs.recordFailed('r2', 'b.md', 'failed')).toBe(true);
    expect(await runs.recordDone('no-such-run', 'added', 1)).toBe(false);
  });
});
