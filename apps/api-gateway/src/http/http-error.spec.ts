import { AppError, isPermanent } from '@rag/core';
import { HttpError } from './http-error';

describe('HttpError', () => {
  it('carries the headers its answer needs: Retry-After from retry_after_seconds, and any it is given', () => {
    const busy = new HttpError(503, 'overloaded', 'retry later', { retry_after_seconds: 5 });
    expect(busy.headers).toEqual({ 'Retry-After': '5' });
    const login = new HttpError(401, 'unauthorized', 'sign in', undefined, { headers: { 'WWW-Authenticate': 'Bearer realm="rag"' } });
    expect(login.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="rag"' });
    expect(new HttpError(400, 'invalid_request', 'bad', [{ field: 'query', messages: ['missing'] }] as never).headers).toEqual({});
  });

  it('is in the taxonomy: a 4xx is permanent, a 5xx worth retrying', () => {
    const cause = new Error('ECONNREFUSED');
    const down = new HttpError(503, 'queue_unavailable', 'retry', undefined, { cause });
    expect(down).toBeInstanceOf(AppError);
    expect([isPermanent(new HttpError(404, 'job_not_found', 'no such job')), isPermanent(down)]).toEqual([true, false]);
    expect([down.code, down.message, down.publicMessage, down.cause, down.name]).toEqual(['queue_unavailable', 'retry', 'retry', cause, 'HttpError']);
  });
});
