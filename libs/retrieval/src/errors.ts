/** Failures that retrying cannot fix; the worker fails such jobs at once. */
export class PermanentError extends Error {
  readonly permanent = true;
}

export class CollectionNotFoundError extends PermanentError {
  constructor(readonly collection: string) {
    super(`collection "${collection}" does not exist; ingest documents into it first (npm run ingest -- <paths> --collection ${collection})`);
    this.name = 'CollectionNotFoundError';
  }
}

export function isPermanent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}
