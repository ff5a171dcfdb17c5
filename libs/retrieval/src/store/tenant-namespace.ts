import { NAME_PATTERN, NAME_RULE, isValidName } from '@rag/queue-contracts';
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

/** The version every collection starts at: its storage is named as before versions existed. */
export const FIRST_VERSION = 1;

/** A version after the first in a storage name: `v2`, `v3`, … (never `v1`, never a leading zero). */
const VERSION_PART = /^v([2-9]|[1-9][0-9]+)$/;

/**
 * The name the stores take for one version of a collection: the collection
 * itself for version 1 (so every collection made before versions is version 1
 * with no migration), `<collection>.v<N>` after. A '.' never occurs in a valid
 * name, so no collection a user can name is ever a version of another.
 */
export function versionedCollection(collection: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < FIRST_VERSION) throw new Error(`collection version ${version} is not a whole number from 1`);
  return version === FIRST_VERSION ? collection : `${collection}${SEPARATOR}v${version}`;
}

/** A store's collection argument split into the collection and its version (a plain name is version 1); undefined when it is neither. */
export function splitVersion(name: string): { collection: string; version: number } | undefined {
  if (typeof name !== 'string') return undefined;
  if (NAME_PATTERN.test(name)) return { collection: name, version: FIRST_VERSION };
  const text = name;
  const dot = text.indexOf(SEPARATOR);
  if (dot < 0) return undefined;
  const collection = text.slice(0, dot);
  const version = VERSION_PART.exec(text.slice(dot + 1));
  if (!isValidName(collection) || !version) return undefined;
  return { collection, version: Number(version[1]) };
}

/**
 * The backend's name of a tenant's collection: `<tenant>.<collection>`, except
 * that tenant `default` keeps the bare collection name, so data loaded before
 * tenancy existed stays where it was. Bare names never contain '.', so no
 * other tenant's name can collide with them.
 *
 * A later version of a collection (`versionedCollection`) is
 * `<tenant>.<collection>.v<N>` for every tenant, `default` included: three
 * parts, where a version-1 name has at most two, so it collides with none.
 */
export function physicalName(tenant: string, collection: string): string {
  const parts = splitVersion(collection);
  if (!parts) throw new InvalidNameError('collection', String(collection));
  checkNames(tenant, parts.collection);
  if (parts.version !== FIRST_VERSION) return `${tenant}${SEPARATOR}${parts.collection}${SEPARATOR}v${parts.version}`;
  return tenant === DEFAULT_TENANT ? collection : `${tenant}${SEPARATOR}${collection}`;
}

/** What a backend name stands for: tenant, collection and version; undefined when it is none of ours. */
export function parsePhysicalName(physical: string): { tenant: string; collection: string; version: number } | undefined {
  const parts = physical.split(SEPARATOR);
  let parsed: { tenant: string; collection: string; version: number } | undefined;
  if (parts.length === 1) parsed = { tenant: DEFAULT_TENANT, collection: parts[0], version: FIRST_VERSION };
  else if (parts.length === 2) parsed = { tenant: parts[0], collection: parts[1], version: FIRST_VERSION };
  else if (parts.length === 3) {
    const version = VERSION_PART.exec(parts[2]);
    if (version) parsed = { tenant: parts[0], collection: parts[1], version: Number(version[1]) };
  }
  if (!parsed || !isValidName(parsed.tenant) || !isValidName(parsed.collection)) return undefined;
  return parsed;
}

/** The tenant's collection a backend name stands for (whichever version it holds), or undefined when it is not that tenant's. */
export function logicalName(tenant: string, physical: string): string | undefined {
  checkNames(tenant);
  const parsed = parsePhysicalName(physical);
  return parsed?.tenant === tenant ? parsed.collection : undefined;
}

/** The tenant's collections among the backend's names, without the prefix, each once (whatever versions it has), sorted. */
export function tenantCollections(tenant: string, physicalNames: string[]): string[] {
  return [...new Set(physicalNames.map((n) => logicalName(tenant, n)).filter((n): n is string => n !== undefined))].sort();
}

/** The versions of one of the tenant's collections among the backend's names, ascending. */
export function collectionVersionsIn(tenant: string, collection: string, physicalNames: string[]): number[] {
  checkNames(tenant, collection);
  return physicalNames
    .map((n) => parsePhysicalName(n))
    .filter((p): p is NonNullable<typeof p> => p !== undefined && p.tenant === tenant && p.collection === collection)
    .map((p) => p.version)
    .sort((a, b) => a - b);
}
