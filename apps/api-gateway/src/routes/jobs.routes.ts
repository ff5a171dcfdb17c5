import { isCancelRequested, requestCancel } from '@rag/jobs';
import { FINAL_STATUSES, cancelledKey, type JobView } from '@rag/queue-contracts';
import { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { failureCode, jobView } from '../job-view';
import { questionAdmission } from '../enqueue-question';
import { LongPollLimit } from '../http/long-poll-limit';
import { queueCall } from '../http/queue-unavailable';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseWait(raw: unknown, max: number): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, 'invalid_request', `wait must be a number of seconds from 0 to ${max}`);
  }
  return Number(raw);
}

/** A job's tenant; jobs queued before tenancy belong to `default`. */
const tenantOf = (data: { tenant?: unknown } | undefined) => (typeof data?.tenant === 'string' ? data.tenant : 'default');

/**
 * Reads one of the caller's jobs, long-polling up to `waitSeconds` for a
 * final state. Unknown, malformed and other tenants' ids are the same 404, so
 * ids cannot be probed.
 */
export async function readJob(deps: GatewayDeps, req: Request, jobId: unknown, waitSeconds: number): Promise<JobView> {
  const tenant = req.principal.tenant;
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) throw notFound();
  const deadline = Date.now() + waitSeconds * 1000;
  let closed = false;
  let onClose: () => void = () => undefined;
  const clientGone = new Promise<void>((resolve) => {
    onClose = () => {
      closed = true;
      resolve();
    };
  });
  req.on('close', onClose);
  try {
    for (;;) {
      // Registered before the read, so an event between the read and the wait is not lost.
      const wakeup = deps.waiter.next(jobId);
      let timer: NodeJS.Timeout | undefined;
      try {
        const view = await queueCall(() => currentView(deps, jobId, tenant));
        if (!view) throw notFound();
        const remaining = deadline - Date.now();
        if (FINAL_STATUSES.has(view.status) || remaining <= 0 || closed) return view;
        await Promise.race([wakeup.promise, clientGone, new Promise<void>((r) => (timer = setTimeout(r, remaining)))]);
      } finally {
        clearTimeout(timer);
        wakeup.cancel();
      }
    }
  } finally {
    req.off('close', onClose);
  }
}

/**
 * The job's view when it belongs to `tenant`; a cancelled job shows as
 * `cancelled` whether it was removed while waiting or stopped while active.
 */
async function currentView(deps: GatewayDeps, jobId: string, tenant: string): Promise<JobView | undefined> {
  const job = await deps.queue.getJob(jobId);
  if (!job) {
    const record = await deps.queue.client.get(cancelledKey(deps.config.QUEUE_PREFIX, jobId));
    if (!record) return undefined;
    const { tenant: owner, ...view } = JSON.parse(record) as JobView & { tenant?: string };
    return tenantOf({ tenant: owner }) === tenant ? view : undefined;
  }
  if (tenantOf(job.data) !== tenant) return undefined;
  const view = await jobView(deps.queue, job);
  if (view?.status === 'failed' && (await isCancelRequested(deps.queue.client, deps.config.QUEUE_PREFIX, jobId))) {
    return { ...view, status: 'cancelled', error: undefined };
  }
  if (view?.error) view.error.code = await failureCode(deps.deadLetters, jobId);
  return view ?? undefined;
}

/**
 * Cancels a job: a waiting one is removed and never runs; an active one is
 * signalled and its worker aborts it (its LLM request included) within
 * seconds. A finished job cannot be cancelled.
 */
export async function cancelJob(deps: GatewayDeps, jobId: unknown, tenant: string): Promise<{ status: number; body: JobView & { cancel_requested?: boolean } }> {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) throw notFound();
  const { QUEUE_PREFIX: prefix, JOB_RETENTION_SECONDS: ttl } = deps.config;
  const job = await deps.queue.getJob(jobId);
  if (!job || tenantOf(job.data) !== tenant) {
    const view = job ? undefined : await currentView(deps, jobId, tenant);
    if (!view) throw notFound();
    return { status: 200, body: view };
  }
  const view = await jobView(deps.queue, job);
  if (!view) throw notFound();
  if (view.status === 'completed' || view.status === 'failed') {
    throw new HttpError(409, 'job_finished', `job already ${view.status}; only queued, retrying or active jobs can be cancelled`);
  }
  await requestCancel(deps.queue.client, prefix, jobId, ttl);
  if (view.status !== 'active') {
    try {
      await job.remove();
      await questionAdmission(deps.queue, deps.config).removed(tenant, jobId);
      const cancelled: JobView = { ...view, status: 'cancelled', finished_at: new Date().toISOString() };
      // The tenant is kept with the record so other tenants still get a 404; it is stripped on read.
      await deps.queue.client.set(cancelledKey(prefix, jobId), JSON.stringify({ ...cancelled, tenant }), 'EX', ttl);
      deps.waiter.wake(jobId);
      return { status: 200, body: cancelled };
    } catch {
      // A worker took it between our read and the removal: it is active now and sees the signal.
    }
  }
  return { status: 202, body: { ...view, status: 'active', cancel_requested: true } };
}

function notFound(): HttpError {
  return new HttpError(404, 'job_not_found', 'no such job; job records expire after the retention period');
}

export function jobRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.use('/v1/jobs', requireScope('query'));
  const longPolls = new LongPollLimit(deps.queue.client, deps.config.QUEUE_PREFIX, deps.config.MAX_LONG_POLLS_PER_CLIENT);
  router.get('/v1/jobs/:id', async (req, res) => {
    const wait = parseWait(req.query.wait, deps.config.MAX_WAIT_SECONDS);
    const read = () => readJob(deps, req, req.params.id, wait);
    res.json(await (wait > 0 ? longPolls.run(req, wait, read) : read()));
  });
  router.delete('/v1/jobs/:id', async (req, res) => {
    const { status, body } = await queueCall(() => cancelJob(deps, req.params.id, req.principal.tenant));
    deps.logger.info('job cancel requested', { job_id: body.job_id, status: body.status });
    res.status(status).json(body);
  });
  return router;
}
