import { isValidName, nameRuleMessage } from '@rag/queue-contracts';
import { HttpError } from './http-error';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `?wait=N`: seconds to long-poll, 0 when absent. */
export function parseWait(raw: unknown, max: number): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, 'invalid_request', `wait must be a number of seconds from 0 to ${max}`);
  }
  return Number(raw);
}

export function collectionName(raw: unknown): string {
  if (!isValidName(raw)) throw new HttpError(400, 'invalid_collection', nameRuleMessage('collection'));
  return raw;
}

/** Unknown, malformed and other tenants' job ids are one answer, so ids cannot be probed. */
export function jobNotFound(): HttpError {
  return new HttpError(404, 'job_not_found', 'no such job; job records expire after the retention period');
}

/** A job id from the request: a UUID, or the same 404 as an unknown job. */
export function jobIdParam(raw: unknown): string {
  if (typeof raw !== 'string' || !JOB_ID.test(raw)) throw jobNotFound();
  return raw;
}
