import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as path from "path";
import { CLIENT_INIT_ENV } from "../lib/contracts";
import type { ClientInit } from "./clientInit";

/** One IAM statement of a function's role policy. Resources are always named ARNs. */
export interface Grant {
  readonly actions: string[];
  readonly resources: pulumi.Input<pulumi.Input<string>[]>;
  readonly condition?: pulumi.Input<Record<string, unknown>>;
}

/**
 * Where a function's handler comes from: a factory that a handler module exports, called once per
 * cold start inside Lambda (where it builds its SDK clients and logger) with `args`.
 */
export interface HandlerSource {
  /** The handler module, from the project root, without extension: `handlers/jobs/submit`. */
  readonly module: string;
  /** The factory the module exports: `createSubmit`. */
  readonly factory: string;
  /**
   * The factory's arguments: deploy-time values written into the bundle as JSON. Never a secret
   * (pass a Secrets Manager ARN in the environment instead) and never a `pulumi.Output`.
   */
  readonly args?: readonly unknown[];
}

export interface FunctionArgs {
  /** The handler: a module's factory, bundled from source with what it imports. */
  readonly handler: HandlerSource;
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

/** The bundle's module and export: the function's `handler` setting is `__index.handler`. */
const BUNDLE_MODULE = "__index";
const HANDLER_EXPORT = "handler";

/**
 * The code archive of every function declared in this process, by component name: the exact
 * archive `pulumi up` uploads (its `__index.js` is the handler module's bundle). Tests,
 * the local runtime and the benchmark read it; a deployment never does.
 */
export const functionArchives = new Map<string, pulumi.asset.AssetArchive>();

/** Packages the program needs at deploy time only (dependencies, so `npm ci --omit=dev` keeps them). */
export const BUILD_TOOLS = ["esbuild"];

/** What the nodejs22.x runtime provides: the AWS SDK v3 and the packages it is built from. */
export const RUNTIME_PROVIDED = ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"];

/** The key of a bundle report's bytes that come from this project's own modules (handlers/, lib/). */
export const PROJECT_CODE = "(project)";

/** What bundling one function's code found: the bundle and the bytes each package put in it. */
export interface BundleReport {
  /** Bytes of the bundled __index.js. */
  bytes: number;
  /** Bytes in the bundle by source: a package name, or PROJECT_CODE for this project's own modules. */
  inputs: Record<string, number>;
  /** Runtime-provided packages the bundle requires (loaded from the runtime, on first use). */
  external: string[];
}

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
 * The entry module of a function's bundle: imports the handler module's factory and exports what
 * it returns as `handler`, so the factory runs once per cold start, during Lambda's init.
 */
export function entrySource(handler: HandlerSource): string {
  if (
    !/^[A-Za-z0-9_./-]+$/.test(handler.module) ||
    handler.module.split("/").some((part) => part === "" || part.startsWith("."))
  )
    throw new Error(
      `a function's handler module must be a path from the project root such as "handlers/jobs/submit", got ${JSON.stringify(handler.module)}`,
    );
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(handler.factory))
    throw new Error(
      `a function's handler factory must be an exported name such as "createSubmit", got ${JSON.stringify(handler.factory)}`,
    );
  // Args are written into the code: an Output (a secret among them) has no value to write yet.
  const json = (value: unknown): string => {
    const outputAt = (v: unknown, at: string): string | undefined => {
      if (pulumi.Output.isInstance(v)) return at;
      if (v && typeof v === "object")
        for (const [k, x] of Object.entries(v)) {
          const found = outputAt(x, `${at}.${k}`);
          if (found) return found;
        }
      return undefined;
    };
    const at = outputAt(value, "argument");
    if (at)
      throw new Error(
        `${handler.module}.${handler.factory}: ${at} is a pulumi.Output; pass deploy-time values only, and resource attributes or secrets' ARNs in the environment`,
      );
    return JSON.stringify(value);
  };
  const args = (handler.args ?? []).map(json).join(", ");
  return [
    `import { ${handler.factory} as factory } from "./${handler.module}";`,
    `export const ${HANDLER_EXPORT} = factory(${args});`,
    "",
  ].join("\n");
}

/**
 * The archive as Lambda loads it fastest: one `__index.js`, the handler module bundled by esbuild
 * from its TypeScript source with everything it imports, except the AWS SDK that the runtime
 * provides. CallbackFunction would serialize a closure (Pulumi walks every captured function
 * through the inspector, seconds per function) and zip every dependency of package.json, folder by
 * folder; a bundle of the module holds only the code the handler can reach, loads as one file, and
 * costs a preview milliseconds (bench). The SDK stays a `require` of the runtime's copy, run where
 * the handler runs it (on first use: handlers/lib/lazy.ts). Not minified: the Lambda console shows
 * the code as it runs, and a stack trace's line numbers point into it.
 */
export function bundleArchive(
  handler: HandlerSource,
): Promise<{ archive: pulumi.asset.AssetArchive; report: BundleReport }> {
  // Checked now, so a bad module or factory fails its own function, not the batch it would join.
  const contents = entrySource(handler);
  const kept = reusedBundles?.get(contents);
  if (kept) return kept;
  const built = new Promise<Bundled>((resolve, reject) => {
    pendingBundles.push({ handler, contents, resolve, reject });
    if (pendingBundles.length === 1) {
      entriesOfBatch = handOver();
      setImmediate(() => void buildPending());
    }
  });
  if (reusedBundles) {
    const cache = reusedBundles;
    cache.set(contents, built);
    // A failed build is asked again: it names its module each time.
    built.catch(() => cache.delete(contents));
  }
  return built;
}

/** Bundles by entry, where this process reuses them (reuseBundles). */
let reusedBundles: Map<string, Promise<Bundled>> | undefined;

/**
 * Makes this process give a function whose entry (handler module, factory and arguments) it has
 * bundled before that same bundle again, instead of asking esbuild to build it anew: a test worker
 * (test/setup.ts) evaluates the program dozens of times, from sources that do not change while it
 * runs, and esbuild rebuilt the same 14 bundles for each (about 8 s of CPU over the suite's three
 * workers). `pulumi preview`, `pulumi up` and `npm start` evaluate once per process and never
 * turn it on. `on` false turns it off and forgets what was kept (a test of bundling itself).
 */
export function reuseBundles(on = true): void {
  reusedBundles = on ? (reusedBundles ?? new Map()) : undefined;
}

/**
 * Counts one batch among those whose entries esbuild still asks for; what it returns is called
 * once esbuild holds them all.
 */
function handOver(): () => void {
  let done!: () => void;
  const promise = new Promise<void>((resolve) => (done = resolve));
  handingOver.add(promise);
  void promise.then(() => handingOver.delete(promise));
  return done;
}

/** The batch being gathered (bundleArchive); the batches whose entries esbuild still asks for. */
let entriesOfBatch: (() => void) | undefined;
const handingOver = new Set<Promise<void>>();
let entriesHandedOver = 0;

/**
 * Settles once esbuild holds the entry of every function asked for so far. esbuild asks this
 * process for each entry (the plugin's onResolve and onLoad run here), and for nothing else until
 * it answers: from then on it bundles in its own process, and work this process starts then does
 * not hold it up (`npm start` loads the modules it serves then: local/program.ts).
 */
export function bundlerHasEntries(): Promise<void> {
  return Promise.all(handingOver).then(() => undefined);
}

/** How many entries esbuild has been handed in this process (tests). */
export function bundleEntriesHandedOver(): number {
  return entriesHandedOver;
}

type Bundled = { archive: pulumi.asset.AssetArchive; report: BundleReport };
interface PendingBundle {
  handler: HandlerSource;
  contents: string;
  resolve(b: Bundled): void;
  reject(e: Error): void;
}

/**
 * Bundles asked for in one turn of the event loop (a program declares its functions together) are
 * built by one esbuild build with an entry point each: esbuild parses each module they share
 * (Powertools, handlers/lib) once for all of them, a third of the time of a build per function. Each
 * output is still that entry alone with what it reaches (no code splitting), as a build of its own
 * would give.
 */
const pendingBundles: PendingBundle[] = [];

/** The namespace of the entry modules, which esbuild names in each bundle's first comment. */
const ENTRY_NAMESPACE = "switchyard-function";

async function buildPending(): Promise<void> {
  const batch = pendingBundles.splice(0);
  const handedOver = entriesOfBatch!;
  entriesOfBatch = undefined;
  try {
    const result = await buildEntries(batch, handedOver);
    const outputs = batch.map((_, i) => bundledOutput(result, i));
    batch.forEach((p, i) => p.resolve(outputs[i]));
  } catch (e) {
    // One entry that cannot be bundled fails the whole build: bundle each alone, so each function
    // gets its own answer and the error names the module at fault.
    if (batch.length === 1) return batch[0].reject(bundlingError(batch[0].handler, e));
    for (const p of batch) {
      try {
        p.resolve(bundledOutput(await buildEntries([p]), 0));
      } catch (err) {
        p.reject(bundlingError(p.handler, err));
      }
    }
  } finally {
    // A build that failed before esbuild asked for every entry asks for nothing more.
    handedOver();
  }
}

function buildEntries(batch: PendingBundle[], handedOver: () => void = () => undefined) {
  // esbuild loads each entry once: the batch's distinct contents.
  const distinct = new Set(batch.map((p) => p.contents));
  let toHandOver = distinct.size;
  return esbuildModule().build({
    entryPoints: Object.fromEntries(batch.map((_, i) => [`f${i}`, `${ENTRY_NAMESPACE}:${i}`])),
    plugins: [
      {
        name: "switchyard-function-entries",
        setup(build) {
          // Each entry's namespace is named by its content, never by its place in the batch: a
          // function's archive must not change because another function was declared before it.
          build.onResolve({ filter: new RegExp(`^${ENTRY_NAMESPACE}:`) }, (a) => ({
            path: `${BUNDLE_MODULE}.js`,
            namespace: entryNamespace(batch[Number(a.path.split(":")[1])].contents),
          }));
          for (const contents of distinct)
            build.onLoad({ filter: /.*/, namespace: entryNamespace(contents) }, () => {
              entriesHandedOver++;
              if (--toHandOver === 0) handedOver();
              return { contents, resolveDir: PROJECT_ROOT, loader: "js" };
            });
        },
      },
    ],
    // Paths in the bundle are relative to the project, so every machine uploads the same archive.
    absWorkingDir: PROJECT_ROOT,
    outdir: path.join(PROJECT_ROOT, "bin", "functions"),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    external: RUNTIME_PROVIDED,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

function entryNamespace(contents: string): string {
  return `${ENTRY_NAMESPACE}-${crypto.createHash("sha256").update(contents).digest("hex").slice(0, 16)}`;
}

function bundlingError(handler: HandlerSource, e: unknown): Error {
  // esbuild's own errors name the file and the import it could not resolve.
  const errors = (
    e as { errors?: Array<{ text: string; location?: { file: string; line: number } }> }
  ).errors;
  const text = errors?.length
    ? errors.map((w) => `${w.location?.file ?? ""}:${w.location?.line ?? ""} ${w.text}`).join("; ")
    : (e as Error).message;
  return new Error(`bundling ${handler.module}.${handler.factory}: ${text}`, { cause: e });
}

function bundledOutput(
  result: import("esbuild").BuildResult<{ write: false; metafile: true }>,
  index: number,
): Bundled {
  // A warning means code esbuild could not follow (a computed require): it would fail in Lambda.
  if (result.warnings.length > 0) {
    const text = result.warnings
      .map((w) => `${w.location?.file ?? ""}:${w.location?.line ?? ""} ${w.text}`)
      .join("; ");
    throw new Error(text);
  }
  const name = `f${index}.js`;
  const file = result.outputFiles.find((f) => path.basename(f.path) === name)!;
  const [, meta] = Object.entries(result.metafile.outputs).find(
    ([out]) => path.basename(out) === name,
  )!;
  const bundled = file.text;
  const inputs: Record<string, number> = {};
  for (const [source, { bytesInOutput }] of Object.entries(meta.inputs)) {
    const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? PROJECT_CODE;
    inputs[pkg] = (inputs[pkg] ?? 0) + bytesInOutput;
  }
  const provided = (p: string) =>
    RUNTIME_PROVIDED.some((pattern) => p.startsWith(pattern.slice(0, -1)));
  // What the bundle itself requires (an input's imports would include what tree shaking dropped).
  const external = [
    ...new Set(meta.imports.filter((x) => x.external && provided(x.path)).map((x) => x.path)),
  ].sort();
  return {
    archive: new pulumi.asset.AssetArchive({
      [`${BUNDLE_MODULE}.js`]: new pulumi.asset.StringAsset(bundled),
    }),
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
  args: FunctionArgs,
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
export class SwitchyardFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly role: aws.iam.Role;
  public readonly policy: aws.iam.RolePolicy;
  public readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: FunctionArgs, opts?: pulumi.ComponentResourceOptions) {
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

    // The handler module, bundled from source when the program is evaluated (a preview shows the
    // archive's hash); a module or factory that does not exist fails the preview, naming it.
    const bundle = pulumi.output(bundleArchive(args.handler));
    const code = bundle.apply((b) => b.archive);
    functionArchives.set(name, code as unknown as pulumi.asset.AssetArchive);
    bundleReports.set(
      name,
      bundle.apply((b) => b.report),
    );

    this.function = new aws.lambda.Function(
      name,
      {
        code,
        handler: `${BUNDLE_MODULE}.${HANDLER_EXPORT}`,
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
