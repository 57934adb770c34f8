// Pure builders of the records API payload, shared by the forwarder's route and its tests.
import type { InputTransformer, RetryPolicy } from "../events/route";

import { RECORD_DETAIL_TYPES, RECORDS_SOURCE } from "../../lib/eventSchemas";

/** Detail types forwarded by default (their contracts: lib/eventSchemas/records.ts). */
export const DEFAULT_RECORD_DETAIL_TYPES: string[] = [...RECORD_DETAIL_TYPES];

/** The event source of record events, forwarded and verified by default. */
export { RECORDS_SOURCE };

/** Path of the records API's ingest operation. */
export const RECORDS_PATH = "/api/v1/records";

/** The RecordsForwarder component's defaults (the stack's config table states the same values from here). */
export const FORWARDER_DEFAULTS = {
  rateLimitPerSecond: 300,
  sources: [RECORDS_SOURCE],
  detailTypes: DEFAULT_RECORD_DETAIL_TYPES,
  retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 } as RetryPolicy,
};

/**
 * The event pattern of record events: the configured sources and detail types, and the scalar
 * detail fields the payload needs, so such a malformed event never reaches the records API
 * (it stays in the archive instead). `payload` is an object, and EventBridge's `exists` only sees
 * leaf values, so it cannot be required here: without it the body carries `"recordPayload":""`,
 * the records API answers 400 and the event lands in the DLQ.
 */
export function recordEventPattern(
  sources: string[],
  detailTypes: string[],
): Record<string, unknown> {
  return {
    source: sources,
    "detail-type": detailTypes,
    detail: {
      tenantId: [{ exists: true }],
      recordId: [{ exists: true }],
      recordVersion: [{ numeric: [">=", 0] }],
    },
  };
}

/**
 * The input transformer that turns a record event into the records API body
 * (POST /api/v1/records). The idempotency key names tenant, record and version, so EventBridge
 * retries and re-published copies of one version dedupe while two versions never share a key.
 * EventBridge does not escape values: ids must not contain double quotes (the API then answers 400
 * and the event goes to the DLQ, it is not lost).
 */
export function recordPayloadTransformer(): InputTransformer {
  return {
    inputPaths: {
      tenantId: "$.detail.tenantId",
      database: "$.source",
      collection: "$.detail-type",
      recordId: "$.detail.recordId",
      recordVersion: "$.detail.recordVersion",
      payload: "$.detail.payload",
      time: "$.time",
    },
    inputTemplate:
      '{"tenantId":"<tenantId>","database":"<database>","collection":"<collection>",' +
      '"recordId":"<recordId>","recordVersion":<recordVersion>,"operationType":"upsert",' +
      '"recordPayload":<payload>,"sourceTimestamp":"<time>",' +
      '"idempotencyKey":"<tenantId>:<recordId>:<recordVersion>"}',
  };
}
