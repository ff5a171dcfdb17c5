import { json, startRedis, type PrivateRedis } from '@rag/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { JsonSchema } from './dto-schemas';
import { expressRoutes } from './express-routes.spec-helper';
import { startInProcessGateway, type InProcessGateway } from '../in-process-gateway.spec-helper';

const KEY = 'acme_openapi_key_0123456789abcdef';
const ADMIN_KEY = 'acme_openapi_admin_0123456789abcdef';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, JsonSchema> }>>; components: { responses: Record<string, JsonSchema> } };

/** The schema the document gives for `method path` answering `status` with `type`, its references pointing into the document. */
function documented(doc: Doc, method: string, path: string, status: number, type = 'application/json'): JsonSchema {
  let response = doc.paths[path]?.[method]?.responses[String(status)];
  if (!response) throw new Error(`${method.toUpperCase()} ${path} documents no ${status}`);
  if (typeof response.$ref === 'string') response = doc.components.responses[response.$ref.split('/').pop()!];
  const schema = (response.content as Record<string, { schema: JsonSchema }> | undefined)?.[type]?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} ${status} documents no ${type} body`);
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as JsonSchema;
}

// The document served by the running gateway (in this process, on a private
// redis-server) against the app's real routes and its real answers.
describe('api-gateway: /openapi.json matches the routes and the answers', () => {
  let redis: PrivateRedis;
  let gateway: InProcessGateway;
  let doc: Doc;
  let ajv: Ajv2020;
  const call = (path: string, init: RequestInit = {}, key: string | null = KEY) =>
    fetch(gateway.base + path, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...init.headers },
    });
  /** Asserts `body` is what the document says `method path` answers with `status`. */
  const expectDocumented = (body: unknown, method: string, path: string, status: number, type?: string) => {
    const validate = ajv.compile(documented(doc, method, path, status, type));
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  };

  beforeAll(async () => {
    redis = await startRedis();
    gateway = await startInProcessGateway(redis.url, { API_KEYS: `acme:query+ingest:${KEY},acme:admin:${ADMIN_KEY}`, QUEUE_PREFIX: 'oas' });
    const res = await fetch(`${gateway.base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    doc = (await res.json()) as Doc;
    // strict: false, as the document's schemas carry OpenAPI's own keywords and our x- extensions.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc as unknown as JsonSchema, 'openapi.json');
  });

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  it('documents every route the Express app has, and no route it lacks', () => {
    const routes = expressRoutes(gateway.app);
    const documentedRoutes = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // The walk must see the app's sub-routers, or the comparison proves nothing.
    expect(routes).toEqual(expect.arrayContaining(['POST /v1/chat', 'GET /v1/jobs/{id}/events', 'POST /v1/chat/completions', 'GET /admin/queues']));
    expect(routes).toEqual(documentedRoutes);
  });

  it('is served without a key, and its answer is the same each time (cacheable)', async () => {
    const again = await call('/openapi.json', {}, null);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(doc);
  });

  it('a 202 of POST /v1/chat and the job it names match their schemas', async () => {
    const accepted = await call('/v1/chat', { method: 'POST', body: JSON.stringify({ query: 'How many vacation days?', collection: 'handbook', top_k: 3 }) });
    expect(accepted.status).toBe(202);
    const body = (await json(accepted)) as { job_id: string };
    expectDocumented(body, 'post', '/v1/chat', 202);
    // The check has teeth: a body without the events url does not pass.
    const { events_url: _eventsUrl, ...partial } = body as Record<string, unknown>;
    expect(ajv.validate(documented(doc, 'post', '/v1/chat', 202), partial)).toBe(false);
    const job = await call(`/v1/jobs/${body.job_id}`);
    expect(job.status).toBe(200);
    expectDocumented(await json(job), 'get', '/v1/jobs/{id}', 200);
    const cancelled = await call(`/v1/jobs/${body.job_id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expectDocumented(await json(cancelled), 'delete', '/v1/jobs/{id}', 200);
  });

  it('error bodies match the documented error shapes', async () => {
    const invalid = await call('/v1/chat', { method: 'POST', body: JSON.stringify({ query: 'x'.repeat(5000), top_k: 0, extra: 1 }) });
    expect(invalid.status).toBe(400);
    expectDocumented(await json(invalid), 'post', '/v1/chat', 400);
    const noKey = await call('/v1/jobs/00000000-0000-4000-8000-000000000000', {}, null);
    expect(noKey.status).toBe(401);
    expectDocumented(await json(noKey), 'get', '/v1/jobs/{id}', 401);
    const unknownModel = await call('/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(unknownModel.status).toBe(404);
    expectDocumented(await json(unknownModel), 'post', '/v1/chat/completions', 404);
  });

  it('collections, models and probes match their schemas', async () => {
    const created = await call('/v1/collections', { method: 'POST', body: JSON.stringify({ name: 'handbook' }) });
    expect(created.status).toBe(201);
    expectDocumented(await json(created), 'post', '/v1/collections', 201);
    const list = await call('/v1/collections');
    expectDocumented(await json(list), 'get', '/v1/collections', 200);
    const models = await call('/v1/models');
    expect(models.status).toBe(200);
    const modelList = (await json(models)) as { data: unknown[] };
    expect(modelList.data).toHaveLength(1);
    expectDocumented(modelList, 'get', '/v1/models', 200);
    expectDocumented(await json(await call('/v1/models/handbook')), 'get', '/v1/models/{id}', 200);
    expectDocumented(await json(await call('/v1/collections/handbook/documents')), 'get', '/v1/collections/{name}/documents', 200);
    expectDocumented(await json(await call('/v1/admin/dead-letters', {}, ADMIN_KEY)), 'get', '/v1/admin/dead-letters', 200);
    expectDocumented(await json(await call('/healthz', {}, null)), 'get', '/healthz', 200);
    const ready = await call('/readyz', {}, null);
    expectDocumented(await json(ready), 'get', '/readyz', ready.status);
  });
});
