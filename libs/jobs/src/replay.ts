import { PermanentError } from '@rag/core';
import type { JobOptions, Queue } from 'bull';
import type { DeadLetter, DeadLetters, TenantScope } from './dead-letters';
import { signJob, verifyJob, type JobSigningConfig } from './job-signature';

/** A dead letter that must not go back on a queue; the message says why, for the caller. */
export class DeadLetterNotReplayableError extends PermanentError {
  override readonly code = 'not_replayable';
  override name = 'DeadLetterNotReplayableError';
}

/**
 * Puts a dead letter back on its queue under its original job id, so a client
 * polling that id sees the job run again. Returns undefined for an unknown id
 * (or one outside `scope`). Only a letter whose payload still carries a valid
 * signature is replayed, re-signed for the same tenant: a job the workers
 * refused as forged stays a dead letter, it is never laundered by a replay.
 */
export async function replayDeadLetter(
  queue: Queue,
  deadLetters: DeadLetters,
  scope: TenantScope,
  jobId: string,
  options: JobOptions,
  config: JobSigningConfig,
): Promise<DeadLetter | undefined> {
  const found = await deadLetters.get(scope, jobId);
  if (!found) return undefined;
  if (found.queue !== queue.name)
    throw new DeadLetterNotReplayableError(`dead letter ${jobId} belongs to queue ${found.queue}, not ${queue.name}; it cannot be replayed here`);
  if (!verifyJob(config, queue.name, found.payload)) {
    throw new DeadLetterNotReplayableError(
      `dead letter ${jobId} was not queued by the gateway (its signature does not verify); it is kept as evidence and cannot be replayed`,
    );
  }
  const letter = await deadLetters.take(scope, jobId);
  if (!letter) return undefined;
  const old = await queue.getJob(jobId);
  if (old) await old.remove();
  await queue.add(letter.job_name, signJob(config, queue.name, letter.payload as object), { ...options, jobId });
  return letter;
}
