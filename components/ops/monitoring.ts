import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  OutboundAlarmThresholds,
  OutboundMonitored,
  outboundAlarmSpecs,
} from "../webhooks/outboundAlarms";
import { METRICS_NAMESPACE, REJECTION_REASONS } from "../../handlers/lib/telemetry";
import { checkIntRange, checkName } from "../validate";
import {
  AlarmSpec,
  deadLetterQueueAlarms,
  functionAlarms,
  metricAlarmArgs,
  restApiAlarms,
  ruleAlarms,
  ruleDimensionsOf,
  stateMachineAlarms,
  webhookAlarms,
} from "./alarms";
import { buildDashboardBody } from "./dashboard";
import { MONITORING_DEFAULTS, MonitoringThresholds } from "./thresholds";

/** A Lambda function: the resource, a component holding it (`.function`), or its name. */
export type FunctionRef =
  aws.lambda.Function | { readonly function: aws.lambda.Function } | pulumi.Input<string>;

export interface MonitoredFunction {
  readonly function: FunctionRef;
  /** Invoked asynchronously (EventBridge, SNS, S3): also alarm on AsyncEventAge / AsyncEventsDropped. Default false. */
  readonly asyncInvoked?: boolean;
  /** Fed by a stream's event source mapping (DynamoDB Streams): also alarm on IteratorAge. Default false. */
  readonly streamFed?: boolean;
}

/** A queue: the resource, or its name and ARN. */
export type QueueRef =
  aws.sqs.Queue | { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };

/** What a queue holds, which decides whether a waiting message is an incident. */
export const QUEUE_KINDS = ["dead-letter", "plain"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export interface MonitoredQueue {
  readonly queue: QueueRef;
  /**
   * "dead-letter" (default): every message is an undelivered event, so a dashboard tile and an alarm
   * as soon as one waits. "plain": messages are expected (kept for inspection, or work in flight),
   * so a tile (messages waiting, age of the oldest) and no alarm.
   */
  readonly kind?: QueueKind;
}

/** A state machine: the resource, or its ARN. */
export type StateMachineRef = aws.sfn.StateMachine | { readonly arn: pulumi.Input<string> };

/** A REST API stage, by the API's name (the `ApiName` dimension) and the stage name. */
export interface RestApiRef {
  readonly apiName: pulumi.Input<string>;
  readonly stage: pulumi.Input<string>;
}

/** A rule: the resource, a route holding it (`.rule`), or its bus and name. */
export type RuleRef =
  | aws.cloudwatch.EventRule
  | { readonly rule: aws.cloudwatch.EventRule }
  | { readonly busName: pulumi.Input<string>; readonly ruleName: pulumi.Input<string> };

/**
 * A publisher that emits the publishing metrics of handlers/lib/telemetry.ts (`recordPublish`:
 * EventsPublished, PublishRetries, EventsPublishFailed): its Powertools `serviceName` (the
 * `service` dimension), or that and the namespace (default "Switchyard", METRICS_NAMESPACE).
 */
export type PublisherMetricsRef =
  string | { readonly service: string; readonly namespace?: string };

/** A webhook receiver that emits the business metrics of handlers/lib/telemetry.ts. */
export interface WebhookMetricsRef {
  /** The Powertools `serviceName` of the receiver (the `service` dimension). */
  readonly service: string;
  /** Default "Switchyard" (METRICS_NAMESPACE). */
  readonly namespace?: string;
}

export { MONITORING_DEFAULTS } from "./thresholds";
export type { MonitoringThresholds } from "./thresholds";
export interface MonitoringArgs {
  /** Functions by label (letters, digits, hyphens): Errors and Throttles alarms each. Default none. */
  readonly functions?: Record<string, FunctionRef | MonitoredFunction>;
  /**
   * Queues by label, each with a dashboard tile. A bare queue, or `{ queue, kind: "dead-letter" }`,
   * is a dead-letter queue: an alarm as soon as one message waits. `{ queue, kind: "plain" }`: the
   * tile only. Default none.
   */
  readonly queues?: Record<string, QueueRef | MonitoredQueue>;
  /** State machines by label: failed, timed-out and aborted execution alarms. Default none. */
  readonly stateMachines?: Record<string, StateMachineRef>;
  /** REST API stages by label: 5xx rate and p99 latency alarms. Default none. */
  readonly restApis?: Record<string, RestApiRef>;
  /** Rules with a dead-letter queue on their targets, by label: FailedInvocations and InvocationsFailedToBeSentToDlq alarms. Default none. */
  readonly rules?: Record<string, RuleRef>;
  /** Webhook receivers by label: signature rejection rate alarm. Default none. */
  readonly webhooks?: Record<string, WebhookMetricsRef>;
  /** Publishers of bus events by label (the EMF service of each): a publishing tile each, no alarm. Default none. */
  readonly publishers?: Record<string, PublisherMetricsRef>;
  /**
   * Outbound webhook subscriptions (OutboundWebhooks.monitored): failed attempts, the oldest
   * waiting message, DLQ depth and a disabled endpoint alarm each, and a tile each. Default none.
   */
  readonly outbound?: ReadonlyArray<OutboundMonitored<pulumi.Input<string>>>;
  /** The outbound alarms' thresholds (the retry schedule sets the oldest-message age). */
  readonly outboundThresholds?: OutboundAlarmThresholds;
  /** An email address subscribed to the alarm topic (the recipient confirms it). Default none. */
  readonly alarmEmail?: string;
  /** Thresholds; each defaults to MONITORING_DEFAULTS. */
  readonly thresholds?: Partial<MonitoringThresholds>;
  /** Dashboard name (letters, digits, `-`, `_`). Default the component name. */
  readonly dashboardName?: string;
}

const EMAIL = /^[^@\s"]+@[^@\s"]+\.[^@\s"]+$/;

/** Checks the arguments before anything is declared; errors name the argument and the fix. */
export function validateMonitoringArgs(args: MonitoringArgs): MonitoringThresholds {
  const t: MonitoringThresholds = { ...MONITORING_DEFAULTS, ...args.thresholds };
  checkIntRange("thresholds.periodSeconds", t.periodSeconds, 60, 86400);
  if (t.periodSeconds % 60 !== 0) {
    throw new Error(
      `thresholds.periodSeconds must be a multiple of 60 (CloudWatch standard resolution), got ${t.periodSeconds}`,
    );
  }
  checkIntRange("thresholds.lambdaErrors", t.lambdaErrors, 1, 1_000_000);
  checkIntRange("thresholds.lambdaThrottles", t.lambdaThrottles, 1, 1_000_000);
  // Lambda keeps an async event at most 6 hours.
  checkIntRange("thresholds.asyncEventAgeSeconds", t.asyncEventAgeSeconds, 1, 21600);
  checkIntRange("thresholds.asyncEventsDropped", t.asyncEventsDropped, 1, 1_000_000);
  checkIntRange("thresholds.workflowFailures", t.workflowFailures, 1, 1_000_000);
  if (
    typeof t.api5xxRatePercent !== "number" ||
    !(t.api5xxRatePercent > 0 && t.api5xxRatePercent <= 100)
  ) {
    throw new Error(
      `thresholds.api5xxRatePercent must be a percentage above 0 and at most 100, got ${JSON.stringify(t.api5xxRatePercent)}`,
    );
  }
  // API Gateway REST integrations time out at 29 s by default.
  checkIntRange("thresholds.apiLatencyP99Ms", t.apiLatencyP99Ms, 1, 300000);
  checkIntRange("thresholds.apiEvaluationPeriods", t.apiEvaluationPeriods, 1, 100);
  checkIntRange(
    "thresholds.apiDatapointsToAlarm",
    t.apiDatapointsToAlarm,
    1,
    t.apiEvaluationPeriods,
  );
  checkIntRange("thresholds.ruleFailedInvocations", t.ruleFailedInvocations, 1, 1_000_000);
  checkIntRange(
    "thresholds.webhookRejectionsPerMinute",
    t.webhookRejectionsPerMinute,
    1,
    1_000_000,
  );
  const reasons = Object.values(REJECTION_REASONS) as string[];
  for (const r of t.webhookRejectionReasons) {
    if (!reasons.includes(r)) {
      throw new Error(
        `thresholds.webhookRejectionReasons: "${r}" is not a rejection reason; use one of ${reasons.join(", ")}`,
      );
    }
  }
  for (const [what, rec] of Object.entries({
    functions: args.functions,
    queues: args.queues,
    stateMachines: args.stateMachines,
    restApis: args.restApis,
    rules: args.rules,
    webhooks: args.webhooks,
    publishers: args.publishers,
  })) {
    for (const label of Object.keys(rec ?? {})) checkName(`${what} label`, label, 40);
  }
  for (const [label, q] of Object.entries(args.queues ?? {})) {
    if (
      isMonitoredQueue(q) &&
      q.kind !== undefined &&
      !(QUEUE_KINDS as readonly string[]).includes(q.kind)
    ) {
      throw new Error(
        `queues.${label}.kind must be one of ${QUEUE_KINDS.join(", ")}, got ${JSON.stringify(q.kind)}`,
      );
    }
  }
  for (const [label, p] of Object.entries(args.publishers ?? {})) {
    const service = typeof p === "string" ? p : p?.service;
    if (typeof service !== "string" || service.trim() === "") {
      throw new Error(
        `publishers.${label} must name the publisher's EMF service (its Powertools serviceName), got ${JSON.stringify(p)}`,
      );
    }
  }
  if (args.alarmEmail !== undefined && !EMAIL.test(args.alarmEmail)) {
    throw new Error(
      `alarmEmail must be an email address such as ops@example.com, got ${JSON.stringify(args.alarmEmail)}`,
    );
  }
  if (args.dashboardName !== undefined && !/^[A-Za-z0-9_-]{1,255}$/.test(args.dashboardName)) {
    throw new Error(
      `dashboardName must be 1-255 letters, digits, "-" or "_", got ${JSON.stringify(args.dashboardName)}`,
    );
  }
  return t;
}

function functionName(ref: FunctionRef): pulumi.Input<string> {
  if (aws.lambda.Function.isInstance(ref)) return ref.name;
  if (typeof ref === "object" && ref !== null && "function" in ref)
    return (ref as { function: aws.lambda.Function }).function.name;
  return ref as pulumi.Input<string>;
}

function isMonitoredFunction(v: FunctionRef | MonitoredFunction): v is MonitoredFunction {
  // A SwitchyardFunction also has `.function`; it is a ComponentResource, a MonitoredFunction is not.
  return typeof v === "object" && v !== null && "function" in v && !pulumi.Resource.isInstance(v);
}

function isMonitoredQueue(v: QueueRef | MonitoredQueue): v is MonitoredQueue {
  // A queue (resource or name and ARN) has no `queue` property; a MonitoredQueue wraps one.
  return typeof v === "object" && v !== null && "queue" in v && !pulumi.Resource.isInstance(v);
}

function ruleDimensions(ref: RuleRef): pulumi.Output<Record<string, string>> {
  let bus: pulumi.Input<string | undefined>;
  let rule: pulumi.Input<string>;
  if (aws.cloudwatch.EventRule.isInstance(ref)) {
    bus = ref.eventBusName;
    rule = ref.name;
  } else if ("rule" in ref) {
    bus = ref.rule.eventBusName;
    rule = ref.rule.name;
  } else {
    bus = ref.busName;
    rule = ref.ruleName;
  }
  return pulumi.all([bus, rule]).apply(([b, r]) => ruleDimensionsOf(b, r));
}

/**
 * Alarms and a dashboard for the hub: an SNS topic (with an optional email subscription) that every
 * alarm notifies on ALARM and on OK, alarms on dead-letter queues, Lambda errors, throttles and
 * async event age/drops, workflow failures, REST API 5xx rate and p99 latency, rule delivery
 * failures and events lost on the way to a rule's dead-letter queue, and webhook signature
 * rejections; and one CloudWatch dashboard of all of them, plus plain queues and publishers.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  public readonly topicPolicy: aws.sns.TopicPolicy;
  public readonly emailSubscription?: aws.sns.TopicSubscription;
  /** Every alarm, by key `<kind>-<label>-<what>`. */
  public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};
  public readonly dashboard: aws.cloudwatch.Dashboard;
  public readonly thresholds: MonitoringThresholds;

  public readonly alarmTopicArn: pulumi.Output<string>;
  public readonly dashboardName: pulumi.Output<string>;
  public readonly dashboardUrl: pulumi.Output<string>;

  private readonly baseName: string;

  constructor(name: string, args: MonitoringArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:ops:Monitoring", name, {}, opts);
    checkName("Monitoring name", name, 40);
    const t = validateMonitoringArgs(args);
    this.thresholds = t;
    this.baseName = name;

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this }).region;

    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    this.topic = new aws.sns.Topic(
      `${name}-alarms`,
      { displayName: `Switchyard alarms ${name}` },
      { parent: this },
    );
    this.alarmTopicArn = this.topic.arn;
    this.topicPolicy = new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: this.topic.arn,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowThisComponentsAlarms",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: "sns:Publish",
              Resource: this.topic.arn,
              Condition: {
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:aws:cloudwatch:${region}:${identity.accountId}:alarm:${name}-*`,
                },
                StringEquals: { "aws:SourceAccount": identity.accountId },
              },
            },
          ],
        }),
      },
      { parent: this },
    );
    if (args.alarmEmail) {
      this.emailSubscription = new aws.sns.TopicSubscription(
        `${name}-alarms-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.alarmEmail },
        { parent: this },
      );
    }

    const allQueues = Object.entries(args.queues ?? {}).map(([label, q]) => {
      const m: MonitoredQueue = isMonitoredQueue(q) ? q : { queue: q };
      return { label, name: m.queue.name, arn: m.queue.arn, kind: m.kind ?? "dead-letter" };
    });
    // Dead-letter queues: one message is one event that was not delivered.
    const queues = allQueues.filter((q) => q.kind === "dead-letter");
    // Plain queues (e.g. refused tenant writes kept for inspection): messages are expected, no alarm.
    const plainQueues = allQueues.filter((q) => q.kind === "plain");
    const functions = Object.entries(args.functions ?? {}).map(([label, f]) => {
      const m: MonitoredFunction = isMonitoredFunction(f) ? f : { function: f };
      return {
        label,
        name: functionName(m.function),
        asyncInvoked: m.asyncInvoked === true,
        streamFed: m.streamFed === true,
      };
    });
    const stateMachines = Object.entries(args.stateMachines ?? {}).map(([label, s]) => ({
      label,
      arn: s.arn,
    }));
    const apis = Object.entries(args.restApis ?? {}).map(([label, a]) => ({
      label,
      apiName: a.apiName,
      stage: a.stage,
    }));
    const rules = Object.entries(args.rules ?? {}).map(([label, r]) => ({
      label,
      dimensions: ruleDimensions(r),
    }));
    const webhooks = Object.entries(args.webhooks ?? {}).map(([label, w]) => ({
      label,
      service: w.service,
      namespace: w.namespace ?? METRICS_NAMESPACE,
    }));

    const specs: AlarmSpec<pulumi.Input<Record<string, pulumi.Input<string>>>>[] = [
      ...queues.flatMap((q) => deadLetterQueueAlarms(q, t)),
      ...functions.flatMap((f) => functionAlarms(f, t)),
      ...stateMachines.flatMap((sm) => stateMachineAlarms(sm, t)),
      ...apis.flatMap((a) => restApiAlarms(a, t)),
      ...rules.flatMap((r) => ruleAlarms(r, t)),
      ...webhooks.flatMap((w) => webhookAlarms(w, t)),
      ...outboundAlarmSpecs([...(args.outbound ?? [])], args.outboundThresholds),
    ];
    for (const spec of specs) this.alarm(spec);

    // Publishers: a publishing tile each, and deliberately no alarm. A record whose events cannot be
    // published fails its batch item: the stream mapping retries it and then hands it to its
    // on-failure destination (the hub DLQ), whose alarm fires; EventsPublishFailed is the cause to read.
    const publishers = Object.entries(args.publishers ?? {}).map(([label, p]) => ({
      label,
      service: typeof p === "string" ? p : p.service,
      namespace: (typeof p === "string" ? undefined : p.namespace) ?? METRICS_NAMESPACE,
    }));

    const dashboardName = args.dashboardName ?? name;
    const alarmArns = Object.values(this.alarms).map((a) => a.arn);
    const body = pulumi
      .all([
        region,
        pulumi.all(alarmArns),
        pulumi.all(functions.map((f) => pulumi.all([f.label, f.name]))),
        pulumi.all(queues.map((q) => pulumi.all([q.label, q.name]))),
        pulumi.all(stateMachines.map((s) => pulumi.all([s.label, s.arn]))),
        pulumi.all(apis.map((a) => pulumi.all([a.label, a.apiName, a.stage]))),
        pulumi.all(rules.map((r) => pulumi.all([r.label, r.dimensions]))),
        pulumi.all([
          pulumi.all(plainQueues.map((q) => pulumi.all([q.label, q.name]))),
          pulumi.all(
            (args.outbound ?? []).map((o) => pulumi.all([o.subscription, o.queueName, o.dlqName])),
          ),
        ]),
      ])
      .apply(([reg, arns, fns, qs, sms, rest, rls, [plain, out]]) =>
        JSON.stringify(
          buildDashboardBody({
            title: `Switchyard ${name}`,
            region: reg,
            functions: fns.map(([label, functionName]) => ({ label, functionName })),
            queues: qs.map(([label, queueName]) => ({ label, queueName })),
            stateMachines: sms.map(([label, stateMachineArn]) => ({ label, stateMachineArn })),
            restApis: rest.map(([label, apiName, stage]) => ({ label, apiName, stage })),
            rules: rls.map(([label, d]) => ({
              label,
              busName: d.EventBusName ?? "default",
              ruleName: d.RuleName,
            })),
            webhooks: webhooks.map((w) => ({
              label: w.label,
              namespace: w.namespace,
              service: w.service,
            })),
            plainQueues: plain.map(([label, queueName]) => ({ label, queueName })),
            publishers,
            outbound: out.map(([subscription, queueName, dlqName]) => ({
              subscription,
              queueName,
              dlqName,
            })),
            alarmArns: arns,
            periodSeconds: t.periodSeconds,
          }),
        ),
      );
    this.dashboard = new aws.cloudwatch.Dashboard(
      name,
      { dashboardName, dashboardBody: body },
      { parent: this },
    );
    this.dashboardName = this.dashboard.dashboardName;
    this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;

    this.registerOutputs({
      alarmTopicArn: this.alarmTopicArn,
      dashboardName: this.dashboardName,
      dashboardUrl: this.dashboardUrl,
    });
  }

  private alarm(spec: AlarmSpec<pulumi.Input<Record<string, pulumi.Input<string>>>>): void {
    if (this.alarms[spec.key])
      throw new Error(`Monitoring: alarm "${spec.key}" is declared twice (two labels collide)`);
    this.alarms[spec.key] = new aws.cloudwatch.MetricAlarm(
      `${this.baseName}-${spec.key}`,
      metricAlarmArgs(spec, this.topic.arn),
      { parent: this },
    );
  }
}
