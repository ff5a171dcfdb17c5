import { lastUserText, type ChatRequestBody } from './chat-request';
import { condensedReply } from './condensed-reply';
import { contentWords, firstSentence } from './text-terms';

export const NO_PASSAGES_REPLY = "I don't know based on the provided documents.";

export interface NumberedPassage {
  n: number;
  text: string;
  /** A `(source | title)` line right after the marker, kept out of the answer but used for matching. */
  heading?: string;
}

const PASSAGE_START = /^\s*\[(\d+)\]\s?(.*)$/;
const QUESTION_LINE = /^\s*question\s*:/i;
/** A lone tag such as `</documents>` closes a passage. */
const TAG_LINE = /^\s*<\/?[\w-]+>\s*$/;
const HEADING = /^\(.*\)$/;

/**
 * The default reply: an answer that looks grounded. Takes the last user
 * message's `[n] ...` passages, picks the one sharing most words with the
 * question (on a tie, the one listed first, usually the better-ranked) and
 * answers with its first sentence and a citation: `<sentence> [n]`. A
 * request to condense a follow-up question gets condensedReply's rewrite.
 */
export function groundedReply(body: ChatRequestBody): string {
  const condensed = condensedReply(body);
  if (condensed !== undefined) return condensed;
  const prompt = lastUserText(body);
  const { passages, rest } = parsePassages(prompt);
  if (passages.length === 0) return NO_PASSAGES_REPLY;
  const question = new Set(contentWords(questionText(prompt) ?? (rest.trim() || prompt)));
  let best = passages[0];
  let bestScore = -1;
  for (const passage of passages) {
    const shared = new Set(contentWords(`${passage.heading ?? ''} ${passage.text}`));
    const score = [...question].filter((w) => shared.has(w)).length;
    if (score > bestScore) {
      best = passage;
      bestScore = score;
    }
  }
  return `${firstSentence(best.text)} [${best.n}]`;
}

// The worker's fenced form: `<documents-B>`, then `<passage-B n="2" from="...">` ... `</passage-B>` blocks (see buildGroundedPrompt).
const DOCUMENTS_OPEN = /<documents-([0-9a-f]{8,})>/;

/**
 * The passages of a prompt, fenced (the worker's form, read as a model told
 * the boundary would: only tags carrying the boundary of the `<documents-B>`
 * block count) or plain (`[n] ...` lines; see parsePlainPassages).
 */
export function parsePassages(prompt: string): { passages: NumberedPassage[]; rest: string } {
  const boundary = DOCUMENTS_OPEN.exec(prompt)?.[1];
  return boundary ? parseFencedPassages(prompt, boundary) : parsePlainPassages(prompt);
}

/** Every `<passage-B ...>` block of the `<documents-B>` block, in order; `rest` is the text outside the block. */
export function parseFencedPassages(prompt: string, boundary: string): { passages: NumberedPassage[]; rest: string } {
  const start = prompt.indexOf(`<documents-${boundary}>`);
  const closing = `</documents-${boundary}>`;
  const end = prompt.indexOf(closing, start);
  const block = prompt.slice(start, end < 0 ? prompt.length : end);
  const rest = prompt.slice(0, start) + (end < 0 ? '' : prompt.slice(end + closing.length));
  const passages: NumberedPassage[] = [];
  const open = new RegExp(`<passage-${boundary} n="(\\d+)"(?: from="([^"]*)")?>\\n`, 'g');
  for (const match of block.matchAll(open)) {
    const bodyStart = (match.index ?? 0) + match[0].length;
    const bodyEnd = block.indexOf(`</passage-${boundary}>`, bodyStart);
    const text = block
      .slice(bodyStart, bodyEnd < 0 ? block.length : bodyEnd)
      .replace(/\s+/g, ' ')
      .trim();
    if (text) passages.push({ n: Number(match[1]), text, ...(match[2] ? { heading: match[2] } : {}) });
  }
  return { passages, rest };
}

/**
 * Passages are blocks that start with a line beginning `[n]` and run until a
 * blank line, the next `[n]` line, a `Question:` line or a lone tag line
 * (`</documents>`). When the `[n]` line holds only `(...)` and text follows,
 * that is the heading. `rest` is every line outside passages.
 */
export function parsePlainPassages(prompt: string): { passages: NumberedPassage[]; rest: string } {
  const passages: NumberedPassage[] = [];
  const rest: string[] = [];
  let current: { n: number; lines: string[] } | undefined;
  const flush = () => {
    if (current) {
      const lines = current.lines.map((l) => l.trim());
      const heading = lines.length > 1 && HEADING.test(lines[0]) ? lines.shift() : undefined;
      const text = lines.join(' ').replace(/\s+/g, ' ').trim();
      if (text) passages.push({ n: current.n, text, ...(heading ? { heading: heading.slice(1, -1) } : {}) });
    }
    current = undefined;
  };
  for (const line of prompt.split(/\r?\n/)) {
    const start = PASSAGE_START.exec(line);
    if (start) {
      flush();
      current = { n: Number(start[1]), lines: [start[2]] };
    } else if (current && line.trim() !== '' && !QUESTION_LINE.test(line) && !TAG_LINE.test(line)) {
      current.lines.push(line);
    } else {
      flush();
      rest.push(line);
    }
  }
  flush();
  return { passages, rest: rest.join('\n') };
}

/** The text after the last line starting with `Question:`, if any. */
function questionText(prompt: string): string | undefined {
  const lines = prompt.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (QUESTION_LINE.test(lines[i])) return [lines[i].replace(QUESTION_LINE, ''), ...lines.slice(i + 1)].join('\n');
  }
  return undefined;
}
