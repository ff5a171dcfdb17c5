import type { Block, Chunk, LoadedDocument } from '../types';

/** How chunkDocument joins the pieces of one chunk; the overlap carried from the previous chunk is always the first piece. */
const PIECE_SEPARATOR = '\n\n';
/** How chunkDocument joins a heading path. */
const HEADING_SEPARATOR = ' > ';

const normalized = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * The text of `next` without what it repeats of `previous` (chunkDocument's
 * overlap). The overlap is whole sentences from the end of the previous chunk
 * of the same section, carried as the first piece of the next one, before its
 * first "\n\n", with line breaks between paragraphs made single: so that
 * piece, compared with whitespace made uniform, ends the previous chunk.
 */
export function withoutOverlap(previous: string, next: string): string {
  const cut = next.indexOf(PIECE_SEPARATOR);
  if (cut <= 0) return next;
  const carried = normalized(next.slice(0, cut));
  const before = normalized(previous);
  if (carried.length === 0 || !before.endsWith(carried)) return next;
  // A whole match only: the carried text starts a sentence of the previous chunk, not the middle of a word.
  const at = before.length - carried.length;
  if (at > 0 && before[at - 1] !== ' ') return next;
  return next.slice(cut + PIECE_SEPARATOR.length);
}

/**
 * A document as its stored chunks hold it, for rebuilding the collection with
 * other chunking or another embedder: its id, source, title and content hash
 * as loaded (so a later load of the same file still finds it unchanged), one
 * block per paragraph, under each chunk's heading path and page, in order,
 * with each chunk's overlap with the previous one removed.
 *
 * What is lost: the original bytes are not kept, so formatting the parser
 * dropped stays dropped (this is the text that was embedded). A paragraph
 * that was too large for one chunk and split at sentences comes back as
 * several paragraphs. An overlap is recognised by its text: when a chunk's
 * first paragraph repeats the end of the previous chunk word for word
 * without being an overlap, that repetition is dropped once.
 */
export function reassembleDocument(chunks: readonly Chunk[]): LoadedDocument {
  if (chunks.length === 0) throw new Error('a document needs at least one chunk to be reassembled');
  const ordered = [...chunks].sort((a, b) => a.position - b.position);
  const first = ordered[0];
  const blocks: Block[] = [];
  let previous: Chunk | undefined;
  for (const chunk of ordered) {
    const sameSection = previous !== undefined && previous.heading === chunk.heading && previous.page === chunk.page;
    const text = previous && sameSection ? withoutOverlap(previous.text, chunk.text) : chunk.text;
    const headings = chunk.heading ? chunk.heading.split(HEADING_SEPARATOR) : [];
    for (const paragraph of text.split(PIECE_SEPARATOR)) {
      if (!paragraph.trim()) continue;
      blocks.push({ headings, text: paragraph, ...(chunk.page !== undefined ? { page: chunk.page } : {}) });
    }
    previous = chunk;
  }
  return { id: first.docId, source: first.source, title: first.title, blocks, contentHash: first.contentHash };
}
