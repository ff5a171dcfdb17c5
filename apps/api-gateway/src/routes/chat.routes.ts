import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { enqueueQuestion } from '../http/enqueue-question';
import { HttpError } from '../http/http-error';

export function chatRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.post('/v1/chat', requireScope('query'), async (req, res) => {
    if (!req.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send the request body as JSON with Content-Type: application/json');
    }
    const { accepted, replayed } = await enqueueQuestion(
      deps.jobs,
      deps.config,
      req.body,
      req.requestId,
      req.principal.tenant,
      req.get('idempotency-key'),
      req.traceparent,
    );
    if (!replayed) deps.metrics.jobs.enqueued.inc({ queue: deps.queue.name });
    // On the request's access line, not a line of its own: one line per request.
    req.logFields = { job_id: accepted.job_id, queue: deps.queue.name, ...(replayed ? { replayed: true } : {}) };
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(accepted.status_url).json(accepted);
  });
  return router;
}
