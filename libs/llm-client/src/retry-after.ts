/**
 * Milliseconds to wait from a `Retry-After` value: delay-seconds (fractions
 * tolerated) or an HTTP date. Undefined when absent or unreadable; a date in
 * the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // A date needs letters (a weekday or month); this keeps "-1" or "1e3" from parsing as one.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long a 429 asks us to wait, from the response headers the `openai`
 * client keeps on its error (`error.headers`), looked for along the `cause`
 * chain so classified errors work too. `retry-after-ms` (OpenAI's own) wins
 * over `retry-after`. Undefined for anything but a 429 with a readable header.
 */
export function retryAfterMsOf429(error: unknown, now = Date.now()): number | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { status, headers } = e as { status?: unknown; headers?: unknown };
    if (status !== 429) continue;
    const ms = headerValue(headers, 'retry-after-ms');
    const msValue = ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim()) ? Math.ceil(Number(ms)) : undefined;
    return msValue ?? parseRetryAfter(headerValue(headers, 'retry-after'), now);
  }
  return undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, unknown>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : undefined;
}
