import { WORKSPACE_ROOT, freePort, imageEnv, makeDocx, makePdf, quadraticMarkdown, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const APPS = ['api-gateway', 'rag-worker', 'ingest-cli'] as const;
type App = (typeof APPS)[number];

const dockerfile = (app: App) => fs.readFileSync(path.join(WORKSPACE_ROOT, 'docker', `${app}.Dockerfile`), 'utf8');

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`.slice(-4000));
  return result.stdout;
}

// No Docker engine runs here, so each image is made the way its Dockerfile
// makes it — `nx run <app>:build`, then only the pruned production
// dependencies installed into a clean folder with `npm ci --omit=dev` — and
// started from that folder with the image's own ENV and ENTRYPOINT.
describe('container images, built as their Dockerfiles build them', () => {
  let redis: PrivateRedis;
  let scratch: TempDir;
  const folders = new Map<App, string>();

  beforeAll(async () => {
    redis = await startRedis();
    scratch = tempDir('rag-images-');
    for (const app of APPS) {
      run(path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'), ['run', `${app}:build`, '--skip-nx-cache'], WORKSPACE_ROOT, {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
      });
      const folder = path.join(scratch.path, app);
      fs.cpSync(path.join(WORKSPACE_ROOT, 'dist/apps', app), folder, { recursive: true });
      run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], folder);
      folders.set(app, folder);
    }
  }, 600_000);

  afterAll(async () => {
    await redis?.stop();
    scratch?.remove();
  });

  it.each(APPS)('%s: the Dockerfile builds with nx, installs only the pruned production dependencies, runs as node', (app) => {
    const text = dockerfile(app);
    expect(text).toContain(`npx nx run ${app}:build`);
    expect(text).toContain(`COPY --from=build /repo/dist/apps/${app}/package.json /repo/dist/apps/${app}/package-lock.json ./`);
    expect(text).toMatch(/RUN npm ci --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^COPY package\.json package-lock\.json \.\/\nRUN npm ci/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "main\.cjs"\]$/m);
    expect(text).toMatch(app === 'ingest-cli' ? /^HEALTHCHECK NONE$/m : /^HEALTHCHECK .*\/healthz/m);
  });

  it.each(APPS)('%s: the folder holds the bundle and its production dependencies only', (app) => {
    const folder = folders.get(app)!;
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as {
      main: string;
      dependencies: Record<string, string>;
      devDependencies?: unknown;
    };
    expect(manifest.main).toBe('./main.cjs');
    expect(manifest.devDependencies).toBeUndefined();
    // None of the workspace's devDependencies is a dependency of the app, and the tooling is not installed.
    // (typescript itself does arrive: @qdrant/js-client-rest lists it among its runtime dependencies.)
    const rootDev = Object.keys(
      (JSON.parse(fs.readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies,
    );
    expect(Object.keys(manifest.dependencies).filter((d) => rootDev.includes(d))).toEqual([]);
    const installed = fs.readdirSync(path.join(folder, 'node_modules'));
    for (const dev of ['jest', 'nx', 'eslint', 'tsx', 'esbuild', 'pdfkit', 'docx']) expect(installed).not.toContain(dev);
    expect(fs.existsSync(path.join(folder, 'node_modules/@swc/core'))).toBe(false);
    // What the app needs is there; what only another app needs is not.
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['ioredis', 'winston']));
    if (app === 'rag-worker') expect(Object.keys(manifest.dependencies)).not.toContain('helmet');
    if (app === 'ingest-cli') expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['commander', 'cli-progress']));
    // The apps that parse documents ship the parse threads' entry beside the bundle.
    expect(fs.existsSync(path.join(folder, 'parse-thread.cjs'))).toBe(app !== 'api-gateway');
  });

  it('api-gateway starts from its folder with the image ENV (0.0.0.0 with keys), answers /healthz and serves the chat page from its bundle', async () => {
    const port = await freePort();
    const image = imageEnv('api-gateway');
    expect(image.HOST).toBe('0.0.0.0');
    const env = {
      ...image,
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      PORT: String(port),
      DATA_DIR: path.join(scratch.path, 'gw-data'),
      API_KEYS: 'ops:admin:image_test_key_0123456789abcdef',
    };
    await expectServes('api-gateway', env, `http://127.0.0.1:${port}/healthz`, async () => {
      // The page's files travel with the bundle (the build copies src/web to web/).
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await page.text()).toContain('/ui/app.js');
      for (const file of ['app.js', 'chat.js', 'documents.js', 'api.js', 'dom.js', 'style.css', 'icon.svg'])
        expect([file, (await fetch(`http://127.0.0.1:${port}/ui/${file}`)).status]).toEqual([file, 200]);
    });
  });

  it('rag-worker starts from its folder with the image ENV and answers /healthz on its side port', async () => {
    const port = await freePort();
    const env = {
      ...imageEnv('rag-worker'),
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      WORKER_METRICS_PORT: String(port),
      DATA_DIR: path.join(scratch.path, 'w-data'),
    };
    await expectServes('rag-worker', env, `http://127.0.0.1:${port}/healthz`);
  });

  it('ingest-cli runs from its folder and loads Markdown, PDF and DOCX (their parsers resolve outside the workspace)', async () => {
    const docs = path.join(scratch.path, 'docs');
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, 'hello.md'), '# Hello\n\nImages load documents too.');
    fs.writeFileSync(path.join(docs, 'manual.pdf'), await makePdf('Manual', [['Page one.'], ['Page two.']]));
    fs.writeFileSync(path.join(docs, 'notes.docx'), await makeDocx([{ heading: 'Notes' }, { text: 'Written in Word.' }]));
    const env = { ...imageEnv('ingest-cli'), PATH: process.env.PATH, REDIS_URL: redis.url, DATA_DIR: path.join(scratch.path, 'cli-data') };
    const out = run('node', ['main.cjs', docs, '--collection', 'images', '--json', '--no-progress'], folders.get('ingest-cli')!, env);
    expect(JSON.parse(out)).toMatchObject({ collection: 'images', added: 3, failed: [] });
  });

  it('ingest-cli parses in its threads from its folder: a hostile Markdown file fails by name at INGEST_PARSE_TIMEOUT_MS, the rest loads', () => {
    const docs = path.join(scratch.path, 'hostile-docs');
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, 'fine.md'), '# Fine\n\nLoads as usual.');
    fs.writeFileSync(path.join(docs, 'quadratic.md'), quadraticMarkdown(20_000));
    const env = {
      ...imageEnv('ingest-cli'),
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      DATA_DIR: path.join(scratch.path, 'cli-hostile-data'),
      INGEST_PARSE_TIMEOUT_MS: '1000',
    };
    const result = spawnSync('node', ['main.cjs', docs, '--collection', 'hostile', '--json', '--no-progress'], {
      cwd: folders.get('ingest-cli')!,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect([result.status, result.stderr.slice(-2000)]).toEqual([1, expect.stringContaining('failed quadratic.md')]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      added: 1,
      failed: [
        { id: 'quadratic.md', error: 'quadratic.md: parsing took longer than INGEST_PARSE_TIMEOUT_MS (1000 ms); split the document or raise the limit' },
      ],
    });
  });

  async function expectServes(app: App, env: NodeJS.ProcessEnv, url: string, andThen?: () => Promise<void>): Promise<void> {
    const child = spawn('node', ['main.cjs'], { cwd: folders.get(app)!, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200 && child.exitCode === null; i++) {
        status = await fetch(url).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect([status, child.exitCode, status === 200 ? '' : output.slice(-2000)]).toEqual([200, null, '']);
      await andThen?.();
    } finally {
      child.kill('SIGKILL');
    }
  }
});
