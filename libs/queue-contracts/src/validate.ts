import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `filters.sources.0`. */
  field: string;
  problems: string[];
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

type Ctor<T> = new () => T;

/**
 * Turns untrusted plain data into a validated instance of `cls`. Unknown
 * properties are reported, not silently dropped, so typos reach the caller.
 */
export function validatePlain<T extends object>(cls: Ctor<T>, plain: unknown): Validated<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, issues: [{ field: '', problems: ['expected a JSON object'] }] };
  }
  // Transformation and validation recurse; a hostile body nested thousands deep must be refused first.
  if (nestingDeeperThan(plain, MAX_NESTING)) {
    return { ok: false, issues: [{ field: '', problems: [`JSON nested deeper than ${MAX_NESTING} levels`] }] };
  }
  // class-validator's whitelist cannot see keys that every object inherits
  // (`__proto__`, `constructor`, `toString`...): they would pass as known.
  const inherited = inheritedKeys(plain, '');
  if (inherited.length > 0) return { ok: false, issues: inherited };
  const value = plainToInstance(cls, plain, { enableImplicitConversion: false });
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return errors.length === 0 ? { ok: true, value } : { ok: false, issues: flatten(errors, '') };
}

/** Deepest nesting any request body needs is a handful of levels. */
export const MAX_NESTING = 16;

function nestingDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Keys named like Object.prototype members, anywhere in the body; no DTO field has such a name. */
function inheritedKeys(value: unknown, prefix: string): ValidationIssue[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((key) => {
    const field = prefix ? `${prefix}.${key}` : key;
    const own = key in Object.prototype ? [{ field, problems: [`property ${key} should not exist`] }] : [];
    return [...own, ...inheritedKeys((value as Record<string, unknown>)[key], field)];
  });
}

function flatten(errors: ValidationError[], prefix: string): ValidationIssue[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function describeIssues(issues: ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field || 'body'}: ${issue.problems.join('; ')}`).join(', ');
}
