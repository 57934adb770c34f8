import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";

/** One IAM statement of a function's role policy. Resources are always named ARNs. */
export interface Grant {
  readonly actions: string[];
  readonly resources: pulumi.Input<pulumi.Input<string>[]>;
  readonly condition?: pulumi.Input<Record<string, unknown>>;
}

export interface FunctionArgs<E, R> {
  /** Builds the handler once per cold start, inside Lambda (SDK clients are created there). */
  readonly callbackFactory: () => (event: E, context: any) => Promise<R>;
  /** What the function may do, beyond writing its own logs. */
  readonly grants: Grant[];
  /** Environment variables; never secret values (pass Secrets Manager ARNs instead). */
  readonly environment?: Record<string, pulumi.Input<string>>;
  /** Seconds, default 10. */
  readonly timeout?: number;
  /** MB, default 256. */
  readonly memorySize?: number;
  /** Default: unreserved. */
  readonly reservedConcurrency?: number;
  /** Days the function's log group keeps logs. */
  readonly logRetentionDays: number;
  /** Default "Switchyard function <name>". */
  readonly description?: string;
}

/** Runtime and architecture of every Switchyard function. */
export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_ARCHITECTURE = "arm64";

/**
 * The code archive of every function declared in this process, by component name: the exact
 * archive `pulumi up` uploads (its `__index.js` is the serialized handler factory). Tests, the local
 * runtime and the benchmark read it; a deployment never does.
 */
export const functionArchives = new Map<string, pulumi.asset.AssetArchive>();

let sdkPackages: string[] | undefined;

/**
 * Every package of the AWS SDK v3 installed here. The nodejs22.x runtime provides the SDK, so
 * CallbackFunction must not zip it; its exclusion list takes exact names and also prunes
 * transitive dependencies, so the list is read from node_modules.
 */
export function awsSdkPackages(): string[] {
  if (!sdkPackages) {
    const root = path.join(__dirname, "..", "node_modules");
    const names: string[] = [];
    for (const scope of ["@aws-sdk", "@smithy", "@aws-crypto"]) {
      const dir = path.join(root, scope);
      if (fs.existsSync(dir)) {
        for (const pkg of fs.readdirSync(dir)) names.push(`${scope}/${pkg}`);
      }
    }
    sdkPackages = names.sort();
  }
  return sdkPackages;
}

/** Turns grants into a policy document: the function's own log group plus the grants. */
export function functionPolicy(logGroupArn: pulumi.Input<string>, grants: Grant[]) {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: pulumi.interpolate`${logGroupArn}:*`,
      },
      ...grants.map((g) => ({
        Effect: "Allow",
        Action: g.actions,
        Resource: g.resources,
        ...(g.condition ? { Condition: g.condition } : {}),
      })),
    ],
  });
}

/**
 * A Lambda function from a handler factory, with its own role (only the listed grants), its own
 * log group with retention, JSON logs, arm64 and nodejs22.x, and an archive without the AWS SDK.
 */
export class SwitchyardFunction<E = any, R = any> extends pulumi.ComponentResource {
  public readonly function: aws.lambda.CallbackFunction<E, R>;
  public readonly role: aws.iam.Role;
  public readonly policy: aws.iam.RolePolicy;
  public readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: FunctionArgs<E, R>, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:lambda:Function", name, {}, opts);

    this.role = new aws.iam.Role(
      name,
      {
        description: `Switchyard function ${name}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      },
      { parent: this },
    );
    this.logGroup = new aws.cloudwatch.LogGroup(
      name,
      { retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    this.policy = new aws.iam.RolePolicy(
      name,
      { role: this.role.name, policy: functionPolicy(this.logGroup.arn, args.grants) },
      { parent: this },
    );

    this.function = new aws.lambda.CallbackFunction<E, R>(
      name,
      {
        role: this.role,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        description: args.description ?? `Switchyard function ${name}`,
        timeout: args.timeout ?? 10,
        memorySize: args.memorySize ?? 256,
        reservedConcurrentExecutions: args.reservedConcurrency,
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        environment: args.environment ? { variables: args.environment } : undefined,
        callbackFactory: args.callbackFactory as any,
        codePathOptions: { extraExcludePackages: awsSdkPackages() },
      },
      {
        parent: this,
        // The function must not start before it may write its logs.
        dependsOn: [this.policy],
        transformations: [
          (t) => {
            if (t.type === "aws:lambda/function:Function") functionArchives.set(name, t.props.code);
            return undefined;
          },
        ],
      },
    );

    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}
