import { IsOptional, IsString, registerDecorator } from 'class-validator';
import { IsJobSignature, IsName, IsRequestId } from './payload-fields';

/** The longest `callback_url` accepted. */
export const CALLBACK_URL_MAX_CHARS = 2048;

/**
 * Why `value` is not an acceptable webhook address (undefined when it is):
 * an absolute http(s) URL, at most CALLBACK_URL_MAX_CHARS, without user or
 * password in it (they would be sent on every delivery and kept in the job).
 * Which hosts it may reach is decided by the SSRF rules (libs/jobs webhooks).
 */
export function callbackUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'callback_url must be a string';
  if (value.length > CALLBACK_URL_MAX_CHARS) return `callback_url must be at most ${CALLBACK_URL_MAX_CHARS} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'callback_url must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'callback_url must be an absolute http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'callback_url must not contain a user name or password; authenticate the webhook by its signature';
  if (url.hostname === '') return 'callback_url must name a host';
  return undefined;
}

/** A webhook address (see callbackUrlProblem); add IsOptional where it may be absent. */
export function IsCallbackUrl(): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isCallbackUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ value }) => callbackUrlProblem(value) ?? 'callback_url is not acceptable' },
      validator: { validate: (value: unknown) => callbackUrlProblem(value) === undefined },
    });
  };
}

/** The data of a `rag-webhooks` job: deliver the record of `job_id` to `callback_url`. Signed by the worker that queued it. */
export class WebhookJobPayload {
  @IsString()
  job_id!: string;

  @IsName('tenant')
  tenant!: string;

  @IsCallbackUrl()
  callback_url!: string;

  @IsOptional()
  @IsRequestId()
  request_id?: string;

  @IsJobSignature()
  signature?: string;
}

export const WEBHOOK_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** One delivery attempt, as kept with the job. */
export interface WebhookAttempt {
  attempt: number;
  /** When it started (ISO 8601). */
  at: string;
  duration_ms: number;
  /** The receiver's HTTP status, when it answered. */
  status_code?: number;
  /** Why it failed without an answer (network error, timeout, a refused address). */
  error?: string;
  /** `refused`: the address is forbidden (SSRF rules); never retried. */
  outcome: 'delivered' | 'retry' | 'failed' | 'refused';
}

/** The webhook of a job, in its view. */
export interface WebhookView {
  status: WebhookStatus;
  attempts: WebhookAttempt[];
}
