import type { QueryJobs } from '@rag/jobs';
import type { JobView } from '@rag/queue-contracts';
import type { Request } from 'express';
import { jobIdParam, jobNotFound } from './params';
import { queueCall } from './queue-unavailable';

/**
 * Reads one of the caller's jobs, long-polling up to `waitSeconds` for a
 * final state, and stops waiting when the client goes away. Unknown,
 * malformed and other tenants' ids are the same 404, so ids cannot be probed.
 */
export async function readJob(jobs: QueryJobs, req: Request, rawJobId: unknown, waitSeconds: number): Promise<JobView> {
  const jobId = jobIdParam(rawJobId);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  req.on('close', onClose);
  try {
    const view = await queueCall(() => jobs.wait(jobId, req.principal.tenant, waitSeconds, gone.signal));
    if (!view) throw jobNotFound();
    return view;
  } finally {
    req.off('close', onClose);
  }
}
