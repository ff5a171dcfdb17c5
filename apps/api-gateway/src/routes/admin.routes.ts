import { queryJobOptions, replayDeadLetter } from '@rag/jobs';
import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { page } from '../http/paging';

/** Dead-letter administration (list, inspect, replay, purge) and the list of workers. */
export function adminRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const noSuchLetter = () => new HttpError(404, 'dead_letter_not_found', 'no such dead letter; GET /v1/admin/dead-letters lists them');

  // Dead letters hold every tenant's payloads: admin keys only.
  router.use('/v1/admin', requireScope('admin'));
  router.get('/v1/admin/dead-letters', async (req, res) => {
    const offset = page(req.query.offset, 0, 1_000_000, 'offset');
    const limit = page(req.query.limit, 50, 500, 'limit');
    res.json(await deps.deadLetters.list(offset, limit));
  });
  router.get('/v1/admin/dead-letters/:id', async (req, res) => {
    const letter = await deps.deadLetters.get(req.params.id);
    if (!letter) throw noSuchLetter();
    res.json(letter);
  });
  router.post('/v1/admin/dead-letters/:id/replay', async (req, res) => {
    const id = req.params.id;
    const letter = await replayDeadLetter(deps.queue, deps.deadLetters, id, queryJobOptions(deps.config, id));
    if (!letter) throw noSuchLetter();
    deps.metrics.jobs.enqueued.inc({ queue: deps.queue.name });
    deps.logger.info('dead letter replayed', { job_id: id });
    res.status(202).json({ job_id: id, status: 'queued', status_url: `/v1/jobs/${id}` });
  });
  // Which workers are alive, what they consume and how busy they are (their heartbeats).
  router.get('/v1/admin/workers', async (_req, res) => {
    const workers = await deps.workers.list();
    res.json({ alive: workers.filter((w) => !w.stale).length, stale_after_seconds: deps.config.WORKER_STALE_SECONDS, workers });
  });
  router.delete('/v1/admin/dead-letters', async (_req, res) => {
    res.json({ purged: await deps.deadLetters.purge() });
  });
  return router;
}
