import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../events/eventHub";
import { EventRoute, RetryPolicy } from "../events/route";
import { ClientInit, SwitchyardFunction } from "../lambda";
import { checkIntRange, checkName } from "../validate";
import {
  BILLING_PREFIX,
  EVENT_MARKER_TTL_ATTRIBUTE,
  EVENT_PREFIX,
  KEY_PREFIX,
} from "../../handlers/tenants/apiKeys";
import { CHANGE_PUBLISHER_DEFAULTS } from "./changePublisher";
import { ingressEventPattern } from "./patterns";
import { Tenants, validateTenants } from "../../lib/tenantRules";

export interface EventIngressArgs {
  /** The hub whose `switchyard.input` events become writes; its DLQ takes failed invocations. */
  readonly hub: EventHub;
  /** Name of the tenant data table the writes go to (the ChangePublisher's). Required. */
  readonly dataTableName: pulumi.Input<string>;
  /** ARN of that table. Required. */
  readonly dataTableArn: pulumi.Input<string>;
  /** Tenant settings: which tenants have ingress enabled. Default none (every event is refused). */
  readonly tenants?: Tenants;
  /**
   * The ChangePublisher's `maxEventBytes` (pass `changes.maxEventBytes`): writes whose change event
   * would not fit are refused with 413. Default the ChangePublisher's default, 262144.
   */
  readonly maxChangeEventBytes?: number;
  /** Name of the hub route. Default "tenant-ingress". */
  readonly routeName?: string;
  /** Delivery retries of the route's Lambda target. Default 185 attempts over 24 h. */
  readonly retryPolicy?: RetryPolicy;
  /** Seconds the rejected-events queue keeps a message, 60-1209600. Default 1209600 (14 days). */
  readonly rejectedRetentionSeconds?: number;
  /** Days the function's logs are kept. Default the hub's `logRetentionDays`. */
  readonly logRetentionDays?: number;
  /** Where the function builds its AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** Removal and deletion protection on the access table and the rejected queue. Default false. */
  readonly protect?: boolean;
}

export const EVENT_INGRESS_DEFAULTS = {
  tenants: {} as Tenants,
  maxChangeEventBytes: CHANGE_PUBLISHER_DEFAULTS.maxEventBytes,
  routeName: "tenant-ingress",
  rejectedRetentionSeconds: 1209600,
  protect: false,
};

/**
 * Tenant event ingress: a hub route for `switchyard.input` events whose detail type ends in
 * `.POST`, `.PUT`, `.PATCH` or `.DELETE`, delivered to a function that checks the tenant
 * (ingress enabled, else 403) and its API key (hashed, in the access table; else 401), and applies
 * the write to the tenant data table, its billing (an atomic counter) and a marker of the event id
 * in one transaction, so a redelivered event is applied once. Refusals go to the rejected-events
 * queue (SSE) with their reason and the event without its key.
 */
export class EventIngress extends pulumi.ComponentResource {
  public readonly accessTable: aws.dynamodb.Table;
  public readonly rejectedQueue: aws.sqs.Queue;
  public readonly fn: SwitchyardFunction;
  public readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  public readonly route: EventRoute;
  public readonly accessTableName: pulumi.Output<string>;
  public readonly rejectedQueueUrl: pulumi.Output<string>;
  public readonly rejectedQueueArn: pulumi.Output<string>;

  constructor(name: string, args: EventIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:tenants:EventIngress", name, {}, opts);
    checkName("EventIngress name", name, 48);
    const a = { ...EVENT_INGRESS_DEFAULTS, ...args };
    validateTenants(a.tenants);
    checkIntRange("rejectedRetentionSeconds", a.rejectedRetentionSeconds, 60, 1209600);
    // From 4 KB: a change event's envelope alone may take 1.5 KB.
    checkIntRange("maxChangeEventBytes", a.maxChangeEventBytes, 4096, 1048576);
    if (!a.dataTableName || !a.dataTableArn) {
      throw new Error(
        "dataTableName and dataTableArn are required: pass the ChangePublisher's tableName and tableArn",
      );
    }
    const hub = a.hub;
    const stateful = { parent: this, protect: a.protect };

    // API keys (as SHA-256 hashes), monthly billing counters and applied-event markers, one item
    // each; the markers expire by TTL.
    this.accessTable = new aws.dynamodb.Table(
      `${name}-access`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        ttl: { attributeName: EVENT_MARKER_TTL_ATTRIBUTE, enabled: true },
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: a.protect,
      },
      stateful,
    );
    this.accessTableName = this.accessTable.name;

    this.rejectedQueue = new aws.sqs.Queue(
      `${name}-rejected`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: a.rejectedRetentionSeconds },
      stateful,
    );
    this.rejectedQueueUrl = this.rejectedQueue.url;
    this.rejectedQueueArn = this.rejectedQueue.arn;

    // Captured by value into the function's code: plain JSON from the stack's config.
    const tenants = a.tenants;
    const inTransaction = {
      "ForAnyValue:StringEquals": { "dynamodb:EnclosingOperation": ["TransactWriteItems"] },
    };
    this.fn = new SwitchyardFunction(
      name,
      {
        description: `Applies switchyard.input events of tenants to the tenant data table`,
        logRetentionDays: a.logRetentionDays ?? hub.logRetentionDays,
        clientInit: a.clientInit,
        timeout: 10,
        environment: {
          DATA_TABLE: a.dataTableName,
          ACCESS_TABLE: this.accessTable.name,
          REJECTED_QUEUE_URL: this.rejectedQueue.url,
          MAX_CHANGE_EVENT_BYTES: String(a.maxChangeEventBytes),
        },
        // TransactWriteItems is authorized as the PutItem, UpdateItem and DeleteItem it contains;
        // writes are allowed only inside one, so no write can go unbilled.
        grants: [
          {
            actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources: [a.dataTableArn],
            condition: inTransaction,
          },
          // A PATCH reads the item it merges onto.
          { actions: ["dynamodb:GetItem"], resources: [a.dataTableArn] },
          // Keys are only read, billing counters only updated, event markers only put: each limited
          // to its own items.
          {
            actions: ["dynamodb:GetItem"],
            resources: [this.accessTable.arn],
            condition: {
              "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${KEY_PREFIX}*`] },
            },
          },
          {
            actions: ["dynamodb:UpdateItem"],
            resources: [this.accessTable.arn],
            condition: {
              ...inTransaction,
              "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${BILLING_PREFIX}*`] },
            },
          },
          {
            actions: ["dynamodb:PutItem"],
            resources: [this.accessTable.arn],
            condition: {
              ...inTransaction,
              "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${EVENT_PREFIX}*`] },
            },
          },
          { actions: ["sqs:SendMessage"], resources: [this.rejectedQueue.arn] },
          // The asynchronous invocation's on-failure destination.
          { actions: ["sqs:SendMessage"], resources: [hub.dlqArn] },
        ],
        handler: {
          module: "handlers/tenants/eventIngress",
          factory: "createEventIngress",
          args: [tenants],
        },
      },
      { parent: this },
    );

    // The handler queues its own refusals; an invocation fails only when even that is impossible.
    // Lambda then retries it twice and hands the event to the hub's DLQ.
    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      name,
      {
        functionName: this.fn.function.name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: hub.dlqArn } },
      },
      { parent: this, dependsOn: [this.fn.policy] },
    );

    this.route = hub.addRoute(
      a.routeName,
      {
        description: "Tenant ingress events (switchyard.input) to the ingress function",
        eventPattern: ingressEventPattern(),
        targets: [
          { id: "ingress", kind: "lambda", arn: this.fn.function.arn, retryPolicy: a.retryPolicy },
        ],
      },
      this,
    );

    this.registerOutputs({
      accessTableName: this.accessTableName,
      rejectedQueueUrl: this.rejectedQueueUrl,
      rejectedQueueArn: this.rejectedQueueArn,
      functionArn: this.fn.function.arn,
      ruleArn: this.route.rule.arn,
    });
  }
}
