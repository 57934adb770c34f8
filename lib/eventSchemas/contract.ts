// What an event contract is, how it is named and written in EventBridge's schema registry, and how
// an entry's detail is checked against it. Dependency-free: the program declares the registry from
// these contracts and every handler's publisher checks entries against the same ones.
import { assertSupported, DRAFT_04, JsonSchema, validate } from "../jsonSchema";

/** One kind of event on the bus: its source, its detail-type and the shape of its `detail`. */
export interface EventContract {
  /** The events' `source`. */
  readonly source: string;
  /**
   * The events' `detail-type`; absent when the publisher picks it per event (a webhook delivery's
   * event type, a tenant rule's detail type), so every detail-type of `source` has this detail.
   */
  readonly detailType?: string;
  /**
   * The schema's name after `@`: the detail-type as EventBridge's discovered schemas write it
   * (spaces and punctuation other than `.`, `_` and `-` dropped), or, when the detail-type varies,
   * the name of what every such event is (`WebhookDelivery`).
   */
  readonly typeName: string;
  /** One sentence: what the event says happened. */
  readonly description: string;
  /** Who puts it on the bus (a handler and its publisher, Lambda, or a service outside Switchyard). */
  readonly publishedBy: string;
  /** The draft-04 schema of `detail` (the subset lib/jsonSchema.ts checks). */
  readonly detail: JsonSchema;
}

/** EventBridge's longest detail-type. */
export const MAX_DETAIL_TYPE_LENGTH = 128;

/** The `typeName` of a detail-type, as EventBridge names a discovered schema after it. */
export function typeNameOf(detailType: string): string {
  return detailType.replace(/[^A-Za-z0-9._-]/g, "");
}

/** The longest schema name and schema description the registry takes. */
export const MAX_SCHEMA_NAME_LENGTH = 385;
export const MAX_SCHEMA_DESCRIPTION_LENGTH = 256;

/**
 * The schema's name in the registry: `<source>@<DetailType>`, EventBridge's convention, with any
 * character of the source a schema name cannot hold (a tenant rule's source may have any) as `-`.
 */
export function schemaName(c: EventContract): string {
  return `${c.source.replace(/[^A-Za-z0-9._-]/g, "-")}@${c.typeName}`;
}

/**
 * The registry's schema of a contract: the whole event as EventBridge delivers it, with `detail`
 * inside, as the registry writes the schemas it discovers (the envelope's fields, `required`, and
 * the `x-amazon-events-source` / `x-amazon-events-detail-type` annotations). `detail` is inline
 * rather than a `$ref` to `definitions`, so the validator needs no reference resolution.
 */
export function schemaDocument(c: EventContract): JsonSchema {
  return {
    $schema: DRAFT_04,
    title: c.typeName,
    description: `${c.description} Published by ${c.publishedBy}.`,
    type: "object",
    required: [
      "version",
      "id",
      "detail-type",
      "source",
      "account",
      "time",
      "region",
      "resources",
      "detail",
    ],
    properties: {
      version: { type: "string" },
      id: { type: "string" },
      "detail-type":
        c.detailType !== undefined
          ? { type: "string", enum: [c.detailType] }
          : { type: "string", minLength: 1, maxLength: MAX_DETAIL_TYPE_LENGTH },
      source: { type: "string", enum: [c.source] },
      account: { type: "string", pattern: "^\\d{12}$" },
      time: { type: "string", format: "date-time" },
      region: { type: "string" },
      resources: { type: "array", items: { type: "string" } },
      detail: c.detail,
    },
    "x-amazon-events-source": c.source,
    ...(c.detailType !== undefined ? { "x-amazon-events-detail-type": c.detailType } : {}),
  };
}

/** Finds the contract of a (source, detail-type): an exact detail-type first, then the source's any. */
export interface ContractIndex {
  find(source: string, detailType: string): EventContract | undefined;
  readonly contracts: readonly EventContract[];
}

/**
 * Indexes contracts for lookup. Throws when two contracts claim the same events or a schema uses
 * a keyword the validator does not check (so a contract can never promise a check that is skipped).
 */
export function indexContracts(contracts: readonly EventContract[]): ContractIndex {
  const exact = new Map<string, EventContract>();
  const anyType = new Map<string, EventContract>();
  const names = new Set<string>();
  for (const c of contracts) {
    const name = schemaName(c);
    if (names.has(name)) throw new Error(`event contract ${name} is declared twice`);
    if (!/^[A-Za-z0-9._-]+$/.test(c.typeName) || name.length > MAX_SCHEMA_NAME_LENGTH)
      throw new Error(
        `event contract ${name}: typeName must be letters, digits, ".", "_" or "-" and the name at most ${MAX_SCHEMA_NAME_LENGTH} characters`,
      );
    if (c.description.length > MAX_SCHEMA_DESCRIPTION_LENGTH)
      throw new Error(
        `event contract ${name}: description must be at most ${MAX_SCHEMA_DESCRIPTION_LENGTH} characters (the registry's limit), got ${c.description.length}`,
      );
    names.add(name);
    assertSupported(c.detail, `${name}#/detail`);
    const other = c.detailType === undefined ? anyType.get(c.source) : undefined;
    if (other)
      throw new Error(
        `event contracts ${schemaName(other)} and ${name} both claim every detail-type of source "${c.source}": a tenant rule's source must not be the source of another kind of event`,
      );
    const key = `${c.source}\u0000${c.detailType}`;
    const same = c.detailType !== undefined ? exact.get(key) : undefined;
    if (same)
      throw new Error(
        `event contracts ${schemaName(same)} and ${name} both claim source "${c.source}" with detail-type "${c.detailType}"`,
      );
    if (c.detailType === undefined) anyType.set(c.source, c);
    else exact.set(key, c);
  }
  return {
    contracts,
    find: (source, detailType) => exact.get(`${source}\u0000${detailType}`) ?? anyType.get(source),
  };
}

/** Why an entry's detail breaks its contract: each problem "<path>: <what is wrong>"; empty when it conforms. */
export function detailProblems(c: EventContract, detailJson: string | undefined): string[] {
  let detail: unknown;
  try {
    detail = JSON.parse(detailJson ?? "");
  } catch {
    return ["$: detail is not valid JSON"];
  }
  return validate(c.detail, detail, "$.detail");
}
