import * as path from 'node:path';
import { deeplyNestedHtml, makeDocx, makePdf, quadraticMarkdown, zipBombDocx } from '@rag/testing';
import { chunkDocument } from '../chunk/chunk-document';
import { isPermanent } from '@rag/core';
import { UnsupportedFormatError, loadDocument } from '../load/load-document';
import { DocumentParseError } from './document-parse-error';
import { ParsePool } from './parse-pool';

const chunking = { size: 60, overlap: 10, unit: 'tokens' as const };

/** The longest the event loop went without running a 20 ms interval while `work` ran. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T | Error; stallMs: number }> {
  let last = Date.now();
  let stallMs = 0;
  const beat = setInterval(() => {
    stallMs = Math.max(stallMs, Date.now() - last);
    last = Date.now();
  }, 20);
  try {
    const result = await work().catch((e: Error) => e);
    return { result, stallMs: Math.max(stallMs, Date.now() - last) };
  } finally {
    clearInterval(beat);
  }
}

describe('ParsePool (real worker threads)', () => {
  const parserErrors: string[] = [];
  const pool = new ParsePool({
    timeoutMs: 2000,
    maxHeapMb: 128,
    docxMaxUncompressedMb: 5,
    onParserError: (id, detail) => parserErrors.push(`${id}: ${detail}`),
  });
  afterAll(() => pool.close());

  it('loads and chunks every format in a thread exactly as in this one', async () => {
    const docs: [string, Buffer][] = [
      ['guide.md', Buffer.from('# Guide\n\n## Setup\n\nRun **npm ci**, then `npm start`. It starts Redis.\n\n- one\n- two')],
      ['page.html', Buffer.from('<html><head><title>Page</title></head><body><h2>Part</h2><p>Body text.</p></body></html>')],
      ['notes.txt', Buffer.from('First paragraph.\n\nSecond paragraph.')],
      ['manual.pdf', await makePdf('Manual', [['Page one.'], ['Page two.']])],
      ['notes.docx', await makeDocx([{ heading: 'Notes' }, { text: 'Written in Word.' }])],
    ];
    for (const [id, bytes] of docs) {
      expect(await pool.parse(id, bytes, chunking)).toEqual(chunkDocument(await loadDocument(id, bytes), chunking));
    }
  });

  it('chunks a document already loaded (a rebuild’s) in a thread exactly as in this one, leaving this thread free', async () => {
    const paragraph = (i: number) => `Section ${i} explains how the budget rule ${i} applies to every team, office and project in the company.`;
    const doc = {
      id: 'handbook.md',
      source: 'handbook.md',
      title: 'Handbook',
      blocks: Array.from({ length: 1000 }, (_, i) => ({
        headings: ['Handbook', `Part ${i % 40}`],
        text: Array.from({ length: 5 }, (_, j) => paragraph(i * 5 + j)).join(' '),
      })),
      contentHash: 'a'.repeat(64),
    };
    // Its own pool: on a loaded machine cutting 3,000 chunks can take longer than the suite's 2 s budget.
    const roomy = new ParsePool({ timeoutMs: 120_000 });
    const { result, stallMs } = await longestStall(() => roomy.rechunk(doc, chunking)).finally(() => roomy.close());
    expect(result).toEqual(chunkDocument(doc, chunking));
    expect((result as unknown[]).length).toBeGreaterThan(2000);
    expect(stallMs).toBeLessThan(1000);
  });

  it('stops a document over INGEST_PARSE_TIMEOUT_MS, naming it and the limit, while this thread stays free; the next document parses', async () => {
    // In this thread, marked needs about 20 s for it (see docs/security.md).
    const { result, stallMs } = await longestStall(() => pool.parse('slow.md', quadraticMarkdown(20_000), chunking));
    expect(result).toBeInstanceOf(DocumentParseError);
    expect(isPermanent(result)).toBe(true);
    expect((result as Error).message).toBe('slow.md: parsing took longer than INGEST_PARSE_TIMEOUT_MS (2000 ms); split the document or raise the limit');
    expect(stallMs).toBeLessThan(1000);
    expect(await pool.parse('after.md', Buffer.from('Fine again.'), chunking)).toEqual([expect.objectContaining({ text: 'Fine again.' })]);
  });

  it('stops a document over INGEST_PARSE_MAX_MB without taking the process down; the next document parses', async () => {
    // Its own pool with a time budget far beyond what filling 128 MB takes: on a loaded machine the suite's
    // 2 s budget could run out first, and this test is about the memory limit.
    const roomy = new ParsePool({ timeoutMs: 120_000, maxHeapMb: 128 });
    try {
      const huge = Buffer.from('two words\n\n'.repeat(3_000_000));
      const error = await roomy.parse('huge.txt', huge, chunking).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DocumentParseError);
      expect((error as Error).message).toBe('huge.txt: parsing needed more memory than INGEST_PARSE_MAX_MB (128 MB); split the document or raise the limit');
      expect(await roomy.parse('after.txt', Buffer.from('Still here.'), chunking)).toHaveLength(1);
    } finally {
      await roomy.close();
    }
  }, 180_000);

  it('refuses a DOCX that unpacks to more than INGEST_DOCX_MAX_UNCOMPRESSED_MB (a zip bomb)', async () => {
    const bomb = await zipBombDocx(50);
    expect(bomb.length).toBeLessThan(200_000);
    const error = await pool.parse('bomb.docx', bomb, chunking).catch((e: unknown) => e);
    expect(isPermanent(error)).toBe(true);
    expect((error as Error).message).toBe(
      'bomb.docx: its archive unpacks to more than INGEST_DOCX_MAX_UNCOMPRESSED_MB (5 MB); if it is a real document, split it or raise the limit',
    );
  });

  it('fails deeply nested HTML by name', async () => {
    const error = await pool.parse('deep.html', deeplyNestedHtml(300_000), chunking).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentParseError);
    expect((error as Error).message).toMatch(/^deep\.html: /);
  });

  it('fails broken and unsupported files for good, by name', async () => {
    const pdf = await pool.parse('broken.pdf', Buffer.from('%PDF-1.7\nnot really a pdf'), chunking).catch((e: unknown) => e);
    expect(isPermanent(pdf)).toBe(true);
    expect((pdf as Error).message).toMatch(/^broken\.pdf: not a readable PDF .*export it as text/);
    const docx = await pool.parse('letter.docx', Buffer.from('plain text pretending'), chunking).catch((e: unknown) => e);
    expect((docx as Error).message).toMatch(/^letter\.docx: not a readable DOCX/);
    const odt = await pool.parse('report.odt', Buffer.from('PK'), chunking).catch((e: unknown) => e);
    expect(odt).toBeInstanceOf(UnsupportedFormatError);
    expect(isPermanent(odt)).toBe(true);
  });

  it("gives up with the caller's reason when the caller's signal aborts first (a cancelled or timed-out job is not the document's fault)", async () => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    setTimeout(() => controller.abort(reason), 300);
    await expect(pool.parse('slow.md', quadraticMarkdown(20_000), chunking, controller.signal)).rejects.toBe(reason);
    expect(await pool.parse('after.md', Buffer.from('Fine.'), chunking)).toHaveLength(1);
  });

  it('does not blame the document when a thread cannot start (a broken installation): the error is retryable', async () => {
    const logged: string[] = [];
    const broken = new ParsePool({
      entry: { filename: path.join(__dirname, 'no-such-thread-entry.cjs') },
      onParserError: (_id, detail) => logged.push(detail),
    });
    try {
      const error = await broken.parse('fine.md', Buffer.from('Fine.'), chunking).catch((e: unknown) => e);
      expect(isPermanent(error)).toBe(false);
      // Paths and library words go to the log only.
      expect((error as Error).message).toBe('fine.md: not parsed, a parse thread could not start; it will be retried (the log says why)');
      expect(logged.join('\n')).toContain('no-such-thread-entry.cjs');
    } finally {
      await broken.close();
    }
  });
});
