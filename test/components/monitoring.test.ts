import { expect } from "chai";
import { ACCOUNT, REGION, ofType, one, recorded, resetRecorded, settle, setupMocks, valueOf } from "../mocks";

setupMocks();
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Monitoring, MONITORING_DEFAULTS, validateMonitoringArgs } from "../../components/ops/monitoring";
import { buildDashboardBody, DashboardBody, GRID_WIDTH } from "../../components/ops/dashboard";
import { makeMetrics, recordRejected, REJECTION_REASONS } from "../../handlers/lib/telemetry";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:mon-alarms`;

/** The inputs of an alarm that decide what it watches and when it fires. */
function shape(inputs: Record<string, any>) {
  const out: Record<string, any> = {
    namespace: inputs.namespace,
    metricName: inputs.metricName,
    dimensions: inputs.dimensions,
    period: inputs.period,
    evaluationPeriods: inputs.evaluationPeriods,
    threshold: inputs.threshold,
    comparisonOperator: inputs.comparisonOperator,
    treatMissingData: inputs.treatMissingData,
    alarmActions: inputs.alarmActions,
    okActions: inputs.okActions,
  };
  if (inputs.statistic !== undefined) out.statistic = inputs.statistic;
  if (inputs.extendedStatistic !== undefined) out.extendedStatistic = inputs.extendedStatistic;
  if (inputs.datapointsToAlarm !== undefined) out.datapointsToAlarm = inputs.datapointsToAlarm;
  return out;
}

const actions = { treatMissingData: "notBreaching", alarmActions: [TOPIC_ARN], okActions: [TOPIC_ARN] };
const perMinute = { period: 60, evaluationPeriods: 1 };

/** Captures what Powertools writes to stdout (EMF blobs) while `fn` runs. */
function captureStdout(fn: () => void): string[] {
  const lines: string[] = [];
  const write = process.stdout.write;
  (process.stdout as any).write = (chunk: any) => {
    lines.push(...String(chunk).split("\n").filter((l) => l.trim() !== ""));
    return true;
  };
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return lines;
}

describe("Monitoring (switchyard:ops:Monitoring)", () => {
  let mon: Monitoring;
  let body: DashboardBody;

  before(async () => {
    resetRecorded();
    const role = `arn:aws:iam::${ACCOUNT}:role/r`;
    const fn = new aws.lambda.Function("mon-fn-a", {
      name: "ingest-fn",
      role,
      runtime: "nodejs22.x",
      handler: "index.handler",
      code: new pulumi.asset.AssetArchive({}),
    });
    const dlq = new aws.sqs.Queue("mon-hub-dlq", { name: "hub-dlq" });
    const sm = new aws.sfn.StateMachine("mon-wf", { name: "verify", roleArn: role, definition: "{}" });
    const rule = new aws.cloudwatch.EventRule("mon-records", {
      name: "hub-records",
      eventBusName: "hub-bus",
      eventPattern: JSON.stringify({ source: ["x"] }),
    });
    mon = new Monitoring("mon", {
      functions: {
        ingest: { function: fn, asyncInvoked: true },
        receiver: "webhook-fn",
      },
      queues: { hub: dlq, route: { name: "route-dlq", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:route-dlq` } },
      stateMachines: { verify: sm },
      restApis: { jobs: { apiName: "jobs-api", stage: "v1" } },
      rules: { records: { rule }, legacy: { busName: "default", ruleName: "old-rule" } },
      webhooks: { receiver: { service: "webhooks" } },
      alarmEmail: "ops@example.com",
      thresholds: { lambdaErrors: 3, api5xxRatePercent: 2, apiLatencyP99Ms: 1500, webhookRejectionsPerMinute: 30 },
    });
    body = JSON.parse(await valueOf(mon.dashboard.dashboardBody));
    await settle();
  });

  it("declares exactly these alarms, each watching its metric and notifying the topic on ALARM and OK", () => {
    const got = Object.fromEntries(ofType(ALARM, /^mon-/).map((r) => [r.name, shape(r.inputs)]));
    const count = (statistic: string) => ({ statistic, ...perMinute, ...actions });
    expect(got).to.deep.equal({
      "mon-dlq-hub": {
        namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: "hub-dlq" },
        threshold: 0, comparisonOperator: "GreaterThanThreshold", ...count("Maximum"),
      },
      "mon-dlq-route": {
        namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: "route-dlq" },
        threshold: 0, comparisonOperator: "GreaterThanThreshold", ...count("Maximum"),
      },
      "mon-fn-ingest-errors": {
        namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "ingest-fn" },
        threshold: 3, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-fn-ingest-throttles": {
        namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: "ingest-fn" },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-fn-ingest-event-age": {
        namespace: "AWS/Lambda", metricName: "AsyncEventAge", dimensions: { FunctionName: "ingest-fn" },
        threshold: 300000, comparisonOperator: "GreaterThanThreshold", ...count("Maximum"),
      },
      "mon-fn-ingest-dropped": {
        namespace: "AWS/Lambda", metricName: "AsyncEventsDropped", dimensions: { FunctionName: "ingest-fn" },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-fn-receiver-errors": {
        namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "webhook-fn" },
        threshold: 3, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-fn-receiver-throttles": {
        namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: "webhook-fn" },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-sfn-verify-failed": {
        namespace: "AWS/States", metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-sfn-verify-timed-out": {
        namespace: "AWS/States", metricName: "ExecutionsTimedOut",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-sfn-verify-aborted": {
        namespace: "AWS/States", metricName: "ExecutionsAborted",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-api-jobs-5xx-rate": {
        namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions: { ApiName: "jobs-api", Stage: "v1" },
        statistic: "Average", threshold: 0.02, comparisonOperator: "GreaterThanThreshold",
        period: 60, evaluationPeriods: 5, datapointsToAlarm: 3, ...actions,
      },
      "mon-api-jobs-latency-p99": {
        namespace: "AWS/ApiGateway", metricName: "Latency", dimensions: { ApiName: "jobs-api", Stage: "v1" },
        extendedStatistic: "p99", threshold: 1500, comparisonOperator: "GreaterThanThreshold",
        period: 60, evaluationPeriods: 5, datapointsToAlarm: 3, ...actions,
      },
      "mon-rule-records-failed": {
        namespace: "AWS/Events", metricName: "FailedInvocations", dimensions: { EventBusName: "hub-bus", RuleName: "hub-records" },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-rule-legacy-failed": {
        namespace: "AWS/Events", metricName: "FailedInvocations", dimensions: { RuleName: "old-rule" },
        threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...count("Sum"),
      },
      "mon-webhook-receiver-signature": {
        namespace: "Switchyard", metricName: "WebhookRejected", dimensions: { service: "webhooks", reason: "signature" },
        threshold: 30, comparisonOperator: "GreaterThanThreshold", ...count("Sum"),
      },
    });
    expect(Object.keys(mon.alarms)).to.have.length(16);
    for (const a of ofType(ALARM, /^mon-/)) expect(a.inputs.alarmDescription).to.be.a("string").with.length.above(40);
  });

  it("alarms on the exact metric the telemetry helpers emit for a signature rejection", () => {
    const metrics = makeMetrics("webhooks");
    const lines = captureStdout(() => recordRejected(metrics, REJECTION_REASONS.signature, "github"));
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws);
    const def = emf._aws.CloudWatchMetrics[0];
    const alarm = one(ALARM, "mon-webhook-receiver-signature").inputs;
    expect(def.Namespace).to.equal(alarm.namespace);
    expect(def.Metrics.map((m: any) => m.Name)).to.deep.equal([alarm.metricName]);
    // CloudWatch matches an alarm to a metric only on the exact dimension set.
    expect([...def.Dimensions[0]].sort()).to.deep.equal(Object.keys(alarm.dimensions).sort());
    for (const [k, v] of Object.entries(alarm.dimensions)) expect(emf[k]).to.equal(v);
    expect(emf.WebhookRejected).to.equal(1);
    expect(emf.provider).to.equal("github");
  });

  it("lets only this component's alarms publish to its topic, and subscribes the email", () => {
    const policy = JSON.parse(one("aws:sns/topicPolicy:TopicPolicy", "mon-alarms").inputs.policy);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "AllowThisComponentsAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: TOPIC_ARN,
        Condition: {
          ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:mon-*` },
          StringEquals: { "aws:SourceAccount": ACCOUNT },
        },
      },
    ]);
    const sub = one("aws:sns/topicSubscription:TopicSubscription", "mon-alarms-email").inputs;
    expect(sub).to.include({ topic: TOPIC_ARN, protocol: "email", endpoint: "ops@example.com" });
  });

  it("builds one dashboard with a tile per function, queue, workflow, API, rule and receiver, and every alarm", async () => {
    expect(one("aws:cloudwatch/dashboard:Dashboard", "mon").inputs.dashboardName).to.equal("mon");
    expect(await valueOf(mon.dashboardUrl)).to.equal(
      `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=mon`,
    );
    const metricTiles = body.widgets.filter((w) => w.type === "metric");
    const tile = (title: string) => {
      const found = metricTiles.filter((w) => w.properties.title === title);
      expect(found, title).to.have.length(1);
      return found[0].properties.metrics as any[][];
    };
    const dims = (rows: any[][]) => rows.map((r) => [r[0], r[1], ...r.slice(2, -1)].join(" "));
    expect(dims(tile("Lambda ingest"))).to.deep.equal([
      "AWS/Lambda Invocations FunctionName ingest-fn",
      "AWS/Lambda Errors FunctionName ingest-fn",
      "AWS/Lambda Throttles FunctionName ingest-fn",
      "AWS/Lambda Duration FunctionName ingest-fn",
    ]);
    expect(dims(tile("Lambda receiver"))[0]).to.equal("AWS/Lambda Invocations FunctionName webhook-fn");
    expect(dims(tile("DLQ hub"))[0]).to.equal("AWS/SQS ApproximateNumberOfMessagesVisible QueueName hub-dlq");
    expect(dims(tile("DLQ route"))[0]).to.equal("AWS/SQS ApproximateNumberOfMessagesVisible QueueName route-dlq");
    expect(dims(tile("Workflow verify (verify)"))).to.include(
      `AWS/States ExecutionsFailed StateMachineArn arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify`,
    );
    expect(dims(tile("API jobs (jobs-api/v1)"))).to.include("AWS/ApiGateway 5XXError ApiName jobs-api Stage v1");
    expect(tile("API jobs (jobs-api/v1)").find((r) => r[1] === "Latency")!.slice(-1)[0]).to.include({ stat: "p99" });
    expect(dims(tile("Rule records"))).to.include("AWS/Events FailedInvocations EventBusName hub-bus RuleName hub-records");
    expect(dims(tile("Rule legacy"))).to.include("AWS/Events FailedInvocations RuleName old-rule");
    expect(dims(tile("Webhooks receiver: deliveries"))).to.include("Switchyard WebhookRejected service webhooks reason signature");
    expect(dims(tile("Webhooks receiver: publishing"))).to.deep.equal([
      "Switchyard EventsPublished service webhooks",
      "Switchyard PublishRetries service webhooks",
      "Switchyard EventsPublishFailed service webhooks",
    ]);
    expect(metricTiles.every((w) => w.properties.region === REGION)).to.equal(true);

    const alarmWidget = body.widgets.find((w) => w.type === "alarm")!;
    const arns = await Promise.all(Object.values(mon.alarms).map((a) => valueOf(a.arn)));
    expect([...alarmWidget.properties.alarms].sort()).to.deep.equal([...arns].sort());
  });

  it("lays the widgets out on the 24-column grid without overlap", () => {
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.x + w.width, JSON.stringify(w.properties.title)).to.be.at.most(GRID_WIDTH);
      for (let x = w.x; x < w.x + w.width; x++) {
        for (let y = w.y; y < w.y + w.height; y++) {
          const key = `${x},${y}`;
          expect(cells.has(key), `overlap at ${key}`).to.equal(false);
          cells.add(key);
        }
      }
    }
  });

  it("omits the email subscription and async alarms when not asked for", async () => {
    const m = new Monitoring("mon2", { functions: { f: "plain-fn" } });
    await valueOf(m.dashboard.dashboardBody);
    await settle();
    expect(ofType("aws:sns/topicSubscription:TopicSubscription", /^mon2/)).to.deep.equal([]);
    expect(ofType(ALARM, /^mon2-/).map((r) => r.name).sort()).to.deep.equal(["mon2-fn-f-errors", "mon2-fn-f-throttles"]);
    expect(one(ALARM, "mon2-fn-f-errors").inputs.threshold).to.equal(MONITORING_DEFAULTS.lambdaErrors);
  });

  const bad: Array<[string, object, string]> = [
    ["a period that is not whole minutes", { thresholds: { periodSeconds: 90 } }, "thresholds.periodSeconds must be a multiple of 60 (CloudWatch standard resolution), got 90"],
    ["a 5xx rate of 0", { thresholds: { api5xxRatePercent: 0 } }, "thresholds.api5xxRatePercent must be a percentage above 0 and at most 100, got 0"],
    ["more datapoints than periods", { thresholds: { apiDatapointsToAlarm: 6 } }, "thresholds.apiDatapointsToAlarm must be an integer from 1 to 5, got 6"],
    ["an unknown rejection reason", { thresholds: { webhookRejectionReasons: ["bad-luck"] } }, 'thresholds.webhookRejectionReasons: "bad-luck" is not a rejection reason; use one of signature, timestamp, malformed, unknown-provider, method, too-large'],
    ["a label with a space", { functions: { "my fn": "x" } }, 'functions label must be 1-40 letters, digits or hyphens, starting with a letter or digit, got "my fn"'],
    ["an email without a domain", { alarmEmail: "ops" }, 'alarmEmail must be an email address such as ops@example.com, got "ops"'],
    ["an async event age above 6 hours", { thresholds: { asyncEventAgeSeconds: 30000 } }, "thresholds.asyncEventAgeSeconds must be an integer from 1 to 21600, got 30000"],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what}, naming the argument`, () => {
      expect(() => validateMonitoringArgs(args as any)).to.throw(message);
    });
  }

  it("builds a dashboard with only the header when nothing is monitored", () => {
    const b = buildDashboardBody({
      title: "t", region: REGION, functions: [], queues: [], stateMachines: [], restApis: [], rules: [], webhooks: [], alarmArns: [],
    });
    expect(b.widgets.map((w) => w.type)).to.deep.equal(["text"]);
  });
});

describe("Monitoring in the program (index.ts)", () => {
  // Loaded lazily: evaluating the program re-installs the mocks for its stack.
  const { evaluateProgram } = require("../program") as typeof import("../program");
  const FUNCTION = "aws:lambda/function:Function";

  async function alarmsOf(stack: string, overrides: Record<string, string> = {}) {
    const program = await evaluateProgram(stack, overrides);
    // The dashboard waits for every alarm, and the alarms for every function (serialized async).
    await valueOf(program.exports.monitoring.dashboard.dashboardBody);
    await settle();
    const p = { ...program, resources: [...recorded] };
    const alarms = p.resources.filter((r) => r.type === ALARM);
    const watched = (metric: string, dim: string) =>
      new Set(alarms.filter((a) => a.inputs.metricName === metric).map((a) => a.inputs.dimensions[dim]));
    return { p, alarms, watched };
  }

  // prod gets an alarm email from config; dev keeps its looser thresholds and no subscription.
  const cases: Array<[string, Record<string, string>, number]> = [
    ["dev", {}, 5],
    ["prod", { alarmEmail: "oncall@example.com" }, 1],
  ];
  for (const [stack, overrides, errorThreshold] of cases) {
    it(`${stack}: alarms on every declared function, the hub DLQ, the workflow and every route, with the stack's thresholds`, async () => {
      const { p, alarms, watched } = await alarmsOf(stack, overrides);
      const fnNames = p.resources.filter((r) => r.type === FUNCTION).map((r) => r.inputs.name ?? r.name);
      expect(fnNames).to.not.be.empty;
      for (const n of fnNames) {
        expect(watched("Errors", "FunctionName").has(n), `function ${n} has no Errors alarm: add it to the Monitoring block of index.ts`).to.equal(true);
        expect(watched("Throttles", "FunctionName").has(n), `function ${n} has no Throttles alarm`).to.equal(true);
      }
      for (const a of alarms.filter((x) => x.inputs.metricName === "Errors")) expect(a.inputs.threshold).to.equal(errorThreshold);
      const hub = `switchyard-${stack}`;
      expect([...watched("ApproximateNumberOfMessagesVisible", "QueueName")]).to.include(`${hub}-dlq`);
      const sm = p.resources.filter((r) => r.type === "aws:sfn/stateMachine:StateMachine").map((r) => r.inputs.name ?? r.name);
      for (const m of ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) {
        expect([...watched(m, "StateMachineArn")].map((a) => String(a).split(":").pop()).sort()).to.deep.equal([...sm].sort());
      }
      const rules = p.resources.filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule").map((r) => r.inputs.name ?? r.name);
      expect([...watched("FailedInvocations", "RuleName")].sort()).to.deep.equal([...rules].sort());
      for (const a of alarms.filter((x) => x.inputs.metricName === "FailedInvocations")) {
        expect(a.inputs.dimensions.EventBusName).to.equal(hub);
      }
      const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:${hub}-ops-alarms`;
      for (const a of alarms) expect(a.inputs.alarmActions, a.name).to.deep.equal([topic]);
      expect(await valueOf(p.exports.alarmTopicArn)).to.equal(topic);
      expect(await valueOf(p.exports.dashboardUrl)).to.contain(`#dashboards:name=${hub}-ops`);
      const subs = p.resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription" && r.name === `${hub}-ops-alarms-email`);
      expect(subs.map((r) => r.inputs.endpoint)).to.deep.equal(overrides.alarmEmail ? [overrides.alarmEmail] : []);
    });
  }

  it("fails at preview naming switchyard:alarmEmail when it is not an address", async () => {
    try {
      await evaluateProgram("dev", { alarmEmail: "oncall" });
      expect.fail("the program should not evaluate");
    } catch (e: any) {
      expect(e.message).to.contain('switchyard:alarmEmail must match');
      expect(e.message).to.contain("pulumi config set switchyard:alarmEmail ops@example.com --stack dev");
    }
  });
});
