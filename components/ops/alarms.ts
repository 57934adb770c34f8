// The Monitoring component's alarms as pure functions, one per resource kind: each takes the
// monitored resource (its label and the values of its metric's dimensions) and the thresholds, and
// returns the specs of its alarms. The component only loops over its arguments and declares one
// MetricAlarm per spec with `metricAlarmArgs`. No Pulumi here: a dimension value is whatever the
// caller passes (a name in tests, an Output in the component), so the specs are tested exactly.
import { DIMENSION, METRIC, METRICS_NAMESPACE } from "../../handlers/lib/telemetry";
import { MonitoringThresholds } from "./thresholds";

export type ComparisonOperator = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";

/** One CloudWatch alarm; `D` is its dimensions (an object, or an Output of one for rules). */
export interface AlarmSpec<D> {
  /** `<kind>-<label>-<what>`: the alarm's key in `Monitoring.alarms` and its name's suffix. */
  readonly key: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: D;
  readonly statistic?: string;
  readonly extendedStatistic?: string;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
}

/** The count alarms' evaluation: one period of `periodSeconds`. */
function onePeriod(t: MonitoringThresholds) {
  return { periodSeconds: t.periodSeconds, evaluationPeriods: 1 };
}

/** A dead-letter queue: one message waiting is one event that was not delivered. */
export function deadLetterQueueAlarms<V>(
  q: { readonly label: string; readonly name: V },
  t: MonitoringThresholds,
): AlarmSpec<{ QueueName: V }>[] {
  return [
    {
      key: `dlq-${q.label}`,
      description: `Dead-letter queue ${q.label} holds undelivered events. Inspect the messages (their attributes name the rule, target and error), fix the cause, then redrive or replay.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: q.name },
      statistic: "Maximum",
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      ...onePeriod(t),
    },
  ];
}

/** A function: errors and throttles; an asynchronously invoked one adds event age and drops. */
export function functionAlarms<V>(
  f: {
    readonly label: string;
    readonly name: V;
    readonly asyncInvoked: boolean;
    readonly streamFed?: boolean;
  },
  t: MonitoringThresholds,
): AlarmSpec<{ FunctionName: V }>[] {
  const d = { FunctionName: f.name };
  const specs: AlarmSpec<{ FunctionName: V }>[] = [
    {
      key: `fn-${f.label}-errors`,
      description: `Function ${f.label} raised errors (exceptions, timeouts). Read its log group for the failing request ids.`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: d,
      statistic: "Sum",
      threshold: t.lambdaErrors,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...onePeriod(t),
    },
    {
      key: `fn-${f.label}-throttles`,
      description: `Function ${f.label} was throttled: its reserved or the account's concurrency is exhausted. Raise the concurrency or find the traffic spike.`,
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions: d,
      statistic: "Sum",
      threshold: t.lambdaThrottles,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...onePeriod(t),
    },
  ];
  // IteratorAge and AsyncEventAge: how long the oldest record or event has waited, reported in
  // milliseconds, held to the same bound.
  const waitsLonger = (
    key: string,
    metricName: string,
    description: string,
  ): AlarmSpec<{ FunctionName: V }> => ({
    key: `fn-${f.label}-${key}`,
    description,
    namespace: "AWS/Lambda",
    metricName,
    dimensions: d,
    statistic: "Maximum",
    threshold: t.asyncEventAgeSeconds * 1000,
    comparisonOperator: "GreaterThanThreshold",
    ...onePeriod(t),
  });
  if (f.streamFed) {
    specs.push(
      waitsLonger(
        "iterator-age",
        "IteratorAge",
        `Records wait more than ${t.asyncEventAgeSeconds} s in the stream that feeds function ${f.label}: a batch it keeps failing is retried and holds up the records behind it. Read its log group for the failing batch.`,
      ),
    );
  }
  if (!f.asyncInvoked) return specs;
  return [
    ...specs,
    waitsLonger(
      "event-age",
      "AsyncEventAge",
      `Events wait more than ${t.asyncEventAgeSeconds} s in function ${f.label}'s async queue (retries after errors or throttles). Check its Errors and Throttles.`,
    ),
    {
      key: `fn-${f.label}-dropped`,
      description: `Function ${f.label} dropped async events (retries or maximum age exhausted). They went to its failure destination if it has one; otherwise they are lost.`,
      namespace: "AWS/Lambda",
      metricName: "AsyncEventsDropped",
      dimensions: d,
      statistic: "Sum",
      threshold: t.asyncEventsDropped,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...onePeriod(t),
    },
  ];
}

const EXECUTION_OUTCOMES = [
  ["failed", "ExecutionsFailed", "failed (an error no Catch handled)"],
  ["timed-out", "ExecutionsTimedOut", "timed out (TimeoutSeconds of the state machine)"],
  ["aborted", "ExecutionsAborted", "were aborted (StopExecution)"],
] as const;

/** A state machine: failed, timed-out and aborted executions. */
export function stateMachineAlarms<V>(
  s: { readonly label: string; readonly arn: V },
  t: MonitoringThresholds,
): AlarmSpec<{ StateMachineArn: V }>[] {
  return EXECUTION_OUTCOMES.map(([what, metricName, meaning]) => ({
    key: `sfn-${s.label}-${what}`,
    description: `Executions of workflow ${s.label} ${meaning}. Open the execution history in the Step Functions console.`,
    namespace: "AWS/States",
    metricName,
    dimensions: { StateMachineArn: s.arn },
    statistic: "Sum",
    threshold: t.workflowFailures,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    ...onePeriod(t),
  }));
}

/** A REST API stage: the 5xx share and p99 latency, each sustained over several periods. */
export function restApiAlarms<V>(
  a: { readonly label: string; readonly apiName: V; readonly stage: V },
  t: MonitoringThresholds,
): AlarmSpec<{ ApiName: V; Stage: V }>[] {
  const d = { ApiName: a.apiName, Stage: a.stage };
  const sustained = {
    periodSeconds: t.periodSeconds,
    evaluationPeriods: t.apiEvaluationPeriods,
    datapointsToAlarm: t.apiDatapointsToAlarm,
  };
  return [
    {
      key: `api-${a.label}-5xx-rate`,
      description: `More than ${t.api5xxRatePercent}% of requests to API ${a.label} answered 5xx in ${t.apiDatapointsToAlarm} of ${t.apiEvaluationPeriods} periods. Check the integration's logs and errors.`,
      namespace: "AWS/ApiGateway",
      metricName: "5XXError",
      dimensions: d,
      // The Average of 5XXError is the share of requests answered 5xx (0-1).
      statistic: "Average",
      threshold: t.api5xxRatePercent / 100,
      comparisonOperator: "GreaterThanThreshold",
      ...sustained,
    },
    {
      key: `api-${a.label}-latency-p99`,
      description: `p99 latency of API ${a.label} is above ${t.apiLatencyP99Ms} ms in ${t.apiDatapointsToAlarm} of ${t.apiEvaluationPeriods} periods. Compare Latency with IntegrationLatency to find the slow side.`,
      namespace: "AWS/ApiGateway",
      metricName: "Latency",
      dimensions: d,
      extendedStatistic: "p99",
      threshold: t.apiLatencyP99Ms,
      comparisonOperator: "GreaterThanThreshold",
      ...sustained,
    },
  ];
}

/**
 * A rule with a dead-letter queue on its targets: delivery failures, and events lost on the way to
 * the DLQ. `dimensions` is RuleName, plus EventBusName on a custom bus (`ruleDimensions`).
 */
export function ruleAlarms<D>(
  r: { readonly label: string; readonly dimensions: D },
  t: MonitoringThresholds,
): AlarmSpec<D>[] {
  return [
    {
      key: `rule-${r.label}-failed`,
      description: `Rule ${r.label} failed to deliver events permanently (retries exhausted or a 4xx from the API destination). They are in the rule's dead-letter queue.`,
      namespace: "AWS/Events",
      metricName: "FailedInvocations",
      dimensions: r.dimensions,
      statistic: "Sum",
      threshold: t.ruleFailedInvocations,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...onePeriod(t),
    },
    // Same dimensions as FailedInvocations (AWS/Events: EventBusName + RuleName on a custom bus).
    {
      key: `rule-${r.label}-dlq-failed`,
      description: `Rule ${r.label} could not put failed events into its dead-letter queue (permissions, a missing queue, KMS, or the size limit): those events are lost. Check the DLQ's policy and existence; replay the affected window from the archive.`,
      namespace: "AWS/Events",
      metricName: "InvocationsFailedToBeSentToDlq",
      dimensions: r.dimensions,
      statistic: "Sum",
      // Fixed: every such event is lost, so one is an incident.
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      ...onePeriod(t),
    },
  ];
}

/** The dimensions of a rule's AWS/Events metrics: RuleName, plus EventBusName on a custom bus. */
export function ruleDimensionsOf(
  busName: string | undefined,
  ruleName: string,
): Record<string, string> {
  // Rules of the default bus are reported with RuleName only; custom buses add EventBusName.
  return busName && busName !== "default"
    ? { EventBusName: busName, RuleName: ruleName }
    : { RuleName: ruleName };
}

/** A webhook receiver: its rejections per minute, one alarm per alarmed rejection reason. */
export function webhookAlarms(
  w: { readonly label: string; readonly service: string; readonly namespace?: string },
  t: MonitoringThresholds,
): AlarmSpec<Record<string, string>>[] {
  return t.webhookRejectionReasons.map((reason) => ({
    key: `webhook-${w.label}-${reason}`,
    description: `Webhook receiver ${w.label} rejected more than ${t.webhookRejectionsPerMinute} deliveries a minute for reason "${reason}": an attack, or a provider's signing secret rotated without updating ours.`,
    namespace: w.namespace ?? METRICS_NAMESPACE,
    metricName: METRIC.deliveryRejected,
    dimensions: { [DIMENSION.service]: w.service, [DIMENSION.reason]: reason },
    statistic: "Sum",
    threshold: t.webhookRejectionsPerMinute,
    comparisonOperator: "GreaterThanThreshold",
    // Per minute whatever periodSeconds says: the threshold is a rate per minute.
    periodSeconds: 60,
    evaluationPeriods: 1,
  }));
}

/**
 * The MetricAlarm inputs of a spec, notifying `topicArn` on ALARM and on OK. Missing data is not
 * breaching: these metrics are only sent when there is activity.
 */
export function metricAlarmArgs<D, A>(s: AlarmSpec<D>, topicArn: A) {
  return {
    alarmDescription: s.description,
    namespace: s.namespace,
    metricName: s.metricName,
    dimensions: s.dimensions,
    ...(s.extendedStatistic
      ? { extendedStatistic: s.extendedStatistic }
      : { statistic: s.statistic }),
    period: s.periodSeconds,
    evaluationPeriods: s.evaluationPeriods,
    ...(s.datapointsToAlarm ? { datapointsToAlarm: s.datapointsToAlarm } : {}),
    threshold: s.threshold,
    comparisonOperator: s.comparisonOperator,
    treatMissingData: "notBreaching",
    alarmActions: [topicArn],
    okActions: [topicArn],
  };
}
