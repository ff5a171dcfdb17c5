import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ChunkOptions } from '../chunk/chunk-document';
import { UnsupportedFormatError, isSupported } from '../load/load-document';
import { DEFAULT_DOCX_MAX_UNCOMPRESSED_BYTES } from '../load/load-errors';
import type { Chunk, LoadedDocument } from '../types';
import { DocumentParseError } from './document-parse-error';
import type { ParseOutcome, ParseTask } from './parse-task';
import { parseThreadEntry, type ParseThreadEntry } from './parse-thread-file';

export interface ParsePoolOptions {
  /** Threads parsing at once (INGEST_PARSE_THREADS). */
  threads?: number;
  /** Time one document may take to parse and chunk (INGEST_PARSE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** A thread's heap (INGEST_PARSE_MAX_MB). */
  maxHeapMb?: number;
  /** A DOCX whose archive unpacks to more is refused (INGEST_DOCX_MAX_UNCOMPRESSED_MB). */
  docxMaxUncompressedMb?: number;
  /** Where a parser's own error text goes (logs only; it never reaches the uploader). */
  onParserError?: (docId: string, detail: string) => void;
  /** The thread's entry; found by `parseThreadEntry()` unless given (tests give a broken one). */
  entry?: ParseThreadEntry;
}

/** Parses documents. The apps' one is a ParsePool; the interface lets callers depend on the job, not the threads. */
export interface DocumentParser {
  parse(docId: string, bytes: Buffer, chunking: ChunkOptions, signal?: AbortSignal): Promise<Chunk[]>;
  /** The chunks of a document already loaded (a rebuild's), off the event loop like parsing. */
  rechunk(doc: LoadedDocument, chunking: ChunkOptions, signal?: AbortSignal): Promise<Chunk[]>;
}

const DEFAULTS = { threads: 1, timeoutMs: 60_000, maxHeapMb: 512, docxMaxUncompressedMb: DEFAULT_DOCX_MAX_UNCOMPRESSED_BYTES / 1048576 };

/**
 * Loads and chunks documents in worker threads, so no parser runs on the
 * event loop: a hostile file (quadratic Markdown, a zip bomb, a million
 * nested tags) costs one thread its budget and then fails by name, while
 * the process keeps answering questions and renewing its Bull locks. Over
 * time or memory, the thread is terminated and replaced. Threads start on
 * first use and stay warm (idle, they do not hold a process open);
 * `close()` them on shutdown.
 */
export class ParsePool implements DocumentParser {
  private readonly settings: Required<Omit<ParsePoolOptions, 'onParserError' | 'entry'>>;
  private pool?: Piscina<ParseTask, ParseOutcome>;
  private closed = false;

  constructor(private readonly options: ParsePoolOptions = {}) {
    this.settings = {
      threads: options.threads ?? DEFAULTS.threads,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxHeapMb: options.maxHeapMb ?? DEFAULTS.maxHeapMb,
      docxMaxUncompressedMb: options.docxMaxUncompressedMb ?? DEFAULTS.docxMaxUncompressedMb,
    };
  }

  /**
   * The document's chunks. Fails with a DocumentParseError (permanent) when
   * the parser refuses the file or the thread runs over its budget; with
   * `signal`'s reason when the caller gives up first.
   */
  async parse(docId: string, bytes: Buffer, chunking: ChunkOptions, signal?: AbortSignal): Promise<Chunk[]> {
    if (!isSupported(docId)) throw new UnsupportedFormatError(docId);
    const copy = new Uint8Array(bytes);
    return this.run(docId, { bytes: copy }, [copy.buffer as ArrayBuffer], chunking, signal);
  }

  /**
   * The chunks of a document already loaded (a rebuild puts it back together
   * from its old chunks), cut in a thread with the same budgets as parse: a
   * huge document holds up no question the process answers meanwhile.
   */
  async rechunk(doc: LoadedDocument, chunking: ChunkOptions, signal?: AbortSignal): Promise<Chunk[]> {
    return this.run(doc.id, { document: doc }, [], chunking, signal);
  }

  private async run(
    docId: string,
    input: Pick<ParseTask, 'bytes' | 'document'>,
    transfer: ArrayBuffer[],
    chunking: ChunkOptions,
    signal?: AbortSignal,
  ): Promise<Chunk[]> {
    signal?.throwIfAborted();
    const { port1, port2 } = new MessageChannel();
    const stop = new AbortController();
    let started = false;
    let overBudget = false;
    let timer: NodeJS.Timeout | undefined;
    // The budget starts when a thread takes the document, not while it waits for one.
    port1.once('message', () => {
      started = true;
      timer = setTimeout(() => {
        overBudget = true;
        stop.abort();
      }, this.settings.timeoutMs);
    });
    const giveUp = () => stop.abort();
    signal?.addEventListener('abort', giveUp, { once: true });
    const task: ParseTask = {
      docId,
      ...input,
      chunking: { size: chunking.size, overlap: chunking.overlap, unit: chunking.unit },
      docxMaxUncompressedBytes: this.settings.docxMaxUncompressedMb * 1048576,
      started: port2,
    };
    let outcome: ParseOutcome;
    try {
      outcome = await this.threads().run(task, { signal: stop.signal, transferList: [port2, ...transfer] });
    } catch (error) {
      if (signal?.aborted && !overBudget) throw signal.reason;
      // A thread that died at once may not have had its "started" read yet: it is queued on the port.
      started ||= receiveMessageOnPort(port1) !== undefined;
      throw this.failure(docId, error, { started, overBudget });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', giveUp);
      port1.close();
    }
    if (outcome.ok) return outcome.chunks;
    if (!outcome.message) this.options.onParserError?.(docId, outcome.detail);
    throw new DocumentParseError(
      docId,
      outcome.message ?? `could not be parsed; check that it is a valid ${formatName(docId)} file, or export it as plain text`,
    );
  }

  /** Why a thread did not return: the document's fault (permanent) only if it was being parsed. */
  private failure(docId: string, error: unknown, at: { started: boolean; overBudget: boolean }): Error {
    const { timeoutMs, maxHeapMb } = this.settings;
    if (at.overBudget)
      return new DocumentParseError(docId, `parsing took longer than INGEST_PARSE_TIMEOUT_MS (${timeoutMs} ms); split the document or raise the limit`);
    if (this.closed) return new Error(`${docId}: not parsed, the parse threads are shutting down; it will be retried`);
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.options.onParserError?.(docId, detail);
    // Before "started", the thread itself failed (its entry, the installation): retrying or another worker may help.
    if (!at.started) return new Error(`${docId}: not parsed, a parse thread could not start; it will be retried (the log says why)`);
    if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new DocumentParseError(docId, `parsing needed more memory than INGEST_PARSE_MAX_MB (${maxHeapMb} MB); split the document or raise the limit`);
    }
    return new DocumentParseError(docId, `the parser stopped on this file; check that it is a valid ${formatName(docId)} file, or export it as plain text`);
  }

  /** Waits for the documents being parsed, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }

  private threads(): Piscina<ParseTask, ParseOutcome> {
    if (this.closed) throw new Error('the parse pool is closed');
    if (!this.pool) {
      const entry = this.options.entry ?? parseThreadEntry();
      this.pool = new Piscina<ParseTask, ParseOutcome>({
        filename: entry.filename,
        execArgv: entry.execArgv,
        env: entry.env,
        // Kept warm, and replaced at once when one is stopped: a new thread takes seconds to load every parser.
        minThreads: this.settings.threads,
        maxThreads: this.settings.threads,
        resourceLimits: { maxOldGenerationSizeMb: this.settings.maxHeapMb },
        // Parsers may leave promises and timers behind; a thread must not sleep on them between tasks.
        atomics: 'disabled',
      });
      // Errors outside any task (a thread dying while idle) must not become uncaught exceptions.
      this.pool.on('error', (error: unknown) => this.options.onParserError?.('(idle thread)', error instanceof Error ? error.message : String(error)));
    }
    return this.pool;
  }
}

function formatName(docId: string): string {
  return path.extname(docId).slice(1).toUpperCase();
}
