import { json, startRedis, type PrivateRedis } from '@rag/testing';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEY = 'web-ui-query-key-0123456789abcdef';
const INGEST_KEY = 'web-ui-ingest-key-0123456789abcdef';
const WEB_DIR = path.join(__dirname, 'web');

// The chat page's files and the route it signs in with, against the gateway in-process on a private redis-server.
// What the page does in a browser is tested in apps/e2e/src/web-ui.e2e.spec.ts.
describe('chat page and GET /v1/me (real Redis)', () => {
  let redis: PrivateRedis;
  const opened: InProcessGateway[] = [];
  let base: string;

  async function gateway(env: Record<string, string>): Promise<string> {
    const started = await startInProcessGateway(redis.url, env);
    opened.push(started);
    return started.base;
  }

  beforeAll(async () => {
    redis = await startRedis();
    base = await gateway({ QUEUE_PREFIX: 'rag-web', API_KEYS: `acme:query:${KEY},acme:query+ingest:${INGEST_KEY}` });
  });

  afterAll(async () => {
    for (const g of opened) await g.close();
    await redis?.stop();
  });

  it('serves the page at / without a key, with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8'));
  });

  it('serves every file the page names under /ui/ with the same policy, and nothing from elsewhere', async () => {
    const html = readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
    expect(referenced.length).toBeGreaterThanOrEqual(3);
    for (const url of referenced) {
      // Only this origin's files: no CDN, no font service.
      expect(url).toMatch(/^\/ui\/[a-z0-9-]+\.(js|css|svg)$/);
      const res = await fetch(`${base}${url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await res.text()).toBe(readFileSync(path.join(WEB_DIR, url.slice('/ui/'.length)), 'utf8'));
    }
    const js = await fetch(`${base}/ui/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    // Every module the scripts import is a relative file served beside them.
    for (const file of ['app.js', 'chat.js', 'documents.js', 'api.js', 'dom.js']) {
      const source = readFileSync(path.join(WEB_DIR, file), 'utf8');
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
        expect(spec).toMatch(/^\.\/[a-z-]+\.js$/);
        expect((await fetch(`${base}/ui/${spec.slice(2)}`)).status).toBe(200);
      }
      // No HTML from strings anywhere (the policy's Trusted Types would refuse it).
      expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
  });

  it('answers 404 JSON for unknown files and never serves files outside the page folder', async () => {
    for (const url of [
      '/ui/nope.js',
      '/ui/../app.ts',
      '/ui/%2e%2e/app.ts',
      '/ui/..%2fapp.ts',
      '/ui/tsconfig.json',
      '/ui/tsconfig.json/x',
      '/ui/.hidden',
      '/ui/index.html',
    ]) {
      const res = await fetch(`${base}${url}`);
      expect([400, 401, 403, 404]).toContain(res.status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await res.text()).includes('createApp')).toBe(false);
    }
  });

  it('GET /v1/me tells the key its tenant, scopes and id, and refuses a missing or bad key', async () => {
    const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(me.status).toBe(200);
    const body = await json(me);
    expect(body).toEqual({ tenant: 'acme', scopes: ['query'], key_id: expect.stringMatching(/^cfg_/), auth: 'on' });
    const ingest = await json(await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${INGEST_KEY}` } }));
    expect(ingest.scopes).toEqual(['query', 'ingest']);
    expect(ingest.key_id).not.toBe(body.key_id);
    for (const headers of [{}, { authorization: 'Bearer wrong-key-0123456789abcdefghij' }]) {
      const refused = await fetch(`${base}/v1/me`, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      expect((await json(refused)).error.code).toBe('unauthorized');
    }
  });

  it('GET /v1/me with auth off: tenant default, every scope, auth "off"', async () => {
    const open = await gateway({ QUEUE_PREFIX: 'rag-web-open', AUTH: 'off' });
    expect(await json(await fetch(`${open}/v1/me`))).toEqual({
      tenant: 'default',
      scopes: ['query', 'ingest', 'admin', 'operator'],
      key_id: null,
      auth: 'off',
    });
  });

  it('WEB_UI=off: no page, / and /ui/ are 404s like any unknown path', async () => {
    const off = await gateway({ QUEUE_PREFIX: 'rag-web-off', WEB_UI: 'off', AUTH: 'off' });
    for (const url of ['/', '/ui/app.js']) {
      const res = await fetch(`${off}${url}`);
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('not_found');
    }
  });
});
