import { fnv1a } from './fnv1a';

describe('fnv1a', () => {
  it('gives the published FNV-1a 32-bit values, unsigned', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('is deterministic and tells near strings apart', () => {
    expect(fnv1a('w:uuid')).toBe(fnv1a('w:uuid'));
    expect(fnv1a('w:uuid')).not.toBe(fnv1a('w:uuie'));
    expect(fnv1a('w:uuid')).toBeGreaterThanOrEqual(0);
  });
});
