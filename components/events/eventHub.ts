import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkIntRange, checkName } from "../validate";
import { HUB_DEFAULTS, LOG_RETENTION_DAYS } from "./hubSpec";
import { MATCH_ALL } from "./patterns";
import { EventRoute, RouteArgs } from "./route";
import { REDRIVE_LEDGER } from "../../lib/contracts";

export { HUB_DEFAULTS, LOG_RETENTION_DAYS } from "./hubSpec";

export interface EventHubArgs {
  /** Days the archive keeps events for replay, 1-3650 (0 = forever). Default 30. */
  readonly archiveRetentionDays?: number;
  /** Seconds the dead-letter queue keeps a message, 60-1209600. Default 1209600 (14 days). */
  readonly dlqRetentionSeconds?: number;
  /** Days log groups of the hub keep events, a CloudWatch retention value. Default 30. */
  readonly logRetentionDays?: number;
  /** AWS account ids allowed to PutEvents onto the bus. Default none. */
  readonly publisherAccountIds?: string[];
  /** An AWS Organizations id (o-...) whose accounts may PutEvents onto the bus. Default none. */
  readonly publisherOrganizationId?: string;
  /** Record event schemas with a schema discoverer on the bus. Default false. */
  readonly schemaDiscovery?: boolean;
  /** A catch-all route that logs every event of the bus to a log group. Default false. */
  readonly debugRoute?: boolean;
  /** Removal protection on the bus, archive and DLQ (they hold events). Default false. */
  readonly protect?: boolean;
  /** Routes of the hub, by name. Default none; more can be added with `addRoute`. */
  readonly routes?: Record<string, RouteArgs>;
}

export function validateHubArgs(args: EventHubArgs): void {
  const a = { ...HUB_DEFAULTS, ...args };
  if (a.archiveRetentionDays !== 0)
    checkIntRange("archiveRetentionDays", a.archiveRetentionDays, 1, 3650);
  checkIntRange("dlqRetentionSeconds", a.dlqRetentionSeconds, 60, 1209600);
  if (!LOG_RETENTION_DAYS.includes(a.logRetentionDays)) {
    throw new Error(
      `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")} (CloudWatch Logs retention values), got ${a.logRetentionDays}`,
    );
  }
  for (const id of a.publisherAccountIds) {
    if (!/^\d{12}$/.test(id)) {
      throw new Error(`publisherAccountIds: "${id}" is not a 12-digit AWS account id`);
    }
  }
  if (
    a.publisherOrganizationId !== undefined &&
    !/^o-[a-z0-9]{10,32}$/.test(a.publisherOrganizationId)
  ) {
    throw new Error(
      `publisherOrganizationId must look like o-abc123defg (an AWS Organizations id), got "${a.publisherOrganizationId}"`,
    );
  }
}

/**
 * A custom EventBridge bus with an archive for replay, a dead-letter queue for undeliverable
 * events, optional cross-account publishers, schema discovery, a debug log route, and routes.
 */
export class EventHub extends pulumi.ComponentResource {
  public readonly bus: aws.cloudwatch.EventBus;
  public readonly archive: aws.cloudwatch.EventArchive;
  public readonly dlq: aws.sqs.Queue;
  public readonly dlqPolicy: aws.sqs.QueuePolicy;
  /** What `npm run ops -- dlq redrive` re-delivered, so no target gets an event twice from it. */
  public readonly redriveLedger: aws.dynamodb.Table;
  public readonly busPolicy?: aws.cloudwatch.EventBusPolicy;
  public readonly discoverer?: aws.schemas.Discoverer;
  public readonly debugLogGroup?: aws.cloudwatch.LogGroup;
  public readonly routes: Record<string, EventRoute> = {};

  public readonly busName: pulumi.Output<string>;
  public readonly busArn: pulumi.Output<string>;
  public readonly archiveName: pulumi.Output<string>;
  public readonly dlqUrl: pulumi.Output<string>;
  public readonly dlqArn: pulumi.Output<string>;
  public readonly redriveLedgerName: pulumi.Output<string>;
  /** The debug route's log group, when the hub has one. */
  public readonly debugLogGroupName?: pulumi.Output<string>;
  public readonly logRetentionDays: number;
  private readonly hubName: string;

  constructor(name: string, args: EventHubArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:events:EventHub", name, {}, opts);
    checkName("EventHub name", name, 20);
    validateHubArgs(args);
    const a = { ...HUB_DEFAULTS, ...args };
    this.logRetentionDays = a.logRetentionDays;
    this.hubName = name;

    const stateful = { parent: this, protect: a.protect };
    this.bus = new aws.cloudwatch.EventBus(name, { name }, stateful);
    this.busName = this.bus.name;
    this.busArn = this.bus.arn;

    this.archive = new aws.cloudwatch.EventArchive(
      `${name}-archive`,
      {
        eventSourceArn: this.bus.arn,
        retentionDays: a.archiveRetentionDays,
        description: `Every event of bus ${name}, for replay`,
      },
      stateful,
    );
    this.archiveName = this.archive.name;

    this.dlq = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: a.dlqRetentionSeconds },
      stateful,
    );
    this.dlqUrl = this.dlq.url;
    this.dlqArn = this.dlq.arn;

    // One item per (dead-lettered event, target) a redrive claimed and delivered; items expire once
    // no DLQ can hold the event any more.
    this.redriveLedger = new aws.dynamodb.Table(
      `${name}-redrives`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: REDRIVE_LEDGER.key,
        attributes: [{ name: REDRIVE_LEDGER.key, type: "S" }],
        ttl: { attributeName: REDRIVE_LEDGER.ttlAttribute, enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: a.protect,
      },
      stateful,
    );
    this.redriveLedgerName = this.redriveLedger.name;

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    // Only rules of this hub's bus may dead-letter into its queue.
    const hubRules = pulumi.interpolate`arn:aws:events:${region.region}:${identity.accountId}:rule/${this.bus.name}/*`;
    this.dlqPolicy = new aws.sqs.QueuePolicy(
      `${name}-dlq`,
      {
        queueUrl: this.dlq.url,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowHubRules",
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: this.dlq.arn,
              Condition: { ArnLike: { "aws:SourceArn": hubRules } },
            },
          ],
        }),
      },
      { parent: this },
    );

    const statements: unknown[] = [];
    if (a.publisherAccountIds.length > 0) {
      statements.push({
        Sid: "AllowPublisherAccounts",
        Effect: "Allow",
        Principal: { AWS: a.publisherAccountIds.map((id) => `arn:aws:iam::${id}:root`) },
        Action: "events:PutEvents",
        Resource: this.bus.arn,
      });
    }
    if (a.publisherOrganizationId) {
      statements.push({
        Sid: "AllowPublisherOrganization",
        Effect: "Allow",
        Principal: "*",
        Action: "events:PutEvents",
        Resource: this.bus.arn,
        Condition: { StringEquals: { "aws:PrincipalOrgID": a.publisherOrganizationId } },
      });
    }
    if (statements.length > 0) {
      this.busPolicy = new aws.cloudwatch.EventBusPolicy(
        `${name}-publishers`,
        {
          eventBusName: this.bus.name,
          policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
        },
        { parent: this },
      );
    }

    if (a.schemaDiscovery) {
      this.discoverer = new aws.schemas.Discoverer(
        `${name}-schemas`,
        { sourceArn: this.bus.arn, description: `Event schemas seen on bus ${name}` },
        { parent: this },
      );
    }

    if (a.debugRoute) {
      // EventBridge only delivers to log groups whose name starts with /aws/events/.
      this.debugLogGroup = new aws.cloudwatch.LogGroup(
        `${name}-debug`,
        { name: `/aws/events/${name}-debug`, retentionInDays: a.logRetentionDays },
        { parent: this },
      );
      this.debugLogGroupName = this.debugLogGroup.name;
      this.addRoute(
        "debug",
        {
          description: `Every event of bus ${name}, replays included, to a log group`,
          eventPattern: MATCH_ALL,
          includeReplayed: true,
          targets: [{ id: "log", kind: "logGroup", arn: this.debugLogGroup.arn }],
        },
        this,
      );
    }

    for (const [routeName, route] of Object.entries(a.routes ?? {})) {
      this.addRoute(routeName, route, this);
    }

    this.registerOutputs({
      busName: this.busName,
      busArn: this.busArn,
      archiveName: this.archiveName,
      dlqUrl: this.dlqUrl,
      dlqArn: this.dlqArn,
      redriveLedgerName: this.redriveLedgerName,
    });
  }

  /**
   * Declares a route on this hub. The route's resources are children of `parent` (the component
   * that owns the route), named `<hub>-<route>`.
   */
  public addRoute(routeName: string, args: RouteArgs, parent: pulumi.Resource): EventRoute {
    const full = `${this.hubName}-${routeName}`;
    if (this.routes[routeName]) throw new Error(`EventHub: route "${routeName}" is declared twice`);
    const route = new EventRoute(
      full,
      { busName: this.busName, busArn: this.busArn, dlqArn: this.dlqArn },
      args,
      { parent },
    );
    this.routes[routeName] = route;
    return route;
  }
}
