import { sentences } from '@rag/llm-client';
import type { Block, Chunk, LoadedDocument } from '../types';

export interface ChunkOptions {
  /** Target chunk size in characters. */
  size: number;
  /** Characters of the previous chunk (whole sentences) repeated at the start of the next one, within a section. */
  overlap: number;
}

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

function packSection(texts: string[], { size, overlap }: ChunkOptions): string[] {
  const pieces = texts.flatMap((t) => splitToFit(t, size));
  const out: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    const separatorLength = current.length > 0 ? 2 : 0;
    if (current.length > 0 && length + separatorLength + piece.length > size) {
      out.push(current.join('\n\n'));
      const carried = tailSentences(current.join('\n\n'), overlap, size - piece.length - 2);
      current = carried ? [carried] : [];
      length = carried.length;
    }
    length += (current.length > 0 ? 2 : 0) + piece.length;
    current.push(piece);
  }
  if (current.length > 0) out.push(current.join('\n\n'));
  return out;
}

/** Whole sentences from the end of `text`, at most `overlap` (and `room`) characters. */
function tailSentences(text: string, overlap: number, room: number): string {
  const limit = Math.min(overlap, room);
  if (limit <= 0) return '';
  // Each sentence with the separator before it, so list items and table rows stay on their own lines.
  const all = text.split(/\n+/).flatMap((line) => sentences(line).map((s, i) => (i === 0 ? '\n' : ' ') + s));
  let tail = '';
  for (let i = all.length - 1; i >= 0; i--) {
    const next = all[i] + tail;
    if (next.length - 1 > limit) break;
    tail = next;
  }
  return tail.slice(1);
}

function splitToFit(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  let current = '';
  // Line by line, so a long list, table or code block keeps its line breaks.
  for (const line of text.split(/\n+/)) {
    sentences(line)
      .flatMap((s) => (s.length <= size ? [s] : splitWords(s, size)))
      .forEach((sentence, i) => {
        if (current && current.length + 1 + sentence.length > size) {
          out.push(current);
          current = sentence;
        } else {
          current = current ? `${current}${i === 0 ? '\n' : ' '}${sentence}` : sentence;
        }
      });
  }
  if (current) out.push(current);
  return out;
}

function splitWords(sentence: string, size: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of sentence.split(/\s+/)) {
    for (let i = 0; i < word.length; i += size) {
      const part = word.slice(i, i + size);
      if (current && current.length + 1 + part.length > size) {
        out.push(current);
        current = part;
      } else {
        current = current ? `${current} ${part}` : part;
      }
    }
  }
  if (current) out.push(current);
  return out;
}
