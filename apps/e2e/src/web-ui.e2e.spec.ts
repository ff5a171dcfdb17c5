import { freePort, json, runApp, type AppProcess } from '@rag/testing';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { useBrowser, type InPage, type InPageStorage, type WatchedPage } from './support/browser';
import { CLI_MAIN, GATEWAY_MAIN, useStack } from './support/stack';

const SAMPLE_DOCS = path.join(__dirname, '../../../tools/dev-stack/sample-docs');
const COLLECTION = 'sample';
/** Tenant default, query and ingest. */
const KEY = 'rag_web_ui_e2e_full_key_0123456789abcdef';
/** Another tenant, query only. */
const QUERY_KEY = 'rag_web_ui_e2e_query_only_key_0123456789';
/** Tenant default, used only against the rate-limited second gateway. */
const LIMITED_KEY = 'rag_web_ui_e2e_limited_key_0123456789ab';
const API_KEYS = `default:query+ingest:${KEY},other:query:${QUERY_KEY},default:query+ingest:${LIMITED_KEY}`;
/** Answered from vacation-policy.md in 14 tokens. */
const VACATION = 'How many vacation days do new employees get?';
/** Answered from expenses.md in about 30 tokens: long enough to reload or cancel in the middle. */
const EXPENSES = 'What travel costs can I claim for hotels and meals?';
/** Signing in with a wrong key: the page's GET /v1/me with it is refused (401), as it should be. A page without a key asks nothing. */
const REFUSED_KEY = { status: 401, path: '/v1/me' };
/** Playwright's own waits (locator actions, waitFor) give up after this long. */
const WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const squash = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim();

/** Reads `read()` every 50 ms until `ok` holds (at most `timeoutMs`), returning the reading that did. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms; last reading: ${JSON.stringify(value)}`);
    await sleep(50);
    value = await read();
  }
  return value;
}

interface TurnReading {
  count: number;
  jobId: string | null;
  question: string;
  status: string;
  answer: string;
}

/** The conversation's last turn, read in one go inside the page. */
function lastTurn(page: Page): Promise<TurnReading> {
  return page.evaluate(() => {
    const turns = (globalThis as unknown as InPage).document.querySelectorAll('[data-testid=turn]');
    const turn = turns.length > 0 ? turns[turns.length - 1] : null;
    const text = (selector: string) => (turn?.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();
    return {
      count: turns.length,
      jobId: turn?.getAttribute('data-job-id') ?? null,
      question: text('[data-testid=question]'),
      status: text('[data-testid=job-status]'),
      answer: text('[data-testid=answer]'),
    };
  });
}

/** Blurs whatever has focus, then presses Tab until `target` has it (at most 40 times); returns how many presses it took. */
async function tabTo(page: Page, target: Locator): Promise<number> {
  const focused = () => target.evaluate((el) => el === (globalThis as unknown as InPage).document.activeElement);
  await page.evaluate(() => ((globalThis as unknown as InPage).document.activeElement as { blur?: () => void } | null)?.blur?.());
  let tabs = 0;
  while (!(await focused()) && tabs < 40) {
    await page.keyboard.press('Tab');
    tabs++;
  }
  if (!(await focused())) throw new Error(`Tab never reached ${String(target)}`);
  return tabs;
}

/**
 * The page's visible controls without an accessible name: from the accessibility tree as the browser computes it
 * (Playwright's ARIA snapshot), and every input, select and textarea without a label, aria-label or aria-labelledby.
 */
async function unnamedControls(page: Page): Promise<string[]> {
  const tree = await page.locator('body').ariaSnapshot();
  const controls = tree.split('\n').filter((line) => /^\s*- (textbox|combobox|button|checkbox|radio|searchbox|spinbutton|slider|listbox)\b/.test(line));
  if (controls.length < 2) throw new Error(`hardly any controls in the accessibility tree:\n${tree}`);
  const unlabelled = await page.evaluate(() =>
    Array.from((globalThis as unknown as InPage).document.querySelectorAll('input:not([type=hidden]), select, textarea'))
      .filter(
        (el) => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !Array.from(el.labels ?? []).some((l) => (l.textContent ?? '').trim()),
      )
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}`),
  );
  return [...controls.filter((line) => !/^\s*- \w+ "[^"]+"/.test(line)).map((line) => line.trim()), ...unlabelled];
}

const statusIs = (word: string) => (t: TurnReading) => t.status.split(/[\s:]/)[0] === word;

describe('the chat page in a real browser (Debian chromium) against the whole stack', () => {
  const stack = useStack('rag-web-ui-', { fakeOpenAI: { dimension: 64, perTokenMs: 150 } });
  const browser = useBrowser();
  let env: Record<string, string>;
  let gateway: AppProcess;

  const api = async (pathname: string, key = KEY, init: RequestInit = {}) =>
    fetch(`${stack.base}${pathname}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
  const jobView = async (jobId: string) => json(await api(`/v1/jobs/${jobId}`));

  beforeAll(async () => {
    env = { ...stack.env, ...stack.openAIEnv('sk-fake'), WORKER_METRICS_PORT: '0', API_KEYS };
    const ingest = await runApp(CLI_MAIN, env, [SAMPLE_DOCS, '--collection', COLLECTION, '--no-progress']);
    expect(ingest.code).toBe(0);
    ({ gateway } = await stack.startGatewayAndWorkers(env));
  });

  afterEach(() => {
    stack.fake.setOptions({ perTokenMs: 150 });
  });
  afterEach(() => {
    // A gateway that died would fail every later test with a bare ECONNREFUSED: say so once, with its last lines.
    if (gateway && (gateway.child.exitCode !== null || gateway.child.signalCode !== null)) {
      throw new Error(`the gateway exited (${gateway.child.exitCode ?? gateway.child.signalCode}):\n${gateway.lines.slice(-20).join('\n')}`);
    }
  });

  /** Opens the page at `base` and signs in with `key` through the form; waits for the main view. */
  async function signIn(w: WatchedPage, key = KEY, base = stack.base) {
    await w.page.goto(`${base}/`);
    const form = w.page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('API key').fill(key);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByTestId('whoami').waitFor({ timeout: WAIT_MS });
  }

  /** Picks `name` in the Collection select once the page has listed it. */
  async function pickCollection(page: Page, name: string) {
    const select = page.getByLabel('Collection', { exact: true });
    await select.locator(`option[value="${name}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });
    await select.selectOption(name);
  }

  /** Waits until the page has listed the sample collection's documents (for a key with the ingest scope). */
  async function sampleListed(page: Page) {
    const rows = page.getByRole('region', { name: 'Documents' }).getByTestId('document-row');
    await until(
      "the sample collection's documents listed",
      async () => (await rows.allTextContents()).join(' '),
      (t) => t.includes('vacation-policy.md'),
    );
  }

  async function ask(page: Page, question: string) {
    await page.getByLabel('Question', { exact: true }).fill(question);
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
  }

  /** Waits for the last turn to show some answer text while it is still running. */
  const partialAnswer = (page: Page) =>
    until(
      'the first tokens of the answer',
      () => lastTurn(page),
      (t) => t.answer !== '' && t.jobId !== null && !['Completed', 'Cancelled', 'Failed'].some((s) => statusIs(s)(t)),
    );

  /** Waits for the last turn to be Completed and checks its text is the job's stored answer; returns the job's view. */
  async function completedAnswer(page: Page) {
    const turn = await until('the answer Completed', () => lastTurn(page), statusIs('Completed'));
    expect(turn.jobId).toMatch(/\S/);
    const view = await jobView(String(turn.jobId));
    expect(view.status).toBe('completed');
    expect(turn.answer).toBe(squash(view.result.answer as string));
    return { turn, view };
  }

  it('refuses a wrong key saying so and where the dev key is; keeps a good key in sessionStorage only', async () => {
    const w = await browser.newPage();
    const response = await w.page.goto(`${stack.base}/`);
    expect(response?.status()).toBe(200);
    const form = w.page.getByRole('form', { name: 'Sign in' });
    const wrongKey = 'rag_this_key_was_never_issued_0123456789';
    await form.getByLabel('API key').fill(wrongKey);
    expect(await form.getByLabel('API key').getAttribute('type')).toBe('password');
    await form.getByRole('button', { name: 'Sign in' }).click();
    const error = w.page.getByTestId('signin-error');
    await until(
      'the sign-in error',
      async () => squash(await error.textContent()),
      (t) => t !== '',
    );
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toContain('not accepted');
    expect(await w.page.locator('body').innerText()).toContain('data/dev-api-key');
    expect(await w.page.getByTestId('whoami').isVisible()).toBe(false);
    await browser.screenshot(w.page, 'signin-refused');

    const stored = async () => ({
      storage: await w.page.evaluate(() => {
        const win = globalThis as unknown as InPage;
        const all = (s: InPageStorage) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i) ?? '').map((k) => [k, s.getItem(k)]));
        return { local: JSON.stringify(all(win.localStorage)), session: all(win.sessionStorage) };
      }),
      cookies: JSON.stringify(await w.context.cookies()),
      url: w.page.url(),
    });
    const refused = await stored();
    for (const place of [refused.storage.local, JSON.stringify(refused.storage.session), refused.cookies, refused.url]) expect(place).not.toContain(wrongKey);

    await form.getByLabel('API key').fill(KEY);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByTestId('whoami').waitFor({ timeout: WAIT_MS });
    expect(await w.page.getByTestId('whoami').textContent()).toContain('default');
    const accepted = await stored();
    expect(accepted.storage.session['rag.key']).toBe(KEY);
    for (const place of [accepted.storage.local, accepted.cookies, accepted.url]) expect(place).not.toContain(KEY);
    // The page names the caller as GET /v1/me does.
    expect(await json(await api('/v1/me'))).toMatchObject({ tenant: 'default', scopes: expect.arrayContaining(['query', 'ingest']), auth: 'on' });
    // Signing out forgets the key.
    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await w.page.getByRole('form', { name: 'Sign in' }).waitFor({ timeout: WAIT_MS });
    expect((await stored()).storage.session['rag.key']).toBeUndefined();
    w.expectClean({ refusals: [REFUSED_KEY] });
  });

  it('streams an answer as it is written, with its citations, chunk and timings, ending with the stored answer', async () => {
    const w = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(w);
    await pickCollection(w.page, COLLECTION);
    await ask(w.page, EXPENSES);
    // The text grows: at least two different non-empty texts before Completed.
    const partials = new Set<string>();
    let screenshotTaken = false;
    const final = await until(
      'the answer growing, then Completed',
      async () => {
        const t = await lastTurn(w.page);
        if (t.answer !== '' && !statusIs('Completed')(t)) {
          partials.add(t.answer);
          if (!screenshotTaken && partials.size >= 2) {
            screenshotTaken = true;
            await browser.screenshot(w.page, 'answer-streaming');
          }
        }
        return t;
      },
      statusIs('Completed'),
    );
    expect(partials.size).toBeGreaterThanOrEqual(2);
    expect(final.question).toBe(EXPENSES);
    const { view } = await completedAnswer(w.page);
    for (const partial of partials) expect(squash(view.result.answer as string).startsWith(partial)).toBe(true);

    const turn = w.page.getByTestId('turn').last();
    expect(await turn.getByTestId('job-status').getAttribute('role')).toBe('status');
    const citations = view.result.citations as { source: string; title: string; chunk: string }[];
    expect(citations.length).toBeGreaterThan(0);
    const shown = turn.getByTestId('citation');
    expect(await shown.count()).toBe(citations.length);
    const first = shown.first();
    const summary = squash(await first.locator('summary').textContent());
    expect(summary).toContain('[1]');
    expect(summary).toContain(citations[0].source);
    expect(summary).toContain(citations[0].title);
    expect(citations[0].source).toBe('expenses.md');
    expect(await first.getByTestId('citation-chunk').isVisible()).toBe(false);
    await first.locator('summary').click();
    await first.getByTestId('citation-chunk').waitFor({ state: 'visible', timeout: WAIT_MS });
    expect(squash(await first.getByTestId('citation-chunk').textContent())).toBe(squash(citations[0].chunk));
    const timings = squash(await turn.getByTestId('timings').textContent());
    expect(timings).toContain('retrieve');
    expect(timings).toContain('generate');
    await browser.screenshot(w.page, 'answer-completed');
    w.expectClean();
  });

  it('resumes the same answer after a reload in the middle of it', async () => {
    stack.fake.setOptions({ perTokenMs: 250 });
    const w = await browser.newPage();
    await signIn(w);
    await pickCollection(w.page, COLLECTION);
    await ask(w.page, EXPENSES);
    const before = await partialAnswer(w.page);
    await w.page.reload();
    const resumed = await until(
      'the resumed turn',
      () => lastTurn(w.page),
      (t) => t.jobId === before.jobId,
    );
    expect(resumed.question).toBe(EXPENSES);
    const { turn } = await completedAnswer(w.page);
    expect(turn.jobId).toBe(before.jobId);
    expect(turn.answer.startsWith(before.answer)).toBe(true);
    w.expectClean();
  });

  it('cancels an answer in the middle: Cancelled on the page and in the API', async () => {
    stack.fake.setOptions({ perTokenMs: 250 });
    const w = await browser.newPage();
    await signIn(w);
    await pickCollection(w.page, COLLECTION);
    const cancel = w.page.getByRole('button', { name: 'Cancel', exact: true });
    expect(await cancel.isDisabled()).toBe(true);
    await ask(w.page, EXPENSES);
    const running = await partialAnswer(w.page);
    expect(await cancel.isEnabled()).toBe(true);
    await cancel.click();
    await until('the answer Cancelled', () => lastTurn(w.page), statusIs('Cancelled'));
    const view = await until(
      'the job cancelled in the API',
      () => jobView(String(running.jobId)),
      (v) => v.status === 'cancelled',
      15_000,
    );
    expect(view.status).toBe('cancelled');
    expect(await cancel.isDisabled()).toBe(true);
    w.expectClean();
  });

  it('sends a follow-up with the conversation so far; New conversation clears the turns', async () => {
    const w = await browser.newPage();
    await signIn(w);
    await pickCollection(w.page, COLLECTION);
    await ask(w.page, VACATION);
    await completedAnswer(w.page);
    const seen = stack.fake.requests.length;
    const followUp = 'and after five years with the company?';
    const posted: string[] = [];
    w.page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/chat') posted.push(r.postData() ?? '');
    });
    await ask(w.page, followUp);
    await until(
      'the second turn',
      () => lastTurn(w.page),
      (t) => t.count === 2 && t.question === followUp,
    );
    await completedAnswer(w.page);
    // What reached the LLM for the follow-up carries the first question.
    const toLLM = stack.fake.requests
      .slice(seen)
      .filter((r) => r.path === '/v1/chat/completions')
      .map((r) => JSON.stringify(r.body));
    expect(toLLM.length).toBeGreaterThan(0);
    expect(toLLM.some((body) => body.includes(VACATION) && body.includes(followUp))).toBe(true);
    expect(JSON.parse(posted[0]).messages).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'user', content: VACATION })]));

    await w.page.getByRole('button', { name: 'New conversation' }).click();
    await until(
      'the turns cleared',
      () => lastTurn(w.page),
      (t) => t.count === 0,
    );
    // The next question starts a conversation of its own.
    await ask(w.page, VACATION);
    await until(
      'the new conversation’s question sent',
      async () => posted.length,
      (n) => n === 2,
    );
    expect(posted[1]).not.toContain(followUp);
    await completedAnswer(w.page);
    w.expectClean();
  });

  it('creates a collection, uploads through the file input and by drag and drop, answers from it and deletes a document', async () => {
    const w = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    w.page.on('dialog', (d) => void d.accept());
    await signIn(w);
    const documents = w.page.getByRole('region', { name: 'Documents' });
    await documents.waitFor({ timeout: WAIT_MS });
    const name = `notes-${Date.now().toString(36)}`;
    await documents.getByLabel('New collection name').fill(name);
    await documents.getByRole('button', { name: 'Create collection' }).click();
    await until(
      'the new collection selected',
      () => w.page.getByLabel('Collection', { exact: true }).inputValue(),
      (v) => v === name,
    );
    expect((await json(await api(`/v1/collections/${name}`))).name).toBe(name);

    const status = documents.getByTestId('ingest-status');
    const rows = documents.getByTestId('document-row');
    const rowTexts = async () => (await rows.allTextContents()).map(squash);
    const fact = 'The zorbling committee meets every Thursday in room Q-42 of the annex.';
    await documents.getByLabel('Upload documents').setInputFiles({
      name: 'zorbling.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(`# Zorbling committee\n\n## Meetings\n\n${fact}\n`),
    });
    await until('the upload listed', rowTexts, (texts) => texts.some((t) => t.includes('zorbling.md')));
    await until(
      'the ingest run done',
      async () => squash(await status.textContent()),
      (t) => t.includes('done'),
    );
    expect(await status.getAttribute('role')).toBe('status');
    expect(await documents.getByRole('progressbar', { name: 'Ingest progress' }).count()).toBe(1);

    // A real drop event on the drop zone, carrying a DataTransfer built in the page.
    const dropZone = documents.getByTestId('drop-zone');
    await dropZone.evaluate((zone) => {
      const win = globalThis as unknown as InPage;
      const data = new win.DataTransfer();
      data.items.add(
        new win.File(['# Parking\n\n## Permits\n\nA parking permit for the annex costs 12 euros per month.\n'], 'parking.md', { type: 'text/markdown' }),
      );
      const target = zone as unknown as { dispatchEvent(event: unknown): boolean };
      for (const type of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(new win.DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    });
    await until(
      'the dropped document listed',
      rowTexts,
      (texts) => texts.some((t) => t.includes('parking.md')) && texts.some((t) => t.includes('zorbling.md')),
    );
    await until(
      'the second ingest run done',
      async () => squash(await status.textContent()),
      (t) => t.includes('done'),
    );
    const listed = await json(await api(`/v1/collections/${name}/documents`));
    expect((listed.items as { doc_id: string }[]).map((d) => d.doc_id).sort()).toEqual(['parking.md', 'zorbling.md']);
    await browser.screenshot(w.page, 'documents-after-upload');

    await ask(w.page, 'When does the zorbling committee meet?');
    const { view } = await completedAnswer(w.page);
    expect(view.result.answer).toContain('Thursday');
    const citation = w.page.getByTestId('turn').last().getByTestId('citation').first();
    expect(squash(await citation.locator('summary').textContent())).toContain('zorbling.md');

    await documents.getByRole('button', { name: 'Delete parking.md' }).click();
    await until('the deleted document gone', rowTexts, (texts) => !texts.some((t) => t.includes('parking.md')) && texts.some((t) => t.includes('zorbling.md')));
    const after = await json(await api(`/v1/collections/${name}/documents`));
    expect((after.items as { doc_id: string }[]).map((d) => d.doc_id)).toEqual(['zorbling.md']);
    w.expectClean();
  });

  it('keeps a collection just created selected when the listing of collections asked for at sign-in answers after it', async () => {
    const w = await browser.newPage();
    // The sign-in listing is held back, then delivered as the server gave it: without the new collection.
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let stale: 'none' | 'held' | 'delivered' = 'none';
    await w.page.route('**/v1/collections', async (route) => {
      if (route.request().method() !== 'GET' || stale !== 'none') return route.continue();
      stale = 'held';
      const response = await route.fetch();
      await released;
      await route.fulfill({ response });
      stale = 'delivered';
    });
    await signIn(w);
    const documents = w.page.getByRole('region', { name: 'Documents' });
    await documents.waitFor({ timeout: WAIT_MS });
    expect(stale).toBe('held');
    const name = `late-${Date.now().toString(36)}`;
    await documents.getByLabel('New collection name').fill(name);
    await documents.getByRole('button', { name: 'Create collection' }).click();
    const select = w.page.getByLabel('Collection', { exact: true });
    await until(
      'the new collection selected',
      () => select.inputValue(),
      (v) => v === name,
    );
    release?.();
    await until(
      'the held listing delivered',
      async () => stale,
      (s) => s === 'delivered',
    );
    // The page has had the late answer: its own listing of the documents follows whatever it applied.
    await w.page.waitForLoadState('networkidle');
    expect(await select.inputValue()).toBe(name);
    expect(await select.locator('option').allTextContents()).toContain(name);
    expect(squash(await w.page.locator('#documents-collection').textContent())).toBe(name);
    w.expectClean();
  });

  it('shows no Documents region to a query-only key', async () => {
    const w = await browser.newPage();
    await signIn(w, QUERY_KEY);
    expect(await w.page.getByTestId('whoami').textContent()).toContain('other');
    // The main view is up (the question box is there); the documents panel is not.
    await w.page.getByLabel('Question', { exact: true }).waitFor({ timeout: WAIT_MS });
    await w.page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: WAIT_MS });
    expect(await w.page.getByRole('region', { name: 'Documents' }).count()).toBe(0);
    expect(await w.page.getByTestId('drop-zone').isVisible()).toBe(false);
    expect(await w.page.getByLabel('Upload documents').isVisible()).toBe(false);
    w.expectClean();
  });

  it('shows a refused request (429 from a rate-limited gateway) with its message and when to retry', async () => {
    const port = await freePort();
    const limited = stack.startApp(GATEWAY_MAIN, { ...env, PORT: String(port), RATE_LIMIT_PER_MINUTE: '12' });
    await limited.waitForLog((l) => l.message === 'listening', 60_000);
    const base = `http://127.0.0.1:${port}`;
    const w = await browser.newPage();
    await signIn(w, LIMITED_KEY, base);
    await pickCollection(w.page, COLLECTION);
    // The page lists the picked collection's documents on its own: let that request in before the limit is used
    // up, or it is the one refused (and the page rightly reports it) before the question is asked.
    await sampleListed(w.page);
    // Use up the key's requests for this minute.
    let refusal: { status: number; message: string } | undefined;
    for (let i = 0; i < 30 && !refusal; i++) {
      const res = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${LIMITED_KEY}` } });
      if (res.status === 429) refusal = { status: 429, message: (await json(res)).error.message as string };
    }
    expect(refusal?.status).toBe(429);
    await ask(w.page, VACATION);
    const error = w.page.getByTestId('chat-error');
    const text = await until(
      'the refusal shown',
      async () => squash(await error.textContent().catch(() => '')),
      (t) => t !== '',
    );
    expect(await error.getAttribute('role')).toBe('alert');
    // The server's message, whose seconds to wait count down between our request and the page's.
    const message = String(refusal?.message)
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\d+/g, '\\d+');
    expect(text).toMatch(new RegExp(message));
    expect(text).toMatch(/Retry after \d+ s/);
    w.expectClean({ refusals: [{ status: 429, path: '/v1/chat' }] });
  });

  it('works from the keyboard alone, names every control, and fits a phone screen', async () => {
    const w = await browser.newPage();
    await w.page.goto(`${stack.base}/`);
    await w.page.getByRole('form', { name: 'Sign in' }).waitFor({ timeout: WAIT_MS });
    expect(await unnamedControls(w.page)).toEqual([]);
    // Sign in: Tab to the key, type it, Enter.
    await tabTo(w.page, w.page.getByLabel('API key', { exact: true }));
    await w.page.keyboard.type(KEY);
    await w.page.keyboard.press('Enter');
    await w.page.getByTestId('whoami').waitFor({ timeout: WAIT_MS });
    await pickCollection(w.page, COLLECTION);
    // The page focuses the Question box itself once it has listed the documents: wait for that, or it can land
    // after tabTo's blur and the box is reached with no Tab at all.
    await sampleListed(w.page);
    // Ask: Tab to the Question box, Shift+Enter is a new line, Enter asks.
    const question = w.page.getByLabel('Question', { exact: true });
    const tabs = await tabTo(w.page, question);
    expect(tabs).toBeGreaterThan(0);
    await w.page.keyboard.type('How many vacation days');
    await w.page.keyboard.press('Shift+Enter');
    await w.page.keyboard.type('do new employees get?');
    expect(await question.inputValue()).toBe('How many vacation days\ndo new employees get?');
    expect((await lastTurn(w.page)).count).toBe(0);
    await w.page.keyboard.press('Enter');
    const turn = await until(
      'the question asked',
      () => lastTurn(w.page),
      (t) => t.count === 1,
    );
    expect(turn.question).toBe('How many vacation days do new employees get?');
    await completedAnswer(w.page);
    expect(await unnamedControls(w.page)).toEqual([]);

    await w.page.setViewportSize({ width: 390, height: 844 });
    await w.page.getByTestId('turn').last().getByTestId('citation').first().locator('summary').click();
    const widths = await w.page.evaluate(() => {
      const win = globalThis as unknown as InPage;
      return { scroll: win.document.documentElement.scrollWidth, inner: win.innerWidth };
    });
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    await browser.screenshot(w.page, 'phone', { fullPage: true });
    w.expectClean();
  });

  it('serves the page with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${stack.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((parts) => parts[0] !== '')
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).not.toContain("'unsafe-eval'");
    for (const directive of ['script-src', 'style-src', 'connect-src']) expect(directives.get(directive)).toEqual(["'self'"]);
    // The browser gets the same header with the page it renders.
    const w = await browser.newPage();
    const response = await w.page.goto(`${stack.base}/`);
    expect(response?.headers()['content-security-policy']).toBe(csp);
    await w.page.getByRole('form', { name: 'Sign in' }).waitFor({ timeout: WAIT_MS });
    w.expectClean();
    expect(gateway.logs().filter((l) => l.level === 'error')).toEqual([]);
  });
});
