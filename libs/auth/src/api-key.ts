import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API key: `rag_` and 32 random bytes, base64url (256 bits, unguessable). */
export function generateApiKey(): string {
  return `rag_${randomBytes(32).toString('base64url')}`;
}

/** The only form in which a key is stored or kept in memory. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Constant-time equality of two SHA-256 digests. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The key from `Authorization: Bearer <key>`, or undefined when the header is absent or malformed. */
export function bearerKey(header: string | undefined): string | undefined {
  const match = header ? /^Bearer +([\x21-\x7E]{1,512})$/i.exec(header.trim()) : null;
  return match ? match[1] : undefined;
}

/**
 * The key from `Authorization: Basic base64(user:key)`: the password is the
 * key, the user name is ignored. For browser pages (the queue dashboard),
 * where the browser's own login prompt is the only way to send a key.
 */
export function basicAuthKey(header: string | undefined): string | undefined {
  const match = header ? /^Basic +([A-Za-z0-9+/]{1,1024}={0,2})$/i.exec(header.trim()) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(colon + 1) : '';
  return /^[\x21-\x7E]{1,512}$/.test(key) ? key : undefined;
}
