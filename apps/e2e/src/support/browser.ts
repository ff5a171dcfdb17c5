import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { WORKSPACE_ROOT } from '@rag/testing';

/** Debian's chromium: playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** Where the browser tests write their screenshots (git- and prettier-ignored; never committed). */
export const SCREENSHOT_DIR = path.join(WORKSPACE_ROOT, 'artifacts', 'screenshots');

/** Starts headless chromium, or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install it (Debian: apt-get install chromium; .ci/run does) or point CHROMIUM_PATH at a chromium executable`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A page in its own fresh context, with what it did that it should not have. */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every request (and WebSocket) to anything but 127.0.0.1, as `METHOD url`. */
  readonly offHost: string[];
  /** CSP / Trusted Types violations reported by the page (`securitypolicyviolation` events). */
  readonly cspViolations: string[];
  /** Console messages of type error (Chromium logs CSP violations there too) and uncaught page errors. */
  readonly consoleErrors: string[];
  /**
   * Asserts nothing left 127.0.0.1, no CSP violation, no console error. `refusals` lets through Chromium's
   * "Failed to load resource: … status of N" lines for refusals the test expects, by status and path (e.g. 401 on /v1/me).
   */
  expectClean(options?: { refusals?: { status: number; path: string }[] }): void;
}

/**
 * The few browser globals the tests' in-page functions use (`page.evaluate`), typed here because the e2e
 * project is typed for Node, without the DOM lib: write `(globalThis as unknown as InPage).document` inside them.
 */
export interface InPage {
  document: {
    documentElement: { scrollWidth: number };
    readonly activeElement: unknown;
    querySelector(selector: string): InPageElement | null;
    querySelectorAll(selector: string): ArrayLike<InPageElement>;
  };
  innerWidth: number;
  localStorage: InPageStorage;
  sessionStorage: InPageStorage;
  DataTransfer: new () => { items: { add(file: unknown): unknown }; readonly files: { length: number } };
  File: new (parts: string[], name: string, options?: { type?: string }) => unknown;
  DragEvent: new (type: string, init: { bubbles?: boolean; cancelable?: boolean; dataTransfer?: unknown }) => unknown;
}
export interface InPageStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
}
export interface InPageElement {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  readonly labels?: ArrayLike<{ textContent: string | null }> | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): InPageElement | null;
  querySelectorAll(selector: string): ArrayLike<InPageElement>;
  dispatchEvent(event: unknown): boolean;
}

export interface BrowserSuite {
  /** The suite's browser (one per suite). */
  readonly browser: Browser;
  /** A page in a new context; the context is closed after the current test. */
  newPage(options?: BrowserContextOptions): Promise<WatchedPage>;
  /** Saves a PNG of `page` as artifacts/screenshots/<name>.png; returns its path. */
  screenshot(page: Page, name: string, options?: { fullPage?: boolean }): Promise<string>;
}

const LOCAL = (url: string) => {
  const u = new URL(url);
  // data: and blob: URLs never leave the page.
  return u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:' || u.hostname === '127.0.0.1';
};

/**
 * One headless chromium for the enclosing `describe`, started before its tests and closed after them;
 * each newPage() is a fresh context (no storage shared between tests), closed after the test.
 */
export function useBrowser(): BrowserSuite {
  let browser: Browser | undefined;
  let open: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    const contexts = open;
    open = [];
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const started = () => {
    if (!browser) throw new Error('useBrowser: use the browser inside a hook or test, once the suite has started');
    return browser;
  };

  return {
    get browser() {
      return started();
    },
    async newPage(options = {}) {
      const context = await started().newContext(options);
      open.push(context);
      const offHost: string[] = [];
      const cspViolations: string[] = [];
      const consoleErrors: string[] = [];
      context.on('request', (r) => {
        if (!LOCAL(r.url())) offHost.push(`${r.method()} ${r.url()}`);
      });
      // Reported from inside every page of the context (an init script runs before the page's own, outside its CSP).
      await context.exposeBinding('__ragCspViolation', (_source, text: string) => {
        cspViolations.push(text);
      });
      await context.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) =>
          void window.__ragCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber));`,
      });
      const watched = new WeakSet<Page>();
      const watch = (p: Page) => {
        if (watched.has(p)) return;
        watched.add(p);
        p.on('console', (m) => {
          if (m.type() === 'error') consoleErrors.push(m.location().url ? `${m.text()} (${m.location().url})` : m.text());
        });
        p.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
        p.on('websocket', (ws) => {
          if (!LOCAL(ws.url())) offHost.push(`WEBSOCKET ${ws.url()}`);
        });
      };
      context.on('page', watch);
      const page = await context.newPage();
      watch(page);
      return {
        page,
        context,
        offHost,
        cspViolations,
        consoleErrors,
        expectClean({ refusals = [] } = {}) {
          const expected = (text: string) =>
            refusals.some(
              ({ status, path: pathname }) =>
                text.startsWith(`Failed to load resource: the server responded with a status of ${status} `) && text.endsWith(`${pathname})`),
            );
          expect({ offHost, cspViolations, consoleErrors: consoleErrors.filter((t) => !expected(t)) }).toEqual({
            offHost: [],
            cspViolations: [],
            consoleErrors: [],
          });
        },
      };
    },
    async screenshot(page, name, { fullPage = false } = {}) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage });
      return file;
    },
  };
}
