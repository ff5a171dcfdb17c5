import { NAME_RULE, isValidName } from '@rag/queue-contracts';
import { PermanentError } from '@rag/core';

/** The tenant of every caller while auth is off, and of data loaded before tenancy. */
export const DEFAULT_TENANT = 'default';

/**
 * Separates tenant and collection in a physical (LanceDB table / Qdrant
 * collection) name. A valid name (isValidName) never holds a '.', so the
 * split is unambiguous: `a.b_c` can only be tenant `a`, collection `b_c`.
 */
const SEPARATOR = '.';

export class InvalidNameError extends PermanentError {
  override readonly code = 'invalid_name';
  constructor(kind: 'tenant' | 'collection', value: string) {
    super(`${kind} ${JSON.stringify(value.slice(0, 80))} is not a valid ${kind} name: use ${NAME_RULE}`);
    this.name = 'InvalidNameError';
  }
}

/** Throws unless `tenant` and `collection` are both valid names (isValidName). */
export function checkNames(tenant: string, collection?: string): void {
  if (!isValidName(tenant)) throw new InvalidNameError('tenant', String(tenant));
  if (collection !== undefined && !isValidName(collection)) {
    throw new InvalidNameError('collection', String(collection));
  }
}

/**
 * The backend's name of a tenant's collection: `<tenant>.<collection>`, except
 * that tenant `default` keeps the bare collection name, so data loaded before
 * tenancy existed stays where it was. Bare names never contain '.', so no
 * other tenant's name can collide with them.
 */
export function physicalName(tenant: string, collection: string): string {
  checkNames(tenant, collection);
  return tenant === DEFAULT_TENANT ? collection : `${tenant}${SEPARATOR}${collection}`;
}

/** The tenant's collection a backend name stands for, or undefined when it is not that tenant's. */
export function logicalName(tenant: string, physical: string): string | undefined {
  checkNames(tenant);
  const dot = physical.indexOf(SEPARATOR);
  const [owner, collection] = dot < 0 ? [DEFAULT_TENANT, physical] : [physical.slice(0, dot), physical.slice(dot + 1)];
  if (owner !== tenant || !isValidName(collection)) return undefined;
  return collection;
}

/** The tenant's collections among the backend's names, without the prefix, sorted. */
export function tenantCollections(tenant: string, physicalNames: string[]): string[] {
  return physicalNames
    .map((n) => logicalName(tenant, n))
    .filter((n): n is string => n !== undefined)
    .sort();
}
