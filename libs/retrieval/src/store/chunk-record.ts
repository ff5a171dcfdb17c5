import type { Chunk } from '../types';

/** A chunk's fields as both stores keep them (a LanceDB row, a Qdrant payload); the id field differs. */
export interface ChunkFields {
  doc_id: string;
  source: string;
  title: string;
  heading: string;
  position: number;
  text: string;
  content_hash: string;
}

export function chunkFields(c: Chunk): ChunkFields {
  return { doc_id: c.docId, source: c.source, title: c.title, heading: c.heading, position: c.position, text: c.text, content_hash: c.contentHash };
}

export function chunkFromFields(fields: Record<string, unknown>, id: unknown): Chunk {
  return {
    id: String(id),
    docId: String(fields.doc_id),
    source: String(fields.source),
    title: String(fields.title ?? ''),
    heading: String(fields.heading ?? ''),
    position: Number(fields.position),
    text: String(fields.text),
    contentHash: String(fields.content_hash),
  };
}
