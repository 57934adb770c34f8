// The tenant data table's item model, shared by the ingress writer and the change publisher.
//
// One table, partition key `tenant`, sort key `sk` = `<rootSchema>#<id>`: a tenant's items are one
// partition (queried by schema with begins_with), and no two tenants can address each other's
// items. The caller's fields live under the map `data`, so no payload field can overwrite a key or
// the bookkeeping attributes:
//   { tenant, sk, rootSchema, id, data: {...payload without id}, version, lastOperation, updatedAt }
// `lastOperation` (POST, PUT or PATCH) is what lets a MODIFY stream record be told apart as a PUT
// (replace) or a PATCH (merge); a writer outside ingress that leaves it unset publishes PUT.
import type { DynamoDBRecord } from "aws-lambda";
import {
  ChangeEvent,
  ItemChange,
  MAX_NAME_LENGTH,
  MAX_RULE_DETAIL_TYPE_LENGTH,
  MAX_RULE_SOURCE_LENGTH,
  Operation,
  OPERATIONS,
  SCHEMA_NAME,
} from "../../lib/tenantRules";
import { DEFAULT_MAX_ENTRY_BYTES, entrySize, PublishEntry } from "../lib/publisher";
import { changedItem } from "../lib/streamImage";

export const ATTR = {
  tenant: "tenant",
  sk: "sk",
  rootSchema: "rootSchema",
  id: "id",
  data: "data",
  version: "version",
  lastOperation: "lastOperation",
  updatedAt: "updatedAt",
} as const;

/** Separates the schema from the item id in the sort key. */
export const SK_SEPARATOR = "#";

export function sortKey(rootSchema: string, id: string): string {
  return `${rootSchema}${SK_SEPARATOR}${id}`;
}

export interface StoredItem {
  tenant: string;
  sk: string;
  rootSchema: string;
  id: string;
  data: Record<string, unknown>;
  version: number;
  lastOperation: Operation;
  updatedAt: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The item as the tenant sees it: its fields plus `id` (the shape ingress payloads have). */
export function payloadOf(item: Record<string, unknown>, id: string): Record<string, unknown> {
  return { ...(isObject(item[ATTR.data]) ? (item[ATTR.data] as Record<string, unknown>) : {}), id };
}

/**
 * The change a stream record reports: INSERT is POST, MODIFY is PATCH when the write was a merge
 * (`lastOperation` = PATCH) and PUT otherwise, REMOVE is DELETE with the old item as payload.
 * Throws (the record is then reported as a batch item failure) when the record is not a change of
 * a well-formed item.
 */
export function changeFromStreamRecord(record: DynamoDBRecord): ItemChange {
  const { eventName: name, item } = changedItem(
    record,
    () => "the table's stream must be NEW_AND_OLD_IMAGES",
  );
  const tenant = item[ATTR.tenant];
  const sk = item[ATTR.sk];
  if (typeof tenant !== "string" || tenant === "") {
    throw new Error(`stream record ${record.eventID}: item has no string "${ATTR.tenant}"`);
  }
  if (typeof sk !== "string" || !sk.includes(SK_SEPARATOR)) {
    throw new Error(
      `stream record ${record.eventID}: sort key ${JSON.stringify(sk)} is not <rootSchema>#<id>`,
    );
  }
  const cut = sk.indexOf(SK_SEPARATOR);
  const rootSchema =
    typeof item[ATTR.rootSchema] === "string"
      ? (item[ATTR.rootSchema] as string)
      : sk.slice(0, cut);
  const id = typeof item[ATTR.id] === "string" ? (item[ATTR.id] as string) : sk.slice(cut + 1);
  if (!SCHEMA_NAME.test(rootSchema) || id === "") {
    throw new Error(
      `stream record ${record.eventID}: sort key ${JSON.stringify(sk)} has no valid schema name and id`,
    );
  }
  const operation: Operation =
    name === "INSERT"
      ? "POST"
      : name === "REMOVE"
        ? "DELETE"
        : item[ATTR.lastOperation] === "PATCH"
          ? "PATCH"
          : "PUT";
  return {
    tenant,
    rootSchema,
    operation,
    payload: payloadOf(item, id),
    changeId: record.eventID ?? "",
  };
}

/** The PutEvents entry of a change event, as the change publisher sends it. */
export function changeEntry(event: ChangeEvent): PublishEntry {
  return {
    Source: event.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
  };
}

/** Longest change id allowed for: a DynamoDB Streams record's eventID (32 hex digits on AWS). */
export const MAX_CHANGE_ID_LENGTH = 128;

/**
 * Bytes of a change event's entry that are not its payload, at their most: the longest source and
 * detail type a rule may set, each character 3 UTF-8 bytes (the most one UTF-16 unit takes), the
 * longest tenant id and schema name, the longest operation and the longest change id.
 */
export function changeEnvelopeBytes(): number {
  const widest = "\u20ac";
  const longestOperation = OPERATIONS.reduce((a, b) => (b.length > a.length ? b : a));
  const entry = changeEntry({
    busArn: "",
    source: widest.repeat(MAX_RULE_SOURCE_LENGTH),
    detailType: widest.repeat(MAX_RULE_DETAIL_TYPE_LENGTH),
    detail: {
      tenant: "t".repeat(MAX_NAME_LENGTH),
      rootSchema: "s".repeat(MAX_NAME_LENGTH),
      operation: longestOperation,
      payload: {},
      changeId: "c".repeat(MAX_CHANGE_ID_LENGTH),
    },
  });
  return entrySize(entry) - Buffer.byteLength(JSON.stringify({}));
}

/**
 * Largest payload (JSON bytes of the item's fields and id, `payloadOf`) whose change event fits a
 * bus entry of `maxEntryBytes` under any rule: what ingress accepts, so every write it applies can
 * be published. A DELETE's event carries the item as it was, so the bound holds for it too.
 */
export function maxChangePayloadBytes(maxEntryBytes: number): number {
  return maxEntryBytes - changeEnvelopeBytes();
}

/** JSON bytes of a payload as a change event carries it. */
export function changePayloadBytes(payload: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(payload), "utf8");
}

/**
 * The bus's entry limit from an environment variable (the ChangePublisher's `maxEventBytes`):
 * default 262144; anything but a positive whole number fails the cold start, naming the variable.
 */
export function maxEventBytesFromEnv(
  name: string,
  env: Record<string, string | undefined> = process.env,
): number {
  const raw = env[name];
  const value = raw === undefined || raw === "" ? DEFAULT_MAX_ENTRY_BYTES : Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `${name} must be a positive whole number (the bus's event size limit in bytes), got "${raw}"`,
    );
  }
  return value;
}
