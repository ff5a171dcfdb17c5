import { LocalHashEmbedder, LanceDbStore, ingestDocuments, type VectorStore, ParsePool } from '@rag/retrieval';
import { ALL_TENANTS, openDeadLetters, signJob } from '@rag/jobs';
import { JobName, QueueName } from '@rag/queue-contracts';
import { json, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import * as http from 'node:http';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEYS = {
  acme: 'acme_isolation_key_0123456789abcdef',
  globex: 'globex_isolation_key_0123456789abcdef',
  acmeReader: 'acme_reader_key_0123456789abcdef',
  ops: 'ops_isolation_admin_key_0123456789',
  acmeAdmin: 'acme_admin_key_0123456789abcdef',
  globexAdmin: 'globex_admin_key_0123456789abcdef',
};
const ADMIN: Record<'acme' | 'globex', keyof typeof KEYS> = { acme: 'acmeAdmin', globex: 'globexAdmin' };
const UNKNOWN_JOB = '00000000-0000-4000-8000-000000000000';
/** Every kind of write bull-board's API offers: add, retry, promote, clean, remove, pause, empty, edit. */
const DASHBOARD_WRITES: [string, string][] = [
  ['POST', '/admin/queues/api/queues/rag-query/add'],
  ['PUT', '/admin/queues/api/queues/rag-query/retry/failed'],
  ['PUT', `/admin/queues/api/queues/rag-query/${UNKNOWN_JOB}/retry`],
  ['PUT', '/admin/queues/api/queues/rag-query/promote'],
  ['PUT', `/admin/queues/api/queues/rag-query/${UNKNOWN_JOB}/promote`],
  ['PUT', '/admin/queues/api/queues/rag-query/clean/completed'],
  ['PUT', `/admin/queues/api/queues/rag-query/${UNKNOWN_JOB}/clean`],
  ['PUT', '/admin/queues/api/queues/rag-query/pause'],
  ['PUT', '/admin/queues/api/queues/pause'],
  ['PUT', '/admin/queues/api/queues/rag-query/empty'],
  ['PUT', '/admin/queues/api/queues/rag-query/obliterate'],
  ['PATCH', `/admin/queues/api/queues/rag-query/${UNKNOWN_JOB}/update-data`],
  ['DELETE', `/admin/queues/api/queues/rag-query/${UNKNOWN_JOB}`],
  ['POST', '/admin/queues/api/queues/rag-ingest/add'],
];

type Tenant = 'acme' | 'globex';
const OTHER: Record<Tenant, Tenant> = { acme: 'globex', globex: 'acme' };
const COMPANY: Record<Tenant, string> = { acme: 'Acme', globex: 'Globex' };

// Every gateway route, asked by each of two tenants about the other's
// resources: two tenants with a collection of the same name and documents of
// the same ids (different text), and a collection only one of them has. The
// gateway runs in-process on a private redis-server with a real LanceDB store;
// the worker path (retrieval for each tenant) is apps/e2e/src/tenancy.e2e.spec.ts.
describe('tenant isolation over every gateway route (real Redis, real LanceDB)', () => {
  // Documents are parsed in threads, as in the apps.
  const parser = new ParsePool();
  afterAll(() => parser.close());
  let redis: PrivateRedis;
  let dir: TempDir;
  let store: VectorStore;
  let gateway: InProcessGateway;
  let base: string;

  const as = (key: string, init: RequestInit & { json?: unknown } = {}): RequestInit => ({
    ...init,
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string>),
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, as(key, { method, json: body }));
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await json(res) : await res.text() };
  };

  const load = (tenant: Tenant, collection: string, files: Record<string, string>) =>
    ingestDocuments(
      { store, embedder: new LocalHashEmbedder(), parser },
      Object.entries(files).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant, collection, chunking: { size: 1200, overlap: 100 } },
    );

  beforeEach(async () => {
    // Each test starts from the same two tenants' data.
    for (const tenant of ['acme', 'globex'] as const) {
      for (const name of await store.listCollections(tenant)) await store.deleteCollection(tenant, name);
      await load(tenant, 'handbook', {
        'travel.md': `# Travel\n\n${COMPANY[tenant]} reimburses travel within ${tenant === 'acme' ? 30 : 90} days.`,
        [`${tenant}.md`]: `# ${COMPANY[tenant]}\n\nOnly ${COMPANY[tenant]} has this page.`,
      });
    }
    await load('acme', 'secret', { 'plans.md': '# Plans\n\nAcme plans to buy the moon.' });
  });

  beforeAll(async () => {
    redis = await startRedis();
    dir = tempDir('rag-isolation-');
    store = await LanceDbStore.open(dir.path);
    gateway = await startInProcessGateway(
      redis.url,
      {
        QUEUE_PREFIX: 'rag-iso',
        // ops: the global operator (dashboard, every tenant's dead letters); each tenant's admin sees its own only.
        API_KEYS: `acme:query+ingest:${KEYS.acme},globex:query+ingest:${KEYS.globex},acme:query:${KEYS.acmeReader},ops:admin+operator:${KEYS.ops},acme:admin:${KEYS.acmeAdmin},globex:admin:${KEYS.globexAdmin}`,
      },
      { store },
    );
    base = gateway.base;
  });

  afterAll(async () => {
    await gateway?.close();
    await store?.close();
    dir?.remove();
    await redis?.stop();
  });

  describe.each(['acme', 'globex'] as const)('as %s', (tenant) => {
    const key = () => KEYS[tenant];
    const other = OTHER[tenant];
    const otherKey = () => KEYS[other];

    it('GET /v1/collections lists only its own collections', async () => {
      const { status, body } = await call(key(), 'GET', '/v1/collections');
      expect(status).toBe(200);
      expect(body).toEqual({ collections: tenant === 'acme' ? [{ name: 'handbook' }, { name: 'secret' }] : [{ name: 'handbook' }] });
    });

    it("GET /v1/collections/:name/documents shows its own documents of a shared name, never the other's", async () => {
      const { status, body } = await call(key(), 'GET', '/v1/collections/handbook/documents');
      expect(status).toBe(200);
      expect(body.items.map((d: { doc_id: string }) => d.doc_id)).toEqual([`${tenant}.md`, 'travel.md'].sort());
      const travel = body.items.find((d: { doc_id: string }) => d.doc_id === 'travel.md');
      const theirs = (await call(otherKey(), 'GET', '/v1/collections/handbook/documents')).body.items.find((d: { doc_id: string }) => d.doc_id === 'travel.md');
      expect(travel.content_hash).not.toBe(theirs.content_hash);
    });

    it('a collection only the other tenant has is a 404 identical to one that exists nowhere', async () => {
      // "secret" is acme's; for globex it must look exactly like a name no one uses.
      const probe = tenant === 'acme' ? 'nowhere' : 'secret';
      const owner = tenant === 'acme' ? KEYS.acme : KEYS.globex;
      await store.deleteCollection('acme', 'nowhere');
      for (const [method, path] of [
        ['GET', `/v1/collections/${probe}`],
        ['GET', `/v1/collections/${probe}/documents`],
        ['DELETE', `/v1/collections/${probe}/documents/plans.md`],
        ['DELETE', `/v1/collections/${probe}`],
      ]) {
        const res = await call(owner, method, path);
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(res.body).toEqual({ error: { code: 'collection_not_found', message: `collection "${probe}" does not exist; GET /v1/collections lists yours` } });
      }
      // Acme's secret survived globex's attempts.
      expect((await store.listDocuments('acme', 'secret')).map((d) => d.docId)).toEqual(['plans.md']);
    });

    it('DELETE of a document removes its own copy only', async () => {
      const deleted = await call(key(), 'DELETE', '/v1/collections/handbook/documents/travel.md');
      expect(deleted).toEqual({ status: 200, body: { collection: 'handbook', doc_id: 'travel.md', deleted: true } });
      expect((await store.listDocuments(tenant, 'handbook')).map((d) => d.docId)).toEqual([`${tenant}.md`]);
      expect((await store.listDocuments(other, 'handbook')).map((d) => d.docId)).toEqual([`${other}.md`, 'travel.md'].sort());
      // Its own page exists, the other's page of its name does not.
      const foreign = await call(key(), 'DELETE', `/v1/collections/handbook/documents/${other}.md`);
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBe('document_not_found');
      expect((await store.listDocuments(other, 'handbook')).some((d) => d.docId === `${other}.md`)).toBe(true);
    });

    it("DELETE of a collection drops its own, leaving the other's of the same name searchable", async () => {
      expect(await call(key(), 'DELETE', '/v1/collections/handbook')).toEqual({ status: 200, body: { name: 'handbook', deleted: true } });
      expect(await store.hasCollection(tenant, 'handbook')).toBe(false);
      const hits = await store.searchText(other, 'handbook', 'travel reimburses', 5);
      expect(hits.length).toBeGreaterThan(0);
      for (const hit of hits) expect(hit.chunk.text).toContain(COMPANY[other]);
      expect((await call(otherKey(), 'GET', '/v1/collections/handbook')).status).toBe(200);
    });

    it('POST /v1/collections makes its own collection even when the other has one of that name', async () => {
      const made = await call(key(), 'POST', '/v1/collections', { name: 'secret' });
      // acme already has "secret"; for globex it is new and empty.
      expect(made.status).toBe(tenant === 'acme' ? 200 : 201);
      expect(made.body).toMatchObject({ name: 'secret', created: tenant !== 'acme', embedder: { id: 'local-hash-v4-2048', dimension: 2048 } });
      expect((await store.listDocuments('acme', 'secret')).map((d) => d.docId)).toEqual(['plans.md']);
      const docs = await call(key(), 'GET', '/v1/collections/secret/documents');
      expect(docs.body.total).toBe(tenant === 'acme' ? 1 : 0);
    });

    it('a job of the other tenant is the same 404 as an unknown id on every job route', async () => {
      const asked = await call(otherKey(), 'POST', '/v1/chat', { query: 'How soon is travel reimbursed?', collection: 'handbook' });
      expect(asked.status).toBe(202);
      const id = asked.body.job_id;
      const unknown = (await call(key(), 'GET', `/v1/jobs/${UNKNOWN_JOB}`)).body;
      expect(unknown.error.code).toBe('job_not_found');
      for (const [method, path] of [
        ['GET', `/v1/jobs/${id}`],
        ['GET', `/v1/jobs/${id}?wait=1`],
        ['GET', `/job-status?job_id=${id}`],
        ['DELETE', `/v1/jobs/${id}`],
      ]) {
        const res = await call(key(), method, path);
        expect([method, path, res.status, res.body]).toEqual([method, path, 404, unknown]);
      }
      // Still there, untouched, for its owner.
      expect((await call(otherKey(), 'GET', `/v1/jobs/${id}`)).body).toMatchObject({ job_id: id, status: 'queued' });
      expect((await gateway.queue.getJob(id))?.data.tenant).toBe(other);
    });

    it("the same Idempotency-Key from each tenant makes two jobs, each its own tenant's", async () => {
      const idem = { 'idempotency-key': `shared-${Date.now()}` };
      const mine = await fetch(`${base}/v1/chat`, as(key(), { method: 'POST', json: { query: 'same question' }, headers: idem }));
      const theirs = await fetch(`${base}/v1/chat`, as(otherKey(), { method: 'POST', json: { query: 'same question' }, headers: idem }));
      const [a, b] = [await json(mine), await json(theirs)];
      expect(a.job_id).not.toBe(b.job_id);
      expect((await gateway.queue.getJob(a.job_id))?.data.tenant).toBe(tenant);
      expect((await gateway.queue.getJob(b.job_id))?.data.tenant).toBe(other);
    });

    it('cannot reach the admin routes or the queue dashboard, which show every tenant', async () => {
      for (const [method, path] of [
        ['GET', '/v1/admin/dead-letters'],
        ['DELETE', '/v1/admin/dead-letters'],
        ['GET', '/admin/queues'],
        ['GET', '/admin/queues/api/queues'],
      ]) {
        const res = await call(key(), method, path);
        expect([method, path, res.status]).toEqual([method, path, 403]);
        expect(res.body.error.message).toContain('"admin"');
      }
    });

    describe('as its admin', () => {
      const adminKey = () => KEYS[ADMIN[tenant]];
      const letters = () => openDeadLetters(gateway.queue.client, gateway.config);
      // One failed question of each tenant, signed as the gateway signs them (so a replay is allowed).
      const fail = async (owner: Tenant) => {
        const id = `${owner}-${Math.random().toString(36).slice(2)}`;
        const payload = signJob(gateway.config, QueueName.Query, {
          query: `${owner} question`,
          collection: 'handbook',
          top_k: 3,
          stream: false,
          request_id: id,
          tenant: owner,
        });
        await letters().add({
          job_id: id,
          queue: QueueName.Query,
          job_name: JobName.Answer,
          payload,
          final_error: 'boom',
          failed_at: new Date().toISOString(),
        });
        return id;
      };
      beforeEach(() => letters().purge(ALL_TENANTS));

      it("lists and shows only its own tenant's dead letters; the other's are the same 404 as an unknown id", async () => {
        const mine = await fail(tenant);
        const theirs = await fail(other);
        const listed = await call(adminKey(), 'GET', '/v1/admin/dead-letters');
        expect(listed.status).toBe(200);
        expect(listed.body).toMatchObject({ total: 1, items: [{ job_id: mine, tenant }] });
        expect((await call(adminKey(), 'GET', `/v1/admin/dead-letters/${mine}`)).body).toMatchObject({ job_id: mine, tenant });
        const unknown = await call(adminKey(), 'GET', `/v1/admin/dead-letters/${UNKNOWN_JOB}`);
        expect(unknown.status).toBe(404);
        expect(await call(adminKey(), 'GET', `/v1/admin/dead-letters/${theirs}`)).toEqual(unknown);
        // Asking for the other tenant by name is refused, not answered with its letters.
        const asked = await call(adminKey(), 'GET', `/v1/admin/dead-letters?tenant=${other}`);
        expect(asked.status).toBe(403);
        expect(JSON.stringify(asked.body)).not.toContain(theirs);
      });

      it("replays its own dead letter but not the other tenant's, which stays a dead letter", async () => {
        const mine = await fail(tenant);
        const theirs = await fail(other);
        const refused = await call(adminKey(), 'POST', `/v1/admin/dead-letters/${theirs}/replay`);
        expect(refused.status).toBe(404);
        expect(await gateway.queue.getJob(theirs)).toBeNull();
        expect(await letters().get(ALL_TENANTS, theirs)).toMatchObject({ tenant: other });
        const replayed = await call(adminKey(), 'POST', `/v1/admin/dead-letters/${mine}/replay`);
        expect(replayed).toMatchObject({ status: 202, body: { job_id: mine } });
        expect((await gateway.queue.getJob(mine))?.data.tenant).toBe(tenant);
        await (await gateway.queue.getJob(mine))?.remove();
      });

      it("purges only its own tenant's dead letters", async () => {
        await fail(tenant);
        const theirs = await fail(other);
        expect(await call(adminKey(), 'DELETE', '/v1/admin/dead-letters')).toEqual({ status: 200, body: { purged: 1 } });
        expect((await letters().list({ tenant })).total).toBe(0);
        expect((await letters().list({ tenant: other })).items.map((l) => l.job_id)).toEqual([theirs]);
        expect((await call(adminKey(), 'DELETE', `/v1/admin/dead-letters?tenant=${other}`)).status).toBe(403);
        expect((await letters().list({ tenant: other })).total).toBe(1);
      });

      it("cannot open the queue dashboard nor list the workers, which are every tenant's", async () => {
        for (const path of ['/admin/queues', '/admin/queues/api/queues', '/v1/admin/workers']) {
          const res = await call(adminKey(), 'GET', path);
          expect([path, res.status]).toEqual([path, 403]);
          expect(res.body.error.message).toContain('"operator"');
        }
      });

      it("cannot add, retry, promote, clean or remove jobs through the dashboard, least of all one in the other tenant's name", async () => {
        const waiting = await gateway.queue.getWaitingCount();
        const basic = { authorization: `Basic ${Buffer.from(`x:${adminKey()}`).toString('base64')}`, 'content-type': 'application/json' };
        // The attack from issue #14: a job naming the other tenant, to read its documents in the answer.
        const forged = {
          name: 'answer',
          data: { query: 'What are the plans?', collection: 'secret', top_k: 5, stream: false, request_id: 'a1', tenant: other },
        };
        for (const [method, path] of DASHBOARD_WRITES) {
          for (const headers of [basic, { ...basic, authorization: `Bearer ${adminKey()}` }]) {
            const res = await fetch(`${base}${path}`, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(forged) });
            expect([method, path, res.status]).toEqual([method, path, 405]);
            expect((await json(res)).error.code).toBe('read_only');
          }
        }
        expect(await gateway.queue.getWaitingCount()).toBe(waiting);
        expect((await gateway.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).filter((j) => j?.data.request_id === 'a1')).toEqual([]);
      });
    });
  });

  it('a query-only key reads collections but cannot change them', async () => {
    expect((await call(KEYS.acmeReader, 'GET', '/v1/collections')).status).toBe(200);
    expect((await call(KEYS.acmeReader, 'GET', '/v1/collections/secret/documents')).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/collections', { name: 'new-one' }],
      ['DELETE', '/v1/collections/secret', undefined],
      ['DELETE', '/v1/collections/secret/documents/plans.md', undefined],
    ] as const) {
      const res = await call(KEYS.acmeReader, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(res.body.error.message).toContain('"ingest"');
    }
    expect((await store.listDocuments('acme', 'secret')).length).toBe(1);
  });

  it('validates collection names and document ids with 400s', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/collections/Bad.Name', undefined],
      ['GET', '/v1/collections/..%2Fetc/documents', undefined],
      ['POST', '/v1/collections', { name: 'acme.handbook' }],
      ['POST', '/v1/collections', { name: 'ok', extra: true }],
      ['POST', '/v1/collections', ['handbook']],
      ['GET', '/v1/collections/handbook/documents?limit=5000', undefined],
      ['DELETE', `/v1/collections/handbook/documents/${'x'.repeat(1100)}`, undefined],
    ] as const) {
      const res = await call(KEYS.acme, method, path, body);
      expect([method, path.slice(0, 60), res.status]).toEqual([method, path.slice(0, 60), 400]);
      expect(typeof res.body.error.message).toBe('string');
    }
  });

  it('opens the queue dashboard for an operator key, by Bearer or by a browser login, and asks browsers to sign in', async () => {
    const page = await fetch(`${base}/admin/queues`, { headers: { authorization: `Bearer ${KEYS.ops}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('rag queues');
    const basic = `Basic ${Buffer.from(`ops:${KEYS.ops}`).toString('base64')}`;
    const api = await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    const { queues } = await json(api);
    expect(queues.map((q: { name: string }) => q.name)).toContain('rag-query');
    const anonymous = await fetch(`${base}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await json(anonymous)).error.code).toBe('unauthorized');
    const wrong = await fetch(`${base}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from('ops:not-a-key-at-all-000000').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    // Basic credentials open the dashboard only, not the API.
    expect((await fetch(`${base}/v1/admin/dead-letters`, { headers: { authorization: basic } })).status).toBe(401);
  });
  it("an operator sees every tenant's dead letters, or one tenant's with ?tenant=, and the workers", async () => {
    const letters = openDeadLetters(gateway.queue.client, gateway.config);
    await letters.purge(ALL_TENANTS);
    for (const tenant of ['acme', 'globex']) {
      await letters.add({
        job_id: `op-${tenant}`,
        queue: QueueName.Query,
        job_name: JobName.Answer,
        payload: { tenant },
        final_error: 'boom',
        failed_at: new Date().toISOString(),
      });
    }
    const all = await call(KEYS.ops, 'GET', '/v1/admin/dead-letters');
    expect(all.body.items.map((l: { job_id: string }) => l.job_id).sort()).toEqual(['op-acme', 'op-globex']);
    expect((await call(KEYS.ops, 'GET', '/v1/admin/dead-letters?tenant=globex')).body).toMatchObject({ total: 1, items: [{ job_id: 'op-globex' }] });
    expect((await call(KEYS.ops, 'GET', '/v1/admin/dead-letters/op-acme')).status).toBe(200);
    expect((await call(KEYS.ops, 'GET', '/v1/admin/workers')).status).toBe(200);
    // These payloads carry no signature (as a job the workers refused): even an operator cannot replay them.
    const refused = await call(KEYS.ops, 'POST', '/v1/admin/dead-letters/op-acme/replay');
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'not_replayable', message: expect.stringContaining('not queued by the gateway') } } });
    expect(await gateway.queue.getJob('op-acme')).toBeNull();
    expect(await call(KEYS.ops, 'DELETE', '/v1/admin/dead-letters')).toEqual({ status: 200, body: { purged: 2 } });
  });

  it('the dashboard is read-only even for an operator: every write is a 405 in JSON and changes nothing', async () => {
    const job = await gateway.queue.add(JobName.Answer, { tenant: 'acme' } as never, { delay: 60_000 });
    const before = await gateway.queue.getJobCounts();
    const headers = { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' };
    for (const [method, path] of [
      ...DASHBOARD_WRITES,
      ['PUT', `/admin/queues/api/queues/rag-query/${job.id}/promote`],
      ['PUT', `/admin/queues/api/queues/rag-query/${job.id}/clean`],
    ]) {
      const res = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify({ name: 'answer', data: { tenant: 'globex' } }) });
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, 'GET, HEAD']);
      expect((await json(res)).error).toMatchObject({ code: 'read_only', message: expect.stringContaining('read-only') });
    }
    expect(await gateway.queue.getJobCounts()).toEqual(before);
    expect(await (await gateway.queue.getJob(job.id))?.getState()).toBe('delayed');
    expect(await gateway.queue.isPaused()).toBe(false);
    // bull-board itself runs each queue read-only too (its own 405 behind ours), and its UI offers no writes.
    const { queues } = await json(await fetch(`${base}/admin/queues/api/queues`, { headers }));
    expect(queues.map((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toEqual([true, true]);
    await job.remove();
  });

  it('the dashboard does not announce its framework and refuses cross-site requests a cached browser login would carry', async () => {
    const basic = `Basic ${Buffer.from(`ops:${KEYS.ops}`).toString('base64')}`;
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await fetch(`${base}${path}`, { headers: { authorization: basic } });
      expect([path, res.status, res.headers.get('x-powered-by')]).toEqual([path, 200, null]);
    }
    const crossSite: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const extra of crossSite) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(`${base}/admin/queues/api/queues`, { method, headers: { authorization: basic, ...extra } });
        expect([extra, method, res.status]).toEqual([extra, method, 403]);
        expect((await json(res)).error.code).toBe('cross_origin_refused');
      }
    }
    // Its own pages' requests, and a link followed to it, still work.
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: basic, 'sec-fetch-site': 'same-origin', origin: base } })).status).toBe(
      200,
    );
    // (node:http: fetch itself would send Sec-Fetch-Mode: cors.)
    const navigated = await new Promise<number | undefined>((resolve, reject) =>
      http
        .get(`${base}/admin/queues`, { headers: { authorization: basic, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on('error', reject),
    );
    expect(navigated).toBe(200);
  });
});
