import { getMetadataStorage } from 'class-validator';
import { defaultConverters } from 'class-validator-jsonschema/build/defaultConverters';
import { CUSTOM_RULE_KEY, customRules, type JsonSchema } from './dto-schemas';

interface Meta {
  type: string;
  propertyName: string;
  each?: boolean;
  constraints?: unknown[];
  constraintCls?: () => void;
}

/** The rule a metadata entry stands for: class-validator's own name (`maxLength`), or a custom rule's. */
function ruleOf(meta: Meta): string {
  const [constraint] = meta.constraintCls ? getMetadataStorage().getTargetValidatorConstraints(meta.constraintCls) : [];
  return constraint?.name ?? meta.type;
}

/** What a rule must have put into the property's schema. */
const expectations: Record<string, (schema: JsonSchema, c: unknown[]) => boolean> = {
  maxLength: (s, c) => s.maxLength === c[0],
  minLength: (s, c) => s.minLength === c[0],
  max: (s, c) => s.maximum === c[0],
  min: (s, c) => s.minimum === c[0],
  arrayMaxSize: (s, c) => s.maxItems === c[0],
  arrayMinSize: (s, c) => s.minItems === c[0],
  isIn: (s, c) => JSON.stringify(s.enum) === JSON.stringify(c[0]),
  equals: (s, c) => Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === c[0],
  matches: (s, c) => s.pattern === (c[0] as RegExp).source,
  isInt: (s) => s.type === 'integer',
  isNumber: (s) => s.type === 'number' || s.type === 'integer',
  isString: (s) => s.type === 'string',
  isBoolean: (s) => s.type === 'boolean',
  isArray: (s) => s.type === 'array',
  isObject: (s) => s.type === 'object' || typeof s.$ref === 'string',
};

/** A rule of our own: its name under CUSTOM_RULE_KEY, or the schema written for it (`oneOf`). */
function hasCustomRule(schema: JsonSchema, rule: string): boolean {
  if ((schema[CUSTOM_RULE_KEY] as Record<string, unknown> | undefined)?.[rule]) return true;
  const own = customRules[rule]?.oneOf;
  return own !== undefined && JSON.stringify(schema.oneOf) === JSON.stringify(own);
}

/**
 * Every problem between the DTO classes named in `schemas` and their schemas,
 * read from class-validator's metadata (so a field added to a DTO is checked
 * without this list changing): a property missing, a required one not
 * required, a constraint without its keyword.
 */
export function dtoCoverageProblems(schemas: Record<string, JsonSchema>): string[] {
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, Meta[]> };
  const problems: string[] = [];
  let checked = 0;
  for (const [target, metas] of storage.validationMetadatas) {
    const name = typeof target === 'function' ? target.name : undefined;
    const schema = name ? schemas[name] : undefined;
    if (!schema) continue;
    checked++;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    for (const property of new Set(metas.map((m) => m.propertyName))) {
      const own = metas.filter((m) => m.propertyName === property);
      const prop = properties[property];
      if (!prop) {
        problems.push(`${name}.${property} is missing`);
        continue;
      }
      const optional = own.some((m) => m.type === 'conditionalValidation');
      if (!optional && !required.has(property)) problems.push(`${name}.${property} is not required`);
      if (optional && required.has(property)) problems.push(`${name}.${property} is required but optional`);
      for (const meta of own) {
        const rule = ruleOf(meta);
        const at = meta.each ? ((prop.items ?? {}) as JsonSchema) : prop;
        const expected = expectations[rule];
        if (expected) {
          if (!expected(at, meta.constraints ?? []))
            problems.push(`${name}.${property}: ${rule}(${JSON.stringify(meta.constraints ?? [])}) is not in its schema`);
        } else if (!(rule in defaultConverters) && !hasCustomRule(at, rule)) {
          problems.push(`${name}.${property}: the custom rule ${rule} is not in its schema`);
        }
      }
    }
  }
  if (checked === 0) problems.push('no DTO class found among the schemas');
  return problems;
}
