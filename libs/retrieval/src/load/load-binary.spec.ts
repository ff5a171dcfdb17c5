import { makeDocx, makePdf, zipBombDocx } from '@rag/testing';
import { chunkDocument } from '../chunk/chunk-document';
import { loadDocument } from './load-document';
import { DocxTooLargeError, UnreadableDocxError, UnreadablePdfError } from './load-errors';

describe('PDF and DOCX loading (real files made by pdfkit and docx)', () => {
  it("reads a PDF page by page, keeping each block's page and the Title metadata", async () => {
    const pdf = await makePdf('Travel Policy', [
      ['Expenses are reimbursed within 30 days.', 'Keep every receipt.'],
      ['Hotels are booked by the office manager.'],
      ['Flights are in economy class.'],
    ]);
    const doc = await loadDocument('policies/travel.pdf', pdf);
    expect(doc.title).toBe('Travel Policy');
    // pdf.js gives a page's lines without blank lines between paragraphs: one block per page, lines kept.
    expect(doc.blocks).toEqual([
      { headings: [], text: 'Expenses are reimbursed within 30 days.\nKeep every receipt.', page: 1 },
      { headings: [], text: 'Hotels are booked by the office manager.', page: 2 },
      { headings: [], text: 'Flights are in economy class.', page: 3 },
    ]);
  });

  it('chunks a PDF without ever joining two pages, each chunk naming its page', async () => {
    const pdf = await makePdf('Handbook', [['Short page one.'], ['Short page two.'], ['Short page three.']]);
    const chunks = chunkDocument(await loadDocument('handbook.pdf', pdf), { size: 1200, overlap: 100 });
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, 'Short page one.'],
      [2, 'Short page two.'],
      [3, 'Short page three.'],
    ]);
  });

  it('falls back to the file name for a PDF without a Title', async () => {
    const pdf = await makePdf('', [['Body.']]);
    expect((await loadDocument('annual_report-2026.pdf', pdf)).title).toBe('annual report 2026');
  });

  it('reads a DOCX with its Word headings as the heading path', async () => {
    const docx = await makeDocx([
      { heading: 'Employee Handbook', level: 1 },
      { heading: 'Leave', level: 2 },
      { text: 'Everyone gets 25 vacation days.' },
      { text: 'Unused days carry over until March.' },
      { heading: 'Remote work', level: 2 },
      { text: 'Remote work needs a manager’s approval.' },
    ]);
    const doc = await loadDocument('hr/handbook.docx', docx);
    expect(doc.blocks).toEqual([
      { headings: ['Employee Handbook', 'Leave'], text: 'Everyone gets 25 vacation days.' },
      { headings: ['Employee Handbook', 'Leave'], text: 'Unused days carry over until March.' },
      { headings: ['Employee Handbook', 'Remote work'], text: 'Remote work needs a manager’s approval.' },
    ]);
    expect(doc.title).toBe('Employee Handbook');
    expect(chunkDocument(doc, { size: 1200, overlap: 0 }).map((c) => c.heading)).toEqual(['Employee Handbook > Leave', 'Employee Handbook > Remote work']);
  });

  it('refuses broken files with an error that names the format and says what to do', async () => {
    const broken = await loadDocument('broken.pdf', Buffer.from('%PDF-1.7\nnot really a pdf')).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(UnreadablePdfError);
    expect((broken as Error).message).toMatch(/not a readable PDF .*export it as text/);
    const notDocx = await loadDocument('letter.docx', Buffer.from('plain text pretending')).catch((e: unknown) => e);
    expect(notDocx).toBeInstanceOf(UnreadableDocxError);
    expect((notDocx as Error).message).toContain('not a readable DOCX');
  });

  it('measures a DOCX by unpacking it before mammoth reads it, and refuses one over the limit (a zip bomb)', async () => {
    const bomb = await zipBombDocx(20);
    const error = await loadDocument('bomb.docx', bomb, { docxMaxUncompressedBytes: 10 * 1048576 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocxTooLargeError);
    expect((error as Error).message).toContain('INGEST_DOCX_MAX_UNCOMPRESSED_MB (10 MB)');
    // Under the limit, the same file reads as the document it also is.
    expect((await loadDocument('bomb.docx', bomb, { docxMaxUncompressedBytes: 30 * 1048576 })).blocks).toEqual([
      { headings: ['Bomb'], text: 'Innocent text.' },
    ]);
  });
});
