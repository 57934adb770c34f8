// The record verification workflow's Amazon States Language definition, built by a pure function
// from its arguments, and the records API contract it relies on. No resources here: the component
// deploys exactly what this returns and the tests execute it. How executions start (the route's
// pattern and input transformer) and the component's defaults are in verificationSpec.ts.
import { checkHttpsUrl, checkIntRange } from "../validate";
import {
  AslDefinition,
  ChoiceState,
  FailState,
  HTTP_INVOKE,
  httpError,
  HttpTaskState,
  PassState,
  PayloadTemplate,
  SNS_PUBLISH,
  SnsPublishTaskState,
  SucceedState,
  WaitState,
} from "./asl";
import { RECORDS_PATH } from "./recordPayload";

// The component's settings, re-exported where the stack's key table reads them.
export {
  LOG_LEVELS,
  VERIFICATION_DEFAULTS,
  WEBHOOK_REQUEST_PROVIDERS,
  WORKFLOW_TYPES,
} from "./verificationSpec";

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
  PickCorrelationId: ChoiceState<StateName>;
  KeepCorrelationId: PassState<StateName>;
  UseEventId: PassState<StateName>;
  UseExecutionName: PassState<StateName>;
  Prepare: PassState<StateName>;
  Ingest: HttpTaskState<StateName>;
  WaitForAnchoring: WaitState<StateName>;
  CountVerifyAttempt: PassState<StateName>;
  Verify: HttpTaskState<StateName>;
  IsAnchored: ChoiceState<StateName>;
  WaitBeforeNextVerify: WaitState<StateName>;
  SelectProof: PassState<StateName>;
  AnchoredMessage: PassState<StateName>;
  IngestionFailedMessage: PassState<StateName>;
  NotAnchoredMessage: PassState<StateName>;
  VerifyErrorMessage: PassState<StateName>;
  Notify: SnsPublishTaskState<StateName>;
  WhichOutcome: ChoiceState<StateName>;
  Anchored: SucceedState;
  IngestionFailed: FailState;
  VerificationFailed: FailState;
}

/** The verification workflow's definition. */
export type StateMachineDefinition = AslDefinition<StateName, VerificationStates>;

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
  rest: Pick<
    HttpTaskState<StateName>,
    "Comment" | "ResultSelector" | "ResultPath" | "Catch" | "Next"
  >,
): HttpTaskState<StateName> {
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
