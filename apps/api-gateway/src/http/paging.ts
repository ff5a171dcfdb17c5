import { HttpError } from './http-error';

/** A paging parameter (`offset`, `limit`): an integer from 0 to `max`, or `fallback` when absent. */
export function page(raw: unknown, fallback: number, max: number, name: string): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) > max)
    throw new HttpError(400, 'invalid_request', `${name} must be an integer from 0 to ${max}`);
  return Number(raw);
}
