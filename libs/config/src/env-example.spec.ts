import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EnvSchema } from './env.schema';
import { loadConfig } from './load-config';

// .env.example is the operator's list of settings: it must name every
// variable the schema reads, with the schema's own default.
describe('.env.example', () => {
  const text = readFileSync(path.resolve(__dirname, '../../../.env.example'), 'utf8');
  const listed = new Map(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const defaults = new EnvSchema() as unknown as Record<string, unknown>;

  it.each(Object.keys(defaults))('lists %s with its default', (key) => {
    expect(listed.has(key)).toBe(true);
    expect(listed.get(key)).toBe(String(defaults[key]));
  });

  it('holds values that load as a valid configuration', () => {
    expect(() => loadConfig(Object.fromEntries(listed))).not.toThrow();
  });
});
