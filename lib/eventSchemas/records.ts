// Record events and verification requests: published by services outside Switchyard onto the hub,
// read by the records route (forwarded to the records API) and the verification route (starting
// the verification workflow). Their detail stays open to more fields: their producers are not
// Switchyard's code, and the route patterns and transformers read only these.
import type { JsonSchema } from "../jsonSchema";
import type { EventContract } from "./contract";

/** The source of record events and verification requests. */
export const RECORDS_SOURCE = "switchyard.records";
/** Detail types the records route forwards by default. */
export const RECORD_DETAIL_TYPES = ["RecordCreated", "RecordUpdated"] as const;
/** The detail type that starts a verification by default. */
export const VERIFICATION_DETAIL_TYPE = "RecordVerificationRequested";

/** Ids an input transformer inserts inside quotes without escaping: no `"` nor `\`. */
const ID: JsonSchema = { type: "string", minLength: 1, pattern: '^[^"\\\\]+$' };

const record = (required: string[]): JsonSchema => ({
  type: "object",
  required,
  properties: {
    tenantId: ID,
    recordId: ID,
    recordVersion: { type: "integer", minimum: 0 },
    database: { type: "string", minLength: 1 },
    collection: { type: "string", minLength: 1 },
    payload: { type: "object" },
    correlationId: { type: "string" },
  },
});

export const RECORD_EVENTS: EventContract[] = RECORD_DETAIL_TYPES.map((detailType) => ({
  source: RECORDS_SOURCE,
  detailType,
  typeName: detailType,
  description: `A record was ${detailType === "RecordCreated" ? "created" : "updated"}: the records route sends it to the records API.`,
  publishedBy: "the services that own the records",
  detail: record(["tenantId", "recordId", "recordVersion", "payload"]),
}));

export const VERIFICATION_REQUEST: EventContract = {
  source: RECORDS_SOURCE,
  detailType: VERIFICATION_DETAIL_TYPE,
  typeName: VERIFICATION_DETAIL_TYPE,
  description:
    "A record to ingest and verify: the verification route starts the verification workflow with it.",
  publishedBy: "the services that own the records",
  detail: record(["tenantId", "database", "collection", "recordId", "recordVersion", "payload"]),
};
