import { PDFParse } from 'pdf-parse';
import type { Block } from '../types';
import type { ParsedText } from './load-markdown';
import { parseText } from './load-text';
import { UnreadablePdfError } from './load-errors';

/**
 * PDF → text page by page (pdf.js, through pdf-parse), each block carrying
 * its page number so citations can name it. Within a page, text is split
 * into paragraphs on blank lines. The title is the document's Title field.
 */
export async function parsePdf(bytes: Buffer): Promise<ParsedText> {
  const parser = new PDFParse({ data: new Uint8Array(bytes), verbosity: 0 });
  try {
    let pages: { text: string; num: number }[];
    let title: string | undefined;
    try {
      pages = (await parser.getText()).pages;
      const info = (await parser.getInfo()).info as { Title?: unknown } | undefined;
      title = typeof info?.Title === 'string' ? info.Title : undefined;
    } catch (error) {
      throw new UnreadablePdfError(error instanceof Error ? error.message : String(error));
    }
    const blocks: Block[] = pages.flatMap((page) => parseText(page.text).blocks.map((block) => ({ ...block, page: page.num })));
    return { title, blocks };
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}
