import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../events/eventHub";
import { ClientInit, SwitchyardFunction } from "../lambda";
import { checkIntRange, checkName } from "../validate";
import { DEFAULT_MAX_ENTRY_BYTES } from "../../handlers/lib/publisher";
import { ruleTargetBuses, Tenants, validateTenants } from "../../lib/tenantRules";
import {
  streamReadGrants,
  StreamMappingSettings,
  streamMappingArgs,
  validateStreamSettings,
} from "./streamMapping";

export interface ChangePublisherArgs extends StreamMappingSettings {
  /** The hub: its bus is the rules' default target, its DLQ takes records that exhaust retries. */
  readonly hub: EventHub;
  /** Tenant settings and their change-publishing rules. Default none (nothing is published). */
  readonly tenants?: Tenants;
  /** Largest event the bus accepts, bytes (256 KB, or 1 MB where raised). Default 262144. */
  readonly maxEventBytes?: number;
  /** Days the function's logs are kept. Default the hub's `logRetentionDays`. */
  readonly logRetentionDays?: number;
  /** Where the function builds its AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** Function timeout, 1-900 seconds. Default 60. */
  readonly timeout?: number;
  /** Removal and deletion protection on the data table. Default false. */
  readonly protect?: boolean;
}

export const CHANGE_PUBLISHER_DEFAULTS = {
  tenants: {} as Tenants,
  maxEventBytes: DEFAULT_MAX_ENTRY_BYTES,
  timeout: 60,
  protect: false,
};

/**
 * The tenant data table (partition key `tenant`, sort key `<rootSchema>#<id>`, stream with new and
 * old images) and the function that publishes its changes by the tenants' rules: every matching
 * rule, in order, to this hub's bus or another account's. The stream feeds the function through an
 * event source mapping with partial batch responses, bisection, bounded retries and the hub's DLQ
 * as on-failure destination.
 */
export class ChangePublisher extends pulumi.ComponentResource {
  public readonly table: aws.dynamodb.Table;
  public readonly fn: SwitchyardFunction;
  public readonly mapping: aws.lambda.EventSourceMapping;
  public readonly tableName: pulumi.Output<string>;
  public readonly tableArn: pulumi.Output<string>;
  public readonly streamArn: pulumi.Output<string>;
  /** Buses the function may publish to (the hub's first). */
  public readonly targetBusArns: pulumi.Output<string[]>;
  /** Largest event the function publishes: EventIngress's `maxChangeEventBytes`. */
  public readonly maxEventBytes: number;

  constructor(name: string, args: ChangePublisherArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:tenants:ChangePublisher", name, {}, opts);
    checkName("ChangePublisher name", name, 48);
    const a = { ...CHANGE_PUBLISHER_DEFAULTS, ...args };
    validateTenants(a.tenants);
    checkIntRange("maxEventBytes", a.maxEventBytes, 1024, 1048576);
    checkIntRange("timeout", a.timeout, 1, 900);
    const stream = validateStreamSettings("", a);
    const hub = a.hub;
    this.maxEventBytes = a.maxEventBytes;

    this.table = new aws.dynamodb.Table(
      `${name}-data`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "tenant",
        rangeKey: "sk",
        attributes: [
          { name: "tenant", type: "S" },
          { name: "sk", type: "S" },
        ],
        streamEnabled: true,
        streamViewType: "NEW_AND_OLD_IMAGES",
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: a.protect,
      },
      { parent: this, protect: a.protect },
    );
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
    this.streamArn = this.table.streamArn;

    const explicit = ruleTargetBuses(a.tenants);
    this.targetBusArns = pulumi
      .output(hub.busArn)
      .apply((hubArn) => [hubArn, ...explicit.filter((b) => b !== hubArn)]);

    // Captured by value into the function's code: plain JSON from the stack's config.
    const tenants = a.tenants;
    this.fn = new SwitchyardFunction(
      name,
      {
        description: `Publishes changes of the tenant data table ${name}-data by tenant rules`,
        logRetentionDays: a.logRetentionDays ?? hub.logRetentionDays,
        clientInit: a.clientInit,
        timeout: a.timeout,
        environment: { DEFAULT_BUS_ARN: hub.busArn, MAX_EVENT_BYTES: String(a.maxEventBytes) },
        grants: [
          ...streamReadGrants(this.table.streamArn),
          // A bus of another account also needs its bus policy to allow this account (README).
          { actions: ["events:PutEvents"], resources: this.targetBusArns },
          // The mapping's on-failure destination is sent to with the function's role.
          { actions: ["sqs:SendMessage"], resources: [hub.dlqArn] },
        ],
        handler: {
          module: "handlers/tenants/changePublisher",
          factory: "createChangePublisher",
          args: [tenants],
        },
      },
      { parent: this },
    );

    // Lambda checks the role can read the stream when the mapping is created: policy first.
    this.mapping = new aws.lambda.EventSourceMapping(
      `${name}-stream`,
      streamMappingArgs(this.table.streamArn, this.fn.function.arn, hub.dlqArn, stream),
      { parent: this, dependsOn: [this.fn.policy] },
    );

    this.registerOutputs({
      tableName: this.tableName,
      tableArn: this.tableArn,
      streamArn: this.streamArn,
      functionArn: this.fn.function.arn,
      targetBusArns: this.targetBusArns,
    });
  }
}
