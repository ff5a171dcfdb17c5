import type { MessagePort } from 'node:worker_threads';
import type { ChunkOptions } from '../chunk/chunk-document';
import type { Chunk, LoadedDocument } from '../types';

/**
 * One document for a parse thread: plain data, so it can be posted to the
 * thread. Either its bytes, loaded then chunked, or a document already loaded
 * (a rebuild's, put back together from its old chunks), chunked only.
 */
export interface ParseTask {
  docId: string;
  bytes?: Uint8Array;
  document?: LoadedDocument;
  chunking: ChunkOptions;
  docxMaxUncompressedBytes: number;
  /** The thread says "started" on it, so the time budget counts parsing only, not waiting for a thread. */
  started: MessagePort;
}

/** A parser's refusal comes back as data: errors lose their class on the way between threads. */
export type ParseOutcome =
  | { ok: true; chunks: Chunk[] }
  /** `message` for the uploader when the parser explained itself; `detail` (the library's words) for the logs. */
  | { ok: false; message?: string; detail: string };
