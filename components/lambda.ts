import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { CLIENT_INIT_ENV } from "../handlers/lib/lazy";
import type { ClientInit } from "./clientInit";

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
  /**
   * Where the handler builds its AWS SDK clients (handlers/lib/lazy.ts): `on-first-use` (default:
   * a cold start pays only for the services its request calls) or `at-init` (every client during
   * Lambda's init phase, as under provisioned concurrency).
   */
  readonly clientInit?: ClientInit;
}

export { CLIENT_INIT_MODES, DEFAULT_CLIENT_INIT } from "./clientInit";
export type { ClientInit } from "./clientInit";

/** Runtime and architecture of every Switchyard function. */
export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_ARCHITECTURE = "arm64";

/** The serialized handler's module and export, as CallbackFunction names them: `__index.handler`. */
const SERIALIZED_MODULE = "__index";
const HANDLER_EXPORT = "handler";

/**
 * The code archive of every function declared in this process, by component name: the exact
 * archive `pulumi up` uploads (its `__index.js` is the serialized handler factory, bundled). Tests,
 * the local runtime and the benchmark read it; a deployment never does.
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

/** Packages the program needs at deploy time only (dependencies, so `npm ci --omit=dev` keeps them). */
export const BUILD_TOOLS = ["esbuild"];

/** What the nodejs22.x runtime provides: the AWS SDK v3 and the packages it is built from. */
export const RUNTIME_PROVIDED = ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"];

/** What bundling one function's code found: the bundle and the bytes each package put in it. */
export interface BundleReport {
  /** Bytes of the bundled __index.js. */
  bytes: number;
  /** Bytes in the bundle by source: a package name, or "__index.js" for the serialized handler. */
  inputs: Record<string, number>;
  /** Runtime-provided packages the bundle requires (loaded from the runtime, on first use). */
  external: string[];
}

/**
 * The archive CallbackFunction serialized for every function declared in this process (before
 * bundling), by component name: what default packaging would have uploaded with node_modules.
 */
export const serializedArchives = new Map<string, pulumi.Output<pulumi.asset.AssetArchive>>();

/** The bundle report of every function declared in this process, by component name. */
export const bundleReports = new Map<string, pulumi.Output<BundleReport>>();

const PROJECT_ROOT = path.join(__dirname, "..");

function esbuildModule(): typeof import("esbuild") {
  try {
    return require("esbuild");
  } catch (e) {
    throw new Error(
      `Switchyard bundles each function with esbuild, which is not installed here: run \`npm ci\` in ${PROJECT_ROOT} (${(e as Error).message.split("\n")[0]})`,
      { cause: e },
    );
  }
}

/**
 * The archive as Lambda loads it fastest: one `__index.js`, the serialized handler bundled by
 * esbuild with every package it requires, except the AWS SDK that the runtime provides.
 * CallbackFunction would zip every dependency of package.json, folder by folder (Powertools ships
 * each package as CommonJS and ES modules with types and maps); a bundle holds only the code the
 * handler can reach and loads as one file, a fraction of the time Node spends loading the folders
 * (bench). The SDK stays a `require` of the runtime's copy, run where the handler runs it (on
 * first use: handlers/lib/lazy.ts). Not minified: the Lambda console shows the code as it runs, and
 * a stack trace's line numbers point into it (minifying whitespace saved about 3 ms of load).
 */
export async function bundleArchive(
  archive: pulumi.asset.AssetArchive,
): Promise<{ archive: pulumi.asset.AssetArchive; report: BundleReport }> {
  const assets = (await archive.assets) as Record<string, any>;
  const index = assets["__index.js"];
  if (!index || index.text === undefined)
    throw new Error("bundleArchive: the archive has no serialized __index.js");
  const contents: string = await index.text;
  const result = await esbuildModule().build({
    stdin: { contents, resolveDir: PROJECT_ROOT, sourcefile: "__index.js", loader: "js" },
    // Paths in the bundle are relative to the project, so every machine uploads the same archive.
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    external: RUNTIME_PROVIDED,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  // A warning means code esbuild could not follow (a computed require): it would fail in Lambda.
  if (result.warnings.length > 0) {
    const text = result.warnings
      .map((w) => `${w.location?.file ?? ""}:${w.location?.line ?? ""} ${w.text}`)
      .join("; ");
    throw new Error(`bundling a function's code: ${text}`);
  }
  const bundled = result.outputFiles![0].text;
  const inputs: Record<string, number> = {};
  for (const out of Object.values(result.metafile!.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(out.inputs)) {
      const pkg = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? "__index.js";
      inputs[pkg] = (inputs[pkg] ?? 0) + bytesInOutput;
    }
  }
  const provided = (p: string) =>
    RUNTIME_PROVIDED.some((pattern) => p.startsWith(pattern.slice(0, -1)));
  const imports = Object.values(result.metafile!.inputs).flatMap((i) => i.imports);
  const external = [
    ...new Set(imports.filter((x) => x.external && provided(x.path)).map((x) => x.path)),
  ].sort();
  return {
    archive: new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(bundled) }),
    report: { bytes: Buffer.byteLength(bundled), inputs, external },
  };
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

/** The function's environment: its own variables, plus the client-init switch when it is `at-init`. */
function environmentOf(
  args: FunctionArgs<any, any>,
): { variables: Record<string, pulumi.Input<string>> } | undefined {
  const variables = {
    ...args.environment,
    ...(args.clientInit === "at-init" ? { [CLIENT_INIT_ENV]: "at-init" } : {}),
  };
  return Object.keys(variables).length > 0 ? { variables } : undefined;
}

/**
 * A Lambda function from a handler factory, with its own role (only the listed grants), its own
 * log group with retention, JSON logs, arm64 and nodejs22.x, and an archive without the AWS SDK.
 */
export class SwitchyardFunction<E = any, R = any> extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
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
            {
              Effect: "Allow",
              Principal: { Service: "lambda.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
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

    // The handler's closure, serialized the way CallbackFunction serializes it (a factory called
    // once per cold start, exported as `handler`), then bundled by esbuild. CallbackFunction would
    // also walk package.json's dependency tree to list node_modules folders for the archive, which
    // the bundle replaces; skipping that walk is most of what evaluating a function costs.
    const closure = pulumi.runtime.serializeFunction(args.callbackFactory, {
      serialize: () => true,
      exportName: HANDLER_EXPORT,
      isFactoryFunction: true,
      allowSecrets: true,
    });
    const serialized = pulumi.output(
      closure.then(
        (c) =>
          new pulumi.asset.AssetArchive({
            [`${SERIALIZED_MODULE}.js`]: new pulumi.asset.StringAsset(c.text),
          }),
      ),
    ) as unknown as pulumi.Output<pulumi.asset.AssetArchive>;
    serializedArchives.set(name, serialized);
    const bundle = serialized.apply((a) => bundleArchive(a));
    const code = bundle.apply((b) => b.archive);
    // A secret the closure captured would sit in plain text in the uploaded archive.
    // Output.isSecret is how CallbackFunction marks it; Pulumi then stores the archive encrypted.
    (code as unknown as { isSecret: Promise<boolean> }).isSecret = closure.then((c) => {
      if (c.containsSecrets) {
        pulumi.log.warn(
          `A secret value was captured and serialized into the body of the Lambda Function '${name}': pass a Secrets Manager ARN instead.`,
          this,
        );
      }
      return c.containsSecrets;
    });
    functionArchives.set(name, code as unknown as pulumi.asset.AssetArchive);
    bundleReports.set(
      name,
      bundle.apply((b) => b.report),
    );

    this.function = new aws.lambda.Function(
      name,
      {
        code,
        handler: `${SERIALIZED_MODULE}.${HANDLER_EXPORT}`,
        role: this.role.arn,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        description: args.description ?? `Switchyard function ${name}`,
        timeout: args.timeout ?? 10,
        memorySize: args.memorySize ?? 256,
        reservedConcurrentExecutions: args.reservedConcurrency,
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        environment: environmentOf(args),
      },
      // The function must not start before it may write its logs.
      { parent: this, dependsOn: [this.policy] },
    );

    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}
