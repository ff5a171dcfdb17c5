import { chunkDocument } from '../chunk/chunk-document';
import { loadDocument } from '../load/load-document';
import { DocxTooLargeError, UnreadableDocxError, UnreadablePdfError } from '../load/load-errors';
import type { ParseOutcome, ParseTask } from './parse-task';

/** Refusals written for the uploader; any other error is a parser's own text and is only logged. */
const EXPLAINED = [UnreadablePdfError, UnreadableDocxError, DocxTooLargeError];

/**
 * The entry of a parse thread (see ParsePool): loads and chunks one
 * document (or only chunks one already loaded). Built apps ship it as its
 * own file beside main.cjs.
 */
export default async function parseInThread(task: ParseTask): Promise<ParseOutcome> {
  task.started.postMessage('started');
  task.started.close();
  try {
    if (task.document) return { ok: true, chunks: chunkDocument(task.document, task.chunking) };
    if (!task.bytes) throw new Error('a parse task carries either bytes or a loaded document');
    const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    const doc = await loadDocument(task.docId, bytes, { docxMaxUncompressedBytes: task.docxMaxUncompressedBytes });
    return { ok: true, chunks: chunkDocument(doc, task.chunking) };
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const explained = EXPLAINED.some((kind) => error instanceof kind);
    return { ok: false, message: explained ? (error as Error).message : undefined, detail };
  }
}
