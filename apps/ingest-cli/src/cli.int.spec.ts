import { WORKSPACE_ROOT, runApp, tempDir, type TempDir } from '@rag/testing';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';

const CLI = 'apps/ingest-cli/src/main.ts';

// The real `rag-ingest` process against LanceDB in a temp folder.
describe('rag-ingest CLI', () => {
  let data: TempDir;
  let docs: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    data = tempDir('rag-cli-');
    docs = path.join(data.path, 'docs');
    mkdirSync(path.join(docs, 'team'), { recursive: true });
    writeFileSync(path.join(docs, 'team/oncall.md'), '# On-call\n\n## Rota\n\nThe on-call rota changes every Monday at 10:00.\n');
    writeFileSync(path.join(docs, 'faq.txt'), 'The office wifi password is rotated monthly.\n\nGuests use the visitor network.');
    writeFileSync(path.join(docs, 'logo.svg'), '<svg/>');
    env = { DATA_DIR: path.join(data.path, 'data') };
  });

  afterAll(() => data.remove());

  it('loads a folder, shows progress on stderr and a summary on stdout', async () => {
    const run = await runApp(CLI, env, [docs, '--collection', 'team-docs']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/collection team-docs: 2 documents \(2 added, 0 updated, 0 unchanged, 0 failed\), 2 chunks embedded in [\d.]+ s/);
    expect(run.stderr).toContain('2/2 documents');
  });

  it('re-embeds only what changed', async () => {
    writeFileSync(path.join(docs, 'faq.txt'), 'The office wifi password is rotated every week.');
    const run = await runApp(CLI, env, [docs, '--collection', 'team-docs', '--json', '--no-progress']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ documents: 2, added: 0, updated: 1, unchanged: 1, chunks: 1 });
    expect(run.stderr).toBe('');
  });

  it('says with --dry-run what would change, and changes nothing', async () => {
    writeFileSync(path.join(docs, 'faq.txt'), 'The office wifi password is rotated every day now.');
    writeFileSync(path.join(docs, 'team/new.md'), '# New\n\nA brand new page.');
    const before = JSON.parse((await runApp(CLI, env, ['list', '--collection', 'team-docs', '--json'])).stdout);
    const dry = await runApp(CLI, env, [docs, '--collection', 'team-docs', '--dry-run', '--no-progress']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trimEnd().split('\n')).toEqual([
      'update  faq.txt',
      'add     team/new.md',
      'dry run, collection team-docs: 1 to add, 1 to update, 1 unchanged; nothing was changed',
    ]);
    const json = JSON.parse((await runApp(CLI, env, [docs, '--collection', 'team-docs', '--dry-run', '--json', '--no-progress'])).stdout);
    expect(json).toMatchObject({ dryRun: true, added: 1, updated: 1, unchanged: 1, chunks: 0, removed: [] });
    expect(JSON.parse((await runApp(CLI, env, ['list', '--collection', 'team-docs', '--json'])).stdout)).toEqual(before);
    // A dry run into a collection that does not exist does not create it.
    expect((await runApp(CLI, env, [docs, '--collection', 'not-yet', '--dry-run', '--no-progress'])).stdout).toContain('3 to add');
    expect(JSON.parse((await runApp(CLI, env, ['list', '--json'])).stdout)).not.toContain('not-yet');
  });

  it('removes with --prune the documents whose files are gone (and --dry-run --prune only lists them)', async () => {
    await runApp(CLI, env, [docs, '--collection', 'team-docs', '--no-progress']);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path.join(docs, 'team/new.md'));
    const dry = await runApp(CLI, env, [docs, '--collection', 'team-docs', '--prune', '--dry-run', '--no-progress']);
    expect(dry.stdout.trimEnd().split('\n')).toEqual([
      'remove  team/new.md',
      'dry run, collection team-docs: 0 to add, 0 to update, 2 unchanged, 1 to remove; nothing was changed',
    ]);
    const ids = async () => JSON.parse((await runApp(CLI, env, ['list', '--collection', 'team-docs', '--json'])).stdout).map((d: { docId: string }) => d.docId);
    expect(await ids()).toEqual(['faq.txt', 'team/new.md', 'team/oncall.md']);
    const pruned = await runApp(CLI, env, [docs, '--collection', 'team-docs', '--prune', '--json', '--no-progress']);
    expect(pruned.code).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ removed: ['team/new.md'], unchanged: 2, dryRun: false });
    expect(await ids()).toEqual(['faq.txt', 'team/oncall.md']);
    // Without --prune nothing is removed.
    unlinkSync(path.join(docs, 'faq.txt'));
    await runApp(CLI, env, [docs, '--collection', 'team-docs', '--no-progress']);
    expect(await ids()).toEqual(['faq.txt', 'team/oncall.md']);
    writeFileSync(path.join(docs, 'faq.txt'), 'The office wifi password is rotated every day now.');
  });

  it('lists collections and documents, and deletes a document', async () => {
    const collections = await runApp(CLI, env, ['list', '--json']);
    expect(JSON.parse(collections.stdout)).toEqual(['team-docs']);
    const listed = await runApp(CLI, env, ['list', '--collection', 'team-docs', '--json']);
    expect(JSON.parse(listed.stdout).map((d: { docId: string }) => d.docId)).toEqual(['faq.txt', 'team/oncall.md']);
    const deleted = await runApp(CLI, env, ['delete', 'faq.txt', '--collection', 'team-docs']);
    expect(deleted.code).toBe(0);
    const after = await runApp(CLI, env, ['list', '--collection', 'team-docs', '--json']);
    expect(JSON.parse(after.stdout).map((d: { docId: string }) => d.docId)).toEqual(['team/oncall.md']);
    const again = await runApp(CLI, env, ['delete', 'faq.txt', '--collection', 'team-docs']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no document "faq.txt"');
  });

  it('exits non-zero with a message that says what to do', async () => {
    const missing = await runApp(CLI, env, [path.join(data.path, 'nope'), '--collection', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file or folder; check the path');

    const badName = await runApp(CLI, env, [docs, '--collection', 'Bad Name']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('a-z, 0-9');

    const unsupported = await runApp(CLI, env, [path.join(docs, 'logo.svg'), path.join(docs, 'faq.txt'), '--collection', 'other', '--no-progress']);
    expect(unsupported.code).toBe(1);
    expect(unsupported.stderr).toContain('logo.svg: unsupported file type');
    expect(unsupported.stdout).toContain('1 added');

    const badEnv = await runApp(CLI, { ...env, EMBEDDING_DIM: 'big' }, [docs]);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('EMBEDDING_DIM');

    const noCollection = await runApp(CLI, env, ['list', '--collection', 'ghost']);
    expect(noCollection.code).toBe(1);
    expect(noCollection.stderr).toContain('does not exist');

    const usage = await runApp(CLI, env, []);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('rag-ingest');
  });
});

describe('npm run ingest (the README command)', () => {
  it('runs the CLI through the npm script', async () => {
    const data = tempDir('rag-npm-ingest-');
    try {
      const { spawnSync } = await import('node:child_process');
      const run = spawnSync('npm', ['run', '--silent', 'ingest', '--', 'list', '--json'], {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, DATA_DIR: data.path },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([]);
    } finally {
      data.remove();
    }
  });
});
