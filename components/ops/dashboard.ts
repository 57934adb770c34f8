// The hub's CloudWatch dashboard as data: a pure function from resolved names to the dashboard body
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html),
// so tests read the exact widgets. The Monitoring component stringifies it once every name is known.
import {
  DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  REJECTION_REASONS,
} from "../../handlers/lib/telemetry";
import { OutboundMonitored, outboundDashboardTiles } from "../webhooks/outboundAlarms";

export interface DashboardSpec {
  /** Heading of the dashboard. */
  readonly title: string;
  /** Region the metrics live in. */
  readonly region: string;
  readonly functions: ReadonlyArray<{ label: string; functionName: string }>;
  readonly queues: ReadonlyArray<{ label: string; queueName: string }>;
  readonly stateMachines: ReadonlyArray<{ label: string; stateMachineArn: string }>;
  readonly restApis: ReadonlyArray<{ label: string; apiName: string; stage: string }>;
  readonly rules: ReadonlyArray<{ label: string; busName: string; ruleName: string }>;
  readonly webhooks: ReadonlyArray<{ label: string; namespace: string; service: string }>;
  /** Queues whose messages are expected (not dead-letter queues): messages waiting, age of the oldest. */
  readonly plainQueues?: ReadonlyArray<{ label: string; queueName: string }>;
  /** Publishers of bus events other than the receivers, by their EMF namespace and `service`. */
  readonly publishers?: ReadonlyArray<{ label: string; namespace: string; service: string }>;
  /** Outbound webhook subscriptions: a tile each (components/webhooks/outboundAlarms.ts). */
  readonly outbound?: ReadonlyArray<OutboundMonitored<string>>;
  /** ARNs shown in the alarm status widget. */
  readonly alarmArns: readonly string[];
  /** Seconds per data point. Default 60. */
  readonly periodSeconds?: number;
}

/** One entry of a metric widget's `metrics` array. */
export type MetricRow = Array<string | Record<string, unknown>>;

export interface Widget {
  type: "metric" | "text" | "alarm";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, any>;
}

export interface DashboardBody {
  start: string;
  periodOverride: "auto" | "inherit";
  widgets: Widget[];
}

/** Grid width of a CloudWatch dashboard. */
export const GRID_WIDTH = 24;
const TILE_WIDTH = 8;
const TILE_HEIGHT = 6;
/** An alarm status widget shows at most 100 alarms. */
const ALARMS_PER_WIDGET = 100;

function metric(
  namespace: string,
  name: string,
  dims: Record<string, string>,
  opts: Record<string, unknown>,
): MetricRow {
  const row: MetricRow = [namespace, name];
  for (const [k, v] of Object.entries(dims)) row.push(k, v);
  row.push(opts);
  return row;
}

/** The rows of a publishing tile: the `recordPublish` metrics of one EMF `service`. */
export function publishingMetrics(namespace: string, service: string): MetricRow[] {
  const d = { [DIMENSION.service]: service };
  return [
    metric(namespace, METRIC.eventsPublished, d, { stat: "Sum", label: "events published" }),
    metric(namespace, METRIC.publishRetries, d, {
      stat: "Sum",
      label: "PutEvents retries",
      color: "#ff7f0e",
    }),
    metric(namespace, METRIC.publishFailed, d, {
      stat: "Sum",
      label: "events not published",
      color: "#d62728",
    }),
  ];
}

/** The rows of a plain queue's tile: messages waiting and the age of the oldest. */
export function plainQueueMetrics(queueName: string): MetricRow[] {
  const d = { QueueName: queueName };
  return [
    metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", d, {
      stat: "Maximum",
      label: "messages waiting",
    }),
    metric("AWS/SQS", "ApproximateAgeOfOldestMessage", d, {
      stat: "Maximum",
      label: "oldest (s)",
      yAxis: "right",
    }),
  ];
}

/** A short label for a state machine ARN: its name. */
function stateMachineName(arn: string): string {
  return arn.split(":").pop() ?? arn;
}

/** Builds the dashboard body: alarms first, then one tile per function, queue, workflow, API, rule, receiver. */
export function buildDashboardBody(spec: DashboardSpec): DashboardBody {
  const period = spec.periodSeconds ?? 60;
  const widgets: Widget[] = [];
  let y = 0;

  const fullWidth = (height: number, type: Widget["type"], properties: Record<string, any>) => {
    widgets.push({ type, x: 0, y, width: GRID_WIDTH, height, properties });
    y += height;
  };
  const section = (
    heading: string,
    tiles: Array<{ title: string; metrics: MetricRow[]; extra?: Record<string, unknown> }>,
  ) => {
    if (tiles.length === 0) return;
    fullWidth(1, "text", { markdown: `## ${heading}` });
    tiles.forEach((t, i) => {
      const col = i % (GRID_WIDTH / TILE_WIDTH);
      widgets.push({
        type: "metric",
        x: col * TILE_WIDTH,
        y: y + Math.floor(i / (GRID_WIDTH / TILE_WIDTH)) * TILE_HEIGHT,
        width: TILE_WIDTH,
        height: TILE_HEIGHT,
        properties: {
          title: t.title,
          region: spec.region,
          view: "timeSeries",
          stacked: false,
          period,
          metrics: t.metrics,
          ...t.extra,
        },
      });
    });
    y += Math.ceil(tiles.length / (GRID_WIDTH / TILE_WIDTH)) * TILE_HEIGHT;
  };

  fullWidth(2, "text", {
    markdown: `# ${spec.title}\nAlarms, Lambda functions, dead-letter queues, workflows, REST APIs, API destination rules and webhook receivers of this hub.`,
  });

  for (let i = 0; i < spec.alarmArns.length; i += ALARMS_PER_WIDGET) {
    const arns = spec.alarmArns.slice(i, i + ALARMS_PER_WIDGET);
    fullWidth(Math.min(12, 2 + Math.ceil(arns.length / 4)), "alarm", {
      title:
        spec.alarmArns.length > ALARMS_PER_WIDGET
          ? `Alarms (${i / ALARMS_PER_WIDGET + 1})`
          : "Alarms",
      alarms: arns,
      sortBy: "stateUpdatedTimestamp",
      states: [],
    });
  }

  section(
    "Lambda functions",
    spec.functions.map((f) => {
      const d = { FunctionName: f.functionName };
      return {
        title: `Lambda ${f.label}`,
        metrics: [
          metric("AWS/Lambda", "Invocations", d, { stat: "Sum", label: "invocations" }),
          metric("AWS/Lambda", "Errors", d, { stat: "Sum", label: "errors", color: "#d62728" }),
          metric("AWS/Lambda", "Throttles", d, {
            stat: "Sum",
            label: "throttles",
            color: "#ff7f0e",
          }),
          metric("AWS/Lambda", "Duration", d, {
            stat: "p99",
            label: "duration p99 (ms)",
            yAxis: "right",
          }),
        ],
      };
    }),
  );

  section(
    "Dead-letter queues",
    spec.queues.map((q) => {
      const d = { QueueName: q.queueName };
      return {
        title: `DLQ ${q.label}`,
        metrics: [
          metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", d, {
            stat: "Maximum",
            label: "messages waiting",
            color: "#d62728",
          }),
          metric("AWS/SQS", "NumberOfMessagesSent", d, { stat: "Sum", label: "dead-lettered" }),
          metric("AWS/SQS", "ApproximateAgeOfOldestMessage", d, {
            stat: "Maximum",
            label: "oldest (s)",
            yAxis: "right",
          }),
        ],
      };
    }),
  );

  section(
    "Workflows",
    spec.stateMachines.map((s) => {
      const d = { StateMachineArn: s.stateMachineArn };
      return {
        title: `Workflow ${s.label} (${stateMachineName(s.stateMachineArn)})`,
        metrics: [
          metric("AWS/States", "ExecutionsStarted", d, { stat: "Sum", label: "started" }),
          metric("AWS/States", "ExecutionsSucceeded", d, {
            stat: "Sum",
            label: "succeeded",
            color: "#2ca02c",
          }),
          metric("AWS/States", "ExecutionsFailed", d, {
            stat: "Sum",
            label: "failed",
            color: "#d62728",
          }),
          metric("AWS/States", "ExecutionsTimedOut", d, {
            stat: "Sum",
            label: "timed out",
            color: "#ff7f0e",
          }),
          metric("AWS/States", "ExecutionsAborted", d, {
            stat: "Sum",
            label: "aborted",
            color: "#9467bd",
          }),
        ],
      };
    }),
  );

  section(
    "REST APIs",
    spec.restApis.map((a) => {
      const d = { ApiName: a.apiName, Stage: a.stage };
      return {
        title: `API ${a.label} (${a.apiName}/${a.stage})`,
        metrics: [
          metric("AWS/ApiGateway", "Count", d, { stat: "Sum", label: "requests" }),
          metric("AWS/ApiGateway", "4XXError", d, { stat: "Sum", label: "4xx", color: "#ff7f0e" }),
          metric("AWS/ApiGateway", "5XXError", d, { stat: "Sum", label: "5xx", color: "#d62728" }),
          metric("AWS/ApiGateway", "Latency", d, {
            stat: "p99",
            label: "latency p99 (ms)",
            yAxis: "right",
          }),
          metric("AWS/ApiGateway", "Latency", d, {
            stat: "p50",
            label: "latency p50 (ms)",
            yAxis: "right",
          }),
        ],
      };
    }),
  );

  section(
    "Event rules",
    spec.rules.map((r) => {
      // Metrics of rules on a custom bus carry both EventBusName and RuleName; the default bus, RuleName.
      const d: Record<string, string> =
        r.busName && r.busName !== "default"
          ? { EventBusName: r.busName, RuleName: r.ruleName }
          : { RuleName: r.ruleName };
      return {
        title: `Rule ${r.label}`,
        metrics: [
          metric("AWS/Events", "MatchedEvents", d, { stat: "Sum", label: "matched" }),
          metric("AWS/Events", "Invocations", d, { stat: "Sum", label: "invocations" }),
          metric("AWS/Events", "FailedInvocations", d, {
            stat: "Sum",
            label: "failed",
            color: "#d62728",
          }),
          metric("AWS/Events", "InvocationsSentToDlq", d, {
            stat: "Sum",
            label: "sent to DLQ",
            color: "#9467bd",
          }),
          metric("AWS/Events", "InvocationsFailedToBeSentToDlq", d, {
            stat: "Sum",
            label: "lost: DLQ send failed",
            color: "#8c564b",
          }),
        ],
      };
    }),
  );

  section(
    "Webhook receivers",
    spec.webhooks.flatMap((w) => {
      const d = { [DIMENSION.service]: w.service };
      const rejected = Object.values(REJECTION_REASONS).map((reason) =>
        metric(
          w.namespace,
          METRIC.deliveryRejected,
          { ...d, [DIMENSION.reason]: reason },
          { stat: "Sum", label: `rejected: ${reason}` },
        ),
      );
      return [
        {
          title: `Webhooks ${w.label}: deliveries`,
          metrics: [
            metric(w.namespace, METRIC.deliveryAccepted, d, {
              stat: "Sum",
              label: "accepted",
              color: "#2ca02c",
            }),
            metric(w.namespace, METRIC.deliveryDuplicate, d, { stat: "Sum", label: "duplicates" }),
            ...rejected,
          ],
        },
        {
          title: `Webhooks ${w.label}: publishing`,
          metrics: publishingMetrics(w.namespace, w.service),
        },
      ];
    }),
  );

  section(
    "Queues",
    (spec.plainQueues ?? []).map((q) => ({
      title: `Queue ${q.label}`,
      metrics: plainQueueMetrics(q.queueName),
    })),
  );

  section(
    "Publishers",
    (spec.publishers ?? []).map((p) => ({
      title: `Publisher ${p.label}: publishing`,
      metrics: publishingMetrics(p.namespace, p.service),
    })),
  );

  section("Outbound webhooks", outboundDashboardTiles([...(spec.outbound ?? [])]));

  return { start: "-PT6H", periodOverride: "inherit", widgets };
}

/** Default namespace of the webhook receivers' business metrics. */
export const WEBHOOK_METRICS_NAMESPACE = METRICS_NAMESPACE;
