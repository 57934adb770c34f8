// A validator for the subset of JSON Schema draft-04 that the jobs API uses. API Gateway validates
// POST /jobs against the same schema (as a Model); the submit handler validates again with this, so
// a request that reaches the function some other way (console test, a future route) is still checked.
// Keywords outside the subset are refused, so a schema can never rely on a check this code skips.

export type JsonType = "object" | "string" | "integer" | "number" | "boolean" | "array";

export interface JsonSchema {
  readonly $schema?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly enum?: readonly unknown[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly oneOf?: readonly JsonSchema[];
}

export const DRAFT_04 = "http://json-schema.org/draft-04/schema#";

const SUPPORTED = new Set([
  "$schema",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "enum",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "items",
  "minItems",
  "maxItems",
  "oneOf",
]);

/** Throws when the schema uses a keyword (or a non-boolean additionalProperties) outside the subset. */
export function assertSupported(schema: JsonSchema, at = "#"): void {
  for (const k of Object.keys(schema)) {
    if (!SUPPORTED.has(k))
      throw new Error(`schema ${at}: keyword "${k}" is not supported by handlers/jobs/schema.ts`);
  }
  if (
    schema.additionalProperties !== undefined &&
    typeof schema.additionalProperties !== "boolean"
  ) {
    throw new Error(`schema ${at}: additionalProperties must be true or false`);
  }
  for (const [name, s] of Object.entries(schema.properties ?? {}))
    assertSupported(s, `${at}/properties/${name}`);
  if (schema.items) assertSupported(schema.items, `${at}/items`);
  (schema.oneOf ?? []).forEach((s, i) => assertSupported(s, `${at}/oneOf/${i}`));
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function hasType(v: unknown, t: JsonType): boolean {
  const actual = typeOf(v);
  return actual === t || (t === "number" && actual === "integer");
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The problems of `value` against `schema`, each "<path>: <what is wrong>"; empty when valid. */
export function validate(schema: JsonSchema, value: unknown, path = "$"): string[] {
  const errors: string[] = [];
  if (schema.type && !hasType(value, schema.type)) {
    return [
      `${path}: must be ${schema.type === "integer" || schema.type === "array" || schema.type === "object" ? "an" : "a"} ${schema.type}, got ${typeOf(value)}`,
    ];
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) {
    errors.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (typeof value === "string") {
    // JSON Schema counts characters (code points), not UTF-16 units.
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      errors.push(`${path}: must have at least ${schema.minLength} characters`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      errors.push(`${path}: must have at most ${schema.maxLength} characters, got ${length}`);
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
      errors.push(`${path}: must match ${schema.pattern}`);
    }
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${path}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push(`${path}: must have at least ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push(`${path}: must have at most ${schema.maxItems} items`);
    }
    if (schema.items)
      value.forEach((v, i) => errors.push(...validate(schema.items!, v, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!(name in obj)) errors.push(`${path}.${name}: is required`);
    }
    for (const [name, v] of Object.entries(obj)) {
      const s = schema.properties?.[name];
      if (s) errors.push(...validate(s, v, `${path}.${name}`));
      else if (schema.additionalProperties === false)
        errors.push(`${path}.${name}: is not allowed`);
    }
  }
  if (schema.oneOf) {
    const matched = schema.oneOf.filter((s) => validate(s, value, path).length === 0).length;
    if (matched !== 1)
      errors.push(
        `${path}: must match exactly one of ${schema.oneOf.length} schemas, matched ${matched}`,
      );
  }
  return errors;
}
