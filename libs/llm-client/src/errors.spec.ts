import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { CallAbortedError, isPermanent } from '@rag/core';
import { LlmPermanentError, LlmRetryableError, classifyOpenAIError } from './errors';

const apiError = (status: number, message = 'boom') => Object.assign(new Error(message), { status });

describe('classifyOpenAIError', () => {
  it.each([
    [401, LlmPermanentError, 'OPENAI_API_KEY'],
    [403, LlmPermanentError, 'OPENAI_API_KEY'],
    [404, LlmPermanentError, 'model name'],
    [400, LlmPermanentError, 'rejected the request'],
    [429, LlmRetryableError, 'rate limiting'],
    [500, LlmRetryableError, 'failed with 500'],
    [503, LlmRetryableError, 'failed with 503'],
  ])('maps HTTP %s to %p with a hint', (status, kind, hint) => {
    const mapped = classifyOpenAIError('chat', 'http://llm/v1', apiError(status));
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped.message).toContain('chat at http://llm/v1');
    expect(mapped.message).toContain(hint);
    expect(mapped.cause).toBeInstanceOf(Error);
  });

  it('treats timeouts and connection failures as retryable', () => {
    const timeout = Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' });
    expect(classifyOpenAIError('embeddings', 'http://x/v1', timeout)).toBeInstanceOf(LlmRetryableError);
    expect(classifyOpenAIError('embeddings', 'http://x/v1', new Error('ECONNREFUSED'))).toBeInstanceOf(LlmRetryableError);
  });

  it('never repeats an API key from the underlying message', () => {
    const mapped = classifyOpenAIError('chat', 'http://x/v1', apiError(400, 'Incorrect API key provided: sk-abc123XYZsecret'));
    expect(mapped.message).not.toContain('sk-abc123XYZsecret');
  });

  it.each([
    [401, 'llm_auth_failed'],
    [403, 'llm_auth_failed'],
    [404, 'llm_model_not_found'],
    [400, 'llm_request_rejected'],
    [429, 'llm_rate_limited'],
    [500, 'llm_unavailable'],
  ])("gives HTTP %s the stable code %s, and tenants neither the URL nor the provider's words", (status, code) => {
    const mapped = classifyOpenAIError('chat', 'http://10.0.0.7:8000/v1', apiError(status, 'Incorrect API key provided: plain-credential-123')) as Error & {
      code: string;
      publicMessage: string;
    };
    expect(mapped.code).toBe(code);
    expect(mapped.publicMessage).toMatch(/^chat /);
    expect(mapped.publicMessage).not.toContain('10.0.0.7');
    expect(mapped.publicMessage).not.toContain('plain-credential-123');
  });

  it('passes already classified errors through', () => {
    const permanent = new LlmPermanentError('dimension');
    expect(classifyOpenAIError('x', 'y', permanent)).toBe(permanent);
  });
});

describe('classifyOpenAIError with the errors the openai client throws', () => {
  it('maps a user abort to CallAbortedError (retryable, but not a dependency failure)', () => {
    const mapped = classifyOpenAIError('chat', 'http://x/v1', new APIUserAbortError());
    expect(mapped).toBeInstanceOf(CallAbortedError);
    expect(isPermanent(mapped)).toBe(false);
    expect(mapped.message).toContain('was aborted');
  });

  it('maps the client timeout to a timeout hint', () => {
    expect(classifyOpenAIError('chat', 'http://x/v1', new APIConnectionTimeoutError()).message).toContain('LLM_TIMEOUT_MS');
  });
});
