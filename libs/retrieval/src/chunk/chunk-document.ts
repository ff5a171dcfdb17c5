import { sentences } from '@rag/core';
import type { Block, Chunk, LoadedDocument } from '../types';
import { tokenCount } from './token-count';

export interface ChunkOptions {
  /** Largest chunk, in `unit`s. */
  size: number;
  /** How much of the previous chunk (whole sentences) is repeated at the start of the next one, within a section. */
  overlap: number;
  /**
   * What `size` and `overlap` count: characters by default; ingestion counts
   * tokens (see `tokenCount`). A name, not a function, so the options can be
   * sent to a parse thread.
   */
  unit?: 'characters' | 'tokens';
}

type Measure = (text: string) => number;
const MEASURES: Record<NonNullable<ChunkOptions['unit']>, Measure> = { characters: (text) => text.length, tokens: tokenCount };

/**
 * Structure-aware chunking: a chunk never spans two sections (heading paths)
 * or two pages;
 * within a section, paragraphs are packed up to `size`, a paragraph that is
 * too large is split into sentences, and a sentence that is too large into
 * words. Consecutive chunks of one section share `overlap` characters.
 */
export function chunkDocument(doc: LoadedDocument, options: ChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sections(doc.blocks)) {
    for (const text of packSection(section.texts, options)) {
      const position = chunks.length;
      chunks.push({
        id: `${doc.id}#${position}`,
        docId: doc.id,
        source: doc.source,
        title: doc.title,
        heading: section.headings.join(' > '),
        position,
        text,
        contentHash: doc.contentHash,
        ...(section.page !== undefined ? { page: section.page } : {}),
      });
    }
  }
  return chunks;
}

function sections(blocks: Block[]): { headings: string[]; page?: number; texts: string[] }[] {
  const out: { headings: string[]; page?: number; texts: string[] }[] = [];
  for (const block of blocks) {
    const last = out[out.length - 1];
    if (last && last.page === block.page && sameHeadings(last.headings, block.headings)) last.texts.push(block.text);
    else out.push({ headings: block.headings, page: block.page, texts: [block.text] });
  }
  return out;
}

function sameHeadings(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

function packSection(texts: string[], { size, overlap, unit = 'characters' }: ChunkOptions): string[] {
  const measure = MEASURES[unit];
  const separator = measure('\n\n');
  const pieces = texts.flatMap((t) => splitToFit(t, size, measure)).map((text) => ({ text, size: measure(text) }));
  const out: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (current.length > 0 && length + separator + piece.size > size) {
      out.push(current.join('\n\n'));
      const carried = tailSentences(current.join('\n\n'), overlap, size - piece.size - separator, measure);
      current = carried ? [carried] : [];
      length = carried ? measure(carried) : 0;
    }
    length += (current.length > 0 ? separator : 0) + piece.size;
    current.push(piece.text);
  }
  if (current.length > 0) out.push(current.join('\n\n'));
  return out;
}

/** Whole sentences from the end of `text`, at most `overlap` (and `room`) in size. */
function tailSentences(text: string, overlap: number, room: number, measure: Measure): string {
  const limit = Math.min(overlap, room);
  if (limit <= 0) return '';
  // Each sentence with the separator before it, so list items and table rows stay on their own lines.
  const all = text.split(/\n+/).flatMap((line) => sentences(line).map((s, i) => (i === 0 ? '\n' : ' ') + s));
  let tail = '';
  let used = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const cost = measure(all[i].slice(1)) + (tail ? 1 : 0);
    if (used + cost > limit) break;
    tail = all[i] + tail;
    used += cost;
  }
  return tail.slice(1);
}

function splitToFit(text: string, size: number, measure: Measure): string[] {
  if (measure(text) <= size) return [text];
  const out: string[] = [];
  let current = '';
  let used = 0;
  // Line by line, so a long list, table or code block keeps its line breaks.
  for (const line of text.split(/\n+/)) {
    sentences(line)
      .flatMap((s) => (measure(s) <= size ? [s] : splitWords(s, size, measure)))
      .forEach((sentence, i) => {
        const cost = measure(sentence);
        if (current && used + 1 + cost > size) {
          out.push(current);
          current = sentence;
          used = cost;
        } else {
          current = current ? `${current}${i === 0 ? '\n' : ' '}${sentence}` : sentence;
          used += (used > 0 ? 1 : 0) + cost;
        }
      });
  }
  if (current) out.push(current);
  return out;
}

function splitWords(sentence: string, size: number, measure: Measure): string[] {
  const out: string[] = [];
  let current = '';
  let used = 0;
  for (const word of sentence.split(/\s+/)) {
    // A word longer than the limit is cut every `size` characters: a token is at least one character.
    // Pieces of one word are put back together without a space.
    for (let i = 0; i < word.length; i += size) {
      const part = word.slice(i, i + size);
      const joint = i === 0 ? ' ' : '';
      const cost = measure(part);
      if (current && used + joint.length + cost > size) {
        out.push(current);
        current = part;
        used = cost;
      } else {
        current = current ? `${current}${joint}${part}` : part;
        used += (used > 0 ? joint.length : 0) + cost;
      }
    }
  }
  if (current) out.push(current);
  return out;
}
