import { PermanentError, RetryableError, isCancellation, isPermanent } from '@rag/core';
import { errorCode, forTenant, tenantMessage } from '@rag/observability';
import { QueryJobPayload } from '@rag/queue-contracts';
import { JobCancelledError } from './cancel-signals';
import { InvalidPayloadError, JobRefusedError, JobTimeoutError, abortReason, jobContext, untilAborted, validPayload } from './job-runner';
import { JOB_REFUSED } from './job-signature';
import { ingestJobOptions, queryJobOptions } from './queues';

describe('JobTimeoutError', () => {
  const error = new JobTimeoutError(1500);

  it('says how long the attempt ran, that it will be retried, and what to raise', () => {
    expect(error.message).toBe('job timed out after 1500 ms; it will be retried (raise JOB_TIMEOUT_MS if answers are slow)');
    expect(error.ms).toBe(1500);
    expect(error.name).toBe('JobTimeoutError');
  });

  it('is retryable, with the code job_timeout, and its message reaches the tenant as it is', () => {
    expect(error).toBeInstanceOf(RetryableError);
    expect(isPermanent(error)).toBe(false);
    expect(isCancellation(error)).toBe(false);
    expect(errorCode(error)).toBe('job_timeout');
    expect(tenantMessage(error, 'req-1')).toBe(error.message);
    expect(forTenant(error, 'req-1')).toBe(error);
  });
});

describe('InvalidPayloadError and JobRefusedError', () => {
  it('are permanent, with their codes and messages', () => {
    const invalid = new InvalidPayloadError('top_k: must not be less than 1');
    expect(invalid).toBeInstanceOf(PermanentError);
    expect(isPermanent(invalid)).toBe(true);
    expect(errorCode(invalid)).toBe('invalid_payload');
    expect(invalid.message).toBe('invalid job payload: top_k: must not be less than 1');
    const refused = new JobRefusedError();
    expect(isPermanent(refused)).toBe(true);
    expect(refused.message).toBe(JOB_REFUSED);
  });
});

describe('validPayload', () => {
  const payload = { query: 'q', collection: 'policies', top_k: 3, stream: false, request_id: 'r', tenant: 'acme' };

  it('returns an instance of the payload class', () => {
    const valid = validPayload(QueryJobPayload, payload);
    expect(valid).toBeInstanceOf(QueryJobPayload);
    expect(valid).toMatchObject(payload);
  });

  it.each([
    ['a field out of range', { ...payload, top_k: 0 }, 'invalid job payload: top_k'],
    ['an unknown field', { ...payload, api_key: 'sk-x' }, 'property api_key should not exist'],
    ['no object at all', 'a string', 'expected a JSON object'],
  ])('refuses %s with InvalidPayloadError', (_name, data, message) => {
    expect(() => validPayload(QueryJobPayload, data)).toThrow(InvalidPayloadError);
    expect(() => validPayload(QueryJobPayload, data)).toThrow(message);
  });
});

describe('jobContext', () => {
  const queue = { name: 'rag-query' };

  it('names the job, its queue, and the request and tenant of its data when they are strings', () => {
    expect(jobContext({ id: 7, queue, data: { request_id: 'req-1', tenant: 'acme' } })).toEqual({
      job_id: '7',
      queue: 'rag-query',
      request_id: 'req-1',
      tenant: 'acme',
    });
    expect(jobContext({ id: 'x', queue, data: { request_id: 42, tenant: null } })).toEqual({
      job_id: 'x',
      queue: 'rag-query',
      request_id: undefined,
      tenant: undefined,
    });
    expect(jobContext({ id: 'y', queue, data: 'not an object' })).toMatchObject({ job_id: 'y', request_id: undefined });
  });
});

describe('untilAborted', () => {
  it("is the work's result when it ends first", async () => {
    await expect(untilAborted(Promise.resolve('done'), new AbortController().signal)).resolves.toBe('done');
    await expect(untilAborted(Promise.reject(new Error('broke')), new AbortController().signal)).rejects.toThrow('broke');
  });

  it("is the signal's reason as soon as it fires, even when the work never ends", async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => undefined);
    const raced = untilAborted(never, controller.signal);
    controller.abort(new JobCancelledError('j1'));
    await expect(raced).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('is the reason at once for a signal that already fired, and ignores what the work does later', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    let fail!: (e: Error) => void;
    const work = new Promise<string>((_resolve, reject) => (fail = reject));
    await expect(untilAborted(work, controller.signal)).rejects.toThrow('too late');
    // A rejection of the work left behind is handled (no unhandled rejection fails the process).
    fail(new Error('abandoned'));
    await new Promise((r) => setImmediate(r));
  });
});

describe('abortReason', () => {
  it('is nothing while the signal has not fired', () => {
    expect(abortReason(undefined, undefined, 100)).toBeUndefined();
    expect(abortReason(new AbortController().signal, undefined, 100)).toBeUndefined();
  });

  it("is JobTimeoutError when the attempt's timeout fired", async () => {
    const timeout = AbortSignal.timeout(1);
    const signal = AbortSignal.any([new AbortController().signal, timeout]);
    await new Promise((r) => signal.addEventListener('abort', r));
    const reason = abortReason(signal, timeout, 1);
    expect(reason).toBeInstanceOf(JobTimeoutError);
    expect(reason?.message).toContain('job timed out after 1 ms');
  });

  it('is the cancel, or whatever error else aborted the signal', () => {
    const controller = new AbortController();
    const cancelled = new JobCancelledError('j2');
    controller.abort(cancelled);
    expect(abortReason(controller.signal, AbortSignal.timeout(60_000), 60_000)).toBe(cancelled);
    const other = new AbortController();
    const error = new Error('shutting down');
    other.abort(error);
    expect(abortReason(other.signal, undefined, undefined)).toBe(error);
  });
});

describe('job options', () => {
  // Bull's own timeout would race the runner's and fail the attempt first, with "Promise timed out after N milliseconds".
  it('sets no Bull timeout, for either queue, whatever JOB_TIMEOUT_MS is: the runner times attempts out, with JobTimeoutError', () => {
    const config = { JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 100, JOB_TIMEOUT_MS: 1000, JOB_RETENTION_SECONDS: 60 };
    expect(queryJobOptions(config, 'j')).not.toHaveProperty('timeout');
    expect(ingestJobOptions(config, 'j')).not.toHaveProperty('timeout');
  });
});
