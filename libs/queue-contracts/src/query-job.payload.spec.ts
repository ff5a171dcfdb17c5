import { Limits, QueryJobPayload } from './index';
import { accepted, issueFields, rejected } from './validation.spec-helper';

/** A payload shaped like the one the gateway builds. */
const validPayload = () => ({
  query: 'What is our refund policy?',
  collection: 'default',
  top_k: 5,
  filters: { sources: ['policies/refunds.md'] },
  stream: false,
  request_id: '3f1c2a9e-7b4d-4e1a-9c2f-0d8e6b5a4c3b',
  tenant: 'acme',
});

const accept = (body: unknown) => accepted(QueryJobPayload, body);
const rejectedFields = (body: unknown) => issueFields(rejected(QueryJobPayload, body));

describe('QueryJobPayload', () => {
  it('accepts the payload the gateway builds', () => {
    const value = accept(validPayload());
    expect(value).toBeInstanceOf(QueryJobPayload);
    expect(value.request_id).toBe(validPayload().request_id);
    expect(value.filters?.sources).toEqual(['policies/refunds.md']);
  });

  it('accepts a payload without filters', () => {
    const { filters: _filters, ...payload } = validPayload();
    expect(accept(payload).filters).toBeUndefined();
  });

  // Bull stores job data as JSON: what the producer sends must survive the trip.
  it('accepts its own payload after a JSON round trip', () => {
    const sent = accept(validPayload());
    expect(accept(JSON.parse(JSON.stringify(sent)))).toEqual(sent);
  });

  it.each(['query', 'collection', 'top_k', 'stream', 'request_id', 'tenant'])('rejects a payload without %s, naming it', (field) => {
    const payload: Record<string, unknown> = validPayload();
    delete payload[field];
    expect(rejectedFields(payload)).toEqual([field]);
  });

  it('rejects an unknown property, naming it', () => {
    expect(rejectedFields({ ...validPayload(), api_key: 'sk-123' })).toEqual(['api_key']);
  });

  it.each([
    ['whitespace-only query', { query: ' \n ' }, 'query'],
    ['over-long query', { query: 'q'.repeat(Limits.queryMaxChars + 1) }, 'query'],
    ['string top_k', { top_k: '5' }, 'top_k'],
    ['top_k 0', { top_k: 0 }, 'top_k'],
    ['top_k above the maximum', { top_k: Limits.topKMax + 1 }, 'top_k'],
    ['fractional top_k', { top_k: 2.5 }, 'top_k'],
    ['string stream', { stream: 'false' }, 'stream'],
    ['bad collection', { collection: '../other-tenant' }, 'collection'],
    ['empty source', { filters: { sources: [''] } }, 'filters.sources'],
    ['filters as an array', { filters: [{ sources: ['a.md'] }] }, 'filters'],
  ])('rejects a %s', (_label, patch, field) => {
    expect(rejectedFields({ ...validPayload(), ...patch })).toContain(field);
  });

  describe('request_id', () => {
    it.each(['r', 'req-123', 'trace:span.1_x', 'ABC-def.ghi:jkl_0', '3f1c2a9e-7b4d-4e1a-9c2f-0d8e6b5a4c3b', 'x'.repeat(128)])('accepts %p', (requestId) => {
      expect(accept({ ...validPayload(), request_id: requestId }).request_id).toBe(requestId);
    });

    it.each(['', 'x'.repeat(129), 'has space', 'a/b', 'a\nb', 'id\n', 'ïd', 'id;drop', '<script>'])('rejects %j', (requestId) => {
      expect(rejectedFields({ ...validPayload(), request_id: requestId })).toEqual(['request_id']);
    });

    it.each([42, null, ['req-1']])('rejects a request_id that is not a string: %j', (requestId) => {
      expect(rejectedFields({ ...validPayload(), request_id: requestId })).toEqual(['request_id']);
    });
  });

  describe('tenant', () => {
    it.each(['acme', 'acme-corp_2', '0tenant', 't'.repeat(63)])('accepts %p', (tenant) => {
      expect(accept({ ...validPayload(), tenant }).tenant).toBe(tenant);
    });

    it.each(['', 'Acme', '-acme', '_acme', 't'.repeat(64), '../acme', 'acme/hr', 'acme corp', 'acmé', 'acme\n'])('rejects %j', (tenant) => {
      expect(rejectedFields({ ...validPayload(), tenant })).toEqual(['tenant']);
    });

    it('rejects a tenant that is not a string', () => {
      expect(rejectedFields({ ...validPayload(), tenant: 1 })).toEqual(['tenant']);
    });
  });

  // The trace context the gateway puts in a job: optional, and only in W3C's exact form (the worker parses it).
  describe('traceparent', () => {
    const good = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    it.each([good, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'])('accepts %p', (traceparent) => {
      expect(accept({ ...validPayload(), traceparent }).traceparent).toBe(traceparent);
    });

    it('is optional', () => {
      expect(accept(validPayload()).traceparent).toBeUndefined();
    });

    it.each([
      '',
      'garbage',
      good.toUpperCase(),
      `${good} `,
      `${good}\n`,
      `${good}-extra`,
      good.replace(/^00/, 'ff'),
      good.replace(/^00/, '01'),
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      'x'.repeat(10_000),
    ])('rejects %j', (traceparent) => {
      expect(rejectedFields({ ...validPayload(), traceparent })).toEqual(['traceparent']);
    });

    it.each([42, true, { traceparent: good }, [good]])('rejects a traceparent that is not a string: %j', (traceparent) => {
      expect(rejectedFields({ ...validPayload(), traceparent })).toEqual(['traceparent']);
    });
  });
});
