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

// What a CommonJS Lambda never loads from a package: ES-module builds, type declarations, source
// maps and docs. CallbackFunction zips whole package folders (Powertools ships each twice, as CJS
// and ESM, with types and maps); the archive keeps the rest, file for file. The tests and the
// local runtime run this pruned archive, so a file the code does need cannot go missing unseen.
const NEVER_LOADED = [/(^|\/)(lib\/esm|dist-es|dist-types|esm)\//, /\.d\.[cm]?ts$/, /\.map$/, /\.md$/i, /(^|\/)src\/.*\.ts$/, /\.tsbuildinfo$/];

function filesBelow(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    const stat = fs.statSync(full);
    if (stat.isDirectory()) out.push(...filesBelow(full, rel));
    else out.push(rel);
  }
  return out;
}

/** The packages a serialized handler requires by name, with everything they depend on. */
export function requiredPackages(indexJs: string, modulesDir = path.join(__dirname, "..", "node_modules")): Set<string> {
  const out = new Set<string>();
  const visit = (pkg: string) => {
    if (out.has(pkg)) return;
    const manifest = path.join(modulesDir, pkg, "package.json");
    if (!fs.existsSync(manifest)) return;
    out.add(pkg);
    const json = JSON.parse(fs.readFileSync(manifest, "utf8"));
    for (const dep of Object.keys({ ...json.dependencies, ...json.optionalDependencies })) visit(dep);
  };
  for (const m of indexJs.matchAll(/require\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
    const parts = m[1].split("/");
    visit(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return out;
}

/**
 * The archive as Lambda needs it: only the packaged folders that `__index.js` requires (directly or
 * through their dependencies; CallbackFunction zips every dependency of package.json into every
 * function), without the files a CommonJS Lambda never loads.
 */
export async function pruneArchive(archive: pulumi.asset.AssetArchive): Promise<pulumi.asset.AssetArchive> {
  const assets = (await archive.assets) as Record<string, any>;
  const index = assets["__index.js"];
  const needed = index && index.text !== undefined ? requiredPackages(await index.text) : undefined;
  const out: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = {};
  for (const [name, asset] of Object.entries(assets)) {
    const pkg = name.startsWith("node_modules/") ? name.slice("node_modules/".length) : undefined;
    if (pkg && needed && !needed.has(pkg)) continue;
    // A packaged folder is a file archive (by shape: Output lifting copies archives to plain objects).
    const folder = asset?.__pulumiArchive && asset.path !== undefined && asset.assets === undefined ? path.resolve(await asset.path) : undefined;
    if (!folder || !fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
      out[name] = asset;
      continue;
    }
    const kept: Record<string, pulumi.asset.Asset> = {};
    for (const rel of filesBelow(folder)) {
      if (!NEVER_LOADED.some((re) => re.test(rel))) kept[rel] = new pulumi.asset.FileAsset(path.join(folder, rel));
    }
    out[name] = new pulumi.asset.AssetArchive(kept);
  }
  return new pulumi.asset.AssetArchive(out);
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
            if (t.type !== "aws:lambda/function:Function") return undefined;
            const code = pulumi.output(t.props.code).apply((a: pulumi.asset.AssetArchive) => pruneArchive(a));
            functionArchives.set(name, code as any);
            return { props: { ...t.props, code }, opts: t.opts };
          },
        ],
      },
    );

    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}
