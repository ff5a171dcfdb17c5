import { IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength } from 'class-validator';
import { IsPlainText } from './chat-request.dto';
import { Limits } from './limits';
import { NAME_PATTERN, nameRuleMessage } from './names';

/**
 * The data of one `rag-ingest` job: one document to load. The bytes are not
 * in the job (they would bloat every job listing); they wait in Redis under a
 * key of their own (run, document; libs/jobs IngestContent) until a worker
 * has loaded the document or it has failed for good.
 */
export class IngestJobPayload {
  /** The run this document belongs to; progress and failures are counted there. */
  @IsString()
  @Matches(Limits.runIdPattern, { message: 'run_id is not a valid run id' })
  run_id!: string;

  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('tenant') })
  tenant!: string;

  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('collection') })
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

  @IsOptional()
  @IsString()
  @Matches(Limits.requestIdPattern, { message: 'request_id is not a valid request id' })
  request_id?: string;

  /**
   * HMAC of the queue name and the rest of the payload (libs/jobs signJob),
   * by the producer that queued it. Workers verify it before anything else
   * and refuse a job without a valid one; optional here so that check, not
   * validation, is what answers.
   */
  @IsOptional()
  @IsString()
  @Matches(Limits.jobSignaturePattern, { message: 'signature is not a job signature' })
  signature?: string;
}
