import type { ErrorRequestHandler } from 'express';
import { HttpError, type ErrorBody } from './http-error';

/** An error in OpenAI's shape; `job_id` (ours) names the job to poll when there is one. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; job_id?: string };
}

/** OpenAI's error types by status (the official clients pick their exception by status; the type is for people). */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Our codes under OpenAI's names where OpenAI has one. */
const CODES: Record<string, string> = { unauthorized: 'invalid_api_key', rate_limited: 'rate_limit_exceeded' };

/** The first offending field of a validation error, as OpenAI's `param`. */
function paramOf(details: unknown): string | null {
  const first = Array.isArray(details) ? (details[0] as { field?: unknown } | undefined) : undefined;
  return typeof first?.field === 'string' && first.field !== '' ? first.field : null;
}

export function openAIError(status: number, code: string, message: string, details?: unknown, jobId?: string): OpenAIErrorBody {
  return {
    error: { message, type: errorType(status), param: paramOf(details), code: CODES[code] ?? code, ...(jobId ? { job_id: jobId } : {}) },
  };
}

/** 404 for a model that is not one of the caller's collections: decided before anything is queued. */
export function modelNotFound(model: string): HttpError {
  return new HttpError(
    404,
    'model_not_found',
    `The model \`${model.slice(0, 80)}\` does not exist or you do not have access to it: models are your collections (GET /v1/models lists them)`,
  );
}

/**
 * The gateway's error handler (statuses, Retry-After, logging, Redis outages,
 * body-parser errors: all its decisions) with the body in OpenAI's shape
 * `{ error: { message, type, param, code } }`, for the OpenAI-compatible routes.
 */
export function openAIErrors(gatewayHandler: ErrorRequestHandler): ErrorRequestHandler {
  return (err, req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body: ErrorBody) => {
      const { code, message, details } = body.error;
      const jobId = (details as { job_id?: unknown } | undefined)?.job_id;
      return json(openAIError(res.statusCode, code, message, details, typeof jobId === 'string' ? jobId : undefined));
    };
    gatewayHandler(err, req, res, next);
  };
}
