import { Limits } from '@rag/queue-contracts';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { defaultConverters } from 'class-validator-jsonschema/build/defaultConverters';

/** A JSON Schema (2020-12, as OpenAPI 3.1 has it) object. */
export type JsonSchema = Record<string, unknown>;

/** Where generated schemas live in the document. */
export const SCHEMA_REF = '#/components/schemas/';

/** Names the custom class-validator rules a property is checked with that JSON Schema has no keyword for (`{ isPlainText: true }`). */
export const CUSTOM_RULE_KEY = 'x-rag-validator';

const plainTextRule = 'well-formed Unicode text without control characters other than tab and line breaks';

/**
 * Our own class-validator rules (registered with `registerDecorator`) in
 * JSON Schema, where it can say them; any other custom rule is named with
 * CUSTOM_RULE_KEY rather than dropped.
 */
export const customRules: Record<string, JsonSchema> = {
  isPlainText: { [CUSTOM_RULE_KEY]: { isPlainText: true }, description: plainTextRule },
  isChatContent: {
    description: `a string, or an array of text parts; at most ${Limits.chatMessageMaxChars} characters (${plainTextRule})`,
    oneOf: [
      { type: 'string', maxLength: Limits.chatMessageMaxChars },
      {
        type: 'array',
        maxItems: Limits.chatContentPartsMax,
        items: {
          type: 'object',
          required: ['type', 'text'],
          additionalProperties: false,
          properties: { type: { const: 'text' }, text: { type: 'string', maxLength: Limits.chatMessageMaxChars } },
        },
      },
    ],
  },
  totalCharsAtMost: {
    [CUSTOM_RULE_KEY]: { totalCharsAtMost: true },
    description: `at most ${Limits.chatMessagesTotalMaxChars} characters of content in all`,
  },
};

/** Any custom rule without an entry above: its name, nothing invented about it. */
const unknownRule = (meta: { type: string; constraints?: unknown[] }): JsonSchema => ({
  [CUSTOM_RULE_KEY]: { [meta.type]: true },
  description: `checked by the custom rule ${meta.type}`,
});

/**
 * JSON Schemas of every class-validator class loaded in this process, read
 * from class-validator's metadata (and class-transformer's `@Type` for nested
 * classes): the DTOs the gateway validates bodies with are the document's
 * request schemas, so the two cannot disagree. Unknown properties are refused
 * by `validatePlain` (forbidNonWhitelisted), hence `additionalProperties: false`.
 */
export function dtoSchemas(): Record<string, JsonSchema> {
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, { type: string; constraintCls?: unknown }[]> };
  const customTypes = new Set<string>();
  for (const metas of storage.validationMetadatas.values()) {
    for (const meta of metas) {
      const [constraint] = meta.constraintCls ? getMetadataStorage().getTargetValidatorConstraints(meta.constraintCls as () => void) : [];
      // class-validator's own rules are custom validations too; the library knows those.
      if (constraint && !(constraint.name in defaultConverters)) customTypes.add(constraint.name);
    }
  }
  const converters: Record<string, JsonSchema | ((meta: { type: string; constraints?: unknown[] }) => JsonSchema)> = {};
  for (const type of customTypes) converters[type] = customRules[type] ?? unknownRule;
  // The library's min/max say `type: number` too, which could override an @IsInt's `integer` when merged.
  converters.min = (meta) => ({ minimum: meta.constraints?.[0] });
  converters.max = (meta) => ({ maximum: meta.constraints?.[0] });
  const schemas = validationMetadatasToSchemas({
    refPointerPrefix: SCHEMA_REF,
    classTransformerMetadataStorage: defaultMetadataStorage,
    additionalConverters: converters as never,
  }) as Record<string, JsonSchema>;
  for (const schema of Object.values(schemas)) schema.additionalProperties = false;
  return schemas;
}

/** `schemas[name]` and every schema it refers to, transitively. */
export function withReferenced(schemas: Record<string, JsonSchema>, names: readonly string[]): Record<string, JsonSchema> {
  const picked: Record<string, JsonSchema> = {};
  const visit = (name: string) => {
    if (picked[name]) return;
    const schema = schemas[name];
    if (!schema) throw new Error(`no class-validator schema named ${name}: is the DTO exported by @rag/queue-contracts?`);
    picked[name] = schema;
    for (const ref of JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) visit(ref[1]);
  };
  names.forEach(visit);
  return picked;
}
