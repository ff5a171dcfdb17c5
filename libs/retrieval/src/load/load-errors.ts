import { PermanentError } from '@rag/core';

// The parsers' refusals and limits, apart from the parsers themselves: what names them
// (the parse pool, the parse thread's check of which errors explain themselves) must not
// load pdf.js, mammoth or cheerio to do it. The parsers are loaded on first use (loadDocument).

/** A PDF that pdf.js cannot read (damaged, encrypted, not a PDF). */
export class UnreadablePdfError extends PermanentError {
  override readonly code = 'document_parse_failed';
  constructor(detail: string) {
    super(`not a readable PDF (${detail}); if it is encrypted or scanned, export it as text first`);
    this.name = 'UnreadablePdfError';
  }

  /** pdf.js's own words stay in the logs. */
  override get publicMessage(): string {
    return 'not a readable PDF; if it is encrypted or scanned, export it as text first';
  }
}

export class UnreadableDocxError extends PermanentError {
  override readonly code = 'document_parse_failed';
  constructor(detail: string) {
    super(`not a readable DOCX file (${detail}); save it again as .docx from a word processor`);
    this.name = 'UnreadableDocxError';
  }

  /** The parser's own words stay in the logs. */
  override get publicMessage(): string {
    return 'not a readable DOCX file; save it again as .docx from a word processor';
  }
}

/** A DOCX whose archive unpacks to more than the limit: likely a zip bomb, refused before mammoth reads it. */
export class DocxTooLargeError extends PermanentError {
  override readonly code = 'document_parse_failed';
  constructor(readonly limitBytes: number) {
    super(
      `its archive unpacks to more than INGEST_DOCX_MAX_UNCOMPRESSED_MB (${Math.round(limitBytes / 1048576)} MB); ` +
        `if it is a real document, split it or raise the limit`,
    );
    this.name = 'DocxTooLargeError';
  }
}

/** 200 MB: far above the text and styles of any real document. */
export const DEFAULT_DOCX_MAX_UNCOMPRESSED_BYTES = 200 * 1048576;
