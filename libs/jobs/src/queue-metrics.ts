import { scrapedGauge, type Registry } from '@rag/observability';
import type { Queue } from 'bull';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'paused'] as const;

/**
 * Queue depth per state and the age of the oldest waiting job, per queue,
 * read from Redis when Prometheus scrapes (a few O(1) commands per queue).
 * The waiting list is what the workers' autoscaler watches.
 */
export function registerQueueMetrics(registry: Registry, queues: Queue[]): void {
  scrapedGauge(
    registry,
    'rag_queue_jobs',
    'Jobs in each queue by state (completed and failed are those still retained).',
    ['queue', 'state'],
    async (gauge) => {
      for (const queue of queues) {
        const counts = (await queue.getJobCounts()) as unknown as Record<string, number>;
        for (const state of STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  );
  scrapedGauge(
    registry,
    'rag_queue_oldest_waiting_age_seconds',
    'Age of the oldest job waiting for a worker, per queue (0 when none waits).',
    ['queue'],
    async (gauge) => {
      for (const queue of queues) {
        // Bull pushes new jobs on the left: the oldest waiting job is the last one.
        const [id] = await queue.client.lrange(queue.toKey('wait'), -1, -1);
        const timestamp = id ? Number(await queue.client.hget(queue.toKey(id), 'timestamp')) : NaN;
        gauge.set({ queue: queue.name }, Number.isFinite(timestamp) ? Math.max(0, (Date.now() - timestamp) / 1000) : 0);
      }
    },
  );
}
