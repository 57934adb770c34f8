import { expect } from "chai";
import { createHash } from "crypto";
import {
  buildVerificationDefinition,
  DEFAULT_HTTP_RETRY,
  StateMachineDefinition,
  STATE_NAMES,
  VerificationDefinitionArgs,
} from "../../components/records/verificationDefinition";
import {
  plannedWaitSeconds,
  verificationEventPattern,
  verificationInputTransformer,
} from "../../components/records/verificationSpec";
import { withoutReplays } from "../../components/events/patterns";
import { matchesPattern } from "../../lib/eventPattern";
import { renderToJson } from "../../lib/inputTransformer";
import {
  accepted,
  anchored,
  API,
  CONNECTION_ARN,
  execute,
  EXECUTION_NAME,
  notYet,
  ok,
  routedInput,
  sampleEvent,
  TOPIC_ARN,
} from "./verificationHarness";

// No type declarations ship with asl-validator 4.
const aslValidator = require("asl-validator") as (d: unknown) => {
  isValid: boolean;
  errors: Array<{ message: string }>;
  errorsText: (sep?: string) => string;
};

const ARGS: VerificationDefinitionArgs = {
  apiEndpoint: API,
  connectionArn: CONNECTION_ARN,
  topicArn: TOPIC_ARN,
  anchorWaitSeconds: 90,
  retryWaitSeconds: 30,
  maxVerifyAttempts: 5,
};
const INGEST = "/api/v1/records";
const VERIFY = "/api/v1/verify/record";
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** Every transition of a definition: state -> the states it may go to next. */
function transitions(def: StateMachineDefinition): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries<any>(def.States)) {
    const next = new Set<string>();
    if (s.Next) next.add(s.Next);
    if (s.Default) next.add(s.Default);
    for (const c of s.Choices ?? []) next.add(c.Next);
    for (const c of s.Catch ?? []) next.add(c.Next);
    out[name] = [...next].sort();
  }
  return out;
}

describe("verification workflow definition (pure builder)", () => {
  const def = buildVerificationDefinition(ARGS);
  const input = routedInput(
    withoutReplays(
      verificationEventPattern(["switchyard.records"], ["RecordVerificationRequested"]),
    ),
    verificationInputTransformer(),
    sampleEvent(),
  );

  it("passes asl-validator, which does reject a broken definition", () => {
    // The validator annotates what it is given: hand it a copy.
    const result = aslValidator(clone(def));
    expect(result.errors).to.deep.equal([]);
    expect(result.isValid).to.equal(true);
    const broken = clone(def) as any;
    broken.States.Verify.Next = "Nowhere";
    expect(aslValidator(broken).isValid).to.equal(false);
  });

  it("has exactly these states and transitions", () => {
    expect(def.StartAt).to.equal("PickCorrelationId");
    expect(Object.keys(def.States)).to.deep.equal([...STATE_NAMES]);
    expect(transitions(def)).to.deep.equal({
      PickCorrelationId: ["KeepCorrelationId", "UseEventId", "UseExecutionName"],
      KeepCorrelationId: ["Prepare"],
      UseEventId: ["Prepare"],
      UseExecutionName: ["Prepare"],
      Prepare: ["Ingest"],
      Ingest: ["IngestionFailedMessage", "WaitForAnchoring"],
      WaitForAnchoring: ["CountVerifyAttempt"],
      CountVerifyAttempt: ["Verify"],
      Verify: ["IsAnchored", "VerifyErrorMessage"],
      IsAnchored: ["NotAnchoredMessage", "SelectProof", "WaitBeforeNextVerify"],
      WaitBeforeNextVerify: ["CountVerifyAttempt"],
      SelectProof: ["AnchoredMessage"],
      AnchoredMessage: ["Notify"],
      IngestionFailedMessage: ["Notify"],
      NotAnchoredMessage: ["Notify"],
      VerifyErrorMessage: ["Notify"],
      Notify: ["WhichOutcome"],
      WhichOutcome: ["Anchored", "IngestionFailed", "VerificationFailed"],
      Anchored: [],
      IngestionFailed: [],
      VerificationFailed: [],
    });
  });

  it("picks the correlation id: a non-empty string correlationId, else the event id, else the execution name", () => {
    expect(def.States.PickCorrelationId).to.deep.equal({
      Type: "Choice",
      Comment: def.States.PickCorrelationId.Comment,
      Choices: [
        {
          And: [
            { Variable: "$.correlationId", IsPresent: true },
            { Variable: "$.correlationId", IsString: true },
            { Not: { Variable: "$.correlationId", StringEquals: "" } },
          ],
          Next: "KeepCorrelationId",
        },
        {
          And: [
            { Variable: "$.eventId", IsPresent: true },
            { Variable: "$.eventId", IsString: true },
          ],
          Next: "UseEventId",
        },
      ],
      Default: "UseExecutionName",
    });
    expect(def.States.KeepCorrelationId).to.deep.equal({
      Type: "Pass",
      Parameters: { "id.$": "$.correlationId" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    });
    expect(def.States.UseEventId).to.deep.equal({
      Type: "Pass",
      Parameters: { "id.$": "$.eventId" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    });
    expect(def.States.UseExecutionName).to.deep.equal({
      Type: "Pass",
      Parameters: { "id.$": "$$.Execution.Name" },
      ResultPath: "$.correlation",
      Next: "Prepare",
    });
    expect(def.States.Prepare.Parameters.record).to.deep.equal({
      "tenantId.$": "$.tenantId",
      "database.$": "$.database",
      "collection.$": "$.collection",
      "recordId.$": "$.recordId",
      "recordVersion.$": "$.recordVersion",
      "payload.$": "$.payload",
      "correlationId.$": "$.correlation.id",
    });
  });

  it("uses no StringMatches, whose '?' aws-local-stepfunctions treats as a wildcard and AWS as a literal", () => {
    // ASL: "No characters other than * have any special meaning"; the emulator's wildcard-match
    // also expands "?", so an execution here cannot tell the two apart: check the definition.
    const conditions: any[] = [];
    const walk = (c: any) => {
      conditions.push(c);
      for (const inner of [...(c.And ?? []), ...(c.Or ?? []), ...(c.Not ? [c.Not] : [])])
        walk(inner);
    };
    for (const s of Object.values<any>(def.States)) for (const c of s.Choices ?? []) walk(c);
    expect(conditions.length).to.be.greaterThan(10);
    expect(
      conditions.filter((c) => Object.keys(c).some((k) => k.startsWith("StringMatches"))),
    ).to.deep.equal([]);
  });

  it("ingests through the connection with the record body, retrying 429, 5xx and timeouts only", () => {
    const retry = {
      ErrorEquals: [
        "States.Http.StatusCode.429",
        "States.Http.StatusCode.500",
        "States.Http.StatusCode.502",
        "States.Http.StatusCode.503",
        "States.Http.StatusCode.504",
        "States.Timeout",
      ],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 3,
      MaxDelaySeconds: 30,
      JitterStrategy: "FULL",
    };
    expect(def.States.Ingest).to.deep.equal({
      Type: "Task",
      Comment: def.States.Ingest.Comment,
      Resource: "arn:aws:states:::http:invoke",
      Parameters: {
        ApiEndpoint: "https://records.example.com/api/v1/records",
        Method: "POST",
        Authentication: { ConnectionArn: CONNECTION_ARN },
        Headers: { "Content-Type": "application/json" },
        RequestBody: {
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
      },
      TimeoutSeconds: 30,
      Retry: [retry],
      ResultSelector: { "statusCode.$": "$.StatusCode" },
      ResultPath: "$.ingest",
      Catch: [
        { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "IngestionFailedMessage" },
      ],
      Next: "WaitForAnchoring",
    });
    expect(def.States.Verify.Retry).to.deep.equal([retry]);
    expect(def.States.Verify.Parameters).to.deep.equal({
      ApiEndpoint: "https://records.example.com/api/v1/verify/record",
      Method: "POST",
      Authentication: { ConnectionArn: CONNECTION_ARN },
      Headers: { "Content-Type": "application/json" },
      RequestBody: {
        "tenantId.$": "$.record.tenantId",
        "database.$": "$.record.database",
        "collection.$": "$.record.collection",
        "recordId.$": "$.record.recordId",
        "recordPayload.$": "$.record.payload",
      },
    });
    expect(def.States.Verify.Catch).to.deep.equal([
      {
        ErrorEquals: ["States.Http.StatusCode.404"],
        ResultPath: "$.verification",
        Next: "IsAnchored",
      },
      { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "VerifyErrorMessage" },
    ]);
  });

  it("counts verify calls in the state data and compares the count with the maximum", () => {
    expect(def.States.Prepare.Parameters.attempts).to.deep.equal({ verify: 0 });
    expect(def.States.CountVerifyAttempt).to.deep.include({
      Parameters: { "verify.$": "States.MathAdd($.attempts.verify, 1)" },
      ResultPath: "$.attempts",
      Next: "Verify",
    });
    expect(def.States.IsAnchored.Choices[1]).to.deep.equal({
      Variable: "$.attempts.verify",
      NumericGreaterThanEquals: 5,
      Next: "NotAnchoredMessage",
    });
    expect(def.States.IsAnchored.Default).to.equal("WaitBeforeNextVerify");
    expect(def.States.WaitForAnchoring.Seconds).to.equal(90);
    expect(def.States.WaitBeforeNextVerify.Seconds).to.equal(30);
  });

  it("publishes with the outcome as a String message attribute", () => {
    expect(def.States.Notify).to.deep.include({
      Resource: "arn:aws:states:::sns:publish",
      Parameters: {
        TopicArn: TOPIC_ARN,
        "Subject.$": "$.notification.subject",
        "Message.$": "States.JsonToString($.notification.message)",
        MessageAttributes: {
          outcome: { DataType: "String", "StringValue.$": "$.notification.outcome" },
        },
      },
    });
  });

  it("rejects arguments Step Functions or the loop cannot take, naming them", () => {
    const bad: Array<[Partial<VerificationDefinitionArgs>, string]> = [
      [{ maxVerifyAttempts: 0 }, "maxVerifyAttempts must be an integer from 1 to 100, got 0"],
      [{ maxVerifyAttempts: 2.5 }, "maxVerifyAttempts must be an integer from 1 to 100, got 2.5"],
      [{ anchorWaitSeconds: -1 }, "anchorWaitSeconds must be an integer from 0 to 86400, got -1"],
      [
        { retryWaitSeconds: 90000 },
        "retryWaitSeconds must be an integer from 0 to 86400, got 90000",
      ],
      [{ apiEndpoint: "https://records.example.com/" }, 'apiEndpoint must not end with "/"'],
      [
        { httpRetry: { ...DEFAULT_HTTP_RETRY, maxAttempts: 11 } },
        "httpRetry.maxAttempts must be an integer from 0 to 10, got 11",
      ],
    ];
    for (const [args, message] of bad) {
      expect(() => buildVerificationDefinition({ ...ARGS, ...args })).to.throw(message);
    }
    expect(plannedWaitSeconds(ARGS)).to.equal(90 + 4 * 30);
  });

  describe("the route that starts it", () => {
    const pattern = withoutReplays(
      verificationEventPattern(["switchyard.records"], ["RecordVerificationRequested"]),
    );

    it("matches verification requests that name the record, its database and collection", () => {
      expect(matchesPattern(pattern, sampleEvent())).to.equal(true);
      const { database, ...noDatabase } = sampleEvent().detail;
      expect(database).to.equal("billing");
      expect(matchesPattern(pattern, { ...sampleEvent(), detail: noDatabase })).to.equal(false);
      expect(matchesPattern(pattern, sampleEvent({ recordVersion: "3" }))).to.equal(false);
      expect(
        matchesPattern(pattern, { ...sampleEvent(), "detail-type": "RecordCreated" }),
      ).to.equal(false);
      expect(matchesPattern(pattern, { ...sampleEvent(), "replay-name": "r1" })).to.equal(false);
    });

    it("renders the execution input the definition reads, escaping what EventBridge inserts as values", () => {
      expect(input).to.deep.equal({
        tenantId: "acme",
        database: "billing",
        collection: "invoices",
        recordId: "inv-42",
        recordVersion: 3,
        payload: { total: 120, currency: "EUR" },
        // No correlationId in the detail: EventBridge renders the missing bare variable as "".
        correlationId: "",
        eventId: "0d0c5d7e-8f6b-4a3e-9d1c-3b1f2e4a5b6c",
      });
      const t = verificationInputTransformer();
      expect(t).to.deep.equal({
        inputPaths: {
          tenantId: "$.detail.tenantId",
          database: "$.detail.database",
          collection: "$.detail.collection",
          recordId: "$.detail.recordId",
          recordVersion: "$.detail.recordVersion",
          payload: "$.detail.payload",
          correlationId: "$.detail.correlationId",
          eventId: "$.id",
        },
        inputTemplate:
          '{"tenantId":<tenantId>,"database":<database>,"collection":<collection>,"recordId":<recordId>,' +
          '"recordVersion":<recordVersion>,"payload":<payload>,"correlationId":<correlationId>,"eventId":<eventId>}',
      });
      const odd = renderToJson(
        { inputPathsMap: t.inputPaths, inputTemplate: t.inputTemplate },
        sampleEvent({ recordId: 'inv "42"' }),
      ) as any;
      expect(odd.recordId).to.equal('inv "42"');
    });

    it("renders the correlation id an event carries in its detail, beside the event id", () => {
      expect(
        routedInput(
          pattern,
          verificationInputTransformer(),
          sampleEvent({ correlationId: "corr-webhook-7" }),
        ),
      ).to.deep.equal({
        ...input,
        correlationId: "corr-webhook-7",
      });
      // A non-string id is inserted as JSON; the workflow then falls back to the event id.
      expect(
        routedInput(pattern, verificationInputTransformer(), sampleEvent({ correlationId: 42 }))
          .correlationId,
      ).to.equal(42);
    });

    it("an execution started with that input reads every field it needs", async () => {
      const run = await execute(def, input, { [INGEST]: [accepted], [VERIFY]: [anchored()] });
      expect(run.error).to.equal(undefined);
      const { correlationId, eventId, ...fields } = input;
      expect(correlationId).to.equal("");
      expect(run.output.record).to.deep.equal({ ...fields, correlationId: eventId });
    });
  });

  describe("the correlation id of an execution", () => {
    const WEBHOOK_CORRELATION_ID = "corr-webhook-7";
    const pattern = () =>
      withoutReplays(
        verificationEventPattern(["switchyard.records"], ["RecordVerificationRequested"]),
      );
    const script = () => ({ [INGEST]: [accepted], [VERIFY]: [anchored()] });
    const notified = (run: { topic: { published: Array<{ Message: string }> } }) => {
      expect(run.topic.published).to.have.length(1);
      return JSON.parse(run.topic.published[0].Message).correlationId;
    };

    it("keeps the correlation id the event carries in its detail, up to the notification", async () => {
      const routed = routedInput(
        pattern(),
        verificationInputTransformer(),
        sampleEvent({ correlationId: WEBHOOK_CORRELATION_ID }),
      );
      expect(routed).to.deep.include({
        correlationId: WEBHOOK_CORRELATION_ID,
        eventId: sampleEvent().id,
      });
      const run = await execute(def, routed, script());
      expect(run.error).to.equal(undefined);
      expect(run.path.slice(0, 4)).to.deep.equal([
        "PickCorrelationId",
        "KeepCorrelationId",
        "Prepare",
        "Ingest",
      ]);
      expect(run.output.record.correlationId).to.equal(WEBHOOK_CORRELATION_ID);
      expect(notified(run)).to.equal(WEBHOOK_CORRELATION_ID);
    });

    it('uses the event id when the event carries no correlation id (rendered as "")', async () => {
      const run = await execute(def, input, script());
      expect(run.path.slice(0, 4)).to.deep.equal([
        "PickCorrelationId",
        "UseEventId",
        "Prepare",
        "Ingest",
      ]);
      expect(run.output.record.correlationId).to.equal(sampleEvent().id);
      expect(notified(run)).to.equal(sampleEvent().id);
    });

    it("uses the event id when the detail's correlation id is an empty string or not a string", async () => {
      for (const correlationId of ["", 42, { id: "x" }]) {
        const routed = routedInput(
          pattern(),
          verificationInputTransformer(),
          sampleEvent({ correlationId }),
        );
        const run = await execute(def, routed, script());
        expect(run.path.slice(0, 3), JSON.stringify(correlationId)).to.deep.equal([
          "PickCorrelationId",
          "UseEventId",
          "Prepare",
        ]);
        expect(notified(run)).to.equal(sampleEvent().id);
      }
    });

    it("uses the execution name when StartExecution's input has neither correlationId nor eventId", async () => {
      const { correlationId: _c, eventId: _e, ...direct } = input;
      const run = await execute(def, direct, script());
      expect(run.error).to.equal(undefined);
      expect(run.path.slice(0, 4)).to.deep.equal([
        "PickCorrelationId",
        "UseExecutionName",
        "Prepare",
        "Ingest",
      ]);
      expect(run.output.record.correlationId).to.equal(EXECUTION_NAME);
      expect(notified(run)).to.equal(EXECUTION_NAME);
      // An empty correlationId without an event id falls back the same way.
      const empty = await execute(def, { ...direct, correlationId: "" }, script());
      expect(empty.path.slice(0, 2)).to.deep.equal(["PickCorrelationId", "UseExecutionName"]);
      expect(notified(empty)).to.equal(EXECUTION_NAME);
    });

    it("keeps a correlationId given directly in StartExecution's input, over the event id", async () => {
      const run = await execute(def, { ...input, correlationId: "corr-direct-1" }, script());
      expect(run.path.slice(0, 2)).to.deep.equal(["PickCorrelationId", "KeepCorrelationId"]);
      expect(notified(run)).to.equal("corr-direct-1");
    });
  });

  describe("executions", () => {
    it("derives the idempotency key from tenant, record, version and the payload's SHA-256", async () => {
      const keyOf = async (over: Record<string, unknown>) => {
        const run = await execute(def, { ...input, ...over }, { [INGEST]: [{ status: 400 }] });
        return run.api.to(INGEST)[0].body.idempotencyKey as string;
      };
      const sha = createHash("sha256").update(JSON.stringify(input.payload)).digest("hex");
      expect(await keyOf({})).to.equal(`acme:inv-42:3:${sha}`);
      expect(await keyOf({})).to.equal(await keyOf({}));
      const keys = new Set([
        await keyOf({}),
        await keyOf({ recordVersion: 4 }),
        await keyOf({ payload: { total: 121, currency: "EUR" } }),
        await keyOf({ recordId: "inv-43" }),
        await keyOf({ tenantId: "globex" }),
      ]);
      expect(keys.size).to.equal(5);
    });

    for (const max of [1, 2, 7]) {
      it(`with maxVerifyAttempts ${max}, a record never anchored is verified exactly ${max} times`, async () => {
        const run = await execute(
          buildVerificationDefinition({ ...ARGS, maxVerifyAttempts: max }),
          input,
          {
            [INGEST]: [accepted],
            [VERIFY]: [notYet],
          },
        );
        expect(run.api.to(VERIFY)).to.have.length(max);
        expect(run.path.filter((s) => s === "Verify")).to.have.length(max);
        expect(run.path.slice(-4)).to.deep.equal([
          "NotAnchoredMessage",
          "Notify",
          "WhichOutcome",
          "VerificationFailed",
        ]);
        expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
          verifyAttempts: max,
          maxVerifyAttempts: max,
        });
      });
    }

    it("anchored on the last allowed verify still counts as anchored", async () => {
      const run = await execute(
        buildVerificationDefinition({ ...ARGS, maxVerifyAttempts: 3 }),
        input,
        {
          [INGEST]: [accepted],
          [VERIFY]: [notYet, notYet, anchored()],
        },
      );
      expect(run.api.to(VERIFY)).to.have.length(3);
      expect(run.topic.published.map((p) => p.MessageAttributes.outcome.StringValue)).to.deep.equal(
        ["anchored"],
      );
    });

    it("verify retries of 5xx do not count as verifications, and a 5xx that never ends is reported", async () => {
      const run = await execute(def, input, { [INGEST]: [accepted], [VERIFY]: [{ status: 502 }] });
      expect(run.api.to(VERIFY)).to.have.length(1 + DEFAULT_HTTP_RETRY.maxAttempts);
      expect(run.path.slice(-4)).to.deep.equal([
        "VerifyErrorMessage",
        "Notify",
        "WhichOutcome",
        "VerificationFailed",
      ]);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        reason: "verify-error",
        verifyAttempts: 1,
        error: "States.Http.StatusCode.502",
      });
    });

    it("treats a 404 (record not visible yet) as not anchored and verifies again", async () => {
      const run = await execute(def, input, {
        [INGEST]: [accepted],
        [VERIFY]: [{ status: 404 }, anchored()],
      });
      expect(run.path.filter((s) => s === "Verify")).to.have.length(2);
      expect(run.retries).to.deep.equal([]);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        outcome: "anchored",
        verifyAttempts: 2,
      });
    });

    it("a response without the fields, or with non-boolean ones, is 'not anchored', never a crash", async () => {
      const run = await execute(
        buildVerificationDefinition({ ...ARGS, maxVerifyAttempts: 4 }),
        input,
        {
          [INGEST]: [accepted],
          [VERIFY]: [
            ok({ verified: true }),
            ok("anchored"),
            ok({ verified: "true", anchoredOnChain: "true" }),
            ok({ anchoredOnChain: true }),
          ],
        },
      );
      expect(run.error?.name).to.equal("Switchyard.VerificationFailed");
      expect(run.api.to(VERIFY)).to.have.length(4);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        reason: "not-anchored",
        verifyAttempts: 4,
      });
    });

    it("an anchored response without recordHash or proofUrl is reported with nulls", async () => {
      const run = await execute(def, input, {
        [INGEST]: [accepted],
        [VERIFY]: [ok({ verified: true, anchoredOnChain: true })],
      });
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        outcome: "anchored",
        recordHash: null,
        proofUrl: null,
      });
    });

    it("a notification SNS refuses is retried, then fails the execution", async () => {
      // An empty outcome attribute is what SNS rejects; forge one by breaking the built message.
      const broken = clone(def) as any;
      broken.States.AnchoredMessage.Parameters.outcome = "";
      const run = await execute(broken, input, { [INGEST]: [accepted], [VERIFY]: [anchored()] });
      expect(run.retries.filter((r) => r.state === "Notify")).to.have.length(3);
      expect(run.error?.name).to.equal("SNS.InvalidParameterException");
      expect(run.topic.published).to.have.length(0);
    });
  });
});
