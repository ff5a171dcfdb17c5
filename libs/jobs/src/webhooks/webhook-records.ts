import type { WebhookAttempt, WebhookStatus, WebhookView } from '@rag/queue-contracts';
import { RedisKeyspace } from '../redis-keyspace';

export interface WebhookRecordsOptions {
  prefix: string;
  /** Kept as long as the job record. */
  retentionSeconds: number;
}

/** Bound on the attempts kept per job (WEBHOOK_ATTEMPTS is at most 20; a replayed job may add a few more). */
const MAX_ATTEMPTS_KEPT = 50;

/** A job's webhook as its worker records it: a status and a short list of delivery attempts, expiring with the job. */
export class WebhookRecords extends RedisKeyspace<WebhookRecordsOptions> {
  private statusKey(jobId: string): string {
    return this.key('webhook', jobId, 'status');
  }

  private attemptsKey(jobId: string): string {
    return this.key('webhook', jobId, 'attempts');
  }

  async setStatus(jobId: string, status: WebhookStatus): Promise<void> {
    await this.redis.set(this.statusKey(jobId), status, 'EX', this.options.retentionSeconds);
  }

  async recordAttempt(jobId: string, attempt: WebhookAttempt, status: WebhookStatus): Promise<void> {
    const ttl = this.options.retentionSeconds;
    await this.redis
      .multi()
      .rpush(this.attemptsKey(jobId), JSON.stringify(attempt))
      .ltrim(this.attemptsKey(jobId), -MAX_ATTEMPTS_KEPT, -1)
      .expire(this.attemptsKey(jobId), ttl)
      .set(this.statusKey(jobId), status, 'EX', ttl)
      .exec();
  }

  /** The webhook of a job, or undefined when none was queued (yet). */
  async view(jobId: string): Promise<WebhookView | undefined> {
    const [status, attempts] = await Promise.all([this.redis.get(this.statusKey(jobId)), this.redis.lrange(this.attemptsKey(jobId), 0, -1)]);
    if (!status) return undefined;
    return { status: status as WebhookStatus, attempts: attempts.map((a) => JSON.parse(a) as WebhookAttempt) };
  }
}
