import { validatePlain, type ValidationIssue } from './index';

/** The instance `cls` makes of `plain`; fails the test, naming the issues, if it is refused. */
export function accepted<T extends object>(cls: new () => T, plain: unknown): T {
  const result = validatePlain(cls, plain);
  if (!result.ok) throw new Error(`expected ${cls.name} to accept it, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

/** The issues `cls` finds in `plain`; fails the test if it is accepted. */
export function rejected(cls: new () => object, plain: unknown): ValidationIssue[] {
  const result = validatePlain(cls, plain);
  if (result.ok) throw new Error(`expected ${cls.name} to reject it, got ${JSON.stringify(result.value)}`);
  return result.issues;
}

/** The fields the issues name, sorted. */
export const issueFields = (issues: ValidationIssue[]) => issues.map((issue) => issue.field).sort();
