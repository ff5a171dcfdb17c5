import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { PermanentError } from '@rag/core';
import type { LoadedDocument } from '../types';
import { parseMarkdown, type ParsedText } from './load-markdown';
import { parseText } from './load-text';

export interface LoadOptions {
  /** A DOCX whose archive unpacks to more is refused (zip bombs). */
  docxMaxUncompressedBytes?: number;
}

type HeavyParsers = typeof import('./heavy-parsers');
let heavy: HeavyParsers | undefined;

/**
 * The heavy parsers (cheerio, pdf.js, mammoth) are loaded on first use, so a
 * process that never parses such a file (the gateway, a worker's main thread
 * beside its parse threads) never loads them. A parse thread run from source
 * hands them over at start instead (parse-thread-source.ts): its TypeScript
 * loader (tsx's CJS hook) cannot resolve a dynamic import.
 */
export function useParsers(parsers: HeavyParsers): void {
  heavy = parsers;
}

async function heavyParsers(): Promise<HeavyParsers> {
  heavy ??= await import('./heavy-parsers');
  return heavy;
}

/** Text formats: decoded as UTF-8 (a byte-order mark dropped) and parsed. */
const fromText =
  (parse: (text: string) => ParsedText) =>
  async (bytes: Buffer): Promise<ParsedText> =>
    parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));

const html = async (bytes: Buffer): Promise<ParsedText> => fromText((await heavyParsers()).parseHtml)(bytes);

const PARSERS: Record<string, (bytes: Buffer, options: LoadOptions) => Promise<ParsedText>> = {
  '.md': fromText(parseMarkdown),
  '.markdown': fromText(parseMarkdown),
  '.txt': fromText(parseText),
  '.text': fromText(parseText),
  '.html': html,
  '.htm': html,
  '.pdf': async (bytes) => (await heavyParsers()).parsePdf(bytes),
  '.docx': async (bytes, options) => (await heavyParsers()).parseDocx(bytes, options.docxMaxUncompressedBytes),
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(PARSERS);

export class UnsupportedFormatError extends PermanentError {
  override readonly code = 'unsupported_format';
  constructor(readonly source: string) {
    super(`${source}: unsupported file type; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
    this.name = 'UnsupportedFormatError';
  }
}

export function isSupported(file: string): boolean {
  return path.extname(file).toLowerCase() in PARSERS;
}

export function contentHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Parses a file's bytes by its extension. `id` is the stable document id.
 * Parsers are CPU-bound and some inputs make them slow: outside tests, call
 * this only inside a parse thread (ParsePool).
 */
export async function loadDocument(id: string, bytes: Buffer, options: LoadOptions = {}): Promise<LoadedDocument> {
  const parse = PARSERS[path.extname(id).toLowerCase()];
  if (!parse) throw new UnsupportedFormatError(id);
  const parsed = await parse(bytes, options);
  const fallbackTitle = path.basename(id, path.extname(id)).replace(/[-_]+/g, ' ');
  return { id, source: id, title: parsed.title?.trim() || fallbackTitle, blocks: parsed.blocks, contentHash: contentHash(bytes) };
}
