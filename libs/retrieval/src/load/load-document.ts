import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { LoadedDocument } from '../types';
import { parseHtml } from './load-html';
import { parseMarkdown, type ParsedText } from './load-markdown';
import { parseText } from './load-text';

const PARSERS: Record<string, (text: string) => ParsedText> = {
  '.md': parseMarkdown,
  '.markdown': parseMarkdown,
  '.txt': parseText,
  '.text': parseText,
  '.html': parseHtml,
  '.htm': parseHtml,
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(PARSERS);

export class UnsupportedFormatError extends Error {
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

/** Parses a file's bytes by its extension. `id` is the stable document id. */
export function loadDocument(id: string, bytes: Buffer): LoadedDocument {
  const parse = PARSERS[path.extname(id).toLowerCase()];
  if (!parse) throw new UnsupportedFormatError(id);
  const parsed = parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  const fallbackTitle = path.basename(id, path.extname(id)).replace(/[-_]+/g, ' ');
  return { id, source: id, title: parsed.title?.trim() || fallbackTitle, blocks: parsed.blocks, contentHash: contentHash(bytes) };
}
