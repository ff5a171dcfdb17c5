import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { LoadedDocument } from '../types';
import { parseDocx } from './load-docx';
import { parseHtml } from './load-html';
import { parseMarkdown, type ParsedText } from './load-markdown';
import { parsePdf } from './load-pdf';
import { parseText } from './load-text';

/** Text formats: decoded as UTF-8 (a byte-order mark dropped) and parsed. */
const fromText =
  (parse: (text: string) => ParsedText) =>
  async (bytes: Buffer): Promise<ParsedText> =>
    parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));

const PARSERS: Record<string, (bytes: Buffer) => Promise<ParsedText>> = {
  '.md': fromText(parseMarkdown),
  '.markdown': fromText(parseMarkdown),
  '.txt': fromText(parseText),
  '.text': fromText(parseText),
  '.html': fromText(parseHtml),
  '.htm': fromText(parseHtml),
  '.pdf': parsePdf,
  '.docx': parseDocx,
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(PARSERS);

export class UnsupportedFormatError extends Error {
  constructor(readonly source: string) {
    super(`${source}: unsupported file type; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
    this.name = 'UnsupportedFormatError';
  }

  get publicMessage(): string {
    return this.message;
  }
}

export function isSupported(file: string): boolean {
  return path.extname(file).toLowerCase() in PARSERS;
}

export function contentHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses a file's bytes by its extension. `id` is the stable document id. */
export async function loadDocument(id: string, bytes: Buffer): Promise<LoadedDocument> {
  const parse = PARSERS[path.extname(id).toLowerCase()];
  if (!parse) throw new UnsupportedFormatError(id);
  const parsed = await parse(bytes);
  const fallbackTitle = path.basename(id, path.extname(id)).replace(/[-_]+/g, ' ');
  return { id, source: id, title: parsed.title?.trim() || fallbackTitle, blocks: parsed.blocks, contentHash: contentHash(bytes) };
}
