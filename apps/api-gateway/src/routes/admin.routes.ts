import { ALL_TENANTS, DeadLetterNotReplayableError, type TenantScope } from '@rag/jobs';
import { isValidName, nameRuleMessage } from '@rag/queue-contracts';
import { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireAnyScope, requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { page } from '../http/paging';

/**
 * Whose dead letters the caller may touch. A tenant's `admin` key: its own
 * tenant's only (asking for another is a 403, not an empty list). An
 * `operator` key: every tenant's, or one tenant's with `?tenant=`.
 */
function deadLetterScope(req: Request): TenantScope {
  const asked = req.query.tenant;
  if (asked !== undefined && !isValidName(asked)) {
    throw new HttpError(400, 'invalid_request', nameRuleMessage('tenant'));
  }
  if (req.principal.scopes.includes('operator')) return asked === undefined ? ALL_TENANTS : { tenant: asked };
  if (asked !== undefined && asked !== req.principal.tenant) {
    throw new HttpError(403, 'forbidden', "an admin key sees only its own tenant's dead letters; other tenants need an operator key (granted from the CLI)");
  }
  return { tenant: req.principal.tenant };
}

/**
 * Dead-letter administration (list, inspect, replay, purge), each within the
 * caller's tenant unless it is an operator, and the list of workers.
 */
export function adminRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const noSuchLetter = () => new HttpError(404, 'dead_letter_not_found', 'no such dead letter; GET /v1/admin/dead-letters lists them');

  router.use('/v1/admin', requireAnyScope('admin', 'operator'));
  router.get('/v1/admin/dead-letters', async (req, res) => {
    const offset = page(req.query.offset, 0, 1_000_000, 'offset');
    const limit = page(req.query.limit, 50, 500, 'limit');
    res.json(await deps.deadLetters.list(deadLetterScope(req), offset, limit));
  });
  router.get('/v1/admin/dead-letters/:id', async (req, res) => {
    // Another tenant's letter is a 404 like a missing one: its id says nothing.
    const letter = await deps.deadLetters.get(deadLetterScope(req), req.params.id);
    if (!letter) throw noSuchLetter();
    res.json(letter);
  });
  router.post('/v1/admin/dead-letters/:id/replay', async (req, res) => {
    const id = req.params.id;
    const letter = await deps.jobs.replay(deadLetterScope(req), id).catch((error: unknown) => {
      throw error instanceof DeadLetterNotReplayableError ? new HttpError(409, 'not_replayable', error.message) : error;
    });
    if (!letter) throw noSuchLetter();
    deps.metrics.jobs.enqueued.inc({ queue: deps.queue.name });
    deps.logger.info('dead letter replayed', { job_id: id, tenant: letter.tenant });
    res.status(202).json({ job_id: id, status: 'queued', status_url: `/v1/jobs/${id}` });
  });
  router.delete('/v1/admin/dead-letters', async (req, res) => {
    res.json({ purged: await deps.deadLetters.purge(deadLetterScope(req)) });
  });
  // Workers are shared infrastructure (host names, pids, versions), not any tenant's: operators only.
  router.get('/v1/admin/workers', requireScope('operator'), async (_req, res) => {
    const workers = await deps.workers.list();
    res.json({ alive: workers.filter((w) => !w.stale).length, stale_after_seconds: deps.config.WORKER_STALE_SECONDS, workers });
  });
  return router;
}
