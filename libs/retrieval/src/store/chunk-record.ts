import type { Chunk, ChunkText } from '../types';

/** A chunk's fields as both stores keep them (a LanceDB row, a Qdrant payload); the id field differs. */
export interface ChunkFields {
  doc_id: string;
  source: string;
  title: string;
  heading: string;
  position: number;
  text: string;
  content_hash: string;
  /** 1-based page; 0 when the format has no pages. */
  page: number;
}

export function chunkFields(c: Chunk): ChunkFields {
  return {
    doc_id: c.docId,
    source: c.source,
    title: c.title,
    heading: c.heading,
    position: c.position,
    text: c.text,
    content_hash: c.contentHash,
    page: c.page ?? 0,
  };
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
    // Absent in rows written before pages were kept.
    ...(Number(fields.page) > 0 ? { page: Number(fields.page) } : {}),
  };
}

/** A chunk's searchable parts from its stored fields. */
export function chunkText(fields: Record<string, unknown>): ChunkText {
  return { title: String(fields.title ?? ''), heading: String(fields.heading ?? ''), text: String(fields.text ?? '') };
}
