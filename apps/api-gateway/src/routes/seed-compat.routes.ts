import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { enqueueQuestion } from '../http/enqueue-question';
import { readJob } from '../http/read-job';

/** The original service's paths: `POST /chat?query=...` and `GET /job-status?job_id=...`. */
export function seedCompatRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.post('/chat', requireScope('query'), async (req, res) => {
    const body = typeof req.query.query === 'string' ? { query: req.query.query } : (req.body ?? {});
    const { accepted, replayed } = await enqueueQuestion(deps.jobs, deps.config, body, req.requestId, req.principal.tenant, req.get('idempotency-key'));
    if (!replayed) deps.metrics.jobs.enqueued.inc({ queue: deps.queue.name });
    // On the request's access line, not a line of its own: one line per request.
    req.logFields = { job_id: accepted.job_id, queue: deps.queue.name, ...(replayed ? { replayed: true } : {}) };
    res.status(202).location(accepted.status_url).json(accepted);
  });
  router.get('/job-status', requireScope('query'), async (req, res) => {
    res.json(await readJob(deps.jobs, req, req.query.job_id, 0));
  });
  return router;
}
