import { loadConfig } from '@rag/config';
import { IngestRuns, openIngestQueue } from '@rag/jobs';
import { documentBytesKeys } from '@rag/testing';
import type { Queue } from 'bull';
import * as path from 'node:path';
import { useCliSuite } from './cli-suite.spec-helper';
import { sendDocuments, type ChangedDocument } from './commands/send-documents';

const RUN = '00000000-0000-4000-8000-000000000001';

// rag-ingest --via-queue at the tenant's pending-bytes cap with no worker
// running: real Redis, the real ingest queue, nothing consuming it.
describe('sendDocuments at INGEST_MAX_PENDING_BYTES_PER_TENANT (real Redis, no worker)', () => {
  let queue: Queue;
  let runs: IngestRuns;
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), stream: process.stderr };
  const suite = useCliSuite('rag-send-docs-', () => queue?.close());

  it('queues what fits, then stops waiting when no worker frees anything, storing nothing of the rest', async () => {
    // sendDocuments signs the jobs it queues, with the key a worker would check.
    const config = loadConfig(
      {
        REDIS_URL: suite.redis.url,
        QUEUE_PREFIX: 'sd',
        DATA_DIR: path.join(suite.data.path, 'data'),
        INGEST_MAX_PENDING_BYTES_PER_TENANT: '2500',
        JOB_SIGNING_KEY: 'send-documents-test-signing-key-0123456789',
      },
      suite.data.path,
    );
    queue = openIngestQueue(config);
    await queue.isReady();
    runs = new IngestRuns(queue.client, 'sd', 600);
    const docs: ChangedDocument[] = Array.from({ length: 4 }, (_, i) => ({
      id: `d${i}.md`,
      hash: String(i).repeat(64),
      size: 1000,
      read: async () => Buffer.alloc(1000, i),
    }));

    const unsent = await sendDocuments(config, queue, runs, docs, { runId: RUN, tenant: 'acme', collection: 'kb', noProgressLimitMs: 1500 }, io);

    expect(unsent.map((d) => d.id)).toEqual(['d2.md', 'd3.md']);
    // The two that fit are queued (a worker could load them), with their bytes; the others left nothing.
    expect((await queue.getWaiting()).map((j) => j.data.doc_id).sort()).toEqual(['d0.md', 'd1.md']);
    expect((await documentBytesKeys(queue.client, 'sd')).length).toBe(2);
    expect(await runs.pendingBytes('acme')).toBe(2000);
    expect(lines.join('\n')).toContain('waiting for them to load earlier documents');
  });
});
