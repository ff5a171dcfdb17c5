import type { Config } from '@rag/config';
import type { Redis } from 'ioredis';
import { JobEventsWriter } from '../job-events.writer';

/**
 * Where a job's events are opened (worker side): one writer per job, on the
 * job's stream under the deployment's prefix, expiring with the job record.
 */
export function jobEventsOpener(redis: Redis, config: Pick<Config, 'QUEUE_PREFIX' | 'JOB_RETENTION_SECONDS'>): (jobId: string) => JobEventsWriter {
  return (jobId) => new JobEventsWriter(redis, jobId, { prefix: config.QUEUE_PREFIX, retentionSeconds: config.JOB_RETENTION_SECONDS });
}
