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
