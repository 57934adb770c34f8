// A validator for the subset of JSON Schema draft-04 that Switchyard's schemas use: the jobs API's
// POST /jobs body (API Gateway validates it too, as a Model; the submit handler validates again, so
// a request that reaches the function some other way is still checked) and the event contracts of
// lib/eventSchemas (the shared publisher validates every entry's detail). Dependency-free, so both
// the program and every handler bundle import it. Keywords outside the subset are refused, so a
// schema can never rely on a check this code skips.

export type JsonType = "object" | "string" | "integer" | "number" | "boolean" | "array" | "null";

export interface JsonSchema {
  readonly $schema?: string;
  readonly title?: string;
  readonly description?: string;
  /** One type, or several (`["integer", "null"]`). */
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  /** false refuses unnamed properties; a schema checks each of them. */
  readonly additionalProperties?: boolean | JsonSchema;
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
  /** Only `date-time` (RFC 3339, as draft-04 defines it) is checked. */
  readonly format?: "date-time";
  /** EventBridge's annotations of an event schema's envelope (no check). */
  readonly "x-amazon-events-source"?: string;
  readonly "x-amazon-events-detail-type"?: string;
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
  "format",
  "x-amazon-events-source",
  "x-amazon-events-detail-type",
]);

const FORMATS = new Set(["date-time"]);
/** RFC 3339 date-time (draft-04's `date-time`): a date, `T`, a time, optional fraction, a zone. */
const DATE_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** Throws when the schema uses a keyword (or a non-boolean additionalProperties) outside the subset. */
export function assertSupported(schema: JsonSchema, at = "#"): void {
  for (const k of Object.keys(schema)) {
    if (!SUPPORTED.has(k))
      throw new Error(`schema ${at}: keyword "${k}" is not supported by lib/jsonSchema.ts`);
  }
  if (schema.format !== undefined && !FORMATS.has(schema.format))
    throw new Error(`schema ${at}: format "${schema.format}" is not supported (only date-time)`);
  const ap = schema.additionalProperties;
  if (ap !== undefined && typeof ap !== "boolean") {
    if (typeof ap !== "object" || ap === null || Array.isArray(ap))
      throw new Error(`schema ${at}: additionalProperties must be true, false or a schema`);
    assertSupported(ap, `${at}/additionalProperties`);
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

const article = (t: JsonType) =>
  t === "integer" || t === "array" || t === "object" ? `an ${t}` : t === "null" ? t : `a ${t}`;

const patterns = new Map<string, RegExp>();
/** A schema's pattern, compiled once per process (a publisher checks thousands of entries). */
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, "u");
    patterns.set(pattern, re);
  }
  return re;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The problems of `value` against `schema`, each "<path>: <what is wrong>"; empty when valid. */
export function validate(schema: JsonSchema, value: unknown, path = "$"): string[] {
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types: readonly JsonType[] =
      typeof schema.type === "string" ? [schema.type] : schema.type;
    if (!types.some((t) => hasType(value, t)))
      return [`${path}: must be ${types.map(article).join(" or ")}, got ${typeOf(value)}`];
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
    if (schema.pattern !== undefined && !compiled(schema.pattern).test(value)) {
      errors.push(`${path}: must match ${schema.pattern}`);
    }
    if (schema.format === "date-time" && !DATE_TIME.test(value)) {
      errors.push(`${path}: must be an RFC 3339 date-time`);
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
      else if (typeof schema.additionalProperties === "object")
        errors.push(...validate(schema.additionalProperties, v, `${path}.${name}`));
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
