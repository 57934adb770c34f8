import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../events/eventHub";
import { EventRoute, RetryPolicy } from "../events/route";
import { checkName } from "../validate";
import { buildVerificationDefinition, validateDefinitionArgs } from "./verificationDefinition";
import {
  EXPRESS_MAX_PLANNED_WAIT_SECONDS,
  expressWaitTooLong,
  LOG_LEVELS,
  LogLevel,
  plannedWaitSeconds,
  sourcesNamedTwice,
  verificationEventPattern,
  verificationInputTransformer,
  VERIFICATION_DEFAULTS,
  webhookVerificationEventPattern,
  WORKFLOW_TYPES,
  WorkflowType,
} from "./verificationSpec";

export { LOG_LEVELS, WORKFLOW_TYPES } from "./verificationSpec";
export type { LogLevel, WorkflowType } from "./verificationSpec";
export interface VerificationWorkflowArgs {
  /** The hub whose route starts executions. Required. */
  readonly hub: EventHub;
  /** Root URL of the records API, https, no trailing slash (the forwarder's). Required. */
  readonly apiEndpoint: string;
  /** The EventBridge connection that authenticates to the records API (the forwarder's). Required. */
  readonly connectionArn: pulumi.Input<string>;
  /** The Secrets Manager secret EventBridge keeps the connection's credentials in. Required. */
  readonly connectionSecretArn: pulumi.Input<string>;
  /** STANDARD or EXPRESS (at most 5 minutes per execution). Default STANDARD. */
  readonly workflowType?: WorkflowType;
  /** Execution history sent to CloudWatch Logs: ALL, ERROR, FATAL or OFF. Default ERROR. */
  readonly logLevel?: LogLevel;
  /** Whether logs carry states' input and output (record payloads). Default false. */
  readonly includeExecutionData?: boolean;
  /** Seconds between ingest and the first verify, 0-86400. Default 90. */
  readonly anchorWaitSeconds?: number;
  /** Seconds between two verify calls, 0-86400. Default 30. */
  readonly retryWaitSeconds?: number;
  /** Verify calls before the verification-failed notification, 1-100. Default 5. */
  readonly maxVerifyAttempts?: number;
  /** Event sources that start a verification. Default ["switchyard.records"]. */
  readonly sources?: string[];
  /** Detail types that start a verification. Default ["RecordVerificationRequested"]. */
  readonly detailTypes?: string[];
  /**
   * Webhook receivers whose signed deliveries of one of `detailTypes` start a verification too, by
   * name: route `verification-<name>` matches the receiver's `source` with the record fields at
   * `recordPath` (`$.detail.payload` when the body is the request). Default none.
   */
  readonly webhookRequests?: Record<string, WebhookRequestSource>;
  /** Delivery retries of the routes. Default: 185 attempts over 24 h. */
  readonly retryPolicy?: RetryPolicy;
}

/** Where a webhook receiver's event carries a verification request. */
export interface WebhookRequestSource {
  /** The receiver's event source, `switchyard.webhooks.<provider>`. */
  readonly source: string;
  /** Path of the request's fields in the event, `$.detail.<field>[.<field>...]`. */
  readonly recordPath: string;
}

export const WORKFLOW_DEFAULTS = {
  ...VERIFICATION_DEFAULTS,
  webhookRequests: {} as Record<string, WebhookRequestSource>,
};

export { EXPRESS_MAX_PLANNED_WAIT_SECONDS } from "./verificationSpec";

/**
 * A Step Functions workflow that ingests a record into the records API through the forwarder's
 * connection, waits for it to be anchored, verifies it with a bounded retry loop and publishes one
 * outcome notification (message attribute `outcome`) on its own SNS topic. Started by a hub route or
 * directly with StartExecution.
 */
export class VerificationWorkflow extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly role: aws.iam.Role;
  public readonly policy: aws.iam.RolePolicy;
  public readonly stateMachine: aws.sfn.StateMachine;
  public readonly route: EventRoute;
  /** The routes of verification requests delivered to webhook receivers, by `webhookRequests` name. */
  public readonly webhookRoutes: Record<string, EventRoute> = {};
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly topicArn: pulumi.Output<string>;

  constructor(
    name: string,
    args: VerificationWorkflowArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("switchyard:records:VerificationWorkflow", name, {}, opts);
    // The state machine and its log group are named after the component (state machine names
    // allow 80 characters).
    checkName("VerificationWorkflow name", name, 60);
    const a = { ...WORKFLOW_DEFAULTS, ...args };
    if (!WORKFLOW_TYPES.includes(a.workflowType)) {
      throw new Error(
        `workflowType must be one of ${WORKFLOW_TYPES.join(", ")}, got ${JSON.stringify(a.workflowType)}`,
      );
    }
    if (!LOG_LEVELS.includes(a.logLevel)) {
      throw new Error(
        `logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(a.logLevel)}`,
      );
    }
    if (a.sources.length === 0) throw new Error("sources must name at least one event source");
    if (a.detailTypes.length === 0)
      throw new Error("detailTypes must name at least one detail type");
    const webhookSources = Object.values(a.webhookRequests).map((w) => w.source);
    const overlap = sourcesNamedTwice(a.sources, webhookSources);
    if (overlap.length > 0) {
      // One event would match two routes and start two executions.
      throw new Error(
        `webhookRequests and sources must name each source once, ${overlap.join(", ")} is named twice`,
      );
    }
    const loop = {
      apiEndpoint: a.apiEndpoint,
      anchorWaitSeconds: a.anchorWaitSeconds,
      retryWaitSeconds: a.retryWaitSeconds,
      maxVerifyAttempts: a.maxVerifyAttempts,
    };
    validateDefinitionArgs({ ...loop, connectionArn: "", topicArn: "" });
    if (expressWaitTooLong({ ...loop, workflowType: a.workflowType })) {
      const planned = plannedWaitSeconds(loop);
      throw new Error(
        `an EXPRESS workflow stops after 300 s, but anchorWaitSeconds + (maxVerifyAttempts - 1) * retryWaitSeconds is ${planned} s (at most ${EXPRESS_MAX_PLANNED_WAIT_SECONDS} s leaves time for the HTTP calls): shorten the waits, lower maxVerifyAttempts or use workflowType STANDARD`,
      );
    }

    this.topic = new aws.sns.Topic(`${name}-outcomes`, {}, { parent: this });
    this.topicArn = this.topic.arn;

    // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's CloudWatch Logs
    // resource policy, which is limited in size. Kept as long as the hub keeps its logs.
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/vendedlogs/states/${name}`, retentionInDays: a.hub.logRetentionDays },
      { parent: this },
    );

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    // Known before the state machine exists, so the role can name it without a cycle.
    const stateMachineArn = pulumi.interpolate`arn:${partition.partition}:states:${region.region}:${identity.accountId}:stateMachine:${name}`;

    this.role = new aws.iam.Role(
      name,
      {
        description: `Step Functions runs the record verification workflow ${name}`,
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "states.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: {
                StringEquals: { "aws:SourceAccount": identity.accountId },
                ArnLike: { "aws:SourceArn": stateMachineArn },
              },
            },
          ],
        }),
      },
      { parent: this },
    );

    this.policy = new aws.iam.RolePolicy(
      name,
      {
        role: this.role.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "InvokeRecordsApi",
              Effect: "Allow",
              Action: "states:InvokeHTTPEndpoint",
              Resource: stateMachineArn,
              Condition: {
                StringLike: { "states:HTTPEndpoint": `${a.apiEndpoint}/*` },
                StringEquals: { "states:HTTPMethod": "POST" },
              },
            },
            {
              Sid: "UseRecordsConnection",
              Effect: "Allow",
              Action: "events:RetrieveConnectionCredentials",
              Resource: a.connectionArn,
            },
            {
              Sid: "ReadRecordsConnectionSecret",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
              Resource: a.connectionSecretArn,
            },
            {
              Sid: "PublishOutcomes",
              Effect: "Allow",
              Action: "sns:Publish",
              Resource: this.topic.arn,
            },
            {
              // Step Functions sets up log delivery through these CloudWatch Logs APIs, which do not
              // support resource-level permissions: AWS documents them with Resource "*".
              Sid: "DeliverExecutionLogs",
              Effect: "Allow",
              Action: [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
              ],
              Resource: "*",
            },
            {
              // X-Ray trace APIs do not support resource-level permissions either.
              Sid: "WriteTraces",
              Effect: "Allow",
              Action: [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
              ],
              Resource: "*",
            },
          ],
        }),
      },
      { parent: this },
    );

    const definition = pulumi
      .all([a.connectionArn, this.topic.arn])
      .apply(([connectionArn, topicArn]) =>
        JSON.stringify(buildVerificationDefinition({ ...loop, connectionArn, topicArn })),
      );

    // Named so the role and its policy can refer to it before it exists; a change of type replaces
    // it, which with a fixed name has to delete the old one first.
    this.stateMachine = new aws.sfn.StateMachine(
      name,
      {
        name,
        type: a.workflowType,
        roleArn: this.role.arn,
        definition,
        loggingConfiguration: {
          logDestination: pulumi.interpolate`${this.logGroup.arn}:*`,
          level: a.logLevel,
          includeExecutionData: a.includeExecutionData,
        },
        tracingConfiguration: { enabled: true },
      },
      // CreateStateMachine checks that the role may deliver logs, so the policy comes first.
      { parent: this, dependsOn: [this.policy], deleteBeforeReplace: true },
    );
    this.stateMachineArn = this.stateMachine.arn;

    this.route = a.hub.addRoute(
      "verification",
      {
        description: "Record verification requests to the verification workflow",
        eventPattern: verificationEventPattern(a.sources, a.detailTypes),
        targets: [
          {
            id: "workflow",
            kind: "stepfunctions",
            arn: this.stateMachine.arn,
            inputTransformer: verificationInputTransformer(),
            retryPolicy: a.retryPolicy,
          },
        ],
      },
      this,
    );
    for (const [requestName, w] of Object.entries(a.webhookRequests)) {
      this.webhookRoutes[requestName] = a.hub.addRoute(
        `verification-${requestName}`,
        {
          description: `Record verification requests delivered to the ${requestName} webhook receiver to the verification workflow`,
          eventPattern: webhookVerificationEventPattern([w.source], a.detailTypes, w.recordPath),
          targets: [
            {
              id: "workflow",
              kind: "stepfunctions",
              arn: this.stateMachine.arn,
              inputTransformer: verificationInputTransformer(w.recordPath),
              retryPolicy: a.retryPolicy,
            },
          ],
        },
        this,
      );
    }

    this.registerOutputs({ stateMachineArn: this.stateMachineArn, topicArn: this.topicArn });
  }
}
