import type { ParsedText } from './load-markdown';

/** Plain text → one block per paragraph (blank-line separated). */
export function parseText(text: string): ParsedText {
  const blocks = text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.replace(/[ \t]+/g, ' ').trim())
    .filter(Boolean)
    .map((p) => ({ headings: [], text: p }));
  return { blocks };
}
