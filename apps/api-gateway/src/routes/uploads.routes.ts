import { IngestRuns, type ContentRef } from '@rag/jobs';
import { Limits } from '@rag/queue-contracts';
import { SUPPORTED_EXTENSIONS, contentHash, isSupported } from '@rag/retrieval';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { collectionName } from '../http/params';
import { queueCall } from '../http/queue-unavailable';
import { versionedStoreCall } from '../http/store-call';

/** Files one upload request may carry. */
export const MAX_UPLOAD_FILES = 100;

interface Received {
  doc_id: string;
  content_hash: string;
  bytes: number;
}

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const BAD_DOC_ID = /[\u0000-\u001f\u007f\\]|^\/|(^|\/)\.\.?(\/|$)/;

/** A document id from the uploaded file's name: a relative path such as `guides/setup.md`. */
function docIdOf(filename: string | undefined): string {
  const id = (filename ?? '').normalize('NFC');
  if (!id || id.length > Limits.docIdMaxChars || BAD_DOC_ID.test(id)) {
    throw new HttpError(
      400,
      'invalid_document_id',
      `each file needs a name (the document id): 1-${Limits.docIdMaxChars} characters, a relative path without "..", "\\" or control characters`,
    );
  }
  if (!isSupported(id)) throw new HttpError(400, 'unsupported_file_type', `${id}: unsupported file type; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
  return id;
}

/** What an upload may hold and put in Redis. */
interface UploadLimits {
  tenant: string;
  runId: string;
  /** Each file (INGEST_MAX_DOCUMENT_BYTES). */
  documentBytes: number;
  /** All files together (INGEST_MAX_UPLOAD_BYTES). */
  uploadBytes: number;
  /** The tenant's bytes waiting in Redis, this upload included (INGEST_MAX_PENDING_BYTES_PER_TENANT). */
  pendingBytes: number;
}

/** How long a client refused for its backlog should wait: workers free bytes as they load documents. */
const BACKLOG_RETRY_SECONDS = 30;

function backlogFull(pending: number, limit: number): HttpError {
  return new HttpError(
    429,
    'tenant_ingest_backlog',
    `your tenant already has ${pending} bytes of uploaded documents waiting for the workers (limit ${limit}, INGEST_MAX_PENDING_BYTES_PER_TENANT); ` +
      'wait for your runs to finish (GET /v1/ingest-runs/:id), then retry after the Retry-After delay, or send fewer or smaller files',
    { retry_after_seconds: BACKLOG_RETRY_SECONDS, pending_bytes: pending, limit_bytes: limit },
  );
}

/**
 * Reads a multipart upload one file at a time (never more than one file in
 * memory, each at most `documentBytes`, all together at most `uploadBytes`),
 * storing each file's bytes in Redis as it completes, within the tenant's
 * pending bytes. Anything wrong refuses the whole request before a single job
 * is queued, and deletes the bytes already stored before answering.
 */
function receiveFiles(req: Request, runs: IngestRuns, limits: UploadLimits): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // preservePath: a file named guides/setup.md keeps its folder in its document id.
      // fileSize + 1: busboy reports 'limit' on reaching fileSize, and a file of exactly the limit is allowed.
      parser = busboy({
        headers: req.headers,
        preservePath: true,
        limits: { fileSize: limits.documentBytes + 1, files: MAX_UPLOAD_FILES, fields: 20, fieldSize: 1024, parts: MAX_UPLOAD_FILES + 20 },
      });
    } catch {
      reject(new HttpError(400, 'invalid_multipart', 'the multipart body has no boundary; send files as multipart/form-data'));
      return;
    }
    const received: Received[] = [];
    const stored: ContentRef[] = [];
    let total = 0;
    let failed: unknown;
    let pending = Promise.resolve();
    // The first problem answers (once the bytes stored so far are deleted); the rest of the body is read and dropped.
    const fail = (error: unknown) => {
      if (failed) return;
      failed = error;
      req.unpipe(parser);
      req.resume();
      void pending
        .then(() => runs.dropContent(stored))
        .catch(() => undefined) // what is left expires with its TTL and leaves the tenant's count then
        .then(() => reject(error));
    };
    parser.on('file', (_field, stream, info) => {
      let docId: string;
      try {
        docId = docIdOf(info.filename);
      } catch (error) {
        stream.resume();
        return fail(error);
      }
      const chunks: Buffer[] = [];
      // A body cut short errors the file stream itself; unhandled, that would take the process down.
      stream.on('error', () => fail(new HttpError(400, 'invalid_multipart', 'the multipart body ended in the middle of a file; send it again')));
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limits.uploadBytes) {
          return fail(
            new HttpError(
              413,
              'upload_too_large',
              `the files of this upload are larger than ${limits.uploadBytes} bytes together; send them in several uploads`,
            ),
          );
        }
        chunks.push(c);
      });
      stream.on('limit', () =>
        fail(
          new HttpError(
            413,
            'document_too_large',
            `${docId} is larger than ${limits.documentBytes} bytes (INGEST_MAX_DOCUMENT_BYTES); split it or ask the operator to raise the limit`,
          ),
        ),
      );
      stream.on('end', () => {
        if (failed) return;
        const bytes = Buffer.concat(chunks);
        if (received.some((r) => r.doc_id === docId))
          return fail(new HttpError(400, 'duplicate_document', `${docId} appears twice in the upload; send each document once`));
        const file: Received = { doc_id: docId, content_hash: contentHash(bytes), bytes: bytes.length };
        received.push(file);
        const ref: ContentRef = { tenant: limits.tenant, run_id: limits.runId, doc_id: docId };
        pending = pending
          .then(async () => {
            if (failed) return;
            const check = await runs.putContent(ref, bytes, limits.pendingBytes);
            if (!check.stored) throw backlogFull(check.pending, limits.pendingBytes);
            stored.push(ref);
          })
          .catch(fail);
      });
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'too_many_files', `at most ${MAX_UPLOAD_FILES} files per upload; send the rest in another request`)));
    parser.on('partsLimit', () => fail(new HttpError(400, 'too_many_parts', 'the upload has too many parts')));
    parser.on('error', () => fail(new HttpError(400, 'invalid_multipart', 'the multipart body could not be read; send files as multipart/form-data')));
    parser.on('close', () => {
      void pending.then(() => {
        if (failed) return;
        if (received.length === 0) fail(new HttpError(400, 'no_files', 'the upload holds no file; send one or more files as multipart/form-data'));
        else resolve(received);
      });
    });
    req.on('aborted', () => fail(new HttpError(400, 'request_aborted', 'request was aborted by the client')));
    req.pipe(parser);
  });
}

/**
 * `POST /v1/collections/:name/documents`: uploads files for ingestion through
 * the same queue as `rag-ingest --via-queue` (one job per document, loaded by
 * the workers), into the caller's tenant's collection. Answers 202 with the
 * run; `GET /v1/ingest-runs/:id` follows it.
 */
export function uploadRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const runs = new IngestRuns(deps.ingestQueue.client, deps.config.QUEUE_PREFIX, deps.config.JOB_RETENTION_SECONDS);

  router.post('/v1/collections/:name/documents', requireScope('ingest'), async (req, res) => {
    const collection = collectionName(req.params.name);
    if (!req.is('multipart/form-data')) {
      throw new HttpError(415, 'unsupported_media_type', 'send documents as multipart/form-data, one file part per document (curl -F "file=@guide.md")');
    }
    const tenant = req.principal.tenant;
    const runId = randomUUID();
    const limits: UploadLimits = {
      tenant,
      runId,
      documentBytes: deps.config.INGEST_MAX_DOCUMENT_BYTES,
      // An upload larger than the tenant may have pending could never be taken: 413, not a 429 for ever.
      uploadBytes: Math.min(deps.config.INGEST_MAX_UPLOAD_BYTES, deps.config.INGEST_MAX_PENDING_BYTES_PER_TENANT),
      pendingBytes: deps.config.INGEST_MAX_PENDING_BYTES_PER_TENANT,
    };
    // A collection being rebuilt takes no documents until it has switched (409 reindex_in_progress).
    await versionedStoreCall(() => deps.store.assertWritable(tenant, collection));
    // A tenant whose backlog is already full is told before it sends a byte more.
    const already = await queueCall(() => runs.pendingBytes(tenant));
    if (already >= limits.pendingBytes) throw backlogFull(already, limits.pendingBytes);
    const files = await queueCall(() => receiveFiles(req, runs, limits));
    try {
      await queueCall(async () => {
        await runs.create({ run_id: runId, tenant, collection, queued: files.length, unchanged: 0, created_at: new Date().toISOString() });
        await deps.documents.enqueue(files.map((file) => ({ run_id: runId, tenant, collection, ...file, request_id: req.requestId })));
      });
    } catch (error) {
      // No job will read them; if Redis is down they expire with their TTL instead.
      await runs.dropContent(files.map((f) => ({ tenant, run_id: runId, doc_id: f.doc_id }))).catch(() => undefined);
      throw error;
    }
    deps.metrics.jobs.enqueued.inc({ queue: deps.ingestQueue.name }, files.length);
    deps.logger.info('documents queued for ingestion', { run_id: runId, collection, tenant, documents: files.length });
    const statusUrl = `/v1/ingest-runs/${runId}`;
    res.status(202).location(statusUrl).json({ run_id: runId, status: 'queued', status_url: statusUrl, collection, documents: files });
  });

  router.get('/v1/ingest-runs/:id', requireScope('ingest'), async (req, res) => {
    const id = req.params.id;
    const notFound = new HttpError(404, 'run_not_found', 'no such ingest run; runs are kept for the retention period');
    if (typeof id !== 'string' || !Limits.runIdPattern.test(id)) throw notFound;
    const status = await queueCall(() => runs.get(id));
    // Another tenant's run is the same 404 as an unknown one.
    if (!status || status.tenant !== req.principal.tenant) throw notFound;
    const { tenant: _tenant, ...view } = status;
    res.json(view);
  });
  return router;
}
