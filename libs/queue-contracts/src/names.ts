/**
 * Tenant and collection names: safe in Redis keys, table and file names and
 * logs, and never holding a '.', which separates tenant and collection in a
 * backend's table name. The one definition; everything that checks a name
 * uses this.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The rule in words, for messages. */
export const NAME_RULE = '1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit';

/** Whether `value` is a valid tenant or collection name. */
export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** What to say about an invalid name: `collection must be 1-63 characters of …`. */
export function nameRuleMessage(what: string): string {
  return `${what} must be ${NAME_RULE}`;
}
