import { PermanentError } from '@rag/core';

/** A document its parser refused or could not finish within its budget: retrying cannot help. */
export class DocumentParseError extends PermanentError {
  override readonly code = 'document_parse_failed';
  constructor(
    readonly docId: string,
    reason: string,
  ) {
    super(`${docId}: ${reason}`);
    this.name = 'DocumentParseError';
  }
}
