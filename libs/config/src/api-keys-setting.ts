import { PermanentError } from '@rag/core';
import { isValidName, nameRuleMessage } from '@rag/queue-contracts';

/**
 * The scopes an API key can carry. `query`, `ingest` and `admin` act within
 * the key's own tenant; `operator` is global (every tenant's dead letters,
 * the queue dashboard) and is granted only from the CLI or API_KEYS, never
 * through the HTTP API.
 */
export const API_KEY_SCOPES = ['query', 'ingest', 'admin', 'operator'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KEY_PATTERN = /^[A-Za-z0-9_-]{20,256}$/;

export interface ApiKeySetting {
  tenant: string;
  scopes: ApiKeyScope[];
  key: string;
}

export class ListSettingError extends PermanentError {
  override readonly code = 'invalid_config';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ListSettingError';
  }
}

/**
 * Parses API_KEYS: comma-separated `tenant:scope+scope:key` entries. Problems
 * name the entry by position and tenant, never by its key.
 */
export function parseApiKeysSetting(value: string): ApiKeySetting[] {
  const entries: ApiKeySetting[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  value
    .split(',')
    .map((e) => e.trim())
    .forEach((entry, i) => {
      if (entry === '') return;
      const where = `entry ${i + 1}`;
      const parts = entry.split(':');
      if (parts.length !== 3) {
        problems.push(`${where} must look like tenant:scope+scope:key`);
        return;
      }
      const [tenant, rawScopes, key] = parts;
      const scopes = rawScopes.split('+');
      const bad: string[] = [];
      if (!isValidName(tenant)) bad.push(nameRuleMessage('tenant'));
      if (scopes.length === 0 || scopes.some((s) => !(API_KEY_SCOPES as readonly string[]).includes(s))) {
        bad.push(`scopes must be one or more of ${API_KEY_SCOPES.join(', ')} joined by "+"`);
      }
      if (!KEY_PATTERN.test(key)) bad.push('key must be 20-256 characters of A-Z, a-z, 0-9, "_" or "-"');
      else if (seen.has(key)) bad.push('key is listed twice');
      if (bad.length > 0) {
        problems.push(`${where}${isValidName(tenant) ? ` (tenant ${tenant})` : ''}: ${bad.join(', ')}`);
        return;
      }
      seen.add(key);
      entries.push({ tenant, scopes: [...new Set(scopes)] as ApiKeyScope[], key });
    });
  if (problems.length > 0) throw new ListSettingError(problems);
  return entries;
}

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-fA-F:]+\](:\d{1,5})?$/;

/** Parses CORS_ORIGINS into exact origins (scheme, host, optional port; no path, no wildcard). */
export function parseCorsOrigins(value: string): string[] {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const bad = origins.filter((o) => !ORIGIN.test(o));
  if (bad.length > 0) throw new ListSettingError(bad.map((o) => `${JSON.stringify(o)} is not an origin such as https://app.example.com (no path, no "*")`));
  return origins;
}
