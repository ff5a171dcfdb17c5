import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { APP_VERSION } from './version';

describe('APP_VERSION', () => {
  it("is the workspace package.json's version", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string };
    expect(APP_VERSION).toBe(pkg.version);
  });
});
