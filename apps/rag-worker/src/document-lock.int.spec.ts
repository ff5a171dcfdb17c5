import { DocumentLocks } from '@rag/jobs';
import { LanceDbStore, chunkDocument, loadDocument } from '@rag/retrieval';
import { runApp, startRedis, tempDir, useRedisSuite, type PrivateRedis, type TempDir } from '@rag/testing';
import { FIXTURE_CHUNKING, FIXTURE_COLLECTION, fixtureDocument } from './testing/load-same-document.fixture';

const FIXTURE = 'apps/rag-worker/src/testing/load-same-document.fixture.ts';
const ROUNDS = 20;

// Two real processes load the same new document at the same moment, round
// after round, through the shared write path with the Redis document lock.
describe('one writer per document across processes (real Redis, LanceDB and processes)', () => {
  let redis: PrivateRedis;
  let data: TempDir;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir('rag-doc-lock-');
  });

  afterAll(async () => {
    await redis?.stop();
    data?.remove();
  });

  it(`stores each document once when two processes load it at once (${ROUNDS} rounds)`, async () => {
    const runs = await Promise.all([0, 1].map(() => runApp(FIXTURE, {}, [data.path, redis.url, String(ROUNDS), '2'])));
    for (const run of runs) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    const store = await LanceDbStore.open(data.path);
    try {
      const docs = await store.listDocuments('default', FIXTURE_COLLECTION);
      expect(docs).toHaveLength(ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        const { docId, text } = fixtureDocument(round);
        const once = chunkDocument(await loadDocument(docId, Buffer.from(text)), FIXTURE_CHUNKING).length;
        expect(once).toBeGreaterThan(5);
        expect({ docId, chunks: docs.find((d) => d.docId === docId)?.chunks }).toEqual({ docId, chunks: once });
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('DocumentLocks (real Redis)', () => {
  const redis = useRedisSuite();
  const doc = { tenant: 'acme', collection: 'kb', docId: 'a.md' };

  it('lets one holder in at a time and frees the lock after each', async () => {
    const locks = new DocumentLocks(redis.client, 'lk1');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        locks.hold(doc, async (fence) => {
          inside++;
          most = Math.max(most, inside);
          await fence();
          await new Promise((r) => setTimeout(r, 20));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(await redis.client.exists(locks.key(doc))).toBe(0);
    // Another document is never held up by this one.
    expect(locks.key(doc)).not.toBe(locks.key({ ...doc, docId: 'b.md' }));
  });

  it('gives up waiting with a retryable error, and fences off a holder whose lock expired and was taken', async () => {
    const locks = new DocumentLocks(redis.client, 'lk2', { ttlMs: 300, waitMs: 100 });
    // A holder that died: its key stays until the TTL.
    await redis.client.set(locks.key(doc), 'someone-else', 'PX', 300);
    const busy = await locks.hold(doc, async () => 'ran').catch((e: unknown) => e as Error);
    expect(busy).toMatchObject({ name: 'DocumentBusyError', permanent: false });

    const stalled = locks.hold({ ...doc, docId: 'c.md' }, async (fence) => {
      // The holder stalls; meanwhile its lock is taken over (as after expiry).
      await redis.client.set(locks.key({ ...doc, docId: 'c.md' }), 'the-next-writer', 'PX', 5_000);
      await fence();
      return 'wrote';
    });
    await expect(stalled).rejects.toMatchObject({ name: 'DocumentLockLostError', permanent: false });
    // The next writer's lock is left alone.
    expect(await redis.client.get(locks.key({ ...doc, docId: 'c.md' }))).toBe('the-next-writer');
  });
});
