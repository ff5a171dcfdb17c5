import type { Chunk } from './types';

/** What is embedded and full-text indexed for a chunk: its place in the document, then its text. */
export function searchableText(chunk: Pick<Chunk, 'title' | 'heading' | 'text'>): string {
  return [chunk.title, chunk.heading, chunk.text].filter(Boolean).join('\n');
}
