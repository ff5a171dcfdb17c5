import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** The namespace of idempotency job ids (fixed: changing it changes every such id). */
const IDEMPOTENCY_NAMESPACE = '3b8f2a4e-6d1c-4c0e-9a57-2f6e8d0b4c13';

/** A new job's id: random, so ids cannot be guessed. */
export function newJobId(): string {
  return randomUUID();
}

/** A job id derived from tenant and Idempotency-Key (UUID v5): the same request retried maps to the same job. */
export function idempotentJobId(tenant: string, key: string): string {
  return uuidv5(`${tenant}\n${key}`, IDEMPOTENCY_NAMESPACE);
}
