import { expect } from "chai";
import {
  deadLetterQueueAlarms,
  functionAlarms,
  metricAlarmArgs,
  restApiAlarms,
  ruleAlarms,
  ruleDimensionsOf,
  stateMachineAlarms,
  webhookAlarms,
} from "../../components/ops/alarms";
import { MONITORING_DEFAULTS, MonitoringThresholds } from "../../components/ops/thresholds";

// Thresholds unlike the defaults, so each spec shows which threshold it reads.
const T: MonitoringThresholds = {
  ...MONITORING_DEFAULTS,
  periodSeconds: 120,
  lambdaErrors: 5,
  lambdaThrottles: 2,
  asyncEventAgeSeconds: 600,
  asyncEventsDropped: 3,
  workflowFailures: 4,
  api5xxRatePercent: 5,
  apiLatencyP99Ms: 2000,
  apiEvaluationPeriods: 4,
  apiDatapointsToAlarm: 2,
  ruleFailedInvocations: 6,
  webhookRejectionsPerMinute: 50,
  webhookRejectionReasons: ["signature", "timestamp"],
};
const count = { periodSeconds: 120, evaluationPeriods: 1 };

describe("alarm specs per resource kind (components/ops/alarms.ts)", () => {
  it("a dead-letter queue: any message visible", () => {
    expect(deadLetterQueueAlarms({ label: "hub", name: "hub-dlq" }, T)).to.deep.equal([
      {
        key: "dlq-hub",
        description:
          "Dead-letter queue hub holds undelivered events. Inspect the messages (their attributes name the rule, target and error), fix the cause, then redrive or replay.",
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "hub-dlq" },
        statistic: "Maximum",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        ...count,
      },
    ]);
  });

  const errors = {
    key: "fn-ingest-errors",
    description:
      "Function ingest raised errors (exceptions, timeouts). Read its log group for the failing request ids.",
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: { FunctionName: "ingest-fn" },
    statistic: "Sum",
    threshold: 5,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    ...count,
  };
  const throttles = {
    key: "fn-ingest-throttles",
    description:
      "Function ingest was throttled: its reserved or the account's concurrency is exhausted. Raise the concurrency or find the traffic spike.",
    namespace: "AWS/Lambda",
    metricName: "Throttles",
    dimensions: { FunctionName: "ingest-fn" },
    statistic: "Sum",
    threshold: 2,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    ...count,
  };

  it("a function invoked synchronously: errors and throttles", () => {
    expect(
      functionAlarms({ label: "ingest", name: "ingest-fn", asyncInvoked: false }, T),
    ).to.deep.equal([errors, throttles]);
  });

  it("a function invoked asynchronously: also event age (in ms) and dropped events", () => {
    expect(
      functionAlarms({ label: "ingest", name: "ingest-fn", asyncInvoked: true }, T),
    ).to.deep.equal([
      errors,
      throttles,
      {
        key: "fn-ingest-event-age",
        description:
          "Events wait more than 600 s in function ingest's async queue (retries after errors or throttles). Check its Errors and Throttles.",
        namespace: "AWS/Lambda",
        metricName: "AsyncEventAge",
        dimensions: { FunctionName: "ingest-fn" },
        statistic: "Maximum",
        threshold: 600000,
        comparisonOperator: "GreaterThanThreshold",
        ...count,
      },
      {
        key: "fn-ingest-dropped",
        description:
          "Function ingest dropped async events (retries or maximum age exhausted). They went to its failure destination if it has one; otherwise they are lost.",
        namespace: "AWS/Lambda",
        metricName: "AsyncEventsDropped",
        dimensions: { FunctionName: "ingest-fn" },
        statistic: "Sum",
        threshold: 3,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count,
      },
    ]);
  });

  const iteratorAge = {
    key: "fn-ingest-iterator-age",
    description:
      "Records wait more than 600 s in the stream that feeds function ingest: a batch it keeps failing is retried and holds up the records behind it. Read its log group for the failing batch.",
    namespace: "AWS/Lambda",
    metricName: "IteratorAge",
    dimensions: { FunctionName: "ingest-fn" },
    statistic: "Maximum",
    // asyncEventAgeSeconds in milliseconds, the metric's unit.
    threshold: 600000,
    comparisonOperator: "GreaterThanThreshold",
    ...count,
  };

  it("a function fed by a stream: also iterator age (in ms)", () => {
    expect(
      functionAlarms(
        { label: "ingest", name: "ingest-fn", asyncInvoked: false, streamFed: true },
        T,
      ),
    ).to.deep.equal([errors, throttles, iteratorAge]);
  });

  it("no iterator age for a function not fed by a stream (streamFed false or absent)", () => {
    for (const asyncInvoked of [false, true]) {
      for (const f of [
        { label: "ingest", name: "ingest-fn", asyncInvoked },
        { label: "ingest", name: "ingest-fn", asyncInvoked, streamFed: false },
      ]) {
        const specs = functionAlarms(f, T);
        expect(
          specs.map((s) => s.metricName),
          JSON.stringify(f),
        ).to.not.include("IteratorAge");
        expect(specs.map((s) => s.key)).to.not.include("fn-ingest-iterator-age");
        expect(specs).to.have.length(asyncInvoked ? 4 : 2);
      }
    }
  });

  it("a stream-fed function invoked asynchronously too: iterator age before the async alarms", () => {
    expect(
      functionAlarms(
        { label: "ingest", name: "ingest-fn", asyncInvoked: true, streamFed: true },
        T,
      ).map((s) => s.key),
    ).to.deep.equal([
      "fn-ingest-errors",
      "fn-ingest-throttles",
      "fn-ingest-iterator-age",
      "fn-ingest-event-age",
      "fn-ingest-dropped",
    ]);
  });

  it("a state machine: failed, timed-out and aborted executions", () => {
    const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:verify";
    const spec = (what: string, metricName: string, meaning: string) => ({
      key: `sfn-verify-${what}`,
      description: `Executions of workflow verify ${meaning}. Open the execution history in the Step Functions console.`,
      namespace: "AWS/States",
      metricName,
      dimensions: { StateMachineArn: arn },
      statistic: "Sum",
      threshold: 4,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...count,
    });
    expect(stateMachineAlarms({ label: "verify", arn }, T)).to.deep.equal([
      spec("failed", "ExecutionsFailed", "failed (an error no Catch handled)"),
      spec("timed-out", "ExecutionsTimedOut", "timed out (TimeoutSeconds of the state machine)"),
      spec("aborted", "ExecutionsAborted", "were aborted (StopExecution)"),
    ]);
  });

  it("a REST API stage: the 5xx share and p99 latency, M of N periods", () => {
    const sustained = { periodSeconds: 120, evaluationPeriods: 4, datapointsToAlarm: 2 };
    expect(restApiAlarms({ label: "jobs", apiName: "hub-jobs", stage: "v1" }, T)).to.deep.equal([
      {
        key: "api-jobs-5xx-rate",
        description:
          "More than 5% of requests to API jobs answered 5xx in 2 of 4 periods. Check the integration's logs and errors.",
        namespace: "AWS/ApiGateway",
        metricName: "5XXError",
        dimensions: { ApiName: "hub-jobs", Stage: "v1" },
        statistic: "Average",
        threshold: 0.05,
        comparisonOperator: "GreaterThanThreshold",
        ...sustained,
      },
      {
        key: "api-jobs-latency-p99",
        description:
          "p99 latency of API jobs is above 2000 ms in 2 of 4 periods. Compare Latency with IntegrationLatency to find the slow side.",
        namespace: "AWS/ApiGateway",
        metricName: "Latency",
        dimensions: { ApiName: "hub-jobs", Stage: "v1" },
        extendedStatistic: "p99",
        threshold: 2000,
        comparisonOperator: "GreaterThanThreshold",
        ...sustained,
      },
    ]);
  });

  it("a rule: failed invocations (threshold) and events lost on the way to its DLQ (one)", () => {
    const dimensions = { EventBusName: "hub", RuleName: "hub-records" };
    expect(ruleAlarms({ label: "records", dimensions }, T)).to.deep.equal([
      {
        key: "rule-records-failed",
        description:
          "Rule records failed to deliver events permanently (retries exhausted or a 4xx from the API destination). They are in the rule's dead-letter queue.",
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensions,
        statistic: "Sum",
        threshold: 6,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count,
      },
      {
        key: "rule-records-dlq-failed",
        description:
          "Rule records could not put failed events into its dead-letter queue (permissions, a missing queue, KMS, or the size limit): those events are lost. Check the DLQ's policy and existence; replay the affected window from the archive.",
        namespace: "AWS/Events",
        metricName: "InvocationsFailedToBeSentToDlq",
        dimensions,
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        ...count,
      },
    ]);
  });

  it("a rule's dimensions: EventBusName only on a custom bus", () => {
    expect(ruleDimensionsOf("hub", "r")).to.deep.equal({ EventBusName: "hub", RuleName: "r" });
    expect(ruleDimensionsOf("default", "r")).to.deep.equal({ RuleName: "r" });
    expect(ruleDimensionsOf(undefined, "r")).to.deep.equal({ RuleName: "r" });
  });

  it("a webhook receiver: one alarm per alarmed reason, per minute whatever the period", () => {
    const spec = (reason: string, namespace: string) => ({
      key: `webhook-receivers-${reason}`,
      description: `Webhook receiver receivers rejected more than 50 deliveries a minute for reason "${reason}": an attack, or a provider's signing secret rotated without updating ours.`,
      namespace,
      metricName: "WebhookRejected",
      dimensions: { service: "switchyard-webhooks", reason },
      statistic: "Sum",
      threshold: 50,
      comparisonOperator: "GreaterThanThreshold",
      periodSeconds: 60,
      evaluationPeriods: 1,
    });
    expect(webhookAlarms({ label: "receivers", service: "switchyard-webhooks" }, T)).to.deep.equal([
      spec("signature", "Switchyard"),
      spec("timestamp", "Switchyard"),
    ]);
    expect(
      webhookAlarms(
        { label: "receivers", service: "switchyard-webhooks", namespace: "Other" },
        MONITORING_DEFAULTS,
      ).map((s) => [s.key, s.namespace, s.threshold]),
    ).to.deep.equal([["webhook-receivers-signature", "Other", 20]]);
  });

  it("a spec's MetricAlarm inputs: statistic or extended statistic, actions on ALARM and OK", () => {
    const topic = "arn:aws:sns:eu-west-1:123456789012:ops-alarms";
    const [age] = functionAlarms({ label: "f", name: "fn", asyncInvoked: true }, T).slice(2);
    expect(metricAlarmArgs(age, topic)).to.deep.equal({
      alarmDescription: age.description,
      namespace: "AWS/Lambda",
      metricName: "AsyncEventAge",
      dimensions: { FunctionName: "fn" },
      statistic: "Maximum",
      period: 120,
      evaluationPeriods: 1,
      threshold: 600000,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [topic],
      okActions: [topic],
    });
    const [, latency] = restApiAlarms({ label: "a", apiName: "api", stage: "v1" }, T);
    expect(metricAlarmArgs(latency, topic)).to.deep.equal({
      alarmDescription: latency.description,
      namespace: "AWS/ApiGateway",
      metricName: "Latency",
      dimensions: { ApiName: "api", Stage: "v1" },
      extendedStatistic: "p99",
      period: 120,
      evaluationPeriods: 4,
      datapointsToAlarm: 2,
      threshold: 2000,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [topic],
      okActions: [topic],
    });
  });
});
