import { IngestRuns, type RebuildView } from '@rag/jobs';
import { Limits } from '@rag/queue-contracts';
import { createEmbedder, startReindex, type Embedder } from '@rag/retrieval';
import { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { collectionName } from '../http/params';
import { queueCall } from '../http/queue-unavailable';
import { collectionNotFound, storeCall, versionedStoreCall } from '../http/store-call';

/** `grace_seconds` from the optional JSON body; the default when absent. */
function graceSeconds(req: Request): number {
  const body: unknown = req.body;
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)) {
    return Limits.reindexGraceSecondsDefault;
  }
  const bad = new HttpError(
    400,
    'invalid_request',
    `send no body, or { "grace_seconds": N } with N a whole number of seconds from 0 to ${Limits.reindexGraceSecondsMax} (default ${Limits.reindexGraceSecondsDefault})`,
  );
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).some((k) => k !== 'grace_seconds')) throw bad;
  const value = (body as { grace_seconds?: unknown }).grace_seconds;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > Limits.reindexGraceSecondsMax) throw bad;
  return value;
}

/**
 * Rebuilding a collection with the current settings without downtime
 * (reindex): `POST` starts it (scope `ingest`: it changes the tenant's
 * collection, as loading documents does), `GET` shows the version in use, the
 * rebuild under way with its progress, and the latest rebuild's outcome.
 */
export function reindexRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const runs = new IngestRuns(deps.ingestQueue.client, deps.config.QUEUE_PREFIX, deps.config.JOB_RETENTION_SECONDS);
  let embedder: Embedder | undefined;

  router.post('/v1/collections/:name/reindex', requireScope('ingest'), async (req, res) => {
    const collection = collectionName(req.params.name);
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send no body, or JSON with Content-Type: application/json');
    }
    const grace = graceSeconds(req);
    const tenant = req.principal.tenant;
    const current = (embedder ??= createEmbedder(deps.config));
    const started = await versionedStoreCall(() =>
      startReindex(
        { store: deps.store.inner, registry: deps.versions, runs, producer: deps.documents, embedder: current, logger: deps.logger },
        { tenant, collection, graceSeconds: grace, requestId: req.requestId },
      ),
    );
    deps.metrics.jobs.enqueued.inc({ queue: deps.ingestQueue.name }, started.documents);
    const statusUrl = `/v1/collections/${collection}/reindex`;
    res
      .status(202)
      .location(statusUrl)
      .json({ ...started, grace_seconds: grace, status: 'rebuilding', status_url: statusUrl, run_url: `/v1/ingest-runs/${started.run_id}` });
  });

  router.get('/v1/collections/:name/reindex', requireScope('ingest'), async (req, res) => {
    const collection = collectionName(req.params.name);
    const tenant = req.principal.tenant;
    if (!(await storeCall(() => deps.store.hasCollection(tenant, collection)))) throw collectionNotFound(collection);
    const view = await queueCall(() => deps.versions.describe(tenant, collection));
    const progress = async (runId: string) => {
      const run = await runs.get(runId);
      return run && { queued: run.queued, done: run.done, failed: run.failed, chunks: run.chunks, failures: run.failures };
    };
    const { last: latest } = view;
    const last = latest && (await queueCall(() => withProgress(latest, progress)));
    res.json({ collection, active_version: view.active_version, rebuilding: view.rebuilding ?? null, last: last ?? null });
  });

  return router;
}

async function withProgress(view: RebuildView, progress: (runId: string) => Promise<object | undefined>) {
  const { tenant: _tenant, ...shown } = view;
  return { ...shown, progress: (await progress(view.run_id)) ?? null };
}
