// Alarm specs and dashboard tiles of outbound webhooks, per subscription: failed attempts, the age of
// the oldest waiting message, DLQ depth and a disabled endpoint. Pure (no Pulumi): the Monitoring
// component loops over them and declares; dimension values are whatever the caller passes (queue
// names as strings or Outputs).
import {
  DIMENSION,
  METRICS_NAMESPACE,
  OUTBOUND_METRIC,
  OUTBOUND_SERVICE,
  OUTBOUND_SUBSCRIPTION_DIMENSION,
} from "../../lib/contracts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../../handlers/outbound/settings";

export interface OutboundAlarmSpec<V> {
  /** Unique key, `outbound-<subscription>-<what>`. */
  key: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, V | string>;
  statistic: "Sum" | "Maximum";
  threshold: number;
  comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  periodSeconds: number;
  evaluationPeriods: number;
}

export interface OutboundMonitored<V> {
  subscription: string;
  queueName: V;
  dlqName: V;
}

export interface OutboundAlarmThresholds {
  /** Failed attempts in 5 minutes that alarm. Default 5. */
  failuresPer5Minutes?: number;
  /**
   * Age in seconds of the oldest message in a subscription's queue that alarms. Messages legitimately
   * wait through the whole retry schedule, so the default is the schedule's total plus an hour:
   * older means the dispatcher is not consuming, or the endpoint is disabled and its messages parked.
   */
  oldestMessageSeconds?: number;
  /** The retry schedule, for the default age. Default Svix's. */
  retryScheduleSeconds?: readonly number[];
}

export function outboundAlarmSpecs<V>(
  subscriptions: OutboundMonitored<V>[],
  t: OutboundAlarmThresholds = {},
): OutboundAlarmSpec<V>[] {
  const schedule = t.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
  const oldest = t.oldestMessageSeconds ?? schedule.reduce((a, b) => a + b, 0) + 3600;
  const failures = t.failuresPer5Minutes ?? 5;
  return subscriptions.flatMap((s) => {
    const emf = {
      [DIMENSION.service]: OUTBOUND_SERVICE,
      [OUTBOUND_SUBSCRIPTION_DIMENSION]: s.subscription,
    };
    const base = `outbound-${s.subscription}`;
    return [
      {
        key: `${base}-failures`,
        description: `Outbound subscription ${s.subscription}: ${failures} or more failed delivery attempts in 5 minutes (see its attempt log)`,
        namespace: METRICS_NAMESPACE,
        metricName: OUTBOUND_METRIC.failed,
        dimensions: emf,
        statistic: "Sum",
        threshold: failures,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        periodSeconds: 300,
        evaluationPeriods: 1,
      },
      {
        key: `${base}-oldest`,
        description: `Outbound subscription ${s.subscription}: a message has waited over ${oldest} s (dispatcher not consuming, or endpoint disabled)`,
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: s.queueName },
        statistic: "Maximum",
        threshold: oldest,
        comparisonOperator: "GreaterThanThreshold",
        periodSeconds: 300,
        evaluationPeriods: 1,
      },
      {
        key: `${base}-dlq`,
        description: `Outbound subscription ${s.subscription}: messages in its DLQ (every attempt failed; resend with npm run outbound -- resend-failed ${s.subscription} --since <time>)`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: s.dlqName },
        statistic: "Maximum",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        periodSeconds: 300,
        evaluationPeriods: 1,
      },
      {
        key: `${base}-disabled`,
        description: `Outbound subscription ${s.subscription}: its endpoint was disabled after failing every attempt (enable with npm run outbound -- enable ${s.subscription})`,
        namespace: METRICS_NAMESPACE,
        metricName: OUTBOUND_METRIC.endpointDisabled,
        dimensions: emf,
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        periodSeconds: 300,
        evaluationPeriods: 1,
      },
    ] satisfies OutboundAlarmSpec<V>[];
  });
}

/** One dashboard tile per subscription: deliveries, failures, exhaustions, queue and DLQ depth. */
export function outboundDashboardTiles<V>(subscriptions: OutboundMonitored<V>[]) {
  return subscriptions.map((s) => {
    const d = [
      DIMENSION.service,
      OUTBOUND_SERVICE,
      OUTBOUND_SUBSCRIPTION_DIMENSION,
      s.subscription,
    ];
    return {
      title: `Outbound ${s.subscription}`,
      metrics: [
        [METRICS_NAMESPACE, OUTBOUND_METRIC.delivered, ...d, { stat: "Sum", label: "delivered" }],
        [
          METRICS_NAMESPACE,
          OUTBOUND_METRIC.failed,
          ...d,
          { stat: "Sum", label: "failed attempts", color: "#ff7f0e" },
        ],
        [
          METRICS_NAMESPACE,
          OUTBOUND_METRIC.exhausted,
          ...d,
          { stat: "Sum", label: "exhausted", color: "#d62728" },
        ],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          s.queueName,
          { stat: "Maximum", label: "waiting" },
        ],
        [
          "AWS/SQS",
          "ApproximateAgeOfOldestMessage",
          "QueueName",
          s.queueName,
          { stat: "Maximum", label: "oldest (s)", yAxis: "right" },
        ],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          s.dlqName,
          { stat: "Maximum", label: "in DLQ", color: "#d62728" },
        ],
      ],
    };
  });
}
