// The published JSON Schema, read as data: the editor helpers (completion, hover) and the error
// messages take descriptions, enums, defaults and allowed keys from it, so there is one source of truth.
import schemaJson from '../../schemas/pipeline.schema.json';

export interface JsonSchema {
  $ref?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  discriminator?: { propertyName: string };
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  definitions?: Record<string, JsonSchema>;
}

export const pipelineSchema = schemaJson as unknown as JsonSchema;

const definitions = pipelineSchema.definitions ?? {};

/** Follows `$ref`s, keeping the outermost description/default/examples (they describe the use site). */
export function resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
  let s = schema;
  let outer: JsonSchema | undefined;
  for (let i = 0; s?.$ref && i < 10; i++) {
    outer ??= s;
    const name = s.$ref.replace('#/definitions/', '');
    const target: JsonSchema | undefined = definitions[name];
    s = target ? { ...target, ...withoutRef(s) } : undefined;
  }
  if (outer && s) return { ...s, ...withoutRef(outer) };
  return s;
}

function withoutRef(s: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = s;
  return rest;
}

/** For a discriminated union, the branch selected by the value (e.g. `strategy.type`). */
export function selectBranch(schema: JsonSchema, value: unknown): JsonSchema {
  if (!schema.oneOf || !schema.discriminator) return schema;
  const tag = schema.discriminator.propertyName;
  const tagValue = value && typeof value === 'object' ? (value as Record<string, unknown>)[tag] : undefined;
  for (const branch of schema.oneOf) {
    const b = resolve(branch);
    const t = b?.properties?.[tag];
    if (b && t && (t.const === tagValue || t.enum?.includes(tagValue))) {
      return { ...b, description: schema.description ?? b.description, default: schema.default, examples: schema.examples };
    }
  }
  return schema;
}

/** Every key any branch allows (used when the discriminator itself is missing or wrong). */
export function branchKeys(schema: JsonSchema): string[] {
  if (schema.properties) return Object.keys(schema.properties);
  const keys = new Set<string>();
  for (const b of schema.oneOf ?? []) for (const k of Object.keys(resolve(b)?.properties ?? {})) keys.add(k);
  return [...keys];
}

/**
 * The schema of the value at `segments` inside `root` (the document's plain value, used to pick
 * discriminated branches). Undefined when the path leaves the schema.
 */
export function schemaAt(segments: readonly (string | number)[], root: unknown): JsonSchema | undefined {
  let schema = resolve(pipelineSchema);
  let value: unknown = root;
  for (const seg of segments) {
    if (!schema) return undefined;
    schema = selectBranch(schema, value);
    const key = String(seg);
    const child = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (schema.properties && key in schema.properties) {
      schema = resolve(schema.properties[key]);
    } else if (schema.items && /^\d+$/.test(key)) {
      schema = resolve(schema.items);
    } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      schema = resolve(schema.additionalProperties);
    } else if (schema.oneOf) {
      // Unknown branch: look the key up in any branch.
      const found = schema.oneOf.map(resolve).find((b) => b?.properties && key in b.properties);
      schema = found ? resolve(found.properties![key]) : undefined;
    } else {
      return undefined;
    }
    value = child;
  }
  return schema ? selectBranch(schema, value) : undefined;
}

/** Allowed keys of the mapping at `segments`. */
export function allowedKeys(segments: readonly (string | number)[], root: unknown): string[] {
  const s = schemaAt(segments, root);
  return s ? branchKeys(s) : [];
}

/** Human name for a value's type, as error messages say it. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'text';
}

export function expectedTypeName(t: string): string {
  switch (t) {
    case 'object': return 'a mapping';
    case 'array': return 'a list';
    case 'integer': return 'a whole number';
    case 'number': return 'a number';
    case 'boolean': return '`true` or `false`';
    case 'string': return 'text';
    default: return t;
  }
}
