import { GENERIC_FAILURE, INTERNAL_ERROR, TenantFacingError, errorCode, forTenant, tenantMessage } from './tenant-message';

class Ours extends Error {
  readonly permanent = true;
  get publicMessage(): string {
    return this.message;
  }
}

class Plainer extends Error {
  readonly permanent = false;
  get publicMessage(): string {
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
    const raw = Object.assign(new Error('lance error: Not found: /srv/data/x.lance'), { permanent: false });
    const safe = forTenant(raw, 'job-9');
    expect(safe).toBeInstanceOf(TenantFacingError);
    expect(safe.message).toBe(`${GENERIC_FAILURE} (reference job-9)`);
    expect(safe.message).not.toContain('/srv');
    expect((safe as unknown as { permanent: boolean }).permanent).toBe(false);
    expect(safe.cause).toBe(raw);

    const plainer = forTenant(new Plainer('socket hang up at 10.0.0.7:6333'));
    expect(plainer.message).toBe('the store failed; try again');
    expect((plainer as unknown as { permanent: boolean }).permanent).toBe(false);
    const cancelled = forTenant(Object.assign(new Error('x'), { permanent: true, cancelled: true }));
    expect(cancelled).toMatchObject({ permanent: true, cancelled: true });
  });
});

describe('errorCode', () => {
  class Coded extends Error {
    readonly code = 'llm_auth_failed';
    get publicMessage(): string {
      return 'refused';
    }
  }

  it("is the code of an error of ours, and internal_error for anything else (Node's codes included)", () => {
    expect(errorCode(new Coded('x'))).toBe('llm_auth_failed');
    expect(errorCode(new Ours('x'))).toBe(INTERNAL_ERROR);
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
