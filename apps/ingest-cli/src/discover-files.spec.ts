import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PathNotFoundError, discoverFiles } from './discover-files';

describe('discoverFiles', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rag-discover-'));
    mkdirSync(path.join(dir, 'docs/guides'), { recursive: true });
    mkdirSync(path.join(dir, 'docs/.git'), { recursive: true });
    mkdirSync(path.join(dir, 'docs/node_modules/pkg'), { recursive: true });
    writeFileSync(path.join(dir, 'docs/readme.md'), '# Readme');
    writeFileSync(path.join(dir, 'docs/guides/setup.HTML'), '<p>x</p>');
    writeFileSync(path.join(dir, 'docs/guides/notes.txt'), 'notes');
    writeFileSync(path.join(dir, 'docs/image.png'), 'png');
    writeFileSync(path.join(dir, 'docs/.git/config.md'), 'hidden');
    writeFileSync(path.join(dir, 'docs/node_modules/pkg/readme.md'), 'dependency');
    writeFileSync(path.join(dir, 'single.md'), '# Single');
    writeFileSync(path.join(dir, 'data.csv'), 'a,b');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives files in a folder ids relative to that folder, with forward slashes', async () => {
    const found = await discoverFiles([path.join(dir, 'docs')]);
    expect(found.files.map((f) => f.id)).toEqual(['guides/notes.txt', 'guides/setup.HTML', 'readme.md']);
    expect(found.skipped).toEqual([path.join(dir, 'docs/image.png')]);
    expect((await found.files[2].read()).toString()).toBe('# Readme');
  });

  it('gives a file named directly its base name and reports unsupported ones', async () => {
    const found = await discoverFiles([path.join(dir, 'single.md'), path.join(dir, 'data.csv')]);
    expect(found.files.map((f) => f.id)).toEqual(['single.md']);
    expect(found.unsupported).toEqual([path.join(dir, 'data.csv')]);
  });

  it('keeps the first of two files with the same id', async () => {
    const found = await discoverFiles([path.join(dir, 'docs'), path.join(dir, 'docs')]);
    expect(found.files).toHaveLength(3);
  });

  it('fails with a clear error for a missing path', async () => {
    await expect(discoverFiles([path.join(dir, 'missing')])).rejects.toThrow(PathNotFoundError);
    await expect(discoverFiles([path.join(dir, 'missing')])).rejects.toThrow('no such file or folder');
  });
});
