import { signJob, verifyJob } from './job-signature';

describe('job signatures', () => {
  const config = { JOB_SIGNING_KEY: 'unit-test-job-signing-key-0123456789abcdef' };
  const payload = {
    query: 'What are the plans?',
    collection: 'secret',
    top_k: 5,
    filters: { sources: ['b.md', 'a.md'] },
    stream: false,
    request_id: 'r1',
    tenant: 'acme',
  };

  it('verifies a payload after Bull stored it (JSON round trip, keys in another order)', () => {
    const signed = signJob(config, 'rag-query', payload);
    expect(signed.signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = JSON.parse(JSON.stringify(signed)) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(stored).reverse());
    expect(verifyJob(config, 'rag-query', reordered)).toBe(true);
    // Re-signing replaces the old signature instead of signing it.
    expect(signJob(config, 'rag-query', signed).signature).toBe(signed.signature);
  });

  it('signs the same bytes as every earlier version (a worker not yet upgraded verifies what a new gateway signed)', () => {
    // Keys out of order, nesting, arrays with holes, undefined fields, escapes and non-ASCII text.
    const mixed = {
      tenant: 'acme',
      query: 'héllo "wörld" \u2028 \ud83d\ude00',
      top_k: 5,
      stream: false,
      none: null,
      skip: undefined,
      nested: { b: [1, 'two', null, undefined, { z: 1, a: [] }], a: { y: true, x: -0.5e-7 } },
      Zed: 1,
      _u: '',
      ключ: 'v',
    };
    // The signature this payload had when signatures were introduced.
    expect(signJob({ JOB_SIGNING_KEY: 'k'.repeat(40) }, 'rag-query', mixed).signature).toBe('YGfIq6ajY-O38gH4B9jcvznMdaG76aOiLoc8YSwplM8');
  });

  it('refuses a changed tenant or any other field, another queue, another key, and no signature', () => {
    const signed = signJob(config, 'rag-query', payload);
    expect(verifyJob(config, 'rag-query', { ...signed, tenant: 'globex' })).toBe(false);
    expect(verifyJob(config, 'rag-query', { ...signed, collection: 'other' })).toBe(false);
    expect(verifyJob(config, 'rag-query', { ...signed, filters: { sources: ['a.md', 'b.md'] } })).toBe(false);
    expect(verifyJob(config, 'rag-query', { ...signed, extra: 1 })).toBe(false);
    expect(verifyJob(config, 'rag-ingest', signed)).toBe(false);
    expect(verifyJob({ JOB_SIGNING_KEY: 'another-job-signing-key-0123456789abcdef' }, 'rag-query', signed)).toBe(false);
    expect(verifyJob(config, 'rag-query', payload)).toBe(false);
    for (const bad of [null, 'x', 42, [signed], { ...signed, signature: 'short' }, { ...signed, signature: 7 }])
      expect(verifyJob(config, 'rag-query', bad)).toBe(false);
  });

  it('never signs or verifies with a missing or short key', () => {
    expect(() => signJob({ JOB_SIGNING_KEY: '' }, 'rag-query', payload)).toThrow('no job signing key');
    expect(() => verifyJob({ JOB_SIGNING_KEY: 'short' }, 'rag-query', signJob(config, 'rag-query', payload))).toThrow('no job signing key');
  });
});
