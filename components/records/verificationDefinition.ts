// Pure builders of the record verification workflow: its Amazon States Language definition, the
// event pattern that starts it and the input transformer that shapes its input. No resources here:
// the component deploys exactly what these return and the tests execute it.
import {
  VERIFICATION_REQUEST_PATHS,
  VerificationRequestProvider,
} from "../../handlers/webhooks/providers";
import type { InputTransformer } from "../events/route";
import { checkHttpsUrl, checkIntRange } from "../validate";
import { recordEventPattern, RECORDS_PATH, RECORDS_SOURCE } from "./recordPayload";

// ---------------------------------------------------------------------------------------------
// Amazon States Language types (the JSONPath subset this workflow uses)
// ---------------------------------------------------------------------------------------------

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A payload template: keys ending in `.$` hold a path or an intrinsic function. */
export type PayloadTemplate = { [key: string]: JsonValue };

export interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds: number;
  /** Retries after the first attempt. */
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: "FULL" | "NONE";
}

export interface Catcher {
  readonly ErrorEquals: string[];
  readonly ResultPath: string;
  readonly Next: StateName;
}

export interface PassState {
  readonly Type: "Pass";
  readonly Comment?: string;
  readonly Parameters: PayloadTemplate;
  readonly ResultPath?: string;
  readonly Next: StateName;
}

interface TaskStateBase<Resource extends string, Parameters> {
  readonly Type: "Task";
  readonly Comment?: string;
  readonly Resource: Resource;
  readonly Parameters: Parameters;
  readonly ResultSelector?: PayloadTemplate;
  readonly ResultPath: string;
  readonly TimeoutSeconds: number;
  readonly Retry: Retrier[];
  readonly Catch?: Catcher[];
  readonly Next: StateName;
}

export const HTTP_INVOKE = "arn:aws:states:::http:invoke";
export const SNS_PUBLISH = "arn:aws:states:::sns:publish";

/** Parameters of an HTTP Task; auth headers come only from the EventBridge connection. */
export interface HttpInvokeParameters {
  readonly ApiEndpoint: string;
  readonly Method: "POST";
  readonly Authentication: { readonly ConnectionArn: string };
  readonly Headers: Record<string, string>;
  readonly RequestBody: PayloadTemplate;
}
export type HttpTaskState = TaskStateBase<typeof HTTP_INVOKE, HttpInvokeParameters>;

export interface SnsMessageAttribute {
  readonly DataType: "String";
  readonly "StringValue.$": string;
}
export interface SnsPublishParameters {
  readonly TopicArn: string;
  readonly "Subject.$": string;
  readonly "Message.$": string;
  readonly MessageAttributes: Record<string, SnsMessageAttribute>;
}
export type SnsPublishTaskState = TaskStateBase<typeof SNS_PUBLISH, SnsPublishParameters>;

export interface WaitState {
  readonly Type: "Wait";
  readonly Comment?: string;
  readonly Seconds: number;
  readonly Next: StateName;
}

export type DataTest = { readonly Variable: string } & (
  | { readonly IsPresent: boolean }
  | { readonly IsBoolean: boolean }
  | { readonly BooleanEquals: boolean }
  | { readonly StringEquals: string }
  | { readonly IsString: boolean }
  | { readonly NumericGreaterThanEquals: number }
);
export type Condition =
  | DataTest
  | { readonly And: Condition[] }
  | { readonly Or: Condition[] }
  | { readonly Not: Condition };
export type ChoiceRule = Condition & { readonly Next: StateName };

export interface ChoiceState {
  readonly Type: "Choice";
  readonly Comment?: string;
  readonly Choices: ChoiceRule[];
  readonly Default: StateName;
}

export interface SucceedState {
  readonly Type: "Succeed";
  readonly Comment?: string;
}

export interface FailState {
  readonly Type: "Fail";
  readonly Comment?: string;
  readonly Error: string;
  readonly Cause: string;
}

export type State =
  | PassState
  | HttpTaskState
  | SnsPublishTaskState
  | WaitState
  | ChoiceState
  | SucceedState
  | FailState;

/** Every state of the workflow, in the order an execution may meet them. */
export const STATE_NAMES = [
  "PickCorrelationId",
  "KeepCorrelationId",
  "UseEventId",
  "UseExecutionName",
  "Prepare",
  "Ingest",
  "WaitForAnchoring",
  "CountVerifyAttempt",
  "Verify",
  "IsAnchored",
  "WaitBeforeNextVerify",
  "SelectProof",
  "AnchoredMessage",
  "IngestionFailedMessage",
  "NotAnchoredMessage",
  "VerifyErrorMessage",
  "Notify",
  "WhichOutcome",
  "Anchored",
  "IngestionFailed",
  "VerificationFailed",
] as const;
export type StateName = (typeof STATE_NAMES)[number];

export interface VerificationStates {
  PickCorrelationId: ChoiceState;
  KeepCorrelationId: PassState;
  UseEventId: PassState;
  UseExecutionName: PassState;
  Prepare: PassState;
  Ingest: HttpTaskState;
  WaitForAnchoring: WaitState;
  CountVerifyAttempt: PassState;
  Verify: HttpTaskState;
  IsAnchored: ChoiceState;
  WaitBeforeNextVerify: WaitState;
  SelectProof: PassState;
  AnchoredMessage: PassState;
  IngestionFailedMessage: PassState;
  NotAnchoredMessage: PassState;
  VerifyErrorMessage: PassState;
  Notify: SnsPublishTaskState;
  WhichOutcome: ChoiceState;
  Anchored: SucceedState;
  IngestionFailed: FailState;
  VerificationFailed: FailState;
}

export interface StateMachineDefinition {
  readonly Comment: string;
  readonly StartAt: StateName;
  readonly States: VerificationStates;
}

// ---------------------------------------------------------------------------------------------
// The records API contract this workflow relies on
// ---------------------------------------------------------------------------------------------

/** Path of the records API's verify operation (ingest is the forwarder's RECORDS_PATH). */
export const VERIFY_PATH = "/api/v1/verify/record";

/** The `outcome` message attribute of each notification: subscribers filter on it. */
export const OUTCOMES = {
  anchored: "anchored",
  ingestionFailed: "ingestion-failed",
  verificationFailed: "verification-failed",
} as const;
export type Outcome = (typeof OUTCOMES)[keyof typeof OUTCOMES];

export const SUBJECTS: Record<Outcome, string> = {
  anchored: "Switchyard: record anchored",
  "ingestion-failed": "Switchyard: record ingestion failed",
  "verification-failed": "Switchyard: record verification failed",
};

/**
 * Status codes worth retrying (throttling and server errors). Step Functions matches ErrorEquals
 * exactly (only States.ALL and States.TaskFailed are wildcards), so each code is listed.
 */
export const RETRYABLE_STATUS_CODES = [429, 500, 502, 503, 504];
export const httpError = (status: number) => `States.Http.StatusCode.${status}`;

// ---------------------------------------------------------------------------------------------
// The definition
// ---------------------------------------------------------------------------------------------

export interface HttpRetry {
  /** Seconds before the first retry. */
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  /** Retries after the first call, 0-10. */
  readonly maxAttempts: number;
  readonly maxDelaySeconds: number;
}

export const DEFAULT_HTTP_RETRY: HttpRetry = {
  intervalSeconds: 2,
  backoffRate: 2,
  maxAttempts: 3,
  maxDelaySeconds: 30,
};

/** Seconds an HTTP Task may take before it fails with States.Timeout (and is retried). */
export const HTTP_TIMEOUT_SECONDS = 30;

export interface VerificationDefinitionArgs {
  /** Root of the records API (https, no trailing slash). */
  readonly apiEndpoint: string;
  /** The EventBridge connection that authenticates to the records API. */
  readonly connectionArn: string;
  /** The topic that receives one notification per execution. */
  readonly topicArn: string;
  /** Seconds between ingest and the first verify. */
  readonly anchorWaitSeconds: number;
  /** Seconds between two verify calls. */
  readonly retryWaitSeconds: number;
  /** Verify calls before the verification-failed notification. */
  readonly maxVerifyAttempts: number;
  /** Retries of 429, 5xx and timeouts of each HTTP call. Default DEFAULT_HTTP_RETRY. */
  readonly httpRetry?: HttpRetry;
}

/** Throws an error naming the argument and its allowed range. */
export function validateDefinitionArgs(a: VerificationDefinitionArgs): void {
  checkHttpsUrl("apiEndpoint", a.apiEndpoint);
  checkIntRange("anchorWaitSeconds", a.anchorWaitSeconds, 0, 86400);
  checkIntRange("retryWaitSeconds", a.retryWaitSeconds, 0, 86400);
  checkIntRange("maxVerifyAttempts", a.maxVerifyAttempts, 1, 100);
  const r = a.httpRetry ?? DEFAULT_HTTP_RETRY;
  checkIntRange("httpRetry.maxAttempts", r.maxAttempts, 0, 10);
  checkIntRange("httpRetry.intervalSeconds", r.intervalSeconds, 1, 300);
  checkIntRange("httpRetry.maxDelaySeconds", r.maxDelaySeconds, 1, 3600);
  if (!(r.backoffRate >= 1 && r.backoffRate <= 10)) {
    throw new Error(
      `httpRetry.backoffRate must be from 1 to 10, got ${JSON.stringify(r.backoffRate)}`,
    );
  }
}

/** Seconds an execution spends in Wait states when it verifies `maxVerifyAttempts` times. */
export function plannedWaitSeconds(
  a: Pick<
    VerificationDefinitionArgs,
    "anchorWaitSeconds" | "retryWaitSeconds" | "maxVerifyAttempts"
  >,
): number {
  return a.anchorWaitSeconds + (a.maxVerifyAttempts - 1) * a.retryWaitSeconds;
}

/** The fields every notification carries, so a subscriber can tell which record it is about. */
function recordFields(): PayloadTemplate {
  return {
    "tenantId.$": "$.record.tenantId",
    "database.$": "$.record.database",
    "collection.$": "$.record.collection",
    "recordId.$": "$.record.recordId",
    "recordVersion.$": "$.record.recordVersion",
    "correlationId.$": "$.record.correlationId",
    "idempotencyKey.$": "$.idempotencyKey",
    "executionId.$": "$$.Execution.Id",
  };
}

function notification(outcome: Outcome, fields: PayloadTemplate): PayloadTemplate {
  return {
    outcome,
    subject: SUBJECTS[outcome],
    message: { outcome, ...recordFields(), ...fields },
  };
}

function httpTask(
  a: VerificationDefinitionArgs,
  path: string,
  body: PayloadTemplate,
  rest: Pick<HttpTaskState, "Comment" | "ResultSelector" | "ResultPath" | "Catch" | "Next">,
): HttpTaskState {
  const r = a.httpRetry ?? DEFAULT_HTTP_RETRY;
  return {
    Type: "Task",
    Resource: HTTP_INVOKE,
    Parameters: {
      ApiEndpoint: `${a.apiEndpoint}${path}`,
      Method: "POST",
      Authentication: { ConnectionArn: a.connectionArn },
      Headers: { "Content-Type": "application/json" },
      RequestBody: body,
    },
    TimeoutSeconds: HTTP_TIMEOUT_SECONDS,
    Retry: [
      {
        ErrorEquals: [...RETRYABLE_STATUS_CODES.map(httpError), "States.Timeout"],
        IntervalSeconds: r.intervalSeconds,
        BackoffRate: r.backoffRate,
        MaxAttempts: r.maxAttempts,
        MaxDelaySeconds: r.maxDelaySeconds,
        JitterStrategy: "FULL",
      },
    ],
    ...rest,
  };
}

/**
 * The verification workflow: ingest the record into the records API, wait for the anchoring
 * window, verify up to `maxVerifyAttempts` times, and publish exactly one outcome notification.
 *
 * State data: `record` (the execution input), `idempotencyKey`, `attempts.verify` (the counter the
 * loop compares with `maxVerifyAttempts`), `ingest`, `verification` (the last verify response or
 * caught 404), `error` (a caught failure), `notification`.
 */
export function buildVerificationDefinition(a: VerificationDefinitionArgs): StateMachineDefinition {
  validateDefinitionArgs(a);
  const verified = "$.verification.ResponseBody.verified";
  const anchoredOnChain = "$.verification.ResponseBody.anchoredOnChain";
  const present = (v: string) => [
    { Variable: v, IsPresent: true },
    { Variable: v, IsString: true },
  ];
  const States: VerificationStates = {
    PickCorrelationId: {
      Type: "Choice",
      Comment:
        "The correlation id of the event that asked for verification (a webhook's, carried in its detail), else the event id, else the execution name",
      Choices: [
        // Not StringMatches "?*": in Amazon States Language only "*" is a wildcard, "?" is literal.
        {
          And: [
            ...present("$.correlationId"),
            { Not: { Variable: "$.correlationId", StringEquals: "" } },
          ],
          Next: "KeepCorrelationId",
        },
        { And: present("$.eventId"), Next: "UseEventId" },
      ],
      Default: "UseExecutionName",
    },
    KeepCorrelationId: {
      Type: "Pass",
      Parameters: { "id.$": "$.correlationId" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    },
    UseEventId: {
      Type: "Pass",
      Parameters: { "id.$": "$.eventId" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    },
    UseExecutionName: {
      Type: "Pass",
      Parameters: { "id.$": "$$.Execution.Name" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    },
    Prepare: {
      Type: "Pass",
      Comment:
        "Keeps the input and derives the idempotency key from tenant, record id, version and the SHA-256 of the payload, so two versions (or two payloads) never share a key",
      Parameters: {
        record: {
          "tenantId.$": "$.tenantId",
          "database.$": "$.database",
          "collection.$": "$.collection",
          "recordId.$": "$.recordId",
          "recordVersion.$": "$.recordVersion",
          "payload.$": "$.payload",
          "correlationId.$": "$.correlation.id",
        },
        "idempotencyKey.$":
          "States.Format('{}:{}:{}:{}', $.tenantId, $.recordId, $.recordVersion, States.Hash(States.JsonToString($.payload), 'SHA-256'))",
        attempts: { verify: 0 },
        proofDefaults: { recordHash: null, proofUrl: null },
      },
      Next: "Ingest",
    },
    Ingest: httpTask(
      a,
      RECORDS_PATH,
      {
        "tenantId.$": "$.record.tenantId",
        "database.$": "$.record.database",
        "collection.$": "$.record.collection",
        "recordId.$": "$.record.recordId",
        "recordVersion.$": "$.record.recordVersion",
        operationType: "upsert",
        "recordPayload.$": "$.record.payload",
        "sourceTimestamp.$": "$$.Execution.StartTime",
        "idempotencyKey.$": "$.idempotencyKey",
      },
      {
        Comment:
          "POST the record; 429, 5xx and timeouts are retried with backoff, anything else is reported",
        ResultSelector: { "statusCode.$": "$.StatusCode" },
        ResultPath: "$.ingest",
        Catch: [
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "IngestionFailedMessage" },
        ],
        Next: "WaitForAnchoring",
      },
    ),
    WaitForAnchoring: {
      Type: "Wait",
      Comment: "The service anchors in accumulation windows, then waits for chain confirmation",
      Seconds: a.anchorWaitSeconds,
      Next: "CountVerifyAttempt",
    },
    CountVerifyAttempt: {
      Type: "Pass",
      Comment:
        "Counts every verify call; IsAnchored ends the loop when the count reaches the maximum",
      Parameters: { "verify.$": "States.MathAdd($.attempts.verify, 1)" },
      ResultPath: "$.attempts",
      Next: "Verify",
    },
    Verify: httpTask(
      a,
      VERIFY_PATH,
      {
        "tenantId.$": "$.record.tenantId",
        "database.$": "$.record.database",
        "collection.$": "$.record.collection",
        "recordId.$": "$.record.recordId",
        "recordPayload.$": "$.record.payload",
      },
      {
        Comment:
          "404 (not ingested yet) counts as not anchored; other failures after retries are reported",
        ResultPath: "$.verification",
        Catch: [
          { ErrorEquals: [httpError(404)], ResultPath: "$.verification", Next: "IsAnchored" },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "VerifyErrorMessage" },
        ],
        Next: "IsAnchored",
      },
    ),
    IsAnchored: {
      Type: "Choice",
      Comment:
        "IsPresent guards first: a response without the fields is 'not anchored', not a crash",
      Choices: [
        {
          And: [
            { Variable: verified, IsPresent: true },
            { Variable: verified, IsBoolean: true },
            { Variable: verified, BooleanEquals: true },
            { Variable: anchoredOnChain, IsPresent: true },
            { Variable: anchoredOnChain, IsBoolean: true },
            { Variable: anchoredOnChain, BooleanEquals: true },
          ],
          Next: "SelectProof",
        },
        {
          Variable: "$.attempts.verify",
          NumericGreaterThanEquals: a.maxVerifyAttempts,
          Next: "NotAnchoredMessage",
        },
      ],
      Default: "WaitBeforeNextVerify",
    },
    WaitBeforeNextVerify: {
      Type: "Wait",
      Seconds: a.retryWaitSeconds,
      Next: "CountVerifyAttempt",
    },
    SelectProof: {
      Type: "Pass",
      Comment: "The response's recordHash and proofUrl, null when the API leaves one out",
      Parameters: {
        "fields.$": "States.JsonMerge($.proofDefaults, $.verification.ResponseBody, false)",
      },
      ResultPath: "$.proof",
      Next: "AnchoredMessage",
    },
    AnchoredMessage: {
      Type: "Pass",
      Parameters: notification(OUTCOMES.anchored, {
        "verifyAttempts.$": "$.attempts.verify",
        "recordHash.$": "$.proof.fields.recordHash",
        "proofUrl.$": "$.proof.fields.proofUrl",
      }),
      ResultPath: "$.notification",
      Next: "Notify",
    },
    IngestionFailedMessage: {
      Type: "Pass",
      Parameters: notification(OUTCOMES.ingestionFailed, {
        "error.$": "$.error.Error",
        "cause.$": "$.error.Cause",
      }),
      ResultPath: "$.notification",
      Next: "Notify",
    },
    NotAnchoredMessage: {
      Type: "Pass",
      Parameters: notification(OUTCOMES.verificationFailed, {
        reason: "not-anchored",
        "verifyAttempts.$": "$.attempts.verify",
        maxVerifyAttempts: a.maxVerifyAttempts,
      }),
      ResultPath: "$.notification",
      Next: "Notify",
    },
    VerifyErrorMessage: {
      Type: "Pass",
      Parameters: notification(OUTCOMES.verificationFailed, {
        reason: "verify-error",
        "verifyAttempts.$": "$.attempts.verify",
        maxVerifyAttempts: a.maxVerifyAttempts,
        "error.$": "$.error.Error",
        "cause.$": "$.error.Cause",
      }),
      ResultPath: "$.notification",
      Next: "Notify",
    },
    Notify: {
      Type: "Task",
      Comment: "One message per execution; subscribers filter on the outcome attribute",
      Resource: SNS_PUBLISH,
      Parameters: {
        TopicArn: a.topicArn,
        "Subject.$": "$.notification.subject",
        "Message.$": "States.JsonToString($.notification.message)",
        MessageAttributes: {
          outcome: { DataType: "String", "StringValue.$": "$.notification.outcome" },
        },
      },
      ResultSelector: { "messageId.$": "$.MessageId" },
      ResultPath: "$.published",
      TimeoutSeconds: HTTP_TIMEOUT_SECONDS,
      Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 }],
      Next: "WhichOutcome",
    },
    WhichOutcome: {
      Type: "Choice",
      Comment: "Failed outcomes fail the execution too, so ExecutionsFailed alarms see them",
      Choices: [
        { Variable: "$.notification.outcome", StringEquals: OUTCOMES.anchored, Next: "Anchored" },
        {
          Variable: "$.notification.outcome",
          StringEquals: OUTCOMES.ingestionFailed,
          Next: "IngestionFailed",
        },
      ],
      Default: "VerificationFailed",
    },
    Anchored: { Type: "Succeed" },
    IngestionFailed: {
      Type: "Fail",
      Error: "Switchyard.IngestionFailed",
      Cause: "The records API did not accept the record; see the ingestion-failed notification",
    },
    VerificationFailed: {
      Type: "Fail",
      Error: "Switchyard.VerificationFailed",
      Cause: "The record was not verified as anchored; see the verification-failed notification",
    },
  };
  return {
    Comment:
      "Switchyard record verification: ingest, wait for anchoring, verify with a bounded retry loop, notify",
    StartAt: "PickCorrelationId",
    States,
  };
}

// ---------------------------------------------------------------------------------------------
// How executions start: the route's pattern and input transformer
// ---------------------------------------------------------------------------------------------

/** Detail types that start a verification by default (distinct from the forwarder's). */
export const DEFAULT_VERIFICATION_DETAIL_TYPES = ["RecordVerificationRequested"];

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
