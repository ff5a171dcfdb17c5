import { FINAL_STATUSES, type JobView } from '@rag/queue-contracts';
import { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { HttpError } from '../http/http-error';
import { jobView } from '../job-view';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseWait(raw: unknown, max: number): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, 'invalid_request', `wait must be a number of seconds from 0 to ${max}`);
  }
  return Number(raw);
}

/**
 * Reads a job, long-polling up to `waitSeconds` for a final state. Unknown
 * and malformed ids are the same 404, so ids cannot be probed.
 */
export async function readJob(deps: GatewayDeps, req: Request, jobId: unknown, waitSeconds: number): Promise<JobView> {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) throw notFound();
  const deadline = Date.now() + waitSeconds * 1000;
  let closed = false;
  const onClose = () => (closed = true);
  req.on('close', onClose);
  try {
    for (;;) {
      const wakeup = deps.waiter.next(jobId);
      const job = await deps.queue.getJob(jobId);
      if (!job) {
        wakeup.cancel();
        throw notFound();
      }
      const view = await jobView(job, () => deps.queue.getJob(jobId));
      if (!view) {
        wakeup.cancel();
        throw notFound();
      }
      const remaining = deadline - Date.now();
      if (FINAL_STATUSES.has(view.status) || remaining <= 0 || closed) {
        wakeup.cancel();
        return view;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([wakeup.promise, new Promise<void>((r) => (timer = setTimeout(r, remaining)))]);
      clearTimeout(timer);
      wakeup.cancel();
    }
  } finally {
    req.off('close', onClose);
  }
}

function notFound(): HttpError {
  return new HttpError(404, 'job_not_found', 'no such job; job records expire after the retention period');
}

export function jobRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.get('/v1/jobs/:id', async (req, res) => {
    const wait = parseWait(req.query.wait, deps.config.MAX_WAIT_SECONDS);
    res.json(await readJob(deps, req, req.params.id, wait));
  });
  return router;
}
