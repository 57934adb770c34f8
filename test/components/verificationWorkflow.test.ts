import { expect } from "chai";
import { createHash } from "crypto";
import { one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import { EventHub } from "../../components/events/eventHub";
import {
  VerificationWorkflow,
  VerificationWorkflowArgs,
} from "../../components/records/verificationWorkflow";
import {
  buildVerificationDefinition,
  StateMachineDefinition,
  SUBJECTS,
} from "../../components/records/verificationDefinition";
import { evaluateProgram, Program } from "../program";
import {
  accepted,
  anchored,
  execute,
  notYet,
  routedInput,
  sampleEvent,
  EXECUTION_ID,
} from "./verificationHarness";

const T = {
  topic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
};

const API = "https://records.example.com";
const CONNECTION_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:connection/vhub-records-api/0000`;
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:events!connection/vhub-records-api/0000-AbCdEf`;
const SM_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:vflow`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:vflow-outcomes`;
const MAX = 4;

describe("VerificationWorkflow", () => {
  let hub: EventHub;
  let wf: VerificationWorkflow;
  /** The definition the component deployed, parsed from the recorded `definition` input. */
  let deployed: StateMachineDefinition;

  before(async () => {
    resetRecorded();
    hub = new EventHub("vhub", { logRetentionDays: 14 });
    wf = new VerificationWorkflow("vflow", {
      hub,
      apiEndpoint: API,
      connectionArn: CONNECTION_ARN,
      connectionSecretArn: SECRET_ARN,
      workflowType: "EXPRESS",
      logLevel: "ALL",
      includeExecutionData: true,
      anchorWaitSeconds: 75,
      retryWaitSeconds: 20,
      maxVerifyAttempts: MAX,
    });
    await valueOf(wf.stateMachineArn);
    await settle();
    deployed = JSON.parse(one(T.stateMachine, "vflow").inputs.definition);
  });

  it("deploys exactly the definition its pure builder returns for the same arguments", () => {
    const expected = buildVerificationDefinition({
      apiEndpoint: API,
      connectionArn: CONNECTION_ARN,
      topicArn: TOPIC_ARN,
      anchorWaitSeconds: 75,
      retryWaitSeconds: 20,
      maxVerifyAttempts: MAX,
    });
    expect(one(T.stateMachine, "vflow").inputs.definition).to.equal(JSON.stringify(expected));
    expect(deployed.States.WaitForAnchoring.Seconds).to.equal(75);
    expect(deployed.States.WaitBeforeNextVerify.Seconds).to.equal(20);
  });

  it("declares the state machine: named, type, role, logging to its log group, X-Ray tracing", () => {
    const sm = one(T.stateMachine, "vflow").inputs;
    expect(sm.name).to.equal("vflow");
    expect(sm.type).to.equal("EXPRESS");
    expect(sm.roleArn).to.equal(`arn:aws:iam::${ACCOUNT}:role/vflow`);
    expect(sm.loggingConfiguration).to.deep.equal({
      logDestination: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vendedlogs/states/vflow:*`,
      level: "ALL",
      includeExecutionData: true,
    });
    expect(sm.tracingConfiguration).to.deep.equal({ enabled: true });
    expect((wf.stateMachine as any).__parentResource).to.equal(wf);
  });

  it("keeps execution logs as long as the hub keeps its logs", () => {
    const lg = one(T.logGroup, "vflow-logs").inputs;
    expect(lg).to.deep.include({ name: "/aws/vendedlogs/states/vflow", retentionInDays: 14 });
  });

  it("lets only Step Functions, for this state machine in this account, assume the role", () => {
    const trust = JSON.parse(one(T.role, "vflow").inputs.assumeRolePolicy);
    expect(trust.Statement).to.deep.equal([
      {
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: { "aws:SourceArn": SM_ARN },
        },
      },
    ]);
  });

  it("grants exactly the HTTP endpoint, connection, secret, topic, log delivery and tracing permissions", () => {
    const policy = JSON.parse(one(T.rolePolicy, "vflow").inputs.policy);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "InvokeRecordsApi",
        Effect: "Allow",
        Action: "states:InvokeHTTPEndpoint",
        Resource: SM_ARN,
        Condition: {
          StringLike: { "states:HTTPEndpoint": `${API}/*` },
          StringEquals: { "states:HTTPMethod": "POST" },
        },
      },
      {
        Sid: "UseRecordsConnection",
        Effect: "Allow",
        Action: "events:RetrieveConnectionCredentials",
        Resource: CONNECTION_ARN,
      },
      {
        Sid: "ReadRecordsConnectionSecret",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: SECRET_ARN,
      },
      { Sid: "PublishOutcomes", Effect: "Allow", Action: "sns:Publish", Resource: TOPIC_ARN },
      {
        Sid: "DeliverExecutionLogs",
        Effect: "Allow",
        Action: [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ],
        Resource: "*",
      },
      {
        Sid: "WriteTraces",
        Effect: "Allow",
        Action: [
          "xray:PutTraceSegments",
          "xray:PutTelemetryRecords",
          "xray:GetSamplingRules",
          "xray:GetSamplingTargets",
        ],
        Resource: "*",
      },
    ]);
    expect(one(T.rolePolicy, "vflow").inputs.role).to.equal("vflow");
  });

  it("every HTTP Task calls a URL the role may call, with POST, through the connection the role may use", () => {
    for (const s of [deployed.States.Ingest, deployed.States.Verify]) {
      expect(s.Parameters.ApiEndpoint.startsWith(`${API}/`)).to.equal(true);
      expect(s.Parameters.Method).to.equal("POST");
      expect(s.Parameters.Authentication.ConnectionArn).to.equal(CONNECTION_ARN);
    }
    expect(deployed.States.Notify.Parameters.TopicArn).to.equal(TOPIC_ARN);
  });

  it("starts executions from a hub route: pattern, input transformer, StartExecution on this state machine", () => {
    const rule = one(T.rule, "vhub-verification").inputs;
    expect(JSON.parse(rule.eventPattern)).to.deep.equal({
      source: ["switchyard.records"],
      "detail-type": ["RecordVerificationRequested"],
      detail: {
        tenantId: [{ exists: true }],
        recordId: [{ exists: true }],
        recordVersion: [{ numeric: [">=", 0] }],
        database: [{ exists: true }],
        collection: [{ exists: true }],
      },
      "replay-name": [{ exists: false }],
    });
    const t = one(T.target, "vhub-verification-workflow").inputs;
    expect(t.arn).to.equal(SM_ARN);
    expect(t.inputTransformer).to.deep.equal({
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
        '{"tenantId":<tenantId>,"database":<database>,"collection":<collection>,"recordId":<recordId>,"recordVersion":<recordVersion>,"payload":<payload>,"correlationId":<correlationId>,"eventId":<eventId>}',
    });
    expect(t.deadLetterConfig).to.deep.equal({ arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:vhub-dlq` });
    const start = JSON.parse(one(T.rolePolicy, "vhub-verification-workflow").inputs.policy);
    expect(start.Statement).to.deep.equal([
      { Effect: "Allow", Action: ["states:StartExecution"], Resource: SM_ARN },
    ]);
    expect((wf.route as any).__parentResource).to.equal(wf);
    expect(hub.routes.verification).to.equal(wf.route);
  });

  it("declares no webhook route unless webhookRequests names a receiver", () => {
    expect(wf.webhookRoutes).to.deep.equal({});
    expect(Object.keys(hub.routes).filter((r) => r.startsWith("verification-"))).to.deep.equal([]);
  });

  it("starts executions from requests delivered to webhook receivers: a route per receiver, the fields at its record path", async () => {
    const h = new EventHub("vwhub");
    const w = new VerificationWorkflow("vwflow", {
      hub: h,
      apiEndpoint: API,
      connectionArn: CONNECTION_ARN,
      connectionSecretArn: SECRET_ARN,
      webhookRequests: {
        hmac: { source: "switchyard.webhooks.hmac", recordPath: "$.detail.payload" },
        standard: { source: "switchyard.webhooks.standard", recordPath: "$.detail.payload.data" },
      },
    });
    await valueOf(w.stateMachineArn);
    await settle();
    const fields = {
      tenantId: [{ exists: true }],
      recordId: [{ exists: true }],
      recordVersion: [{ numeric: [">=", 0] }],
      database: [{ exists: true }],
      collection: [{ exists: true }],
    };
    expect(JSON.parse(one(T.rule, "vwhub-verification-hmac").inputs.eventPattern)).to.deep.equal({
      source: ["switchyard.webhooks.hmac"],
      "detail-type": ["RecordVerificationRequested"],
      detail: { payload: fields },
      "replay-name": [{ exists: false }],
    });
    expect(
      JSON.parse(one(T.rule, "vwhub-verification-standard").inputs.eventPattern),
    ).to.deep.equal({
      source: ["switchyard.webhooks.standard"],
      "detail-type": ["RecordVerificationRequested"],
      detail: { payload: { data: fields } },
      "replay-name": [{ exists: false }],
    });
    const arn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:vwflow`;
    const paths = (root: string) => ({
      tenantId: `${root}.tenantId`,
      database: `${root}.database`,
      collection: `${root}.collection`,
      recordId: `${root}.recordId`,
      recordVersion: `${root}.recordVersion`,
      payload: `${root}.payload`,
      correlationId: "$.detail.correlationId",
      eventId: "$.id",
    });
    for (const [name, root] of [
      ["hmac", "$.detail.payload"],
      ["standard", "$.detail.payload.data"],
    ]) {
      const t = one(T.target, `vwhub-verification-${name}-workflow`).inputs;
      expect(t.arn).to.equal(arn);
      expect(t.inputTransformer.inputPaths).to.deep.equal(paths(root));
      expect(t.inputTransformer.inputTemplate).to.equal(
        one(T.target, "vwhub-verification-workflow").inputs.inputTransformer.inputTemplate,
      );
      expect(t.retryPolicy).to.deep.equal({
        maximumRetryAttempts: 185,
        maximumEventAgeInSeconds: 86400,
      });
      expect(t.deadLetterConfig).to.deep.equal({
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:vwhub-dlq`,
      });
      const start = JSON.parse(
        one(T.rolePolicy, `vwhub-verification-${name}-workflow`).inputs.policy,
      );
      expect(start.Statement).to.deep.equal([
        { Effect: "Allow", Action: ["states:StartExecution"], Resource: arn },
      ]);
      expect((w.webhookRoutes[name] as any).__parentResource).to.equal(w);
      expect(h.routes[`verification-${name}`]).to.equal(w.webhookRoutes[name]);
    }
  });

  it("exposes the state machine and topic ARNs", async () => {
    expect(await valueOf(wf.stateMachineArn)).to.equal(SM_ARN);
    expect(await valueOf(wf.topicArn)).to.equal(TOPIC_ARN);
  });

  const base = () => ({
    apiEndpoint: API,
    connectionArn: CONNECTION_ARN,
    connectionSecretArn: SECRET_ARN,
  });
  const bad: Array<[string, Partial<VerificationWorkflowArgs>, string]> = [
    [
      "an unknown workflow type",
      { workflowType: "BATCH" as any },
      'workflowType must be one of STANDARD, EXPRESS, got "BATCH"',
    ],
    [
      "an unknown log level",
      { logLevel: "DEBUG" as any },
      'logLevel must be one of ALL, ERROR, FATAL, OFF, got "DEBUG"',
    ],
    [
      "zero verify attempts",
      { maxVerifyAttempts: 0 },
      "maxVerifyAttempts must be an integer from 1 to 100, got 0",
    ],
    [
      "an http endpoint",
      { apiEndpoint: "http://records.example.com" },
      "apiEndpoint must use https://",
    ],
    [
      "a source in both sources and webhookRequests",
      {
        webhookRequests: { crm: { source: "switchyard.records", recordPath: "$.detail.payload" } },
      },
      "webhookRequests and sources must name each source once, switchyard.records is named twice",
    ],
    [
      "a record path outside the event's detail",
      {
        webhookRequests: { hmac: { source: "switchyard.webhooks.hmac", recordPath: "$.payload" } },
      },
      'recordPath must be $.detail.<field>[.<field>...], got "$.payload"',
    ],
    [
      "an EXPRESS workflow whose waits exceed its 5 minutes",
      {
        workflowType: "EXPRESS",
        anchorWaitSeconds: 90,
        retryWaitSeconds: 60,
        maxVerifyAttempts: 5,
      },
      "an EXPRESS workflow stops after 300 s, but anchorWaitSeconds + (maxVerifyAttempts - 1) * retryWaitSeconds is 330 s",
    ],
  ];
  bad.forEach(([what, args, message], i) => {
    it(`rejects ${what}`, () => {
      const h = new EventHub(`vbad${i}`);
      expect(() => new VerificationWorkflow(`vbad${i}`, { hub: h, ...base(), ...args })).to.throw(
        message,
      );
    });
  });

  describe("executions of the deployed definition, started by the route's rendered input", () => {
    let input: any;
    const EVENT_ID = sampleEvent().id;
    const ids = {
      tenantId: "acme",
      database: "billing",
      collection: "invoices",
      recordId: "inv-42",
      recordVersion: 3,
    };
    const payload = sampleEvent().detail.payload;
    const key = `acme:inv-42:3:${createHash("sha256").update(JSON.stringify(payload)).digest("hex")}`;
    // The sample event carries no correlation id in its detail: the workflow uses the event id.
    const record = {
      ...ids,
      correlationId: EVENT_ID,
      idempotencyKey: key,
      executionId: EXECUTION_ID,
    };
    const INGEST = "/api/v1/records";
    const VERIFY = "/api/v1/verify/record";
    const loop = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        i === 0
          ? ["CountVerifyAttempt", "Verify", "IsAnchored"]
          : ["WaitBeforeNextVerify", "CountVerifyAttempt", "Verify", "IsAnchored"],
      ).flat();
    const start = ["PickCorrelationId", "UseEventId", "Prepare"];
    const head = [...start, "Ingest", "WaitForAnchoring"];

    before(() => {
      const rule = one(T.rule, "vhub-verification").inputs;
      const t = one(T.target, "vhub-verification-workflow").inputs;
      input = routedInput(JSON.parse(rule.eventPattern), t.inputTransformer, sampleEvent());
      expect(input).to.deep.equal({ ...ids, payload, correlationId: "", eventId: EVENT_ID });
    });

    it("an event whose detail carries a correlation id: the execution keeps it in the notification", async () => {
      const rule = one(T.rule, "vhub-verification").inputs;
      const t = one(T.target, "vhub-verification-workflow").inputs;
      const carried = routedInput(
        JSON.parse(rule.eventPattern),
        t.inputTransformer,
        sampleEvent({ correlationId: "corr-webhook-7" }),
      );
      expect(carried).to.deep.equal({
        ...ids,
        payload,
        correlationId: "corr-webhook-7",
        eventId: EVENT_ID,
      });
      const run = await execute(deployed, carried, {
        [INGEST]: [accepted],
        [VERIFY]: [anchored("h-1", "https://explorer.example/tx/1")],
      });
      expect(run.path).to.deep.equal([
        "PickCorrelationId",
        "KeepCorrelationId",
        "Prepare",
        "Ingest",
        "WaitForAnchoring",
        ...loop(1),
        "SelectProof",
        "AnchoredMessage",
        "Notify",
        "WhichOutcome",
        "Anchored",
      ]);
      expect(run.topic.published).to.have.length(1);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.equal({
        outcome: "anchored",
        ...record,
        correlationId: "corr-webhook-7",
        verifyAttempts: 1,
        recordHash: "h-1",
        proofUrl: "https://explorer.example/tx/1",
      });
    });

    it("anchored on the first verify: one ingest, one verify, the anchored notification", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [accepted],
        [VERIFY]: [anchored("h-1", "https://explorer.example/tx/1")],
      });
      expect(run.path).to.deep.equal([
        ...head,
        ...loop(1),
        "SelectProof",
        "AnchoredMessage",
        "Notify",
        "WhichOutcome",
        "Anchored",
      ]);
      expect(run.error).to.equal(undefined);
      expect(run.api.calls.map((c) => c.state)).to.deep.equal(["Ingest", "Verify"]);
      expect(run.api.to(INGEST)[0].body).to.deep.equal({
        tenantId: "acme",
        database: "billing",
        collection: "invoices",
        recordId: "inv-42",
        recordVersion: 3,
        operationType: "upsert",
        recordPayload: payload,
        sourceTimestamp: run.api.to(INGEST)[0].body.sourceTimestamp,
        idempotencyKey: key,
      });
      expect(new Date(run.api.to(INGEST)[0].body.sourceTimestamp).toISOString()).to.equal(
        run.api.to(INGEST)[0].body.sourceTimestamp,
      );
      expect(run.api.to(VERIFY)[0].body).to.deep.equal({
        tenantId: "acme",
        database: "billing",
        collection: "invoices",
        recordId: "inv-42",
        recordPayload: payload,
      });
      expect(
        run.api.calls.every((c) => c.method === "POST" && c.connectionArn === CONNECTION_ARN),
      ).to.equal(true);
      expect(run.topic.published).to.have.length(1);
      const [msg] = run.topic.published;
      expect(msg.TopicArn).to.equal(TOPIC_ARN);
      expect(msg.Subject).to.equal(SUBJECTS.anchored);
      expect(msg.MessageAttributes).to.deep.equal({
        outcome: { DataType: "String", StringValue: "anchored" },
      });
      expect(JSON.parse(msg.Message)).to.deep.equal({
        outcome: "anchored",
        ...record,
        verifyAttempts: 1,
        recordHash: "h-1",
        proofUrl: "https://explorer.example/tx/1",
      });
      expect(run.output.published).to.deep.equal({ messageId: "msg-1" });
    });

    it("anchored on the third verify: the loop waits and verifies again", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [accepted],
        [VERIFY]: [notYet, notYet, anchored()],
      });
      expect(run.path).to.deep.equal([
        ...head,
        ...loop(3),
        "SelectProof",
        "AnchoredMessage",
        "Notify",
        "WhichOutcome",
        "Anchored",
      ]);
      expect(run.api.to(INGEST)).to.have.length(1);
      expect(run.api.to(VERIFY)).to.have.length(3);
      expect(run.topic.published).to.have.length(1);
      expect(run.topic.published[0].MessageAttributes.outcome.StringValue).to.equal("anchored");
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        outcome: "anchored",
        verifyAttempts: 3,
      });
    });

    it(`never anchored: exactly ${MAX} verify calls, then the verification-failed notification`, async () => {
      const run = await execute(deployed, input, { [INGEST]: [accepted], [VERIFY]: [notYet] });
      expect(run.path).to.deep.equal([
        ...head,
        ...loop(MAX),
        "NotAnchoredMessage",
        "Notify",
        "WhichOutcome",
        "VerificationFailed",
      ]);
      expect(run.api.to(VERIFY)).to.have.length(MAX);
      expect(run.api.calls).to.have.length(MAX + 1);
      expect(run.error).to.deep.equal({
        name: "Switchyard.VerificationFailed",
        cause: "The record was not verified as anchored; see the verification-failed notification",
      });
      expect(run.topic.published).to.have.length(1);
      const [msg] = run.topic.published;
      expect(msg.Subject).to.equal(SUBJECTS["verification-failed"]);
      expect(msg.MessageAttributes).to.deep.equal({
        outcome: { DataType: "String", StringValue: "verification-failed" },
      });
      expect(JSON.parse(msg.Message)).to.deep.equal({
        outcome: "verification-failed",
        ...record,
        reason: "not-anchored",
        verifyAttempts: MAX,
        maxVerifyAttempts: MAX,
      });
    });

    it("ingest answers 429 twice then 202: two retries, then the workflow goes on", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [{ status: 429 }, { status: 429 }, accepted],
        [VERIFY]: [anchored()],
      });
      expect(run.path).to.deep.equal([
        ...head,
        ...loop(1),
        "SelectProof",
        "AnchoredMessage",
        "Notify",
        "WhichOutcome",
        "Anchored",
      ]);
      expect(run.retries).to.deep.equal([
        { state: "Ingest", attempt: 1 },
        { state: "Ingest", attempt: 2 },
      ]);
      expect(run.api.to(INGEST)).to.have.length(3);
      // Retries send the same request, idempotency key included.
      expect(new Set(run.api.to(INGEST).map((c) => JSON.stringify(c.body))).size).to.equal(1);
      expect(run.api.to(VERIFY)).to.have.length(1);
      expect(run.output.ingest).to.deep.equal({ statusCode: 202 });
      expect(run.topic.published.map((p) => p.MessageAttributes.outcome.StringValue)).to.deep.equal(
        ["anchored"],
      );
    });

    it("ingest answers 400: no retry, no verify, the ingestion-failed notification with the error", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [{ status: 400 }],
        [VERIFY]: [anchored()],
      });
      expect(run.path).to.deep.equal([
        ...start,
        "Ingest",
        "IngestionFailedMessage",
        "Notify",
        "WhichOutcome",
        "IngestionFailed",
      ]);
      expect(run.retries).to.deep.equal([]);
      expect(run.api.calls.map((c) => c.state)).to.deep.equal(["Ingest"]);
      expect(run.error).to.deep.equal({
        name: "Switchyard.IngestionFailed",
        cause: "The records API did not accept the record; see the ingestion-failed notification",
      });
      expect(run.topic.published).to.have.length(1);
      const [msg] = run.topic.published;
      expect(msg.Subject).to.equal(SUBJECTS["ingestion-failed"]);
      expect(msg.MessageAttributes).to.deep.equal({
        outcome: { DataType: "String", StringValue: "ingestion-failed" },
      });
      expect(JSON.parse(msg.Message)).to.deep.equal({
        outcome: "ingestion-failed",
        ...record,
        error: "States.Http.StatusCode.400",
        cause: "Bad Request",
      });
    });

    it("ingest keeps answering 503: the retries run out and the ingestion-failed notification names the error", async () => {
      const run = await execute(deployed, input, { [INGEST]: [{ status: 503 }] });
      expect(run.path).to.deep.equal([
        ...start,
        "Ingest",
        "IngestionFailedMessage",
        "Notify",
        "WhichOutcome",
        "IngestionFailed",
      ]);
      expect(run.api.to(INGEST)).to.have.length(1 + deployed.States.Ingest.Retry[0].MaxAttempts);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        error: "States.Http.StatusCode.503",
        cause: "Service Unavailable",
      });
    });

    it("verify answers 500 then recovers: the call is retried, not counted as another verification", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [accepted],
        [VERIFY]: [{ status: 500 }, notYet, anchored()],
      });
      expect(run.path).to.deep.equal([
        ...head,
        ...loop(2),
        "SelectProof",
        "AnchoredMessage",
        "Notify",
        "WhichOutcome",
        "Anchored",
      ]);
      expect(run.retries).to.deep.equal([{ state: "Verify", attempt: 1 }]);
      expect(run.api.to(VERIFY)).to.have.length(3);
      expect(run.api.calls).to.have.length(4);
      expect(run.topic.published).to.have.length(1);
      expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
        outcome: "anchored",
        verifyAttempts: 2,
      });
    });

    it("verify answers 400: no retry, the verification-failed notification carries the error", async () => {
      const run = await execute(deployed, input, {
        [INGEST]: [accepted],
        [VERIFY]: [{ status: 400 }],
      });
      expect(run.path).to.deep.equal([
        ...head,
        "CountVerifyAttempt",
        "Verify",
        "VerifyErrorMessage",
        "Notify",
        "WhichOutcome",
        "VerificationFailed",
      ]);
      expect(run.api.to(VERIFY)).to.have.length(1);
      const [msg] = run.topic.published;
      expect(msg.MessageAttributes.outcome.StringValue).to.equal("verification-failed");
      expect(JSON.parse(msg.Message)).to.deep.equal({
        outcome: "verification-failed",
        ...record,
        reason: "verify-error",
        verifyAttempts: 1,
        maxVerifyAttempts: MAX,
        error: "States.Http.StatusCode.400",
        cause: "Bad Request",
      });
    });
  });
});

describe("VerificationWorkflow in the program (index.ts)", () => {
  const sm = (p: Program) => p.resources.find((r) => r.type === T.stateMachine)!;

  it("dev: an EXPRESS workflow logging everything, reusing the forwarder's connection and endpoint", async () => {
    const p = await evaluateProgram("dev");
    const s = sm(p);
    expect(s.name).to.equal("switchyard-dev-verify");
    expect(s.inputs.type).to.equal("EXPRESS");
    expect(s.inputs.loggingConfiguration).to.deep.include({
      level: "ALL",
      includeExecutionData: true,
    });
    const def = JSON.parse(s.inputs.definition);
    expect(def.States.Ingest.Parameters.ApiEndpoint).to.equal(
      "https://sandbox.records.example.com/api/v1/records",
    );
    expect(def.States.Verify.Parameters.Authentication.ConnectionArn).to.equal(
      await valueOf(p.exports.recordsConnectionArn),
    );
    expect(def.States.WaitForAnchoring.Seconds).to.equal(90);
    expect(def.States.WaitBeforeNextVerify.Seconds).to.equal(30);
    expect(def.States.IsAnchored.Choices[1].NumericGreaterThanEquals).to.equal(5);
    const lg = p.resources.find((r) => r.name === "switchyard-dev-verify-logs")!;
    expect(lg.inputs.retentionInDays).to.equal(7);
    const secretStatement = JSON.parse(
      p.resources.find((r) => r.type === T.rolePolicy && r.name === "switchyard-dev-verify")!.inputs
        .policy,
    ).Statement[2];
    expect(secretStatement.Resource).to.equal(await valueOf(p.exports.recordsConnectionSecretArn));
    expect(await valueOf(p.exports.verificationStateMachineArn)).to.equal(
      `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:switchyard-dev-verify`,
    );
    expect(await valueOf(p.exports.verificationTopicArn)).to.equal(
      `arn:aws:sns:${REGION}:${ACCOUNT}:switchyard-dev-verify-outcomes`,
    );
    expect(Object.keys(p.exports.hub.routes)).to.include("verification");
    // Pulumi.dev.yaml: verificationWebhookProviders ["hmac","standard"]
    for (const provider of ["hmac", "standard"]) {
      const rule = p.resources.find(
        (r) => r.type === T.rule && r.name === `switchyard-dev-verification-${provider}`,
      )!;
      const pattern = JSON.parse(rule.inputs.eventPattern);
      expect(pattern.source).to.deep.equal([`switchyard.webhooks.${provider}`]);
      // The generic sender's body is the request; a Standard Webhooks envelope carries it as data.
      const fields = provider === "hmac" ? pattern.detail.payload : pattern.detail.payload.data;
      expect(Object.keys(fields).sort()).to.deep.equal([
        "collection",
        "database",
        "recordId",
        "recordVersion",
        "tenantId",
      ]);
      const target = p.resources.find(
        (r) => r.type === T.target && r.name === `switchyard-dev-verification-${provider}-workflow`,
      )!;
      expect(target.inputs.arn).to.equal(await valueOf(p.exports.verificationStateMachineArn));
    }
  });

  it("prod: a STANDARD workflow logging errors without execution data", async () => {
    const p = await evaluateProgram("prod");
    const s = sm(p);
    expect(s.inputs.type).to.equal("STANDARD");
    expect(s.inputs.loggingConfiguration).to.deep.include({
      level: "ERROR",
      includeExecutionData: false,
    });
    expect(
      p.resources.find((r) => r.name === "switchyard-prod-verify-logs")!.inputs.retentionInDays,
    ).to.equal(90);
    expect(
      p.resources.filter(
        (r) => r.type === T.rule && r.name.startsWith("switchyard-prod-verification-"),
      ),
    ).to.deep.equal([]);
  });

  it("reads the waits, attempts and route from config", async () => {
    const p = await evaluateProgram("prod", {
      verificationAnchorWaitSeconds: "120",
      verificationRetryWaitSeconds: "45",
      verificationMaxAttempts: "8",
      verificationSources: '["crm"]',
      verificationDetailTypes: '["VerifyRecord"]',
    });
    const def = JSON.parse(sm(p).inputs.definition);
    expect(def.States.WaitForAnchoring.Seconds).to.equal(120);
    expect(def.States.WaitBeforeNextVerify.Seconds).to.equal(45);
    expect(def.States.IsAnchored.Choices[1].NumericGreaterThanEquals).to.equal(8);
    const rule = p.resources.find(
      (r) => r.type === T.rule && r.name === "switchyard-prod-verification",
    )!;
    const pattern = JSON.parse(rule.inputs.eventPattern);
    expect(pattern.source).to.deep.equal(["crm"]);
    expect(pattern["detail-type"]).to.deep.equal(["VerifyRecord"]);
  });

  const bad: Array<[string, string, string, string]> = [
    [
      "dev",
      "verificationWorkflowType",
      "BATCH",
      'switchyard:verificationWorkflowType must be one of STANDARD, EXPRESS, got "BATCH". Fix it with: pulumi config set switchyard:verificationWorkflowType STANDARD --stack dev',
    ],
    [
      "dev",
      "verificationLogLevel",
      "DEBUG",
      'switchyard:verificationLogLevel must be one of ALL, ERROR, FATAL, OFF, got "DEBUG"',
    ],
    [
      "prod",
      "verificationMaxAttempts",
      "0",
      'switchyard:verificationMaxAttempts must be a whole number from 1 to 100, got "0"',
    ],
    [
      "dev",
      "verificationRetryWaitSeconds",
      "60",
      "switchyard:verificationWorkflowType is EXPRESS (at most 5 minutes per execution), but verificationAnchorWaitSeconds + (verificationMaxAttempts - 1) * verificationRetryWaitSeconds is 330 s, more than 240 s. Fix it with: pulumi config set switchyard:verificationWorkflowType STANDARD --stack dev",
    ],
    [
      "prod",
      "verificationWebhookProviders",
      '["hmac"]',
      `switchyard:verificationWebhookProviders names hmac, not in switchyard:webhookProviders (["github","stripe"]): no receiver would deliver those requests. Fix it with: pulumi config set switchyard:verificationWebhookProviders '[]' --stack prod`,
    ],
    [
      "dev",
      "verificationWebhookProviders",
      '["github"]',
      `switchyard:verificationWebhookProviders must be a JSON list of strings matching /^(hmac|standard)$/, got ["github"]. Fix it with: pulumi config set switchyard:verificationWebhookProviders '["hmac"]' --stack dev`,
    ],
    [
      "dev",
      "verificationSources",
      '["switchyard.records","switchyard.webhooks.hmac"]',
      `switchyard:verificationSources names switchyard.webhooks.hmac, whose requests switchyard:verificationWebhookProviders already routes to the workflow (each event would start two executions). Fix it with: pulumi config set switchyard:verificationSources '["switchyard.records"]' --stack dev`,
    ],
  ];
  for (const [stack, key, value, message] of bad) {
    it(`fails at preview naming switchyard:${key} when it is ${value} (${stack})`, async () => {
      try {
        await evaluateProgram(stack, { [key]: value });
        expect.fail("the program should not evaluate");
      } catch (e: any) {
        expect(e.message).to.contain(message);
      }
    });
  }
});
