import { documentBytesKeys, keysWithoutExpiry, useRedisSuite } from '@rag/testing';
import { IngestRuns } from './ingest-runs';

const RUN_A = '00000000-0000-4000-8000-00000000000a';
const RUN_B = '00000000-0000-4000-8000-00000000000b';

// The bytes of queued documents and each tenant's count of them, on a private redis-server.
describe('IngestRuns: document bytes and run counters (real Redis)', () => {
  const redis = useRedisSuite();
  let runs: IngestRuns;
  beforeAll(() => (runs = new IngestRuns(redis.client, 'ic', 600)));
  beforeEach(() => redis.client.flushall());

  const ref = (tenant: string, run_id: string, doc_id: string) => ({ tenant, run_id, doc_id });

  it("counts each tenant's pending bytes and refuses, storing nothing, above the cap", async () => {
    expect(await runs.putContent(ref('acme', RUN_A, 'a.md'), Buffer.alloc(400), 1000)).toEqual({ stored: true, pending: 400 });
    expect(await runs.putContent(ref('acme', RUN_A, 'b.md'), Buffer.alloc(500), 1000)).toEqual({ stored: true, pending: 900 });
    expect(await runs.putContent(ref('acme', RUN_A, 'c.md'), Buffer.alloc(200), 1000)).toEqual({ stored: false, pending: 900 });
    expect(await runs.getContent(ref('acme', RUN_A, 'c.md'))).toBeNull();
    // Another tenant has its own allowance.
    expect(await runs.putContent(ref('globex', RUN_B, 'c.md'), Buffer.alloc(900), 1000)).toEqual({ stored: true, pending: 900 });

    await runs.dropContent([ref('acme', RUN_A, 'a.md')]);
    expect(await runs.pendingBytes('acme')).toBe(500);
    expect(await runs.putContent(ref('acme', RUN_A, 'c.md'), Buffer.alloc(200), 1000)).toEqual({ stored: true, pending: 700 });
    // Dropping twice, or something never stored, frees nothing more.
    await runs.dropContent([ref('acme', RUN_A, 'a.md'), ref('acme', RUN_A, 'never.md')]);
    expect(await runs.pendingBytes('acme')).toBe(700);
    // Storing the same document again replaces it rather than counting it twice.
    expect(await runs.putContent(ref('acme', RUN_A, 'c.md'), Buffer.alloc(300), 1000)).toEqual({ stored: true, pending: 800 });
    expect(await keysWithoutExpiry(redis.client, 'ic')).toEqual([]);
  });

  it('keeps identical bytes of two runs and two tenants apart: dropping one leaves the others', async () => {
    const same = Buffer.from('# Same\n\nIdentical file in two runs and two tenants.');
    for (const r of [ref('acme', RUN_A, 'x.md'), ref('acme', RUN_B, 'x.md'), ref('globex', RUN_A, 'x.md')]) await runs.putContent(r, same, 10_000);
    await runs.dropContent([ref('acme', RUN_A, 'x.md')]);
    expect(await runs.getContent(ref('acme', RUN_A, 'x.md'))).toBeNull();
    expect((await runs.getContent(ref('acme', RUN_B, 'x.md')))?.equals(same)).toBe(true);
    expect((await runs.getContent(ref('globex', RUN_A, 'x.md')))?.equals(same)).toBe(true);
    await runs.dropContent([ref('acme', RUN_B, 'x.md'), ref('globex', RUN_A, 'x.md')]);
    expect(await documentBytesKeys(redis.client, 'ic')).toEqual([]);
    expect([await runs.pendingBytes('acme'), await runs.pendingBytes('globex')]).toEqual([0, 0]);
  });

  it('heals itself: bytes never dropped (their worker died) leave the count when they expire', async () => {
    const short = new IngestRuns(redis.client, 'ic', 1);
    expect(await short.putContent(ref('acme', RUN_A, 'orphan.md'), Buffer.alloc(800), 1000)).toMatchObject({ stored: true });
    expect(await short.putContent(ref('acme', RUN_A, 'next.md'), Buffer.alloc(800), 1000)).toMatchObject({ stored: false });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await short.pendingBytes('acme')).toBe(0);
    expect(await short.putContent(ref('acme', RUN_A, 'next.md'), Buffer.alloc(800), 1000)).toEqual({ stored: true, pending: 800 });
  });

  it('reads bytes stored under the old by-hash key, for jobs queued before the upgrade', async () => {
    const hash = 'a'.repeat(64);
    await redis.client.set(`ic:ingest-content:${hash}`, 'old bytes', 'EX', 60);
    expect((await runs.getContent({ ...ref('acme', RUN_A, 'old.md'), content_hash: hash }))?.toString()).toBe('old bytes');
  });

  it('never recreates an expired run: counters on a run that is gone write nothing', async () => {
    await runs.create({ run_id: RUN_A, tenant: 'acme', collection: 'kb', queued: 2, unchanged: 0, created_at: new Date().toISOString() });
    await runs.recordDone(RUN_A, 'added', 3);
    await runs.recordFailed(RUN_A, 'b.md', 'broken');
    expect(await runs.get(RUN_A)).toMatchObject({ added: 1, failed: 1, chunks: 3, finished: true, failures: [{ doc_id: 'b.md', error: 'broken' }] });

    await runs.recordDone(RUN_B, 'added', 3);
    await runs.recordFailed(RUN_B, 'b.md', 'broken');
    await runs.addQueued(RUN_B, 5);
    expect(await redis.client.keys('ic:ingest-run:*')).toEqual(expect.arrayContaining([`ic:ingest-run:${RUN_A}`]));
    expect((await redis.client.keys('ic:ingest-run:*')).filter((k) => k.includes(RUN_B))).toEqual([]);
    expect(await keysWithoutExpiry(redis.client, 'ic')).toEqual([]);
  });
});
