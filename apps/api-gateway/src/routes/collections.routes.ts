import { createEmbedder, embedderInfo, type Embedder } from '@rag/retrieval';
import { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { collectionNotFound as notFound, storeCall } from '../http/store-call';
import { page } from '../http/paging';
import { collectionName } from '../http/params';

const DOC_ID_MAX = 1024;

/** The embedder's id and size; a model of unknown size is asked once, and an API that does not answer is a 503. */
async function describeEmbedder(embedder: Embedder) {
  try {
    return await embedderInfo(embedder);
  } catch (error) {
    throw new HttpError(
      503,
      'embeddings_unavailable',
      'the embeddings API did not answer to tell its vector size; retry in a few seconds, or set EMBEDDING_DIM',
      { retry_after_seconds: 5 },
      { cause: error },
    );
  }
}

/**
 * The caller's collections and documents. Every call names the caller's
 * tenant, and the store keeps each tenant's collections apart, so another
 * tenant's collection of the same name is neither listed nor reachable: it
 * is a 404 like one that does not exist. Reading needs `query`, changing
 * needs `ingest`.
 */
export function collectionRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const { store } = deps;
  let embedder: Embedder | undefined;
  const tenantOf = (req: Request) => req.principal.tenant;

  router.get('/v1/collections', requireScope('query'), async (req, res) => {
    const names = await storeCall(() => store.listCollections(tenantOf(req)));
    res.json({ collections: names.map((name) => ({ name })) });
  });

  router.post('/v1/collections', requireScope('ingest'), async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the request body as JSON with Content-Type: application/json');
    const body: unknown = req.body;
    const keys = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : undefined;
    if (!keys || keys.some((k) => k !== 'name')) throw new HttpError(400, 'invalid_request', 'send { "name": "<collection>" } and nothing else');
    const name = collectionName((body as { name?: unknown }).name);
    const tenant = tenantOf(req);
    const existed = await storeCall(() => store.hasCollection(tenant, name));
    embedder ??= createEmbedder(deps.config);
    const built = await describeEmbedder(embedder);
    await storeCall(() => store.ensureCollection(tenant, name, built));
    deps.logger.info(existed ? 'collection exists' : 'collection created', { collection: name, tenant });
    res
      .status(existed ? 200 : 201)
      .location(`/v1/collections/${name}`)
      .json({ name, embedder: built, created: !existed });
  });

  router.get('/v1/collections/:name', requireScope('query'), async (req, res) => {
    const name = collectionName(req.params.name);
    const info = await storeCall(() => store.collectionInfo(tenantOf(req), name));
    if (!info) throw notFound(name);
    res.json({ name, embedder: info.embedder });
  });

  router.delete('/v1/collections/:name', requireScope('ingest'), async (req, res) => {
    const name = collectionName(req.params.name);
    const tenant = tenantOf(req);
    if (!(await storeCall(() => store.deleteCollection(tenant, name)))) throw notFound(name);
    deps.logger.info('collection deleted', { collection: name, tenant });
    res.json({ name, deleted: true });
  });

  router.get('/v1/collections/:name/documents', requireScope('query'), async (req, res) => {
    const name = collectionName(req.params.name);
    const offset = page(req.query.offset, 0, 10_000_000, 'offset');
    const limit = page(req.query.limit, 100, 1000, 'limit');
    const tenant = tenantOf(req);
    if (!(await storeCall(() => store.hasCollection(tenant, name)))) throw notFound(name);
    const docs = await storeCall(() => store.listDocuments(tenant, name));
    res.json({
      total: docs.length,
      items: docs.slice(offset, offset + limit).map((d) => ({ doc_id: d.docId, content_hash: d.contentHash, chunks: d.chunks })),
    });
  });

  router.delete('/v1/collections/:name/documents/:docId', requireScope('ingest'), async (req, res) => {
    const name = collectionName(req.params.name);
    const docId = req.params.docId;
    if (typeof docId !== 'string' || docId.length === 0 || docId.length > DOC_ID_MAX) {
      throw new HttpError(400, 'invalid_document_id', `a document id is 1-${DOC_ID_MAX} characters (URL-encode "/" as %2F)`);
    }
    const tenant = tenantOf(req);
    if (!(await storeCall(() => store.hasCollection(tenant, name)))) throw notFound(name);
    const exists = (await storeCall(() => store.listDocuments(tenant, name))).some((d) => d.docId === docId);
    if (!exists)
      throw new HttpError(404, 'document_not_found', `collection "${name}" has no document "${docId}"; GET /v1/collections/${name}/documents lists them`);
    await storeCall(() => store.deleteDocument(tenant, name, docId));
    deps.logger.info('document deleted', { collection: name, tenant, doc_id: docId });
    res.json({ collection: name, doc_id: docId, deleted: true });
  });

  return router;
}
