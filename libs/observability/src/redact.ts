/**
 * Masks secrets in text bound for logs, dead letters or tenants. Two kinds:
 * the values this process was configured with (registered at start, e.g.
 * OPENAI_API_KEY, so a provider echoing the key in an error body is caught
 * whatever its shape), and anything shaped like a credential (Bearer tokens,
 * `sk-…` and `rag_…` keys, passwords in URLs).
 */
export const MASK = '***';

/** Shorter values are not masked: a placeholder key such as `ollama` would blank out ordinary words (and is no secret). */
const MIN_SECRET_LENGTH = 8;

const SHAPES: [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g, `Bearer ${MASK}`],
  [/\bBasic\s+[A-Za-z0-9+/]{12,}={0,2}/g, `Basic ${MASK}`],
  // OpenAI-style keys, and ours (`rag_` and 43 base64url characters).
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${MASK}`],
  [/\brag_[A-Za-z0-9_-]{40,}/g, `rag_${MASK}`],
  // user:password@ in URLs.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]+@/gi, `$1${MASK}@`],
  // `api_key=…` (query strings, dumps) and `"api_key": "…"` (JSON); not prose such as "api_key: property … should not exist".
  [/\b(api[-_]?key|password|secret)(\s*=\s*|["']\s*:\s*["'])[^\s"',;&]{6,}/gi, `$1$2${MASK}`],
];

// Every shape above contains one of these: text without any (most log fields: methods, routes, ids, timestamps) skips the six replaces.
// A shape added above needs its literal here.
const MAYBE_SHAPED = /Bearer|Basic|sk-|rag_|:\/\/|api[-_]?key|password|secret/i;

const secrets = new Set<string>();
// Longest first, so a secret that contains another is masked whole.
let longestFirst: string[] = [];

/** Adds configured secret values to mask from now on, in every log line and error text of this process. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    const trimmed = value?.trim();
    if (trimmed && trimmed.length >= MIN_SECRET_LENGTH) secrets.add(trimmed);
  }
  longestFirst = [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every registered secret and credential-shaped string masked. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of longestFirst) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  if (!MAYBE_SHAPED.test(out)) return out;
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 8;

/**
 * A copy of a log line's fields with every string redacted; errors become
 * their redacted description. Never mutates what the caller passed in.
 */
export function redactValue(value: unknown, describe: (error: Error) => string, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) return redactSecrets(describe(value));
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, describe, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactValue(item, describe, depth + 1);
  return out;
}
