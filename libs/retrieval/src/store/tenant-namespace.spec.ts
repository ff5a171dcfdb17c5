import { collectionVersionsIn, logicalName, parsePhysicalName, physicalName, splitVersion, tenantCollections, versionedCollection } from './tenant-namespace';

describe('collection versions in storage names', () => {
  it('keeps version 1 under the name every collection had before versions', () => {
    expect(versionedCollection('docs', 1)).toBe('docs');
    expect(physicalName('default', versionedCollection('docs', 1))).toBe('docs');
    expect(physicalName('acme', versionedCollection('docs', 1))).toBe('acme.docs');
  });

  it('names later versions <tenant>.<collection>.v<N>, for tenant default too', () => {
    expect(versionedCollection('docs', 2)).toBe('docs.v2');
    expect(physicalName('default', 'docs.v2')).toBe('default.docs.v2');
    expect(physicalName('acme', 'docs.v17')).toBe('acme.docs.v17');
  });

  it('never names a version as a collection a user can name (a valid name holds no ".")', () => {
    // Tenant "docs" with collection "v2" is two parts; version 2 of default's "docs" is three.
    expect(physicalName('docs', 'v2')).toBe('docs.v2');
    expect(physicalName('default', 'docs.v2')).not.toBe(physicalName('docs', 'v2'));
    expect(parsePhysicalName('docs.v2')).toEqual({ tenant: 'docs', collection: 'v2', version: 1 });
    expect(parsePhysicalName('default.docs.v2')).toEqual({ tenant: 'default', collection: 'docs', version: 2 });
  });

  it('refuses malformed versions and names', () => {
    for (const bad of ['docs.v1', 'docs.v0', 'docs.v02', 'docs.x2', 'docs.v', 'Docs.v2', 'docs.v2.v3', '.v2']) expect(splitVersion(bad)).toBeUndefined();
    expect(() => physicalName('default', 'docs.v1')).toThrow(/not a valid collection name/);
    expect(() => versionedCollection('docs', 0)).toThrow();
    expect(() => versionedCollection('docs', 1.5)).toThrow();
    expect(parsePhysicalName('a.b.c')).toBeUndefined();
    expect(parsePhysicalName('a.b.v2.x')).toBeUndefined();
  });

  it('lists each collection once, whatever versions it has, and only the tenant’s', () => {
    const names = ['docs', 'default.docs.v3', 'acme.docs', 'acme.docs.v2', 'acme.notes.v2', 'other.docs.v2', 'not.a.v1'];
    expect(tenantCollections('default', names)).toEqual(['docs']);
    expect(tenantCollections('acme', names)).toEqual(['docs', 'notes']);
    expect(logicalName('acme', 'acme.notes.v2')).toBe('notes');
    expect(logicalName('default', 'acme.notes.v2')).toBeUndefined();
    expect(collectionVersionsIn('default', 'docs', names)).toEqual([1, 3]);
    expect(collectionVersionsIn('acme', 'docs', names)).toEqual([1, 2]);
    expect(collectionVersionsIn('acme', 'notes', names)).toEqual([2]);
    expect(collectionVersionsIn('other', 'notes', names)).toEqual([]);
  });
});
