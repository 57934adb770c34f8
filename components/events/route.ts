import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkIntRange, checkName } from "../validate";
import { withoutReplays } from "./patterns";

/** What EventBridge delivers to. Each kind gets exactly the permission it needs. */
export type TargetKind =
  | "lambda"
  | "sqs"
  | "sns"
  | "stepfunctions"
  | "apiDestination"
  | "firehose"
  | "logGroup"
  // a bus in another account or region (cross-account forwarding): its policy must allow our role
  | "eventBus";

export interface RetryPolicy {
  /** 0-185; AWS default 185. */
  readonly maximumRetryAttempts: number;
  /** 60-86400 seconds; AWS default 86400. */
  readonly maximumEventAgeInSeconds: number;
}

export interface InputTransformer {
  /** Variable name to JSONPath into the event; at most 100 entries. */
  readonly inputPaths?: Record<string, string>;
  /** The template, 1-8192 characters. */
  readonly inputTemplate: string;
}

export interface RouteTarget {
  /** Short id of the target inside its rule (letters, digits, hyphens); used in names. */
  readonly id: string;
  readonly kind: TargetKind;
  /** ARN of the function, queue, topic, state machine, API destination, stream, log group or bus. */
  readonly arn: pulumi.Input<string>;
  /** For `sqs` targets: the queue URL, which the queue policy needs. */
  readonly queueUrl?: pulumi.Input<string>;
  /** Reshapes the event before delivery; default: the whole event. */
  readonly inputTransformer?: InputTransformer;
  /** Default: 185 attempts over 86400 s, as AWS. */
  readonly retryPolicy?: RetryPolicy;
  /** Default: the hub's DLQ. A queue of your own must allow this rule to send to it. */
  readonly deadLetterQueueArn?: pulumi.Input<string>;
  /** For `apiDestination` targets: extra headers sent with each call. */
  readonly headerParameters?: Record<string, string>;
  /**
   * For `sqs` and `sns` targets: whether the route writes the queue/topic policy that lets this rule
   * send. Default true; set false when the queue or topic policy is managed elsewhere (a queue or
   * topic has a single policy, so two writers would overwrite each other).
   */
  readonly grant?: boolean;
}

export interface RouteArgs {
  /** The event pattern (content filter); a JSON object. */
  readonly eventPattern: Record<string, unknown>;
  /** Default true. */
  readonly enabled?: boolean;
  /** Default: "Switchyard route <name>". */
  readonly description?: string;
  /** Whether events replayed from the archive also match. Default false. */
  readonly includeReplayed?: boolean;
  /** 1-5 targets. */
  readonly targets: RouteTarget[];
}

/** Where the route lives: the hub's bus and DLQ. */
export interface RouteHub {
  readonly busName: pulumi.Input<string>;
  readonly busArn: pulumi.Input<string>;
  readonly dlqArn: pulumi.Input<string>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maximumRetryAttempts: 185,
  maximumEventAgeInSeconds: 86400,
};

const MAX_TARGETS = 5;

/** Checks a route's arguments before anything is declared. */
export function validateRoute(name: string, args: RouteArgs): void {
  // Rule and role names get an 8-character random suffix; both allow 64 characters.
  checkName("route name", name, 40);
  if (
    !args.eventPattern ||
    typeof args.eventPattern !== "object" ||
    Array.isArray(args.eventPattern)
  ) {
    throw new Error(`route "${name}": eventPattern must be a JSON object`);
  }
  if (Object.keys(args.eventPattern).length === 0) {
    throw new Error(
      `route "${name}": eventPattern must name at least one field (EventBridge rejects an empty pattern); to match everything use {"source":[{"prefix":""}]}`,
    );
  }
  if (!args.targets || args.targets.length < 1 || args.targets.length > MAX_TARGETS) {
    throw new Error(
      `route "${name}": targets must have 1 to ${MAX_TARGETS} entries, got ${args.targets?.length ?? 0}`,
    );
  }
  const ids = new Set<string>();
  for (const t of args.targets) {
    checkName(`route "${name}" target id`, t.id, 15);
    if (ids.has(t.id)) throw new Error(`route "${name}": target id "${t.id}" is used twice`);
    ids.add(t.id);
    const rp = t.retryPolicy;
    if (rp) {
      checkIntRange(
        `route "${name}" target "${t.id}" retryPolicy.maximumRetryAttempts`,
        rp.maximumRetryAttempts,
        0,
        185,
      );
      checkIntRange(
        `route "${name}" target "${t.id}" retryPolicy.maximumEventAgeInSeconds`,
        rp.maximumEventAgeInSeconds,
        60,
        86400,
      );
    }
    if (t.kind === "sqs" && t.grant !== false && !t.queueUrl) {
      throw new Error(
        `route "${name}" target "${t.id}": an sqs target needs queueUrl for its queue policy (or grant: false when the policy is managed elsewhere)`,
      );
    }
    if (
      t.kind === "eventBus" &&
      typeof t.arn === "string" &&
      !/^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]+$/.test(t.arn)
    ) {
      throw new Error(
        `route "${name}" target "${t.id}": an eventBus target needs an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>), got ${JSON.stringify(t.arn)}`,
      );
    }
    if (t.headerParameters && t.kind !== "apiDestination") {
      throw new Error(
        `route "${name}" target "${t.id}": headerParameters only apply to apiDestination targets`,
      );
    }
    const it = t.inputTransformer;
    if (it) {
      const n = Object.keys(it.inputPaths ?? {}).length;
      if (n > 100) {
        throw new Error(
          `route "${name}" target "${t.id}": inputPaths has ${n} entries, at most 100 are allowed`,
        );
      }
      if (it.inputTemplate.length < 1 || it.inputTemplate.length > 8192) {
        throw new Error(
          `route "${name}" target "${t.id}": inputTemplate must be 1-8192 characters, got ${it.inputTemplate.length}`,
        );
      }
    }
  }
}

const eventsPrincipal = { Service: "events.amazonaws.com" };

/** A queue or topic policy that lets EventBridge deliver from this one rule only. */
function ruleOnlyPolicy(
  resource: pulumi.Input<string>,
  action: string,
  ruleArn: pulumi.Input<string>,
) {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowRule",
        Effect: "Allow",
        Principal: eventsPrincipal,
        Action: action,
        Resource: resource,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      },
    ],
  });
}

/**
 * A rule on a hub with up to five targets. Each target gets a retry policy, a dead-letter queue and
 * exactly the permission it needs, and is declared after that permission.
 */
export class EventRoute extends pulumi.ComponentResource {
  public readonly rule: aws.cloudwatch.EventRule;
  public readonly targets: aws.cloudwatch.EventTarget[] = [];
  /** Roles EventBridge assumes for state machine, API destination and stream targets. */
  public readonly roles: aws.iam.Role[] = [];

  constructor(
    name: string,
    hub: RouteHub,
    args: RouteArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("switchyard:events:Route", name, {}, opts);
    validateRoute(name, args);

    const pattern = args.includeReplayed ? args.eventPattern : withoutReplays(args.eventPattern);
    this.rule = new aws.cloudwatch.EventRule(
      name,
      {
        eventBusName: hub.busName,
        eventPattern: JSON.stringify(pattern),
        state: args.enabled === false ? "DISABLED" : "ENABLED",
        description: args.description ?? `Switchyard route ${name}`,
      },
      { parent: this },
    );
    const ruleArn = this.rule.arn;

    for (const t of args.targets) {
      const tname = `${name}-${t.id}`;
      const deps: pulumi.Resource[] = [];
      let roleArn: pulumi.Output<string> | undefined;

      switch (t.kind) {
        case "lambda":
          deps.push(
            new aws.lambda.Permission(
              tname,
              {
                action: "lambda:InvokeFunction",
                function: t.arn,
                principal: "events.amazonaws.com",
                sourceArn: ruleArn,
              },
              { parent: this },
            ),
          );
          break;
        case "sqs":
          if (t.grant !== false) {
            const policy = ruleOnlyPolicy(t.arn, "sqs:SendMessage", ruleArn);
            deps.push(
              new aws.sqs.QueuePolicy(tname, { queueUrl: t.queueUrl!, policy }, { parent: this }),
            );
          }
          break;
        case "sns":
          if (t.grant !== false) {
            const policy = ruleOnlyPolicy(t.arn, "sns:Publish", ruleArn);
            deps.push(new aws.sns.TopicPolicy(tname, { arn: t.arn, policy }, { parent: this }));
          }
          break;
        case "logGroup":
          // EventBridge writes to CloudWatch Logs through the log group's resource policy.
          deps.push(
            new aws.cloudwatch.LogResourcePolicy(
              tname,
              {
                policyName: tname,
                policyDocument: pulumi.jsonStringify({
                  Version: "2012-10-17",
                  // The rule's ARN is only in the request context of PutLogEvents (AWS's own
                  // EventBridge-to-Logs pattern conditions that action alone): creating streams in
                  // this one log group is allowed to EventBridge, writing events only to this rule.
                  Statement: [
                    {
                      Sid: "AllowStreams",
                      Effect: "Allow",
                      Principal: eventsPrincipal,
                      Action: "logs:CreateLogStream",
                      Resource: pulumi.interpolate`${t.arn}:*`,
                    },
                    {
                      Sid: "AllowRule",
                      Effect: "Allow",
                      Principal: eventsPrincipal,
                      Action: "logs:PutLogEvents",
                      Resource: pulumi.interpolate`${t.arn}:*`,
                      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
                    },
                  ],
                }),
              },
              { parent: this },
            ),
          );
          break;
        case "stepfunctions":
        case "apiDestination":
        case "firehose":
        case "eventBus": {
          const actions = {
            stepfunctions: ["states:StartExecution"],
            apiDestination: ["events:InvokeApiDestination"],
            firehose: ["firehose:PutRecord", "firehose:PutRecordBatch"],
            eventBus: ["events:PutEvents"],
          }[t.kind];
          const role = new aws.iam.Role(
            tname,
            {
              description: `EventBridge delivers route ${name} to ${t.id}`,
              assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                  {
                    Effect: "Allow",
                    Principal: eventsPrincipal,
                    Action: "sts:AssumeRole",
                    Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
                  },
                ],
              }),
            },
            { parent: this },
          );
          const policy = new aws.iam.RolePolicy(
            tname,
            {
              role: role.name,
              policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: actions, Resource: t.arn }],
              }),
            },
            { parent: this },
          );
          this.roles.push(role);
          deps.push(policy);
          roleArn = role.arn;
          break;
        }
        default: {
          const never: never = t.kind;
          throw new Error(`route "${name}": unknown target kind ${JSON.stringify(never)}`);
        }
      }

      this.targets.push(
        new aws.cloudwatch.EventTarget(
          tname,
          {
            eventBusName: hub.busName,
            rule: this.rule.name,
            targetId: t.id,
            arn: t.arn,
            roleArn,
            inputTransformer: t.inputTransformer
              ? {
                  inputPaths: t.inputTransformer.inputPaths,
                  inputTemplate: t.inputTransformer.inputTemplate,
                }
              : undefined,
            retryPolicy: { ...DEFAULT_RETRY_POLICY, ...t.retryPolicy },
            deadLetterConfig: { arn: t.deadLetterQueueArn ?? hub.dlqArn },
            httpTarget: t.headerParameters ? { headerParameters: t.headerParameters } : undefined,
          },
          { parent: this, dependsOn: deps },
        ),
      );
    }

    this.registerOutputs({ ruleArn: this.rule.arn, ruleName: this.rule.name });
  }
}
