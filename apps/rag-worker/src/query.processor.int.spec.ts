import { ExtractiveAnswerer } from '@rag/llm-client';
import { ALL_TENANTS, signJob } from '@rag/jobs';
import { JobName, QueueName, type QueryResult } from '@rag/queue-contracts';
import { LocalHashEmbedder, ingestDocuments } from '@rag/retrieval';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { queryRunner } from './query.processor';
import { signedQuery } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

// The processor consuming a real Bull queue on a private redis-server, with
// LanceDB in a temp folder.
describe('query processor (real Redis and LanceDB)', () => {
  const suite = useWorkerSuite(QueueName.Query, 'rag-worker-');
  const { logs, parser } = suite;

  beforeAll(async () => {
    const { store } = suite;
    const embedder = new LocalHashEmbedder(64);
    const docs: Record<string, string> = {
      'travel.md': '# Travel\n\n## Hotels\n\nHotels are booked through the travel desk and may cost up to 180 euros per night.',
      'it.md': '# IT\n\n## Laptops\n\nLaptops are replaced every four years by the IT service desk.',
    };
    await ingestDocuments(
      { store, embedder, parser },
      Object.entries(docs).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant: 'default', collection: 'policies', chunking: { size: 800, overlap: 100 } },
    );
    // Tenant acme has its own collection named "policies", with a laptop policy of its own.
    await ingestDocuments(
      { store, embedder, parser },
      [{ id: 'it.md', read: async () => Buffer.from('# IT\n\n## Laptops\n\nAcme laptops are replaced every two years by the help desk.') }],
      { tenant: 'acme', collection: 'policies', chunking: { size: 800, overlap: 100 } },
    );
    await ingestDocuments({ store, embedder, parser }, [{ id: 'only.md', read: async () => Buffer.from('# Only\n\nAcme keeps this collection to itself.') }], {
      tenant: 'acme',
      collection: 'acme-only',
      chunking: { size: 800, overlap: 100 },
    });
    // Jobs added below stand in for the gateway's, so they are signed (signedQuery) with the key the processor checks.
    void suite.queue.process(JobName.Answer, 2, queryRunner({ store, embedder, answerer: new ExtractiveAnswerer() }, suite.runtime()).process);
  });

  const payload = { query: 'How often are laptops replaced?', collection: 'policies', top_k: 3, stream: false, request_id: 'req-w-1', tenant: 'default' };

  it('answers a valid job with a cited result and logs with the job and request ids', async () => {
    const job = await suite.queue.add(JobName.Answer, signedQuery(payload), { attempts: 3 });
    const result = (await job.finished()) as QueryResult;
    expect(result.answer).toBe('Laptops are replaced every four years by the IT service desk. [1]');
    expect(result.citations[0]).toMatchObject({ source: 'it.md', title: 'IT', heading: 'IT > Laptops' });
    expect(result.backends).toEqual({ vector_store: 'lancedb', embedder: 'local-hash-v4-64', llm: 'extractive' });
    const lines = logs.filter((l) => l.job_id === String(job.id));
    expect(lines.map((l) => l.message)).toEqual(['job started', 'job completed']);
    expect(lines.every((l) => l.request_id === 'req-w-1' && l.queue === QueueName.Query)).toBe(true);
  });

  it("answers each tenant only from its own collection of the same name (the payload's tenant reaches the store)", async () => {
    const asDefault = (await (await suite.queue.add(JobName.Answer, signedQuery(payload))).finished()) as QueryResult;
    const asAcme = (await (
      await suite.queue.add(JobName.Answer, signedQuery({ ...payload, tenant: 'acme', request_id: 'req-w-2' }))
    ).finished()) as QueryResult;
    expect(asDefault.answer).toContain('every four years');
    expect(asDefault.citations.map((c) => c.chunk).join(' ')).not.toContain('Acme');
    expect(asAcme.answer).toContain('every two years');
    expect(asAcme.citations.length).toBeGreaterThan(0);
    for (const c of asAcme.citations) expect(c.chunk).toContain('Acme');
  });

  it('fails as not found, at once, a question to a collection only another tenant has', async () => {
    const job = await suite.queue.add(JobName.Answer, signedQuery({ ...payload, collection: 'acme-only' }), { attempts: 3, backoff: 10 });
    await expect(job.finished()).rejects.toThrow('collection "acme-only" does not exist');
    expect(await (await suite.queue.getJob(job.id))?.getState()).toBe('failed');
  });

  it.each([
    ['an invalid payload', { ...payload, top_k: 0 }, 'invalid job payload: top_k'],
    ['a payload with unknown fields', { ...payload, api_key: 'sk-secret' }, 'property api_key should not exist'],
    ['an unknown collection', { ...payload, collection: 'missing' }, 'collection "missing" does not exist'],
  ])('fails %s at once, without retrying', async (_name, data, message) => {
    const job = await suite.queue.add(JobName.Answer, signedQuery(data), { attempts: 3, backoff: 10 });
    await expect(job.finished()).rejects.toThrow(message);
    const stored = await suite.queue.getJob(job.id);
    expect(await stored?.getState()).toBe('failed');
    expect(stored?.attemptsMade).toBe(1);
  });

  it("fails with a plain message and a reference, never the store's own text or a server path, when the store breaks", async () => {
    await ingestDocuments(
      { store: suite.store, embedder: new LocalHashEmbedder(64), parser },
      [{ id: 'gone.md', read: async () => Buffer.from('# Gone\n\nLaptops live here until their files vanish.') }],
      { tenant: 'default', collection: 'broken', chunking: { size: 800, overlap: 100 } },
    );
    // The table's data files vanish under it (a disk fault): LanceDB's error names them by full path.
    fs.rmSync(path.join(suite.data.path, 'broken.lance', 'data'), { recursive: true, force: true });
    const job = await suite.queue.add(JobName.Answer, signedQuery({ ...payload, collection: 'broken', request_id: 'req-broken' }), { attempts: 1 });
    const error = await job.finished().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe('the vector store failed; the job will retry, or try again in a minute');
    const failed = await suite.queue.getJob(job.id);
    expect(failed?.failedReason).toBe(error?.message);
    expect(failed?.failedReason).not.toContain(suite.data.path);
    // The operator still gets LanceDB's own words, with the request id to find them by.
    const logged = logs.find((l) => l.job_id === String(job.id) && l.message === 'job attempt failed');
    expect(logged).toMatchObject({ request_id: 'req-broken', error: expect.stringContaining('lance error') });
  });
  // A job put on the queue by anyone but our producers (the dashboard's "add job", a script with Redis
  // access) names a tenant it has no right to: it must be refused before that tenant's collection is read.
  it.each([
    ['without a signature', () => ({ ...payload, tenant: 'acme', collection: 'acme-only', request_id: 'forged-1' })],
    [
      "with another job's signature and its tenant changed",
      () => ({ ...signedQuery(payload), tenant: 'acme', collection: 'acme-only', request_id: 'forged-2' }),
    ],
    [
      'signed with another key',
      () =>
        signJob({ JOB_SIGNING_KEY: 'an-attackers-own-key-0123456789abcdef' }, QueueName.Query, {
          ...payload,
          tenant: 'acme',
          collection: 'acme-only',
          request_id: 'forged-3',
        }),
    ],
  ])('refuses a job %s: fails for good, is dead-lettered for operators only, and reads nothing', async (_name, forged) => {
    const data = forged();
    const job = await suite.queue.add(JobName.Answer, data, { attempts: 3, backoff: 10 });
    await expect(job.finished()).rejects.toThrow('job refused: not queued by the gateway');
    const stored = await suite.queue.getJob(job.id);
    expect(await stored?.getState()).toBe('failed');
    expect(stored?.attemptsMade).toBe(1);
    expect(stored?.returnvalue).toBeFalsy();
    // Never started: the answer use case (and the tenant's collection) was never reached.
    const lines = logs.filter((l) => l.job_id === String(job.id));
    expect(lines.map((l) => l.message)).toEqual([expect.stringContaining('security: job refused')]);
    expect(lines[0]).toMatchObject({ level: 'warn', security: true, claimed_tenant: 'acme' });
    // Kept as evidence, but not filed under the tenant it claims: only operators see it.
    expect(await suite.deadLetters.get(ALL_TENANTS, String(job.id))).toMatchObject({
      tenant: null,
      final_error: 'job refused: not queued by the gateway',
      payload: data,
    });
    expect(await suite.deadLetters.get({ tenant: 'acme' }, String(job.id))).toBeUndefined();
  });
});
