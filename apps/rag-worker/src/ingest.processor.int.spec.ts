import * as lancedb from '@lancedb/lancedb';
import { ALL_TENANTS, DocumentLocks, IngestRuns } from '@rag/jobs';
import { JobName, QueueName } from '@rag/queue-contracts';
import { LocalHashEmbedder, contentHash } from '@rag/retrieval';
import { randomUUID } from 'node:crypto';
import { ingestRunner } from './ingest.processor';
import { signedIngest } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

const DOCS = 12;

// The ingest processor consuming a real Bull queue (two at a time) on a
// private redis-server, writing to LanceDB in a temp folder.
describe('ingest processor (real Redis and LanceDB)', () => {
  const suite = useWorkerSuite(QueueName.Ingest, 'rag-ingest-proc-');
  const { logs, parser } = suite;
  let runs: IngestRuns;

  beforeAll(() => {
    runs = new IngestRuns(suite.client, 'rag', 600);
    // Jobs added below stand in for the gateway's and the CLI's, so they are signed (signedIngest) with the key the processor checks.
    const deps = {
      store: suite.store,
      embedder: new LocalHashEmbedder(64),
      runs,
      locks: new DocumentLocks(suite.client, 'rag'),
      parser,
      chunking: { size: 200, overlap: 0 },
      embedBatch: 16,
    };
    void suite.queue.process(JobName.IngestDocument, 2, ingestRunner(deps, suite.runtime()).process);
  });

  it("leaves the collection indexed when a run's last document is done, once per run", async () => {
    const runId = randomUUID();
    await runs.create({ run_id: runId, tenant: 'acme', collection: 'kb', queued: DOCS + 1, unchanged: 0, created_at: new Date().toISOString() });
    const docs = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}.md`, bytes: Buffer.from(`# Doc ${i}\n\nThe quarterly budget note number ${i}.\n`) }));
    docs.push({ id: 'broken.pdf', bytes: Buffer.from('%PDF-1.4 broken') });
    for (const doc of docs) await runs.putContent({ tenant: 'acme', run_id: runId, doc_id: doc.id }, doc.bytes, Number.MAX_SAFE_INTEGER);
    await suite.queue.addBulk(
      docs.map((doc) => ({
        name: JobName.IngestDocument,
        data: signedIngest({ run_id: runId, tenant: 'acme', collection: 'kb', doc_id: doc.id, content_hash: contentHash(doc.bytes), bytes: doc.bytes.length }),
        opts: { attempts: 1 },
      })),
    );
    for (let i = 0; i < 200 && !(await runs.get(runId))?.finished; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await runs.get(runId)).toMatchObject({
      finished: true,
      added: DOCS,
      failed: 1,
      failures: [{ doc_id: 'broken.pdf', error: expect.stringContaining('not a readable PDF') }],
    });
    for (let i = 0; i < 100 && !logs.some((l) => l.message === 'ingest run finished; collection indexed'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(logs.filter((l) => String(l.message).startsWith('ingest run finished'))).toEqual([expect.objectContaining({ tenant: 'acme', collection: 'kb' })]);

    const db = await lancedb.connect(suite.data.path);
    try {
      const table = await db.openTable('acme.kb');
      const stats = await table.indexStats('search_text_idx');
      expect(stats).toMatchObject({ numUnindexedRows: 0 });
      expect(stats?.numIndexedRows).toBeGreaterThanOrEqual(DOCS);
      table.close();
    } finally {
      db.close();
    }
  });
  it("refuses an unsigned job naming another tenant's run: nothing of that run, its bytes or its collection is touched", async () => {
    const runId = randomUUID();
    const bytes = Buffer.from('# Globex\n\nThe secret plan.\n');
    await runs.create({ run_id: runId, tenant: 'globex', collection: 'secret', queued: 1, unchanged: 0, created_at: new Date().toISOString() });
    await runs.putContent({ tenant: 'globex', run_id: runId, doc_id: 'plan.md' }, bytes, Number.MAX_SAFE_INTEGER);
    const forged = { run_id: runId, tenant: 'globex', collection: 'stolen', doc_id: 'plan.md', content_hash: contentHash(bytes), bytes: bytes.length };
    const job = await suite.queue.add(JobName.IngestDocument, forged, { attempts: 3, backoff: 10 });
    await expect(job.finished()).rejects.toThrow('job refused: not queued by the gateway');
    expect((await suite.queue.getJob(job.id))?.attemptsMade).toBe(1);
    // The run neither counted it nor lost the document's bytes; no collection was written.
    expect(await runs.get(runId)).toMatchObject({ finished: false, failed: 0, added: 0 });
    expect(await runs.getContent({ tenant: 'globex', run_id: runId, doc_id: 'plan.md' })).toEqual(bytes);
    expect(await suite.store.listCollections('globex')).not.toContain('stolen');
    expect(await suite.deadLetters.get(ALL_TENANTS, String(job.id))).toMatchObject({ tenant: null, final_error: 'job refused: not queued by the gateway' });
    expect(logs.find((l) => l.job_id === String(job.id))).toMatchObject({ level: 'warn', security: true, claimed_tenant: 'globex' });
  });
});
