import * as crypto from "crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventRoute, RetryPolicy, RouteArgs } from "../events/route";
import { ClientInit, SwitchyardFunction } from "../lambda";
import type { OutboundMonitored } from "./outboundAlarms";
import { checkIntRange, checkName } from "../validate";
import {
  ATTEMPT_TABLE,
  DispatcherSettings,
  OUTBOUND_DEFAULTS,
  OUTBOUND_ENV,
} from "../../handlers/outbound/settings";
import {
  checkEndpointUrl,
  OUTBOUND_COMPONENT_DEFAULTS,
  parseRetrySchedule,
  parseSubscriptions,
  SubscriptionSpec,
  subscriptionPattern,
} from "./outboundSpec";

export { OUTBOUND_COMPONENT_DEFAULTS } from "./outboundSpec";

export interface OutboundSubscriptionArgs extends SubscriptionSpec {
  /**
   * The signing secret (Standard Webhooks: whsec_<base64>), e.g. from
   * `switchyard:outboundSecret<Name>`. Default: generated once and kept in Secrets Manager (rotate
   * it there; the component never overwrites it).
   */
  readonly secret?: pulumi.Input<string>;
  /** The secret being rotated out: it signs too until removed. Default none. */
  readonly previousSecret?: pulumi.Input<string>;
}

export interface OutboundWebhooksArgs {
  /** The hub whose events are delivered (its routes are declared on it). */
  readonly hub: {
    readonly busName: pulumi.Input<string>;
    readonly busArn: pulumi.Input<string>;
    addRoute(name: string, args: RouteArgs, parent: pulumi.Resource): EventRoute;
  };
  /** The subscriptions; at least one. */
  readonly subscriptions: OutboundSubscriptionArgs[];
  /** Delay in seconds before each attempt, each 0-43000. Default Svix's: 0, 5, 300, 1800, 7200, 18000, 36000, 36000. */
  readonly retryScheduleSeconds?: number[];
  /** A 2xx must arrive within this many seconds, 1-60. Default 15. */
  readonly requestTimeoutSeconds?: number;
  /** Largest response body read; longer fails the attempt, 1024-1048576. Default 65536. */
  readonly maxResponseBytes?: number;
  /** An endpoint failing every attempt for this long is disabled, 3600-2592000 s. Default 432000 (5 days). */
  readonly disableAfterSeconds?: number;
  /** Days attempt log items live, 1-365. Default 30. */
  readonly attemptLogTtlDays?: number;
  /** How long a disabled endpoint's messages are parked at a time, 60-43000 s. Default 3600. */
  readonly parkSeconds?: number;
  /** Retry policy of each route's queue target. Default the route's (185 attempts, 24 h). */
  readonly targetRetryPolicy?: RetryPolicy;
  /** Messages per dispatcher invocation, 1-10. Default 10. */
  readonly batchSize?: number;
  /** The local run only: http:// endpoints and loopback addresses. Default false. */
  readonly allowHttp?: boolean;
  /**
   * The local run only: its SQS emulation makes every retry wait last this many times as long
   * (its --speed), and the dispatcher records when the next attempt is due on the same scale, so a
   * copy of a message is not refused as early. Default none: real time, as on AWS.
   */
  readonly localTimeScale?: number;
  /** Memory of the dispatcher, MB. Default 256. */
  readonly memorySize?: number;
  /** Days the dispatcher's log group keeps logs. Default 30. */
  readonly logRetentionDays?: number;
  /** Where the dispatcher builds its AWS SDK clients. Default `on-first-use`. */
  readonly clientInit?: ClientInit;
  /** Removal protection on the queues, secrets and the attempt log. Default false. */
  readonly protect?: boolean;
}

export function validateOutboundArgs(args: OutboundWebhooksArgs): void {
  const a = { ...OUTBOUND_COMPONENT_DEFAULTS, ...args };
  if (!a.subscriptions || a.subscriptions.length === 0)
    throw new Error("subscriptions must list at least one subscription");
  // The same checks as the stack's config (outboundSubscriptions), with http:// for the local run.
  parseSubscriptions(
    a.subscriptions.map(({ secret: _s, previousSecret: _p, ...spec }) => spec),
    a.allowHttp,
  );
  for (const s of a.subscriptions)
    checkEndpointUrl(`subscription "${s.name}" url`, s.url, a.allowHttp);
  try {
    parseRetrySchedule(a.retryScheduleSeconds);
  } catch (e) {
    throw new Error(`retryScheduleSeconds ${(e as Error).message}`, { cause: e });
  }
  checkIntRange("requestTimeoutSeconds", a.requestTimeoutSeconds, 1, 60);
  checkIntRange("maxResponseBytes", a.maxResponseBytes, 1024, 1048576);
  checkIntRange("disableAfterSeconds", a.disableAfterSeconds, 3600, 2592000);
  checkIntRange("attemptLogTtlDays", a.attemptLogTtlDays, 1, 365);
  checkIntRange("parkSeconds", a.parkSeconds, 60, 43000);
  checkIntRange("batchSize", a.batchSize, 1, 10);
  checkIntRange("memorySize", a.memorySize, 128, 10240);
  if (a.localTimeScale !== undefined && !(a.localTimeScale > 0))
    throw new Error(`localTimeScale must be a positive number, got ${a.localTimeScale}`);
}

/** The dispatcher's timeout: one request, plus its bookkeeping (attempt log, queue, events). */
export const dispatcherTimeoutSeconds = (requestTimeoutSeconds: number) =>
  requestTimeoutSeconds + 30;

/** A new Standard Webhooks secret: whsec_ + the base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}

/**
 * Outbound webhooks, Svix-style, in the account itself: per subscription a route on the hub that
 * buffers matching events in an SQS queue, a DLQ and a signing secret; one dispatcher function
 * (an event source mapping per queue) that POSTs each message signed per Standard Webhooks and
 * retries on a schedule through visibility timeouts; an attempt log table.
 */
export class OutboundWebhooks extends pulumi.ComponentResource {
  public readonly table: aws.dynamodb.Table;
  public readonly dispatcher: SwitchyardFunction;
  public readonly queues: Record<string, aws.sqs.Queue> = {};
  public readonly dlqs: Record<string, aws.sqs.Queue> = {};
  public readonly secrets: Record<string, aws.secretsmanager.Secret> = {};
  public readonly routes: Record<string, EventRoute> = {};
  public readonly mappings: Record<string, aws.lambda.EventSourceMapping> = {};
  /** Subscription name to the Secrets Manager ARN of its signing secret. */
  public readonly secretArns: pulumi.Output<Record<string, string>>;
  /** Subscription name to where its secret comes from: `config` or `generated`. */
  public readonly secretSources: Record<string, "config" | "generated"> = {};
  public readonly queueUrls: pulumi.Output<Record<string, string>>;
  public readonly dlqUrls: pulumi.Output<Record<string, string>>;
  public readonly tableName: pulumi.Output<string>;
  /** What the alarms watch (outboundAlarmSpecs, outboundDashboardTiles in ./outboundAlarms). */
  public readonly monitored: OutboundMonitored<pulumi.Output<string>>[];

  constructor(name: string, args: OutboundWebhooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:webhooks:OutboundWebhooks", name, {}, opts);
    checkName("OutboundWebhooks name", name, 30);
    validateOutboundArgs(args);
    const a = { ...OUTBOUND_COMPONENT_DEFAULTS, ...args };
    const stateful = { parent: this, protect: a.protect };
    const fnTimeout = dispatcherTimeoutSeconds(a.requestTimeoutSeconds);

    // One item per delivery and per attempt, by message id; the index serves a subscription's.
    const t = ATTEMPT_TABLE;
    this.table = new aws.dynamodb.Table(
      `${name}-attempts`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: t.hashKey,
        rangeKey: t.rangeKey,
        attributes: [t.hashKey, t.rangeKey, t.index.hashKey, t.index.rangeKey].map((n) => ({
          name: n,
          type: "S",
        })),
        globalSecondaryIndexes: [
          {
            name: t.index.name,
            hashKey: t.index.hashKey,
            rangeKey: t.index.rangeKey,
            projectionType: "ALL",
          },
        ],
        ttl: { attributeName: t.ttlAttribute, enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: a.protect,
      },
      stateful,
    );
    this.tableName = this.table.name;

    const resources: Record<string, pulumi.Output<unknown>> = {};
    for (const s of a.subscriptions) {
      const base = `${name}-${s.name}`;
      const dlq = new aws.sqs.Queue(
        `${base}-dlq`,
        {
          sqsManagedSseEnabled: true,
          messageRetentionSeconds: OUTBOUND_DEFAULTS.messageRetentionSeconds,
        },
        stateful,
      );
      // Retries wait here as visibility timeouts; a crashed invocation's messages return after this.
      const queue = new aws.sqs.Queue(
        base,
        {
          sqsManagedSseEnabled: true,
          messageRetentionSeconds: OUTBOUND_DEFAULTS.messageRetentionSeconds,
          visibilityTimeoutSeconds: Math.min(6 * fnTimeout, 43200),
        },
        stateful,
      );
      this.queues[s.name] = queue;
      this.dlqs[s.name] = dlq;

      const secret = new aws.secretsmanager.Secret(
        base,
        {
          description: `Signing secret of outbound webhook subscription ${s.name} (${name}): {"current","previous"}`,
        },
        stateful,
      );
      this.secrets[s.name] = secret;
      if (s.secret !== undefined) {
        this.secretSources[s.name] = "config";
        new aws.secretsmanager.SecretVersion(
          base,
          {
            secretId: secret.id,
            secretString: pulumi.secret(
              pulumi
                .all([s.secret, s.previousSecret])
                .apply(([c, p]) =>
                  JSON.stringify(p ? { current: c, previous: p } : { current: c }),
                ),
            ),
          },
          { parent: this },
        );
      } else {
        this.secretSources[s.name] = "generated";
        // Generated once: later values are ignored, so a rotation done in Secrets Manager stays.
        new aws.secretsmanager.SecretVersion(
          `${base}-generated`,
          {
            secretId: secret.id,
            secretString: pulumi.secret(JSON.stringify({ current: generateSigningSecret() })),
          },
          { parent: this, ignoreChanges: ["secretString"] },
        );
      }

      // Matching events are buffered in the subscription's queue (retry policy and the hub DLQ).
      this.routes[s.name] = a.hub.addRoute(
        `out-${s.name}`,
        {
          description: `Outbound webhook subscription ${s.name}: matching events to its queue`,
          eventPattern: subscriptionPattern(s.events),
          targets: [
            {
              id: "queue",
              kind: "sqs",
              arn: queue.arn,
              queueUrl: queue.url,
              ...(a.targetRetryPolicy ? { retryPolicy: a.targetRetryPolicy } : {}),
            },
          ],
        },
        this,
      );
      resources[s.name] = pulumi.output({
        queueArn: queue.arn,
        queueUrl: queue.url,
        dlqUrl: dlq.url,
        secretArn: secret.arn,
      });
    }

    const queueArns = Object.values(this.queues).map((q) => q.arn);
    const settings: DispatcherSettings = {
      subscriptions: a.subscriptions.map((s) => ({
        name: s.name,
        url: s.url,
        ...(s.headers ? { headers: s.headers } : {}),
        ...(s.rateLimitPerSecond ? { rateLimitPerSecond: s.rateLimitPerSecond } : {}),
      })),
      retryScheduleSeconds: a.retryScheduleSeconds,
      requestTimeoutMs: a.requestTimeoutSeconds * 1000,
      maxResponseBytes: a.maxResponseBytes,
      disableAfterSeconds: a.disableAfterSeconds,
      attemptLogTtlDays: a.attemptLogTtlDays,
      parkSeconds: a.parkSeconds,
      allowHttp: a.allowHttp,
      // Absent unless given, so a deployed dispatcher's code is what it was before the local run had it.
      ...(a.localTimeScale !== undefined ? { timeScale: a.localTimeScale } : {}),
    };
    this.dispatcher = new SwitchyardFunction(
      `${name}-dispatcher`,
      {
        description: `Switchyard outbound webhook dispatcher (${name})`,
        handler: {
          module: "handlers/outbound/dispatcher",
          factory: "createDispatcher",
          args: [settings],
        },
        grants: [
          {
            actions: [
              "sqs:ReceiveMessage",
              "sqs:DeleteMessage",
              "sqs:ChangeMessageVisibility",
              "sqs:GetQueueAttributes",
            ],
            resources: queueArns,
          },
          { actions: ["sqs:SendMessage"], resources: Object.values(this.dlqs).map((q) => q.arn) },
          {
            actions: [
              "dynamodb:GetItem",
              "dynamodb:PutItem",
              "dynamodb:UpdateItem",
              "dynamodb:Query",
            ],
            resources: [this.table.arn],
          },
          {
            actions: ["secretsmanager:GetSecretValue"],
            resources: Object.values(this.secrets).map((x) => x.arn),
          },
          { actions: ["events:PutEvents"], resources: [a.hub.busArn] },
        ],
        environment: {
          [OUTBOUND_ENV.table]: this.table.name,
          [OUTBOUND_ENV.busName]: a.hub.busName,
          [OUTBOUND_ENV.resources]: pulumi.jsonStringify(pulumi.output(resources)),
        },
        timeout: fnTimeout,
        memorySize: a.memorySize,
        logRetentionDays: a.logRetentionDays,
        clientInit: a.clientInit,
      },
      { parent: this },
    );

    for (const s of a.subscriptions) {
      // Failed messages are reported one by one; the others of the batch are deleted.
      this.mappings[s.name] = new aws.lambda.EventSourceMapping(
        `${name}-${s.name}`,
        {
          eventSourceArn: this.queues[s.name].arn,
          functionName: this.dispatcher.function.arn,
          batchSize: a.batchSize,
          functionResponseTypes: ["ReportBatchItemFailures"],
        },
        { parent: this, dependsOn: [this.dispatcher.policy] },
      );
    }

    const byName = <T>(f: (s: OutboundSubscriptionArgs) => pulumi.Input<T>) =>
      pulumi.output(
        Object.fromEntries(a.subscriptions.map((s) => [s.name, f(s)])),
      ) as pulumi.Output<Record<string, T>>;
    this.secretArns = byName((s) => this.secrets[s.name].arn);
    this.queueUrls = byName((s) => this.queues[s.name].url);
    this.dlqUrls = byName((s) => this.dlqs[s.name].url);
    this.monitored = a.subscriptions.map((s) => ({
      subscription: s.name,
      queueName: this.queues[s.name].name,
      dlqName: this.dlqs[s.name].name,
    }));

    this.registerOutputs({
      tableName: this.tableName,
      secretArns: this.secretArns,
      queueUrls: this.queueUrls,
      dlqUrls: this.dlqUrls,
    });
  }
}
