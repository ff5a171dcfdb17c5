import type { JobOptions, Queue } from 'bull';
import type { DeadLetter, DeadLetters } from './dead-letters';

/**
 * Puts a dead letter back on its queue under its original job id, so a client
 * polling that id sees the job run again. Returns undefined for an unknown id.
 */
export async function replayDeadLetter(queue: Queue, deadLetters: DeadLetters, jobId: string, options: JobOptions): Promise<DeadLetter | undefined> {
  const letter = await deadLetters.take(jobId);
  if (!letter) return undefined;
  const old = await queue.getJob(jobId);
  if (old) await old.remove();
  await queue.add(letter.job_name, letter.payload, { ...options, jobId });
  return letter;
}
