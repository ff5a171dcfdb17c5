import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import PDFDocument from 'pdfkit';

/** A real PDF (made with pdfkit) with one page per entry of `pages` and a Title in its metadata. */
export function makePdf(title: string, pages: string[][]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, info: { Title: title } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    for (const paragraphs of pages) {
      doc.addPage();
      // Blank lines between paragraphs, as text extraction shows them.
      for (const p of paragraphs) doc.text(p).moveDown();
    }
    doc.end();
  });
}

export type DocxBlock = { heading: string; level?: 1 | 2 | 3 } | { text: string };

const LEVELS = { 1: HeadingLevel.HEADING_1, 2: HeadingLevel.HEADING_2, 3: HeadingLevel.HEADING_3 } as const;

/** A real DOCX (made with the docx package) whose headings use Word's Heading 1-3 styles. */
export function makeDocx(blocks: DocxBlock[]): Promise<Buffer> {
  const children = blocks.map((b) => ('heading' in b ? new Paragraph({ text: b.heading, heading: LEVELS[b.level ?? 1] }) : new Paragraph({ text: b.text })));
  return Packer.toBuffer(new Document({ sections: [{ children }] }));
}
