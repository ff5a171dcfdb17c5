import { API_KEY_SCOPES, type ApiKeyScope } from '@rag/config';
import { PermanentError } from '@rag/core';
import { isValidName, nameRuleMessage } from '@rag/queue-contracts';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { generateApiKey, hashApiKey, sameHash } from './api-key';

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  scopes: ApiKeyScope[];
  name: string;
  created_at: string;
  revoked_at?: string;
}

export class ApiKeyInputError extends PermanentError {
  override readonly code = 'invalid_input';
  override name = 'ApiKeyInputError';
}

/** Where a key is being granted: only the CLI (and API_KEYS) may grant the global `operator` scope. */
export type GrantedBy = 'cli' | 'api';

/** Checks scopes given by a person (CLI, API); throws with what is allowed. */
export function checkScopes(scopes: string[], grantedBy: GrantedBy = 'api'): ApiKeyScope[] {
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new ApiKeyInputError(`scopes must be one or more of ${API_KEY_SCOPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  }
  // A tenant's admin must never be able to mint a key that sees every tenant.
  if (grantedBy !== 'cli' && scopes.includes('operator')) {
    throw new ApiKeyInputError('the operator scope can only be granted from the CLI (rag-ingest keys create) or API_KEYS');
  }
  return [...new Set(scopes)] as ApiKeyScope[];
}

/**
 * API keys in Redis, stored only as SHA-256 hashes:
 *   <prefix>:auth:key:<id>     hash  { id, tenant, scopes, name, created_at, revoked_at?, hash }
 *   <prefix>:auth:hash:<hex>   id of the key with that hash (removed on revocation)
 *   <prefix>:auth:ids          every key id;  <prefix>:auth:active  ids not revoked
 * Nothing is cached, so a revocation takes effect on the next request.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private recordKey = (id: string) => `${this.prefix}:auth:key:${id}`;
  private hashKey = (hex: string) => `${this.prefix}:auth:hash:${hex}`;
  private get idsKey() {
    return `${this.prefix}:auth:ids`;
  }
  private get activeKey() {
    return `${this.prefix}:auth:active`;
  }

  /** Creates a key; the plain key is returned once and kept nowhere. */
  /** `grantedBy` defaults to the API's rules (no `operator`); the CLI says `cli`. */
  async create(input: { tenant: string; scopes: string[]; name?: string; grantedBy?: GrantedBy }): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!isValidName(input.tenant)) throw new ApiKeyInputError(nameRuleMessage('tenant'));
    const scopes = checkScopes(input.scopes, input.grantedBy ?? 'api');
    const name = (input.name ?? '').trim();
    if (name.length > 100 || [...name].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127))
      throw new ApiKeyInputError('name must be at most 100 printable characters');
    const key = generateApiKey();
    const hex = hashApiKey(key).toString('hex');
    const record: ApiKeyRecord = { id: `key_${randomBytes(8).toString('hex')}`, tenant: input.tenant, scopes, name, created_at: new Date().toISOString() };
    await this.redis
      .multi()
      .hset(this.recordKey(record.id), { id: record.id, tenant: record.tenant, scopes: scopes.join(','), name, created_at: record.created_at, hash: hex })
      .set(this.hashKey(hex), record.id)
      .sadd(this.idsKey, record.id)
      .sadd(this.activeKey, record.id)
      .exec();
    return { key, record };
  }

  /** The live record of the key with this plain value, or null (unknown or revoked). */
  async verify(key: string): Promise<ApiKeyRecord | null> {
    const digest = hashApiKey(key);
    const id = await this.redis.get(this.hashKey(digest.toString('hex')));
    if (!id) return null;
    const raw = await this.redis.hgetall(this.recordKey(id));
    if (!raw.hash || !sameHash(Buffer.from(raw.hash, 'hex'), digest) || raw.revoked_at) return null;
    return toRecord(raw);
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const raw = await this.redis.hgetall(this.recordKey(id));
    return raw.id ? toRecord(raw) : null;
  }

  /** Every stored key (revoked ones too), oldest first. Never includes keys or hashes. */
  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.idsKey);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter((r): r is ApiKeyRecord => r !== null).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** Revokes a key at once; null when there is no such key. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    const raw = await this.redis.hgetall(this.recordKey(id));
    if (!raw.id) return null;
    if (!raw.revoked_at) {
      raw.revoked_at = new Date().toISOString();
      await this.redis.multi().hset(this.recordKey(id), 'revoked_at', raw.revoked_at).del(this.hashKey(raw.hash)).srem(this.activeKey, id).exec();
    }
    return toRecord(raw);
  }

  /** Whether any key that is not revoked is stored. */
  async hasActiveKeys(): Promise<boolean> {
    return (await this.redis.scard(this.activeKey)) > 0;
  }
}

function toRecord(raw: Record<string, string>): ApiKeyRecord {
  return {
    id: raw.id,
    tenant: raw.tenant,
    scopes: (raw.scopes ? raw.scopes.split(',') : []) as ApiKeyScope[],
    name: raw.name ?? '',
    created_at: raw.created_at,
    ...(raw.revoked_at ? { revoked_at: raw.revoked_at } : {}),
  };
}
