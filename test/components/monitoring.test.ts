import { expect } from "chai";
import {
  ACCOUNT,
  REGION,
  arnFor,
  ofType,
  one,
  recorded,
  resetRecorded,
  settle,
  setupMocks,
  valueOf,
  warnings,
} from "../mocks";

setupMocks();
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  Monitoring,
  MONITORING_DEFAULTS,
  validateMonitoringArgs,
} from "../../components/ops/monitoring";
import { stdoutLinesOf } from "../handlers/emf";
import {
  buildDashboardBody,
  DashboardBody,
  GRID_WIDTH,
  plainQueueMetrics,
  publishingMetrics,
} from "../../components/ops/dashboard";
import {
  makeMetrics,
  recordPublish,
  recordRejected,
  REJECTION_REASONS,
} from "../../handlers/lib/telemetry";

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

const actions = {
  treatMissingData: "notBreaching",
  alarmActions: [TOPIC_ARN],
  okActions: [TOPIC_ARN],
};
const perMinute = { period: 60, evaluationPeriods: 1 };

/** Every metric row of a dashboard body, with the title of its widget. */
function metricRows(body: DashboardBody): Array<{ title: string; row: any[] }> {
  return body.widgets
    .filter((w) => w.type === "metric")
    .flatMap((w) =>
      (w.properties.metrics as any[][]).map((row) => ({
        title: w.properties.title as string,
        row,
      })),
    );
}

/** The dimensions of a metric row (between the metric name and the options), as an object. */
function rowDimensions(row: any[]): Record<string, string> {
  const flat = row.slice(2, -1);
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/** Titles of the widgets that chart a metric of `namespace` whose dimension `dim` is `value`. */
function tilesReferencing(
  body: DashboardBody,
  namespace: string,
  dim: string,
  value: string,
): string[] {
  return [
    ...new Set(
      metricRows(body)
        .filter(({ row }) => row[0] === namespace && rowDimensions(row)[dim] === value)
        .map(({ title }) => title),
    ),
  ];
}

/** Runs `fn` and returns the pulumi.log.warn messages said meanwhile (the mocks keep them). */
async function withWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const from = warnings.length;
  const result = await fn();
  return { result, warnings: warnings.slice(from) };
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
    const rejected = new aws.sqs.Queue("mon-rejected", { name: "tenant-rejected" });
    const sm = new aws.sfn.StateMachine("mon-wf", {
      name: "verify",
      roleArn: role,
      definition: "{}",
    });
    const rule = new aws.cloudwatch.EventRule("mon-records", {
      name: "hub-records",
      eventBusName: "hub-bus",
      eventPattern: JSON.stringify({ source: ["x"] }),
    });
    mon = new Monitoring("mon", {
      functions: {
        ingest: { function: fn, asyncInvoked: true },
        receiver: "webhook-fn",
        // Fed by a DynamoDB stream: its mapping's backlog is alarmed too.
        relay: { function: "relay-fn", streamFed: true },
      },
      queues: {
        hub: dlq,
        route: { name: "route-dlq", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:route-dlq` },
        // A plain queue: a tile, no alarm.
        rejected: { queue: rejected, kind: "plain" },
      },
      stateMachines: { verify: sm },
      restApis: { jobs: { apiName: "jobs-api", stage: "v1" } },
      rules: { records: { rule }, legacy: { busName: "default", ruleName: "old-rule" } },
      webhooks: { receiver: { service: "webhooks" } },
      publishers: {
        changes: "change-publisher",
        other: { service: "other-publisher", namespace: "Custom" },
      },
      alarmEmail: "ops@example.com",
      thresholds: {
        lambdaErrors: 3,
        api5xxRatePercent: 2,
        apiLatencyP99Ms: 1500,
        webhookRejectionsPerMinute: 30,
      },
    });
    body = JSON.parse(await valueOf(mon.dashboard.dashboardBody));
    await settle();
  });

  it("declares exactly these alarms, each watching its metric and notifying the topic on ALARM and OK", () => {
    const got = Object.fromEntries(ofType(ALARM, /^mon-/).map((r) => [r.name, shape(r.inputs)]));
    const count = (statistic: string) => ({ statistic, ...perMinute, ...actions });
    expect(got).to.deep.equal({
      "mon-dlq-hub": {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "hub-dlq" },
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        ...count("Maximum"),
      },
      "mon-dlq-route": {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "route-dlq" },
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        ...count("Maximum"),
      },
      "mon-fn-ingest-errors": {
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: "ingest-fn" },
        threshold: 3,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-ingest-throttles": {
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: { FunctionName: "ingest-fn" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-ingest-event-age": {
        namespace: "AWS/Lambda",
        metricName: "AsyncEventAge",
        dimensions: { FunctionName: "ingest-fn" },
        threshold: 300000,
        comparisonOperator: "GreaterThanThreshold",
        ...count("Maximum"),
      },
      "mon-fn-ingest-dropped": {
        namespace: "AWS/Lambda",
        metricName: "AsyncEventsDropped",
        dimensions: { FunctionName: "ingest-fn" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-receiver-errors": {
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: "webhook-fn" },
        threshold: 3,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-receiver-throttles": {
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: { FunctionName: "webhook-fn" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-relay-errors": {
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: "relay-fn" },
        threshold: 3,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-fn-relay-throttles": {
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: { FunctionName: "relay-fn" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      // The default asyncEventAgeSeconds (300), in milliseconds.
      "mon-fn-relay-iterator-age": {
        namespace: "AWS/Lambda",
        metricName: "IteratorAge",
        dimensions: { FunctionName: "relay-fn" },
        threshold: 300000,
        comparisonOperator: "GreaterThanThreshold",
        ...count("Maximum"),
      },
      "mon-sfn-verify-failed": {
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-sfn-verify-timed-out": {
        namespace: "AWS/States",
        metricName: "ExecutionsTimedOut",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-sfn-verify-aborted": {
        namespace: "AWS/States",
        metricName: "ExecutionsAborted",
        dimensions: { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify` },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-api-jobs-5xx-rate": {
        namespace: "AWS/ApiGateway",
        metricName: "5XXError",
        dimensions: { ApiName: "jobs-api", Stage: "v1" },
        statistic: "Average",
        threshold: 0.02,
        comparisonOperator: "GreaterThanThreshold",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        ...actions,
      },
      "mon-api-jobs-latency-p99": {
        namespace: "AWS/ApiGateway",
        metricName: "Latency",
        dimensions: { ApiName: "jobs-api", Stage: "v1" },
        extendedStatistic: "p99",
        threshold: 1500,
        comparisonOperator: "GreaterThanThreshold",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        ...actions,
      },
      "mon-rule-records-failed": {
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensions: { EventBusName: "hub-bus", RuleName: "hub-records" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-rule-legacy-failed": {
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensions: { RuleName: "old-rule" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-rule-records-dlq-failed": {
        namespace: "AWS/Events",
        metricName: "InvocationsFailedToBeSentToDlq",
        dimensions: { EventBusName: "hub-bus", RuleName: "hub-records" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-rule-legacy-dlq-failed": {
        namespace: "AWS/Events",
        metricName: "InvocationsFailedToBeSentToDlq",
        dimensions: { RuleName: "old-rule" },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count("Sum"),
      },
      "mon-webhook-receiver-signature": {
        namespace: "Switchyard",
        metricName: "WebhookRejected",
        dimensions: { service: "webhooks", reason: "signature" },
        threshold: 30,
        comparisonOperator: "GreaterThanThreshold",
        ...count("Sum"),
      },
    });
    // No alarm for the plain queue nor for the publishers.
    expect(Object.keys(mon.alarms)).to.have.length(21);
    for (const a of ofType(ALARM, /^mon-/))
      expect(a.inputs.alarmDescription).to.be.a("string").with.length.above(40);
  });

  it("alarms on the exact metric the telemetry helpers emit for a signature rejection", () => {
    const metrics = makeMetrics("webhooks");
    const lines = stdoutLinesOf(() =>
      recordRejected(metrics, REJECTION_REASONS.signature, "github"),
    );
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
    expect(dims(tile("Lambda receiver"))[0]).to.equal(
      "AWS/Lambda Invocations FunctionName webhook-fn",
    );
    expect(dims(tile("Lambda relay"))[0]).to.equal("AWS/Lambda Invocations FunctionName relay-fn");
    expect(dims(tile("DLQ hub"))[0]).to.equal(
      "AWS/SQS ApproximateNumberOfMessagesVisible QueueName hub-dlq",
    );
    expect(dims(tile("DLQ route"))[0]).to.equal(
      "AWS/SQS ApproximateNumberOfMessagesVisible QueueName route-dlq",
    );
    expect(dims(tile("Workflow verify (verify)"))).to.include(
      `AWS/States ExecutionsFailed StateMachineArn arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:verify`,
    );
    expect(dims(tile("API jobs (jobs-api/v1)"))).to.include(
      "AWS/ApiGateway 5XXError ApiName jobs-api Stage v1",
    );
    expect(
      tile("API jobs (jobs-api/v1)")
        .find((r) => r[1] === "Latency")!
        .slice(-1)[0],
    ).to.include({ stat: "p99" });
    expect(dims(tile("Rule records"))).to.include(
      "AWS/Events FailedInvocations EventBusName hub-bus RuleName hub-records",
    );
    expect(dims(tile("Rule legacy"))).to.include("AWS/Events FailedInvocations RuleName old-rule");
    // An event that could not even reach the DLQ is lost: charted beside the failures.
    expect(dims(tile("Rule records"))).to.include(
      "AWS/Events InvocationsFailedToBeSentToDlq EventBusName hub-bus RuleName hub-records",
    );
    expect(dims(tile("Rule legacy"))).to.include(
      "AWS/Events InvocationsFailedToBeSentToDlq RuleName old-rule",
    );
    expect(dims(tile("Webhooks receiver: deliveries"))).to.include(
      "Switchyard WebhookRejected service webhooks reason signature",
    );
    expect(dims(tile("Webhooks receiver: publishing"))).to.deep.equal([
      "Switchyard EventsPublished service webhooks",
      "Switchyard PublishRetries service webhooks",
      "Switchyard EventsPublishFailed service webhooks",
    ]);
    // The plain queue: its own tile (messages waiting, age of the oldest), not a DLQ tile.
    expect(dims(tile("Queue rejected"))).to.deep.equal([
      "AWS/SQS ApproximateNumberOfMessagesVisible QueueName tenant-rejected",
      "AWS/SQS ApproximateAgeOfOldestMessage QueueName tenant-rejected",
    ]);
    expect(metricTiles.filter((w) => w.properties.title === "DLQ rejected")).to.deep.equal([]);
    // Each publisher: the same publishing tile as the webhook receivers', with its own service.
    const webhookPublishing = tile("Webhooks receiver: publishing");
    const swap = (rows: any[][], service: string, namespace: string) =>
      rows.map((r) =>
        r.map((x) => (x === "webhooks" ? service : x === "Switchyard" ? namespace : x)),
      );
    expect(tile("Publisher changes: publishing")).to.deep.equal(
      swap(webhookPublishing, "change-publisher", "Switchyard"),
    );
    expect(tile("Publisher other: publishing")).to.deep.equal(
      swap(webhookPublishing, "other-publisher", "Custom"),
    );
    expect(metricTiles.every((w) => w.properties.region === REGION)).to.equal(true);
    expect(metricTiles.every((w) => w.properties.period === 60)).to.equal(true);

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
    expect(
      ofType(ALARM, /^mon2-/)
        .map((r) => r.name)
        .sort(),
    ).to.deep.equal(["mon2-fn-f-errors", "mon2-fn-f-throttles"]);
    expect(one(ALARM, "mon2-fn-f-errors").inputs.threshold).to.equal(
      MONITORING_DEFAULTS.lambdaErrors,
    );
  });

  it("charts the exact metrics the change publisher's telemetry emits", () => {
    const metrics = makeMetrics("change-publisher");
    const lines = stdoutLinesOf(() => {
      recordPublish(metrics, { delivered: 3, retries: 1, failed: [{} as any] });
      metrics.publishStoredMetrics();
    });
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws);
    const def = emf._aws.CloudWatchMetrics[0];
    const rows = publishingMetrics("Switchyard", "change-publisher");
    expect(rows.map((r) => r[0])).to.deep.equal([def.Namespace, def.Namespace, def.Namespace]);
    expect(rows.map((r) => r[1]).sort()).to.deep.equal(def.Metrics.map((m: any) => m.Name).sort());
    for (const r of rows) {
      expect(Object.keys(rowDimensions(r)).sort()).to.deep.equal([...def.Dimensions[0]].sort());
      for (const [k, v] of Object.entries(rowDimensions(r))) expect(emf[k]).to.equal(v);
    }
  });

  it("alarms on a queue given bare or as kind dead-letter, never on a plain one", async () => {
    const m = new Monitoring("mon3", {
      queues: {
        bare: { name: "bare-q", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:bare-q` },
        wrapped: {
          queue: { name: "wrapped-q", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:wrapped-q` },
        },
        dead: {
          queue: { name: "dead-q", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dead-q` },
          kind: "dead-letter",
        },
        plain: {
          queue: { name: "plain-q", arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:plain-q` },
          kind: "plain",
        },
      },
    });
    const b: DashboardBody = JSON.parse(await valueOf(m.dashboard.dashboardBody));
    await settle();
    expect(
      ofType(ALARM, /^mon3-/)
        .map((r) => [r.name, r.inputs.dimensions.QueueName])
        .sort(),
    ).to.deep.equal([
      ["mon3-dlq-bare", "bare-q"],
      ["mon3-dlq-dead", "dead-q"],
      ["mon3-dlq-wrapped", "wrapped-q"],
    ]);
    expect(tilesReferencing(b, "AWS/SQS", "QueueName", "plain-q")).to.deep.equal(["Queue plain"]);
    expect(
      metricRows(b)
        .filter(({ title }) => title === "Queue plain")
        .map(({ row }) => row),
    ).to.deep.equal(plainQueueMetrics("plain-q"));
    for (const q of ["bare", "wrapped", "dead"])
      expect(tilesReferencing(b, "AWS/SQS", "QueueName", `${q}-q`)).to.deep.equal([`DLQ ${q}`]);
  });

  it("declares no alarm for a publisher, only its tile", async () => {
    const m = new Monitoring("mon4", { publishers: { changes: "change-publisher" } });
    const b: DashboardBody = JSON.parse(await valueOf(m.dashboard.dashboardBody));
    await settle();
    expect(ofType(ALARM, /^mon4-/)).to.deep.equal([]);
    expect(
      b.widgets.map((w) => [w.type, w.properties.title ?? w.properties.markdown]),
    ).to.deep.equal([
      [
        "text",
        "# Switchyard mon4\nAlarms, Lambda functions, dead-letter queues, workflows, REST APIs, API destination rules and webhook receivers of this hub.",
      ],
      ["text", "## Publishers"],
      ["metric", "Publisher changes: publishing"],
    ]);
  });

  it("accepts a decimal 5xx rate percentage", async () => {
    const m = new Monitoring("mon5", {
      restApis: { a: { apiName: "a-api", stage: "v1" } },
      thresholds: { api5xxRatePercent: 0.5 },
    });
    await valueOf(m.dashboard.dashboardBody);
    await settle();
    expect(one(ALARM, "mon5-api-a-5xx-rate").inputs.threshold).to.equal(0.005);
  });

  const bad: Array<[string, object, string]> = [
    [
      "a period that is not whole minutes",
      { thresholds: { periodSeconds: 90 } },
      "thresholds.periodSeconds must be a multiple of 60 (CloudWatch standard resolution), got 90",
    ],
    [
      "a 5xx rate of 0",
      { thresholds: { api5xxRatePercent: 0 } },
      "thresholds.api5xxRatePercent must be a percentage above 0 and at most 100, got 0",
    ],
    [
      "more datapoints than periods",
      { thresholds: { apiDatapointsToAlarm: 6 } },
      "thresholds.apiDatapointsToAlarm must be an integer from 1 to 5, got 6",
    ],
    [
      "an unknown rejection reason",
      { thresholds: { webhookRejectionReasons: ["bad-luck"] } },
      'thresholds.webhookRejectionReasons: "bad-luck" is not a rejection reason; use one of signature, timestamp, malformed, unknown-provider, method, too-large',
    ],
    [
      "a label with a space",
      { functions: { "my fn": "x" } },
      'functions label must be 1-40 letters, digits or hyphens, starting with a letter or digit, got "my fn"',
    ],
    [
      "an email without a domain",
      { alarmEmail: "ops" },
      'alarmEmail must be an email address such as ops@example.com, got "ops"',
    ],
    [
      "an async event age above 6 hours",
      { thresholds: { asyncEventAgeSeconds: 30000 } },
      "thresholds.asyncEventAgeSeconds must be an integer from 1 to 21600, got 30000",
    ],
    [
      "an unknown queue kind",
      {
        queues: {
          q: { queue: { name: "q", arn: "arn:aws:sqs:eu-west-1:123456789012:q" }, kind: "dlq" },
        },
      },
      'queues.q.kind must be one of dead-letter, plain, got "dlq"',
    ],
    [
      "a publisher without a service",
      { publishers: { p: "" } },
      'publishers.p must name the publisher\'s EMF service (its Powertools serviceName), got ""',
    ],
    [
      "a publisher label with a space",
      { publishers: { "my publisher": "svc" } },
      'publishers label must be 1-40 letters, digits or hyphens, starting with a letter or digit, got "my publisher"',
    ],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what}, naming the argument`, () => {
      expect(() => validateMonitoringArgs(args as any)).to.throw(message);
    });
  }

  it("builds a dashboard with only the header when nothing is monitored", () => {
    const b = buildDashboardBody({
      title: "t",
      region: REGION,
      functions: [],
      queues: [],
      stateMachines: [],
      restApis: [],
      rules: [],
      webhooks: [],
      alarmArns: [],
    });
    expect(b.widgets.map((w) => w.type)).to.deep.equal(["text"]);
  });
});

describe("Monitoring in the program (index.ts)", () => {
  // Loaded lazily: evaluating the program re-installs the mocks for its stack.
  const { evaluateProgram, stackConfig, TEST_SECRETS } =
    require("../program") as typeof import("../program");
  const FUNCTION = "aws:lambda/function:Function";
  const QUEUE = "aws:sqs/queue:Queue";
  const STATE_MACHINE = "aws:sfn/stateMachine:StateMachine";
  const REST_API = "aws:apigateway/restApi:RestApi";
  const STAGE = "aws:apigateway/stage:Stage";
  const RULE = "aws:cloudwatch/eventRule:EventRule";
  const ALARM_EMAIL_FIX = (stack: string) =>
    `pulumi config set switchyard:alarmEmail <address> --stack ${stack}`;

  async function alarmsOf(stack: string, overrides: Record<string, string | undefined> = {}) {
    const { result: program, warnings } = await withWarnings(() =>
      evaluateProgram(stack, overrides),
    );
    // The dashboard waits for every alarm, and the alarms for every function (bundled asynchronously).
    const body: DashboardBody = JSON.parse(
      await valueOf(program.exports.monitoring.dashboard.dashboardBody),
    );
    await settle();
    const p = { ...program, resources: [...recorded] };
    const alarms = p.resources.filter((r) => r.type === ALARM);
    const watched = (metric: string, dim: string) =>
      new Set(
        alarms.filter((a) => a.inputs.metricName === metric).map((a) => a.inputs.dimensions[dim]),
      );
    const named = (type: string) =>
      p.resources.filter((r) => r.type === type).map((r) => (r.inputs.name ?? r.name) as string);
    return { p, alarms, watched, body, warnings, named };
  }

  // prod gets an alarm email from config; dev keeps its looser thresholds and no subscription.
  const cases: Array<{
    stack: string;
    overrides: Record<string, string>;
    errorThreshold: number;
    api5xxRatePercent: number;
    apiLatencyP99Ms: number;
    webhookRejectionsPerMinute: number;
  }> = [
    {
      stack: "dev",
      overrides: {},
      errorThreshold: 5,
      api5xxRatePercent: 5,
      apiLatencyP99Ms: 5000,
      webhookRejectionsPerMinute: 50,
    },
    {
      stack: "prod",
      overrides: { alarmEmail: "oncall@example.com" },
      errorThreshold: 1,
      api5xxRatePercent: 1,
      apiLatencyP99Ms: 2000,
      webhookRejectionsPerMinute: 20,
    },
  ];
  for (const c of cases) {
    const { stack, overrides, errorThreshold } = c;
    describe(`${stack} stack`, () => {
      let ctx: Awaited<ReturnType<typeof alarmsOf>>;
      const hub = `switchyard-${stack}`;
      const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:${hub}-ops-alarms`;
      const actions = {
        treatMissingData: "notBreaching",
        alarmActions: [topic],
        okActions: [topic],
      };

      before(async () => {
        ctx = await alarmsOf(stack, overrides);
      });

      it(`${stack}: alarms on every declared function, the hub DLQ, the workflow and every route, with the stack's thresholds`, async () => {
        const { p, alarms, watched } = ctx;
        const fnNames = p.resources
          .filter((r) => r.type === FUNCTION)
          .map((r) => r.inputs.name ?? r.name);
        expect(fnNames).to.not.be.empty;
        for (const n of fnNames) {
          expect(
            watched("Errors", "FunctionName").has(n),
            `function ${n} has no Errors alarm: add it to the Monitoring block of index.ts`,
          ).to.equal(true);
          expect(
            watched("Throttles", "FunctionName").has(n),
            `function ${n} has no Throttles alarm`,
          ).to.equal(true);
        }
        for (const a of alarms.filter((x) => x.inputs.metricName === "Errors"))
          expect(a.inputs.threshold).to.equal(errorThreshold);
        expect([...watched("ApproximateNumberOfMessagesVisible", "QueueName")]).to.include(
          `${hub}-dlq`,
        );
        const sm = p.resources
          .filter((r) => r.type === STATE_MACHINE)
          .map((r) => r.inputs.name ?? r.name);
        for (const m of ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) {
          expect(
            [...watched(m, "StateMachineArn")].map((a) => String(a).split(":").pop()).sort(),
          ).to.deep.equal([...sm].sort());
        }
        const rules = p.resources
          .filter((r) => r.type === RULE)
          .map((r) => r.inputs.name ?? r.name);
        expect([...watched("FailedInvocations", "RuleName")].sort()).to.deep.equal(
          [...rules].sort(),
        );
        for (const a of alarms.filter((x) => x.inputs.metricName === "FailedInvocations")) {
          expect(a.inputs.dimensions.EventBusName).to.equal(hub);
        }
        for (const a of alarms) expect(a.inputs.alarmActions, a.name).to.deep.equal([topic]);
        expect(await valueOf(p.exports.alarmTopicArn)).to.equal(topic);
        expect(await valueOf(p.exports.dashboardUrl)).to.contain(`#dashboards:name=${hub}-ops`);
        const subs = p.resources.filter(
          (r) =>
            r.type === "aws:sns/topicSubscription:TopicSubscription" &&
            r.name === `${hub}-ops-alarms-email`,
        );
        expect(subs.map((r) => r.inputs.endpoint)).to.deep.equal(
          overrides.alarmEmail ? [overrides.alarmEmail] : [],
        );
      });

      it(`${stack}: the dashboard charts every function, queue, state machine and REST API the program declares`, () => {
        const { body, named, p } = ctx;
        const missing: string[] = [];
        const check = (what: string, values: string[], namespace: string, dim: string) => {
          expect(values, `the program declares no ${what}`).to.not.be.empty;
          for (const v of values)
            if (tilesReferencing(body, namespace, dim, v).length === 0)
              missing.push(`${what} ${v}`);
        };
        check("function", named(FUNCTION), "AWS/Lambda", "FunctionName");
        check("queue", named(QUEUE), "AWS/SQS", "QueueName");
        // A state machine's widget uses its ARN; the mocks give each resource the ARN AWS would.
        const machines = p.resources
          .filter((r) => r.type === STATE_MACHINE)
          .map((r) => arnFor(r.type, r.name, r.inputs));
        check("state machine", machines, "AWS/States", "StateMachineArn");
        check("REST API", named(REST_API), "AWS/ApiGateway", "ApiName");
        expect(
          missing,
          "declared but not on the dashboard: pass them to the Monitoring block of index.ts",
        ).to.deep.equal([]);
      });

      it(`${stack}: the hub DLQ alarms on any message; the tenant rejected-events queue has a tile and no alarm`, () => {
        const { alarms, body, named } = ctx;
        const byQueue = (q: string) => alarms.filter((a) => a.inputs.dimensions?.QueueName === q);
        expect(byQueue(`${hub}-dlq`).map((a) => a.name)).to.deep.equal([`${hub}-ops-dlq-hub`]);
        expect(tilesReferencing(body, "AWS/SQS", "QueueName", `${hub}-dlq`)).to.deep.equal([
          "DLQ hub",
        ]);
        const rejected = `${hub}-ingress-rejected`;
        expect(named(QUEUE)).to.include(rejected);
        expect(byQueue(rejected)).to.deep.equal([]);
        expect(tilesReferencing(body, "AWS/SQS", "QueueName", rejected)).to.deep.equal([
          "Queue tenant-rejected",
        ]);
        expect(
          metricRows(body)
            .filter(({ title }) => title === "Queue tenant-rejected")
            .map(({ row }) => row[1]),
        ).to.deep.equal(["ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"]);
      });

      it(`${stack}: each REST API has a 5xx rate and a p99 latency alarm on its stage`, () => {
        const { alarms, p } = ctx;
        const apis = p.resources.filter((r) => r.type === REST_API);
        expect(apis.length).to.equal(2);
        for (const api of apis) {
          const apiName = api.inputs.name ?? api.name;
          // The stage's restApi input is the API's id (the mocks answer `<name>-id`).
          const stages = p.resources.filter(
            (r) => r.type === STAGE && r.inputs.restApi === `${api.name}-id`,
          );
          expect(stages, `stages of ${apiName}`).to.have.length(1);
          const d = { ApiName: apiName, Stage: stages[0].inputs.stageName };
          const of = (metric: string) =>
            alarms.filter(
              (a) =>
                a.inputs.metricName === metric &&
                JSON.stringify(a.inputs.dimensions) === JSON.stringify(d),
            );
          expect(
            of("5XXError").map((a) => shape(a.inputs)),
            `5xx alarm of ${apiName}`,
          ).to.deep.equal([
            {
              namespace: "AWS/ApiGateway",
              metricName: "5XXError",
              dimensions: d,
              statistic: "Average",
              threshold: c.api5xxRatePercent / 100,
              comparisonOperator: "GreaterThanThreshold",
              period: 60,
              evaluationPeriods: 5,
              datapointsToAlarm: 3,
              ...actions,
            },
          ]);
          expect(
            of("Latency").map((a) => shape(a.inputs)),
            `latency alarm of ${apiName}`,
          ).to.deep.equal([
            {
              namespace: "AWS/ApiGateway",
              metricName: "Latency",
              dimensions: d,
              extendedStatistic: "p99",
              threshold: c.apiLatencyP99Ms,
              comparisonOperator: "GreaterThanThreshold",
              period: 60,
              evaluationPeriods: 5,
              datapointsToAlarm: 3,
              ...actions,
            },
          ]);
        }
        expect(alarms.filter((a) => a.inputs.namespace === "AWS/ApiGateway")).to.have.length(
          2 * apis.length,
        );
      });

      it(`${stack}: the webhook receivers alarm on signature rejections`, () => {
        const alarm = ctx.alarms.filter((a) => a.name === `${hub}-ops-webhook-receivers-signature`);
        expect(alarm.map((a) => shape(a.inputs))).to.deep.equal([
          {
            namespace: "Switchyard",
            metricName: "WebhookRejected",
            dimensions: { service: "switchyard-webhooks", reason: "signature" },
            statistic: "Sum",
            threshold: c.webhookRejectionsPerMinute,
            comparisonOperator: "GreaterThanThreshold",
            period: 60,
            evaluationPeriods: 1,
            ...actions,
          },
        ]);
        expect(ctx.alarms.filter((a) => a.inputs.metricName === "WebhookRejected")).to.have.length(
          1,
        );
      });

      it(`${stack}: the stream-fed functions (tenant changes, the webhook relay) alarm on errors, throttles and iterator age`, () => {
        const fnAlarms = (label: string) =>
          Object.fromEntries(
            ctx.alarms
              .filter((a) => a.name.startsWith(`${hub}-ops-fn-${label}-`))
              .map((a) => [a.name, shape(a.inputs)]),
          );
        const expected = (label: string, functionName: string) => {
          const d = { FunctionName: functionName };
          const count = { statistic: "Sum", period: 60, evaluationPeriods: 1, ...actions };
          return {
            [`${hub}-ops-fn-${label}-errors`]: {
              namespace: "AWS/Lambda",
              metricName: "Errors",
              dimensions: d,
              threshold: errorThreshold,
              comparisonOperator: "GreaterThanOrEqualToThreshold",
              ...count,
            },
            [`${hub}-ops-fn-${label}-throttles`]: {
              namespace: "AWS/Lambda",
              metricName: "Throttles",
              dimensions: d,
              threshold: 1,
              comparisonOperator: "GreaterThanOrEqualToThreshold",
              ...count,
            },
            // The stack's asyncEventAgeSeconds (300, the default), in milliseconds.
            [`${hub}-ops-fn-${label}-iterator-age`]: {
              namespace: "AWS/Lambda",
              metricName: "IteratorAge",
              dimensions: d,
              statistic: "Maximum",
              threshold: 300000,
              comparisonOperator: "GreaterThanThreshold",
              period: 60,
              evaluationPeriods: 1,
              ...actions,
            },
          };
        };
        expect(fnAlarms("webhook-relay")).to.deep.equal(
          expected("webhook-relay", `${hub}-webhooks-relay`),
        );
        expect(fnAlarms("tenant-changes")).to.deep.equal(
          expected("tenant-changes", `${hub}-changes`),
        );
        // No stream source for record ingestion in the committed stack: no ingest-stream function.
        expect(fnAlarms("ingest-stream")).to.deep.equal({});
        expect(
          ctx.alarms
            .filter((a) => a.inputs.metricName === "IteratorAge")
            .map((a) => a.name)
            .sort(),
        ).to.deep.equal([
          `${hub}-ops-fn-tenant-changes-iterator-age`,
          `${hub}-ops-fn-webhook-relay-iterator-age`,
        ]);
      });

      it(`${stack}: every rule alarms when an event could not be put into its DLQ (InvocationsFailedToBeSentToDlq)`, () => {
        const { alarms, named } = ctx;
        const rules = named(RULE);
        expect(rules).to.not.be.empty;
        const got = alarms.filter((a) => a.inputs.metricName === "InvocationsFailedToBeSentToDlq");
        expect(got).to.have.length(rules.length);
        for (const rule of rules) {
          const mine = got.filter((a) => a.inputs.dimensions.RuleName === rule);
          expect(
            mine.map((a) => shape(a.inputs)),
            `rule ${rule}`,
          ).to.deep.equal([
            {
              namespace: "AWS/Events",
              metricName: "InvocationsFailedToBeSentToDlq",
              dimensions: { EventBusName: hub, RuleName: rule },
              statistic: "Sum",
              threshold: 1,
              comparisonOperator: "GreaterThanOrEqualToThreshold",
              period: 60,
              evaluationPeriods: 1,
              ...actions,
            },
          ]);
          // Same dimensions as the rule's FailedInvocations alarm.
          const failed = alarms.filter(
            (a) =>
              a.inputs.metricName === "FailedInvocations" && a.inputs.dimensions.RuleName === rule,
          );
          expect(failed.map((a) => a.inputs.dimensions)).to.deep.equal([mine[0].inputs.dimensions]);
          expect(mine[0].name).to.match(new RegExp(`^${hub}-ops-rule-.+-dlq-failed$`));
        }
      });

      it(`${stack}: the tenant change publisher's publishing metrics have a tile, and no alarm of their own`, () => {
        const { alarms, body } = ctx;
        expect(
          metricRows(body)
            .filter(({ title }) => title === "Publisher tenant-changes: publishing")
            .map(({ row }) => row),
        ).to.deep.equal(publishingMetrics("Switchyard", "change-publisher"));
        expect(
          alarms.filter((a) => a.inputs.dimensions?.service === "change-publisher"),
        ).to.deep.equal([]);
      });

      it(`${stack}: lays the dashboard out on the 24-column grid without overlap`, () => {
        const cells = new Set<string>();
        for (const w of ctx.body.widgets) {
          expect(w.x + w.width).to.be.at.most(GRID_WIDTH);
          for (let x = w.x; x < w.x + w.width; x++) {
            for (let y = w.y; y < w.y + w.height; y++) {
              expect(cells.has(`${x},${y}`), `overlap at ${x},${y}`).to.equal(false);
              cells.add(`${x},${y}`);
            }
          }
        }
      });

      if (overrides.alarmEmail) {
        it(`${stack}: does not warn about switchyard:alarmEmail when it is set`, () => {
          expect(ctx.warnings.filter((w) => w.includes("alarmEmail"))).to.deep.equal([]);
        });
      }
    });
  }

  it("prod with a records stream source: its ingest-stream function alarms on iterator age too", async () => {
    const { alarms, named } = await alarmsOf("prod", {
      alarmEmail: "oncall@example.com",
      recordsStreamSource: JSON.stringify({
        tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        streamArn:
          "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
        idAttribute: "orderId",
      }),
    });
    const hub = "switchyard-prod";
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:${hub}-ops-alarms`;
    const fn = `${hub}-ingest-stream`;
    expect(named(FUNCTION)).to.include(fn);
    expect(
      alarms
        .filter((a) => a.name === `${hub}-ops-fn-ingest-stream-iterator-age`)
        .map((a) => shape(a.inputs)),
    ).to.deep.equal([
      {
        namespace: "AWS/Lambda",
        metricName: "IteratorAge",
        dimensions: { FunctionName: fn },
        statistic: "Maximum",
        threshold: 300000,
        comparisonOperator: "GreaterThanThreshold",
        period: 60,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [topic],
        okActions: [topic],
      },
    ]);
    expect(
      alarms
        .filter((a) => a.inputs.metricName === "IteratorAge")
        .map((a) => a.name)
        .sort(),
    ).to.deep.equal([
      `${hub}-ops-fn-ingest-stream-iterator-age`,
      `${hub}-ops-fn-tenant-changes-iterator-age`,
      `${hub}-ops-fn-webhook-relay-iterator-age`,
    ]);
  });

  it("warns at preview, naming the key and the command, when switchyard:alarmEmail is not set", async () => {
    // A fresh evaluation (an override), so the warning is emitted now and not by an earlier, shared one.
    const { warnings } = await withWarnings(() =>
      evaluateProgram("dev", { alarmEmail: undefined }),
    );
    const mine = warnings.filter((w) => w.includes("switchyard:alarmEmail"));
    expect(mine).to.have.length(1);
    expect(mine[0]).to.contain("switchyard:alarmEmail is not set");
    expect(mine[0]).to.contain(ALARM_EMAIL_FIX("dev"));
  });

  it("fails at preview naming switchyard:alarmEmail when it is not an address", async () => {
    try {
      await evaluateProgram("dev", { alarmEmail: "oncall" });
      expect.fail("the program should not evaluate");
    } catch (e: any) {
      expect(e.message).to.contain("switchyard:alarmEmail must match");
      expect(e.message).to.contain(
        "pulumi config set switchyard:alarmEmail ops@example.com --stack dev",
      );
    }
  });

  describe("switchyard:alarmApi5xxRatePercent", () => {
    /** Reads the stack's config with one key replaced, as the program does (no resources). */
    function load(stack: string, value: string) {
      setupMocks(
        { ...stackConfig(stack), ...TEST_SECRETS, "switchyard:alarmApi5xxRatePercent": value },
        stack,
      );
      const { loadConfig } = require("../../config") as typeof import("../../config");
      return loadConfig().monitoring.api5xxRatePercent;
    }

    for (const [value, expected] of [
      ["0.5", 0.5],
      ["5", 5],
      ["100", 100],
      ["0.05", 0.05],
      ["12.25", 12.25],
    ] as const) {
      it(`accepts "${value}"`, async () => {
        const { result } = await withWarnings(async () => load("dev", value));
        expect(result).to.equal(expected);
      });
    }
    for (const value of ["0", "0.0", "100.5", "-1", "abc", "1e-1", ".5", "1,5", ""]) {
      it(`rejects "${value}" naming the key and the fix`, async () => {
        let message = "";
        await withWarnings(async () => {
          try {
            load("prod", value);
          } catch (e: any) {
            message = e.message;
          }
        });
        expect(message).to.equal(
          `switchyard:alarmApi5xxRatePercent must be a number above 0 and at most 100 (decimals allowed, such as 0.5), got "${value}". Fix it with: pulumi config set switchyard:alarmApi5xxRatePercent 1 --stack prod`,
        );
      });
    }
  });
});
