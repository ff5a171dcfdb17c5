import { JobName, QueueName, type Citation } from '@rag/queue-contracts';
import { json, runApp, type AppProcess } from '@rag/testing';
import Bull from 'bull';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

const ACME_KEY = 'acme_e2e_key_0123456789abcdef';
const GLOBEX_KEY = 'globex_e2e_key_0123456789abcdef';
const GLOBEX_ADMIN_KEY = 'globex_e2e_admin_key_0123456789abcdef';

// Tenant isolation with real processes: the CLI loads different documents
// into a collection of the same name for two tenants; each tenant's questions
// are answered from its own documents only, and a collection only the other
// tenant has is not found.
describe('tenant isolation end to end', () => {
  const stack = useStack('rag-tenancy-');
  let env: NodeJS.ProcessEnv;
  let gateway: AppProcess;
  let worker: AppProcess;

  const write = (dir: string, files: Record<string, string>) => {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };
  const cli = (args: string[]) => runApp(CLI_MAIN, env, args);

  beforeAll(async () => {
    env = {
      ...stack.env,
      API_KEYS: `acme:query:${ACME_KEY},globex:query:${GLOBEX_KEY},globex:admin:${GLOBEX_ADMIN_KEY}`,
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '100',
    };
    // Overlapping document ids and topics, different facts.
    const acme = write(path.join(stack.data.path, 'acme'), {
      'travel.md': '# Travel\n\n## Expenses\n\nAcme reimburses travel expenses within 30 days of the trip.',
      'rockets.md': '# Rockets\n\n## Launches\n\nAcme rockets launch every Friday from the desert pad.',
    });
    const globex = write(path.join(stack.data.path, 'globex'), {
      'travel.md': '# Travel\n\n## Expenses\n\nGlobex reimburses travel expenses within 90 days of the trip.',
      'volcano.md': '# Volcano\n\n## Lair\n\nGlobex keeps its volcano lair open on Mondays only.',
    });
    const acmeSecret = write(path.join(stack.data.path, 'acme-secret'), {
      'plans.md': '# Plans\n\n## Secret\n\nAcme plans to buy the moon next year.',
    });
    for (const [tenant, dir, collection] of [
      ['acme', acme, 'handbook'],
      ['globex', globex, 'handbook'],
      ['acme', acmeSecret, 'secret'],
    ]) {
      const run = await cli([dir, '--collection', collection, '--tenant', tenant, '--no-progress', '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ tenant, collection, failed: [] });
    }
    ({
      gateway,
      workers: [worker],
    } = await stack.startGatewayAndWorkers(env));
  });

  /** Asks as the key's tenant and waits for the job's end. */
  const ask = async (key: string, query: string, collection: string) => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, collection }),
    });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    let state = await json(await fetch(`${stack.base}/v1/jobs/${job_id}?wait=10`, { headers: { authorization: `Bearer ${key}` } }));
    for (let i = 0; i < 5 && !['completed', 'failed'].includes(state.status); i++) {
      state = await json(await fetch(`${stack.base}/v1/jobs/${job_id}?wait=10`, { headers: { authorization: `Bearer ${key}` } }));
    }
    return state;
  };

  it("lists, with --tenant, only that tenant's collections and documents", async () => {
    const acme = await cli(['list', '--tenant', 'acme', '--json']);
    const globex = await cli(['list', '--tenant', 'globex', '--json']);
    const byDefault = await cli(['list', '--json']);
    expect(JSON.parse(acme.stdout)).toEqual(['handbook', 'secret']);
    expect(JSON.parse(globex.stdout)).toEqual(['handbook']);
    expect(JSON.parse(byDefault.stdout)).toEqual([]);
    const docs = await cli(['list', '--tenant', 'globex', '--collection', 'handbook', '--json']);
    expect(JSON.parse(docs.stdout).map((d: { docId: string }) => d.docId)).toEqual(['travel.md', 'volcano.md']);
    const other = await cli(['list', '--tenant', 'globex', '--collection', 'secret']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('collection "secret" does not exist');
    const bad = await cli(['list', '--tenant', 'Bad.Tenant']);
    expect(bad.code).toBe(2);
  });

  it("answers each tenant's question from its own documents only, both ways", async () => {
    const query = 'How soon are travel expenses reimbursed?';
    const acme = await ask(ACME_KEY, query, 'handbook');
    const globex = await ask(GLOBEX_KEY, query, 'handbook');
    expect(acme.status).toBe('completed');
    expect(globex.status).toBe('completed');
    expect(acme.result.answer).toContain('30 days');
    expect(globex.result.answer).toContain('90 days');
    for (const [state, own, other] of [
      [acme, 'Acme', 'Globex'],
      [globex, 'Globex', 'Acme'],
    ] as const) {
      const citations = state.result.citations as Citation[];
      expect(citations.length).toBeGreaterThan(0);
      for (const c of citations) {
        expect(c.chunk).toContain(own);
        expect(c.chunk).not.toContain(other);
      }
      expect(state.result.answer).not.toContain(other);
    }
    // Every log line of a job, and the gateway's line for each request, names the tenant.
    for (const [state, tenant] of [
      [acme, 'acme'],
      [globex, 'globex'],
    ] as const) {
      // The worker's lines come down its stdout pipe, which may arrive after the job's state.
      await worker.waitForLog((l) => l.message === 'job completed' && l.job_id === state.job_id, 5000);
      const lines = worker.logs().filter((l) => l.job_id === state.job_id);
      expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['job started', 'job completed']));
      for (const line of lines) expect(line).toMatchObject({ tenant, request_id: expect.any(String), queue: 'rag-query' });
    }
    const requests = gateway.logs().filter((l) => l.message === 'request' && l.route === '/v1/chat');
    expect(requests.map((l) => l.tenant)).toEqual(expect.arrayContaining(['acme', 'globex']));
    expect(gateway.logs().find((l) => l.message === 'request' && l.job_id === acme.job_id)).toMatchObject({ tenant: 'acme', route: '/v1/chat' });
    // A question about the other tenant's document finds nothing of it.
    const probe = await ask(ACME_KEY, 'When is the volcano lair open?', 'handbook');
    expect(probe.status).toBe('completed');
    for (const c of probe.result.citations as Citation[]) expect(c.chunk).not.toContain('Globex');
    expect(JSON.stringify(probe.result)).not.toContain('volcano lair open');
  });

  it('fails as not found a question to a collection that only the other tenant has', async () => {
    const state = await ask(GLOBEX_KEY, 'What does Acme plan to buy?', 'secret');
    expect(state.status).toBe('failed');
    expect(state.error.permanent).toBe(true);
    expect(state.error.message).toContain('collection "secret" does not exist');
    expect(JSON.stringify(state)).not.toContain('moon');
    const own = await ask(ACME_KEY, 'What does Acme plan to buy?', 'secret');
    expect(own.status).toBe('completed');
    expect(own.result.answer).toContain('moon');
  });

  it("deletes, with --tenant, only that tenant's document of the same id", async () => {
    const deleted = await cli(['delete', 'travel.md', '--collection', 'handbook', '--tenant', 'globex']);
    expect(deleted.code).toBe(0);
    const acme = await cli(['list', '--tenant', 'acme', '--collection', 'handbook', '--json']);
    expect(JSON.parse(acme.stdout).map((d: { docId: string }) => d.docId)).toEqual(['rockets.md', 'travel.md']);
    const globex = await cli(['list', '--tenant', 'globex', '--collection', 'handbook', '--json']);
    expect(JSON.parse(globex.stdout).map((d: { docId: string }) => d.docId)).toEqual(['volcano.md']);
  });
  // Issue #14: a tenant's admin put a job naming another tenant on the queue through the dashboard and read
  // that tenant's documents in the answer. The dashboard now writes nothing, and a job put on the queue by
  // any other way than our producers is refused by the worker before the named tenant's data is read.
  it("refuses another tenant's job from a tenant admin's dashboard, and a forged job put on the queue by hand", async () => {
    const forged = { query: 'What does Acme plan to buy?', collection: 'secret', top_k: 5, stream: false, request_id: 'a1', tenant: 'acme' };
    const basic = `Basic ${Buffer.from(`x:${GLOBEX_ADMIN_KEY}`).toString('base64')}`;
    const added = await fetch(`${stack.base}/admin/queues/api/queues/rag-query/add`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'answer', data: forged }),
    });
    expect(added.status).toBe(405);
    expect((await fetch(`${stack.base}/admin/queues/api/queues`, { headers: { authorization: basic } })).status).toBe(403);

    const queue = new Bull(QueueName.Query, stack.redis.url, { prefix: 'rag' });
    try {
      const job = await queue.add(JobName.Answer, forged, { attempts: 2 });
      const failure = await job.finished().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(failure?.message).toBe('job refused: not queued by the gateway');
      const stored = await queue.getJob(job.id);
      expect(await stored?.getState()).toBe('failed');
      expect(stored?.attemptsMade).toBe(1);
      expect(JSON.stringify(stored?.returnvalue ?? null)).not.toContain('moon');
      await worker.waitForLog((l) => l.security === true && l.job_id === String(job.id) && l.claimed_tenant === 'acme', 10_000);
      expect(
        worker
          .logs()
          .filter((l) => l.job_id === String(job.id))
          .map((l) => l.message),
      ).not.toContain('job started');
    } finally {
      await queue.close();
    }
  });
});
