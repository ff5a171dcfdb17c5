import { CancelledError, INTERNAL_ERROR, PermanentError, RetryableError, isCancellation, isPermanent } from '@rag/core';
import { GENERIC_FAILURE, TenantFacingError, errorCode, forTenant, tenantMessage } from './tenant-message';

class Ours extends PermanentError {}

class Plainer extends RetryableError {
  override get publicMessage(): string {
    return 'the store failed; try again';
  }
}

describe('tenantMessage', () => {
  it('keeps the message of an error written for the tenant', () => {
    expect(tenantMessage(new Ours('collection "demo" does not exist'), 'req-1')).toBe('collection "demo" does not exist');
    expect(tenantMessage(new Plainer('lance error: Not found: /srv/data/demo.lance/_versions'))).toBe('the store failed; try again');
  });

  it('adds the causes whose messages are public too, and only those', () => {
    const outage = new Plainer('HTTP 500 from 10.0.0.7', { cause: new Error('/srv/secret') });
    const open = new Ours('chat is unavailable (circuit breaker open)', { cause: new Ours('chat failed with 500', { cause: outage }) });
    expect(tenantMessage(open)).toBe('chat is unavailable (circuit breaker open) (cause: chat failed with 500 (cause: the store failed; try again))');
    const cyclic = new Ours('a');
    Object.assign(cyclic, { cause: cyclic });
    expect(tenantMessage(cyclic)).toBe('a');
  });

  it.each([
    ['a library error', new Error('lance error: Not found: /srv/data/acme.demo.lance/_versions, /usr/local/cargo/registry/src/commit.rs:646:26')],
    ['a runtime error', new TypeError("Cannot read properties of undefined (reading 'slice')")],
    ['a thrown string', '/etc/secret/path'],
    ['an object that only claims a message', { message: '/srv/data', publicMessage: 42 }],
    ['an error that only looks like ours', Object.assign(new Error('/srv/data/acme'), { publicMessage: '/srv/data/acme', code: 'collection_not_found' })],
  ])('shows %s as the generic line with the reference', (_label, error) => {
    expect(tenantMessage(error, 'req-7')).toBe(`${GENERIC_FAILURE} (reference req-7)`);
    expect(tenantMessage(error)).toBe(GENERIC_FAILURE);
  });
});

describe('forTenant', () => {
  it('passes an error whose message is public through unchanged', () => {
    const error = new Ours('collection "demo" does not exist');
    expect(forTenant(error, 'r')).toBe(error);
  });

  it('replaces any other error by one with the tenant text, keeping permanent, cancelled and the cause', () => {
    const raw = new Error('lance error: Not found: /srv/data/x.lance');
    const safe = forTenant(raw, 'job-9');
    expect(safe).toBeInstanceOf(TenantFacingError);
    expect(safe.message).toBe(`${GENERIC_FAILURE} (reference job-9)`);
    expect(safe.message).not.toContain('/srv');
    expect(isPermanent(safe)).toBe(false);
    expect(safe.cause).toBe(raw);

    const plainer = forTenant(new Plainer('socket hang up at 10.0.0.7:6333'));
    expect(plainer.message).toBe('the store failed; try again');
    expect(isPermanent(plainer)).toBe(false);
    const refused = forTenant(new Ours('rejected: Bearer abcdefghijklmnop'));
    expect([isPermanent(refused), isCancellation(refused)]).toEqual([true, false]);
    const cancelled = forTenant(new CancelledError('stopped at 10.0.0.7', { publicMessage: 'stopped' }));
    expect([cancelled.message, isPermanent(cancelled), isCancellation(cancelled)]).toEqual(['stopped', true, true]);
  });

  it('does not take fields that only look like ours for a classification', () => {
    const lookalike = forTenant(Object.assign(new Error('x'), { permanent: true, cancelled: true }));
    expect([isPermanent(lookalike), isCancellation(lookalike), errorCode(lookalike)]).toEqual([false, false, INTERNAL_ERROR]);
  });
});

describe('errorCode', () => {
  class Coded extends PermanentError {
    override readonly code = 'llm_auth_failed';
    override get publicMessage(): string {
      return 'refused';
    }
  }

  it("is the code of an error of ours, and internal_error for anything else (Node's codes included)", () => {
    expect(errorCode(new Coded('x'))).toBe('llm_auth_failed');
    expect(errorCode(new Ours('x'))).toBe('permanent_failure');
    expect(errorCode(new Ours('x', { code: 'Not A Code' }))).toBe(INTERNAL_ERROR);
    expect(errorCode(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), { code: 'ECONNREFUSED' }))).toBe(INTERNAL_ERROR);
    expect(errorCode('thrown string')).toBe(INTERNAL_ERROR);
  });

  it('goes with the error forTenant makes', () => {
    expect(errorCode(forTenant(new Coded('401 from http://10.0.0.7/v1')))).toBe('llm_auth_failed');
    expect(errorCode(forTenant(new Error('/srv/secret')))).toBe(INTERNAL_ERROR);
  });
});

describe('tenantMessage masks secrets a public message quotes', () => {
  it('masks a key-shaped string in a message of ours', () => {
    expect(tenantMessage(new Ours('rejected: Bearer abcdefghijklmnop'))).toBe('rejected: Bearer ***');
    const safe = forTenant(new Ours('rejected: Bearer abcdefghijklmnop'));
    expect(safe.message).toBe('rejected: Bearer ***');
  });
});
