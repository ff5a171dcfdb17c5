import type { Response } from 'express';

/** The body OpenAI sends with every error status. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request the fake refuses, answered with an OpenAI-style error body. */
export class FakeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'FakeApiError';
  }
}

export class InvalidRequestError extends FakeApiError {
  constructor(message: string, param: string | null = null) {
    super(400, message, 'invalid_request_error', null, param);
    this.name = 'InvalidRequestError';
  }
}

export function errorBody(error: FakeApiError): OpenAIErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

export function sendError(res: Response, error: FakeApiError): void {
  res.status(error.status).json(errorBody(error));
}
