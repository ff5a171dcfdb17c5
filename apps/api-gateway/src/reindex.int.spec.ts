import { JobName } from '@rag/queue-contracts';
import { LanceDbStore, LocalHashEmbedder, ParsePool, ingestDocuments, type VectorStore } from '@rag/retrieval';
import { json, tempDir, useRedisSuite, type JsonBody, type TempDir } from '@rag/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEYS = {
  acmeIngest: 'acme_reindex_ingest_0123456789abcdef',
  acmeQuery: 'acme_reindex_query_0123456789abcdef',
  globexIngest: 'globex_reindex_ingest_0123456789abc',
};

// The reindex routes on the in-process gateway (no worker: the rebuild's jobs
// wait in the queue): what they start, refuse and show, per tenant.
describe('POST and GET /v1/collections/:name/reindex (real Redis, real LanceDB)', () => {
  let dir: TempDir;
  let store: VectorStore;
  let gateway: InProcessGateway;
  let ajv: Ajv2020;
  const parser = new ParsePool();
  afterAll(async () => {
    await gateway?.close();
    await store?.close();
    dir?.remove();
    await parser.close();
  });
  const redis = useRedisSuite();

  const call = async (method: string, name: string, key: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${gateway.base}/v1/collections/${name}/reindex`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await json(res)) as JsonBody };
  };
  const expectSchema = (name: string, body: unknown) => {
    const validate = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  };

  beforeAll(async () => {
    dir = tempDir('rag-reindex-routes-');
    store = await LanceDbStore.open(dir.path);
    const load = (tenant: string, collection: string, files: Record<string, string>) =>
      ingestDocuments(
        { store, embedder: new LocalHashEmbedder(), parser },
        Object.entries(files).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
        { tenant, collection, chunking: { size: 1200, overlap: 100 } },
      );
    await load('acme', 'handbook', { 'a.md': '# A\n\nAlpha.', 'b.md': '# B\n\nBeta.' });
    await load('globex', 'handbook', { 'g.md': '# G\n\nGamma.' });
    gateway = await startInProcessGateway(
      redis.url,
      { QUEUE_PREFIX: 'rag-reindex', API_KEYS: `acme:ingest:${KEYS.acmeIngest},acme:query:${KEYS.acmeQuery},globex:ingest:${KEYS.globexIngest}` },
      { store },
    );
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema((await json(await fetch(`${gateway.base}/openapi.json`))) as Record<string, unknown>, 'openapi.json');
  });

  it('refuses bad bodies, unknown collections and keys without the ingest scope, before starting anything', async () => {
    for (const body of [{ grace_seconds: -1 }, { grace_seconds: 1.5 }, { grace_seconds: 86_401 }, { grace_seconds: '60' }, { other: 1 }, [1]]) {
      const res = await call('POST', 'handbook', KEYS.acmeIngest, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('grace_seconds') });
    }
    expect((await call('POST', 'handbook', KEYS.acmeIngest, 'grace=1', 'text/plain')).status).toBe(415);
    expect((await call('POST', 'Bad.Name', KEYS.acmeIngest)).status).toBe(400);
    expect((await call('POST', 'missing', KEYS.acmeIngest)).body.error).toMatchObject({ code: 'collection_not_found' });
    expect((await call('POST', 'handbook', KEYS.acmeQuery)).status).toBe(403);
    expect((await call('GET', 'handbook', KEYS.acmeQuery)).status).toBe(403);
    expect(await gateway.ingestQueue.count()).toBe(0);
    const view = await call('GET', 'handbook', KEYS.acmeIngest);
    expect(view).toMatchObject({ status: 200, body: { collection: 'handbook', active_version: 1, rebuilding: null, last: null } });
    expectSchema('ReindexStatus', view.body);
  });

  it("starts one rebuild of the caller's collection, one job per document, and refuses a second; the other tenant's is untouched", async () => {
    const started = await call('POST', 'handbook', KEYS.acmeIngest);
    expect(started.status).toBe(202);
    expectSchema('ReindexAccepted', started.body);
    expect(started.body).toMatchObject({ collection: 'handbook', from_version: 1, to_version: 2, documents: 2, grace_seconds: 60, status: 'rebuilding' });
    expect(started.headers.get('location')).toBe('/v1/collections/handbook/reindex');
    const jobs = await gateway.ingestQueue.getJobs(['waiting']);
    expect(jobs.map((j) => [j.name, j.data.doc_id, j.data.rebuild_from, j.data.rebuild_to, j.data.run_id]).sort()).toEqual([
      [JobName.IngestDocument, 'a.md', 1, 2, started.body.run_id],
      [JobName.IngestDocument, 'b.md', 1, 2, started.body.run_id],
    ]);

    const again = await call('POST', 'handbook', KEYS.acmeIngest, { grace_seconds: 5 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'reindex_in_progress', details: { run_id: started.body.run_id } });
    const upload = new FormData();
    upload.append('file', new Blob(['# C\n\nGamma.']), 'c.md');
    const refused = await fetch(`${gateway.base}/v1/collections/handbook/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.acmeIngest}` },
      body: upload,
    });
    expect(refused.status).toBe(409);
    expect(((await json(refused)) as JsonBody).error).toMatchObject({ code: 'reindex_in_progress' });

    const view = await call('GET', 'handbook', KEYS.acmeIngest);
    expectSchema('ReindexStatus', view.body);
    expect(view.body).toMatchObject({
      active_version: 1,
      rebuilding: { run_id: started.body.run_id, to_version: 2 },
      last: { run_id: started.body.run_id, state: 'rebuilding', progress: { queued: 2, done: 0, failed: 0 } },
    });
    expect(view.body.last).not.toHaveProperty('tenant');
    // Globex's collection of the same name is neither busy nor shown Acme's rebuild.
    expect((await call('GET', 'handbook', KEYS.globexIngest)).body).toMatchObject({ active_version: 1, rebuilding: null, last: null });
    expect((await call('POST', 'handbook', KEYS.globexIngest, { grace_seconds: 0 })).status).toBe(202);
  });
});
