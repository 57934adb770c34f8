// The VerificationWorkflow's defaults and settings, the rules between them, and how executions
// start: the route's event patterns and the input transformer that shapes the execution input.
// Pure, so the stack's config table (config/keys.ts) states the same values as the component.
import {
  VERIFICATION_REQUEST_PATHS,
  VerificationRequestProvider,
} from "../../handlers/webhooks/providers";
import type { InputTransformer } from "../events/route";
import { recordEventPattern, RECORDS_SOURCE } from "./recordPayload";
import type { VerificationDefinitionArgs } from "./verificationDefinition";
import { VERIFICATION_DETAIL_TYPE } from "../../lib/eventSchemas";

/** Detail types that start a verification by default (distinct from the forwarder's). */
export const DEFAULT_VERIFICATION_DETAIL_TYPES = [VERIFICATION_DETAIL_TYPE];

export const WORKFLOW_TYPES = ["STANDARD", "EXPRESS"] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];
export const LOG_LEVELS = ["ALL", "ERROR", "FATAL", "OFF"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Express executions stop after 300 s; this leaves 60 s for the HTTP calls and the notification. */
export const EXPRESS_MAX_PLANNED_WAIT_SECONDS = 240;

/**
 * The VerificationWorkflow component's defaults (the stack's config table states the same values
 * from here).
 */
export const VERIFICATION_DEFAULTS = {
  workflowType: "STANDARD" as WorkflowType,
  logLevel: "ERROR" as LogLevel,
  includeExecutionData: false,
  anchorWaitSeconds: 90,
  retryWaitSeconds: 30,
  maxVerifyAttempts: 5,
  sources: [RECORDS_SOURCE],
  detailTypes: DEFAULT_VERIFICATION_DETAIL_TYPES,
};

/** Seconds an execution spends in Wait states when it verifies `maxVerifyAttempts` times. */
export function plannedWaitSeconds(
  a: Pick<
    VerificationDefinitionArgs,
    "anchorWaitSeconds" | "retryWaitSeconds" | "maxVerifyAttempts"
  >,
): number {
  return a.anchorWaitSeconds + (a.maxVerifyAttempts - 1) * a.retryWaitSeconds;
}

/** Whether an EXPRESS workflow's planned waits leave too little of its 5 minutes for the calls. */
export function expressWaitTooLong(
  a: Pick<
    VerificationDefinitionArgs,
    "anchorWaitSeconds" | "retryWaitSeconds" | "maxVerifyAttempts"
  > & { readonly workflowType: WorkflowType },
): boolean {
  return a.workflowType === "EXPRESS" && plannedWaitSeconds(a) > EXPRESS_MAX_PLANNED_WAIT_SECONDS;
}

/**
 * Event sources that would start two executions per event: named in the record route's `sources`
 * and by a webhook receiver's route too, or by two receivers' routes.
 */
export function sourcesNamedTwice(sources: string[], webhookSources: string[]): string[] {
  return [
    ...new Set(
      webhookSources.filter((w, i) => sources.includes(w) || webhookSources.indexOf(w) !== i),
    ),
  ];
}

/**
 * Record events that carry everything the execution input needs: the record fields of the
 * forwarder's pattern plus the database and collection the records API files the record under.
 */
export function verificationEventPattern(
  sources: string[],
  detailTypes: string[],
): Record<string, unknown> {
  const base = recordEventPattern(sources, detailTypes);
  return {
    ...base,
    detail: {
      ...(base.detail as Record<string, unknown>),
      database: [{ exists: true }],
      collection: [{ exists: true }],
    },
  };
}

/**
 * Shapes an event into the execution input
 * `{ tenantId, database, collection, recordId, recordVersion, payload, correlationId, eventId }`.
 * Every placeholder is a bare JSON value, so strings are quoted and escaped by EventBridge rather
 * than pasted inside quotes. `correlationId` is the one the event carries in its detail (webhook
 * receivers set it from `x-correlation-id` or the delivery id); an event without one renders it as
 * "" and the workflow falls back to the event id (the same on EventBridge retries).
 * `recordPath` is where the record fields are: `$.detail` in a record event, `$.detail.payload` in
 * the event a webhook receiver publishes for a delivery (whose body is the request).
 */
export function verificationInputTransformer(recordPath = "$.detail"): InputTransformer {
  return {
    inputPaths: {
      tenantId: `${recordPath}.tenantId`,
      database: `${recordPath}.database`,
      collection: `${recordPath}.collection`,
      recordId: `${recordPath}.recordId`,
      recordVersion: `${recordPath}.recordVersion`,
      payload: `${recordPath}.payload`,
      correlationId: "$.detail.correlationId",
      eventId: "$.id",
    },
    inputTemplate:
      '{"tenantId":<tenantId>,"database":<database>,"collection":<collection>,"recordId":<recordId>,' +
      '"recordVersion":<recordVersion>,"payload":<payload>,"correlationId":<correlationId>,"eventId":<eventId>}',
  };
}

/**
 * Where each webhook receiver's event carries a verification request, from its provider module:
 * the generic HMAC sender posts the request as the JSON body (`detail.payload`); a Standard
 * Webhooks sender posts the spec's envelope `{ type, timestamp, data }`, with the request as `data`.
 */
export const WEBHOOK_REQUEST_PATHS = VERIFICATION_REQUEST_PATHS;
export type WebhookRequestProvider = VerificationRequestProvider;
export const WEBHOOK_REQUEST_PROVIDERS = Object.keys(
  WEBHOOK_REQUEST_PATHS,
) as WebhookRequestProvider[];

/** A record path of the form `$.detail.<field>[.<field>...]`. */
const RECORD_PATH = /^\$\.detail(\.[A-Za-z0-9_-]+)+$/;

/**
 * Verification requests delivered to a webhook receiver (source `switchyard.webhooks.<provider>`,
 * detail-type the delivery's event type): the same record fields as a record event's detail, at
 * `recordPath` (e.g. `$.detail.payload`). A delivery stored in S3 for its size
 * (`detail.payloadRef`) does not match.
 */
export function webhookVerificationEventPattern(
  sources: string[],
  detailTypes: string[],
  recordPath: string,
): Record<string, unknown> {
  if (!RECORD_PATH.test(recordPath))
    throw new Error(
      `recordPath must be $.detail.<field>[.<field>...], got ${JSON.stringify(recordPath)}`,
    );
  const { detail, ...rest } = verificationEventPattern(sources, detailTypes);
  let nested: Record<string, unknown> = detail as Record<string, unknown>;
  for (const field of recordPath.split(".").slice(2).reverse()) nested = { [field]: nested };
  return { ...rest, detail: nested };
}
