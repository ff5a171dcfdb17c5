import { qdrantClientParams, qdrantPointId } from './qdrant.store';

describe('qdrantPointId', () => {
  it('is a name-based (version 5, RFC 4122 variant) UUID of the chunk id, the same on every call', () => {
    const id = qdrantPointId('hr/leave.md#0');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(qdrantPointId('hr/leave.md#0')).toBe(id);
  });

  it('keeps the ids of points already stored (pinned values from the hand-built v5 it replaced)', () => {
    expect(['hr/leave.md#0', 'guides/setup.md#12', 'café.md#0', ''].map(qdrantPointId)).toEqual([
      'a31b2189-04f5-5e9f-a3f7-e9289dd762bc',
      'feae4046-5d4a-5224-9618-2055a0b8c38c',
      '15513290-d2dc-591d-9295-a30591735bd8',
      '32082fb5-1411-5bb8-955c-daaf3f02240b',
    ]);
  });

  it('differs for different chunk ids, including ones differing only in case or Unicode form', () => {
    const ids = ['a.md#0', 'a.md#1', 'A.md#0', 'café.md#0', 'cafe\u0301.md#0', ''].map(qdrantPointId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('qdrantClientParams', () => {
  it('keeps an explicit port and leaves a URL without one on the scheme default, not the client’s 6333', () => {
    expect(qdrantClientParams({ url: 'http://localhost:6333' })).toEqual({
      url: 'http://localhost:6333',
      port: 6333,
      timeout: 10_000,
      checkCompatibility: false,
    });
    expect(qdrantClientParams({ url: 'https://qdrant.example.com' })).toMatchObject({ url: 'https://qdrant.example.com', port: null });
  });

  it('turns the URL path into the client prefix', () => {
    expect(qdrantClientParams({ url: 'https://gateway.example.com:8443/vectors/qdrant/' })).toMatchObject({
      url: 'https://gateway.example.com:8443',
      port: 8443,
      prefix: '/vectors/qdrant',
    });
  });

  it('passes the API key only when there is one, and the timeout', () => {
    expect(qdrantClientParams({ url: 'http://q:6333', apiKey: '' })).not.toHaveProperty('apiKey');
    expect(qdrantClientParams({ url: 'http://q:6333', apiKey: 'k', timeoutMs: 2500 })).toMatchObject({ apiKey: 'k', timeout: 2500 });
  });
});
