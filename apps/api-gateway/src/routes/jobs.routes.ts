import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { LongPollLimit } from '../http/long-poll-limit';
import { jobIdParam, jobNotFound, parseWait } from '../http/params';
import { queueCall } from '../http/queue-unavailable';
import { readJob } from '../http/read-job';

/** `GET /v1/jobs/:id` (long-polls with `?wait=N`) and `DELETE /v1/jobs/:id` (cancels), through the job lifecycle. */
export function jobRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.use('/v1/jobs', requireScope('query'));
  const longPolls = new LongPollLimit(deps.queue.client, deps.config.QUEUE_PREFIX, deps.config.MAX_LONG_POLLS_PER_CLIENT);
  router.get('/v1/jobs/:id', async (req, res) => {
    const wait = parseWait(req.query.wait, deps.config.MAX_WAIT_SECONDS);
    const read = () => readJob(deps.jobs, req, req.params.id, wait);
    if (wait <= 0) return void res.json(await read());
    // Answered inside the slot, which is given back after: the client does not wait for that round trip.
    await longPolls.run(req, wait, async () => void res.json(await read()));
  });
  router.delete('/v1/jobs/:id', async (req, res) => {
    const jobId = jobIdParam(req.params.id);
    const cancel = await queueCall(() => deps.jobs.cancel(jobId, req.principal.tenant));
    if (cancel.outcome === 'not_found') throw jobNotFound();
    const { view } = cancel;
    if (cancel.outcome === 'finished')
      throw new HttpError(409, 'job_finished', `job already ${view.status}; only queued, retrying or active jobs can be cancelled`);
    deps.logger.info('job cancel requested', { job_id: view.job_id, status: view.status });
    // 202: the job is running and stops within seconds; 200: it never will run.
    if (cancel.outcome === 'requested') res.status(202).json({ ...view, cancel_requested: true });
    else res.status(200).json(view);
  });
  return router;
}
