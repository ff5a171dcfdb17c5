import type { Config } from '@rag/config';
import { JobName, QueueName, type QueryJobPayload } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import { createHash } from 'node:crypto';
import type { DeadLetter, DeadLetters, TenantScope } from '../dead-letters';
import { signJob, type JobSigningConfig } from '../job-signature';
import { QuestionAdmission } from '../question-admission';
import { queryJobOptions } from '../queues';
import { replayDeadLetter } from '../replay';
import { idempotentJobId, newJobId } from './job-ids';

export type QuestionProducerConfig = JobSigningConfig &
  Pick<
    Config,
    'QUEUE_PREFIX' | 'JOB_RETENTION_SECONDS' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS' | 'MAX_WAITING_JOBS' | 'MAX_WAITING_JOBS_PER_TENANT' | 'FAIR_SHARE'
  >;

/** A question as its producer states it; the signature is the producer's to add. */
export type QuestionDraft = Omit<QueryJobPayload, 'signature'>;

export type QuestionOutcome =
  /** A new job is on the queue. */
  | { outcome: 'queued'; jobId: string }
  /** The Idempotency-Key already stands for this same request: its job, nothing new queued. */
  | { outcome: 'replayed'; jobId: string }
  /** The Idempotency-Key stands for a different request. */
  | { outcome: 'conflict'; jobId: string }
  /** MAX_WAITING_JOBS questions are waiting. */
  | { outcome: 'overloaded'; waiting: number }
  /** The tenant's MAX_WAITING_JOBS_PER_TENANT questions are waiting. */
  | { outcome: 'tenant_full'; waiting: number; limit: number };

/** What a request asks (not who sent it or when): two requests with one Idempotency-Key must agree on it. */
function asked(p: QuestionDraft): unknown[] {
  // The conversation only when there is one, likewise.
  const base = [p.query, p.collection, p.top_k, p.filters ?? null, ...(p.history?.length ? [p.history.map((t) => [t.role, t.content])] : [])];
  // Generation settings only when given, so the fingerprints of requests without them stay what they were.
  const tuned = p.max_tokens === undefined && p.temperature === undefined ? base : [...base, p.max_tokens ?? null, p.temperature ?? null];
  // Where the answer is delivered is part of the request too (as an object, so it cannot read as another field).
  return p.callback_url ? [...tuned, { callback_url: p.callback_url }] : tuned;
}

function sameRequest(a: QuestionDraft, b: QuestionDraft): boolean {
  return JSON.stringify(asked(a)) === JSON.stringify(asked(b));
}

function requestFingerprint(p: QuestionDraft): string {
  return createHash('sha256')
    .update(JSON.stringify(asked(p)))
    .digest('base64url');
}

/**
 * The one way a question reaches the `rag-query` queue: signed (the workers
 * run a question only as the tenant its producer signed for) and admitted
 * (idempotency key, the global and the tenant's caps and the add, in one
 * atomic step; see QuestionAdmission), with the question's job options.
 * Nothing here waits for a worker. Redis errors reject; every other refusal
 * is an outcome.
 */
export class QuestionProducer {
  readonly admission: QuestionAdmission;

  constructor(
    private readonly queue: Queue<QueryJobPayload>,
    private readonly config: QuestionProducerConfig,
  ) {
    this.admission = new QuestionAdmission(queue, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS, config.FAIR_SHARE === 'on');
  }

  async enqueue(draft: QuestionDraft, idempotencyKey?: string): Promise<QuestionOutcome> {
    const { tenant } = draft;
    const payload = signJob(this.config, QueueName.Query, draft);
    const keyed = idempotencyKey !== undefined;
    const fingerprint = keyed ? requestFingerprint(payload) : undefined;
    const admit = (jobId: string) =>
      this.admission.admit(
        { tenant, jobId, fingerprint, maxWaiting: this.config.MAX_WAITING_JOBS, maxPerTenant: this.config.MAX_WAITING_JOBS_PER_TENANT },
        { name: JobName.Answer, data: payload, opts: queryJobOptions(this.config, jobId) },
      );
    let jobId = keyed ? idempotentJobId(tenant, idempotencyKey) : newJobId();
    let { outcome, waiting } = await admit(jobId);
    // A new random id that is taken (never seen: 122 random bits) is drawn again rather than overwrite a job.
    while (outcome === 'duplicate') {
      jobId = newJobId();
      ({ outcome, waiting } = await admit(jobId));
    }
    switch (outcome) {
      case 'admitted':
        return { outcome: 'queued', jobId };
      case 'replay':
        return { outcome: 'replayed', jobId };
      case 'conflict':
        return { outcome: 'conflict', jobId };
      case 'existing': {
        // A job older than its idempotency record: the record expired, the job is still kept.
        const existing = await this.queue.getJob(jobId);
        return existing && !sameRequest(existing.data, payload) ? { outcome: 'conflict', jobId } : { outcome: 'replayed', jobId };
      }
      case 'overloaded':
        return { outcome: 'overloaded', waiting };
      case 'tenant_full':
        return { outcome: 'tenant_full', waiting, limit: this.config.MAX_WAITING_JOBS_PER_TENANT };
    }
  }

  /**
   * Puts a dead letter back on the queue under its own id, re-signed, with
   * the question's job options (see replayDeadLetter). Undefined when no such
   * letter lies within `scope`. With fair share on it goes to the front (Bull
   * priority 1, below every question's tag): a job without a priority would
   * wait until no question is left, which under a steady load is never.
   */
  replay(deadLetters: DeadLetters, scope: TenantScope, jobId: string): Promise<DeadLetter | undefined> {
    const options = { ...queryJobOptions(this.config, jobId), ...(this.config.FAIR_SHARE === 'on' ? { priority: 1 } : {}) };
    return replayDeadLetter(this.queue, deadLetters, scope, jobId, options, this.config);
  }
}
