import mammoth from 'mammoth';
import type { ParsedText } from './load-markdown';
import { parseHtml } from './load-html';

export class UnreadableDocxError extends Error {
  constructor(detail: string) {
    super(`not a readable DOCX file (${detail}); save it again as .docx from a word processor`);
    this.name = 'UnreadableDocxError';
  }

  /** The parser's own words stay in the logs. */
  get publicMessage(): string {
    return 'not a readable DOCX file; save it again as .docx from a word processor';
  }
}

/**
 * DOCX → HTML with mammoth (Word's Heading 1-6 styles become h1-h6), then the
 * HTML loader, so sections keep their heading paths like any web page.
 */
export async function parseDocx(bytes: Buffer): Promise<ParsedText> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: bytes })).value;
  } catch (error) {
    throw new UnreadableDocxError(error instanceof Error ? error.message : String(error));
  }
  return parseHtml(`<html><body>${html}</body></html>`);
}
