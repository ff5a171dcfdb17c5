import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsPlainText } from './chat-request.dto';
import { Limits } from './limits';
import { IsJobSignature, IsName, IsRequestId, IsRunId } from './payload-fields';

/**
 * The data of one `rag-ingest` job: one document to load. The bytes are not
 * in the job (they would bloat every job listing); they wait in Redis under a
 * key of their own (run, document; libs/jobs IngestContent) until a worker
 * has loaded the document or it has failed for good.
 */
export class IngestJobPayload {
  /** The run this document belongs to; progress and failures are counted there. */
  @IsRunId()
  run_id!: string;

  @IsName('tenant')
  tenant!: string;

  @IsName('collection')
  collection!: string;

  /** Stable document id: its path relative to the folder loaded, or the uploaded file's name. */
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.docIdMaxChars)
  @IsPlainText()
  doc_id!: string;

  /** sha256 of the bytes, hex: the worker checks the bytes against it and skips a document stored with the same hash. */
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'content_hash must be a sha256 in hex' })
  content_hash!: string;

  @IsInt()
  @Min(0)
  bytes!: number;

  /**
   * A rebuild (reindex) of the collection: the document is read from this
   * version's chunks instead of bytes, and written to `rebuild_to`. Both or neither.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.collectionVersionMax)
  rebuild_from?: number;

  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(Limits.collectionVersionMax)
  rebuild_to?: number;

  @IsOptional()
  @IsRequestId()
  request_id?: string;

  /** The producer's HMAC of the job (see IsJobSignature). */
  @IsJobSignature()
  signature?: string;
}

/**
 * The delayed job that drops the version of a collection a reindex replaced,
 * once its grace period is over (on the `rag-ingest` queue).
 */
export class DropVersionPayload {
  @IsRunId()
  run_id!: string;

  @IsName('tenant')
  tenant!: string;

  @IsName('collection')
  collection!: string;

  @IsInt()
  @Min(1)
  @Max(Limits.collectionVersionMax)
  version!: number;

  /** The producer's HMAC of the job (see IsJobSignature). */
  @IsJobSignature()
  signature?: string;
}
