// The Pulumi mocks: the shared mocks module of every infrastructure test, and how the local runtime
// evaluates the program (it reads what the program declares from the record kept here).
// newResource records {type, name, inputs} and answers with the inputs plus an id, an ARN and the
// computed outputs that real resources have; call answers the invokes the program uses and throws
// on any other token, so an unexpected invoke fails the test.
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, REGION } from "./account";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  urn: string;
  parent?: string;
}

export { ACCOUNT, REGION };

export const recorded: Recorded[] = [];

/** The secret EventBridge keeps a connection's credentials in (its `secretArn`). */
export function connectionSecretArn(connectionName: string): string {
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:events!connection/${connectionName}/0000-AbCdEf`;
}

export function arnFor(type: string, name: string, inputs: Record<string, any>): string {
  const n = inputs.name ?? name;
  switch (type) {
    case "aws:cloudwatch/eventBus:EventBus":
      return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${n}`;
    case "aws:cloudwatch/eventRule:EventRule":
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${inputs.eventBusName ?? "default"}/${n}`;
    case "aws:cloudwatch/eventArchive:EventArchive":
      return `arn:aws:events:${REGION}:${ACCOUNT}:archive/${n}`;
    case "aws:cloudwatch/eventConnection:EventConnection":
      return `arn:aws:events:${REGION}:${ACCOUNT}:connection/${n}/0000`;
    case "aws:cloudwatch/eventApiDestination:EventApiDestination":
      return `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/${n}/0000`;
    case "aws:sqs/queue:Queue":
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${n}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${n}`;
    case "aws:lambda/function:Function":
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${n}`;
    case "aws:iam/role:Role":
      return `arn:aws:iam::${ACCOUNT}:role/${n}`;
    case "aws:iam/policy:Policy":
      return `arn:aws:iam::${ACCOUNT}:policy/${n}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`;
    case "aws:sfn/stateMachine:StateMachine":
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${n}`;
    case "aws:dynamodb/table:Table":
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${n}`;
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return `arn:aws:s3:::${inputs.bucket ?? n}`;
    case "aws:secretsmanager/secret:Secret":
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-AbCdEf`;
    case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
      return `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${n}`;
    case "aws:apigateway/restApi:RestApi":
      return `arn:aws:apigateway:${REGION}::/restapis/${n}`;
    // --- jobs API and records gateway: the stage ARN that WAF associations take ---
    case "aws:apigateway/stage:Stage":
      return `arn:aws:apigateway:${REGION}::/restapis/${inputs.restApi}/stages/${inputs.stageName}`;
    default:
      return `arn:aws:mock:${REGION}:${ACCOUNT}:${type.split(":").pop()}/${n}`;
  }
}

/** Outputs that AWS computes, so that programs can use them under mocks. */
function computed(
  type: string,
  name: string,
  inputs: Record<string, any>,
  arn: string,
): Record<string, any> {
  const n = inputs.name ?? name;
  switch (type) {
    case "aws:sqs/queue:Queue":
      return { url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${n}` };
    case "aws:cloudwatch/eventConnection:EventConnection":
      return { secretArn: connectionSecretArn(n) };
    case "aws:lambda/function:Function":
      return {
        invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arn}/invocations`,
      };
    case "aws:lambda/functionUrl:FunctionUrl":
      return { functionUrl: `https://${name}.lambda-url.${REGION}.on.aws/` };
    case "aws:dynamodb/table:Table":
      return {
        streamArn: inputs.streamEnabled ? `${arn}/stream/2026-01-01T00:00:00.000` : undefined,
      };
    case "aws:apigateway/restApi:RestApi":
      return {
        rootResourceId: "root0000",
        executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${name}`,
      };
    case "aws:apigateway/stage:Stage":
      return {
        invokeUrl: `https://${inputs.restApi}.execute-api.${REGION}.amazonaws.com/${inputs.stageName}`,
        executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${inputs.restApi}/${inputs.stageName}`,
      };
    case "aws:apigateway/apiKey:ApiKey":
      return { value: `mock-key-value-${name}` };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return { bucket: inputs.bucket ?? n };
    default:
      return {};
  }
}

/** Every `pulumi.log.warn` message of this process, in order: tests that expect a warning read it. */
export const warnings: string[] = [];
let printingWarnings = true;
// Messages printed since the last evaluation began: each is printed once per evaluation.
const printedWarnings = new Set<string>();
const printWarning = pulumi.log.warn;
// The mocks have no engine: a warning is kept in `warnings` and printed (as Pulumi prints without
// an engine) the first time it is said in an evaluation, however often the program says it.
(pulumi.log as { warn: typeof pulumi.log.warn }).warn = (msg, ...rest) => {
  warnings.push(msg);
  if (!printingWarnings || printedWarnings.has(msg)) return Promise.resolve();
  printedWarnings.add(msg);
  return printWarning(msg, ...rest);
};

/** Whether warnings are printed as well as kept (tests keep them only). Default true. */
export function printWarnings(on: boolean): void {
  printingWarnings = on;
}

let installedStack: string | undefined;

/**
 * Installs the mocks (again when the stack changes). Call before importing anything that declares
 * resources.
 */
export function setupMocks(config: Record<string, string> = {}, stack = "dev"): void {
  // An evaluation begins: its warnings are printed again.
  printedWarnings.clear();
  if (installedStack !== stack) {
    pulumi.runtime.setMocks(
      {
        newResource(args: pulumi.runtime.MockResourceArgs) {
          const inputs = args.inputs as Record<string, any>;
          const id = `${args.name}-id`;
          const arn = arnFor(args.type, args.name, inputs);
          recorded.push({ type: args.type, name: args.name, inputs, urn: "" });
          return {
            id,
            state: {
              name: inputs.name ?? args.name,
              ...inputs,
              arn,
              id,
              ...computed(args.type, args.name, inputs, arn),
            },
          };
        },
        call(args: pulumi.runtime.MockCallArgs) {
          switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return {
                accountId: ACCOUNT,
                arn: `arn:aws:iam::${ACCOUNT}:user/test`,
                userId: "test",
                id: ACCOUNT,
              };
            case "aws:index/getRegion:getRegion":
              return { name: REGION, region: REGION, id: REGION, description: "mock" };
            case "aws:index/getPartition:getPartition":
              return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:iam/getPolicyDocument:getPolicyDocument":
              return {
                json: JSON.stringify({
                  Version: "2012-10-17",
                  Statement: args.inputs.statements ?? [],
                }),
              };
            default:
              throw new Error(`mocks: unexpected invoke ${args.token}`);
          }
        },
      },
      "switchyard",
      stack,
      true,
    );
    installedStack = stack;
  }
  setConfig(config);
}

/** Replaces the program's config (keys without the `switchyard:` prefix get it). */
export function setConfig(config: Record<string, string>): void {
  const full: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) full[k.includes(":") ? k : `switchyard:${k}`] = v;
  pulumi.runtime.setAllConfig(
    full,
    Object.keys(full).filter((k) => /Key$|Secret|Token/i.test(k)),
  );
}

/** Resolves an Output's value (mocks resolve every output, including those of preview). */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T> {
  return new Promise((resolve) =>
    pulumi.output(o as pulumi.Input<T>).apply((v) => resolve(v as T)),
  );
}

/** Recorded resources of a type, optionally filtered by logical name. */
export function ofType(type: string, name?: string | RegExp): Recorded[] {
  return recorded.filter(
    (r) =>
      r.type === type &&
      (name === undefined || (typeof name === "string" ? r.name === name : name.test(r.name))),
  );
}

/** The single recorded resource of a type and name; fails loudly when there is not exactly one. */
export function one(type: string, name: string | RegExp): Recorded {
  const found = ofType(type, name);
  if (found.length !== 1) {
    throw new Error(
      `expected exactly one ${type} named ${name}, found ${found.map((r) => r.name).join(", ") || "none"}`,
    );
  }
  return found[0];
}

/** Forgets every recorded resource (between programs evaluated in one process). */
export function resetRecorded(): void {
  recorded.length = 0;
}

/** Waits until every resource registration started so far has been recorded. */
export async function settle(): Promise<void> {
  // Let the constructors under way start their registrations, then wait for every one of them.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await (
    require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }
  ).waitForRPCs();
}

/**
 * Runs an evaluation of the program without capturing stack traces. Pulumi captures one for every
 * resource and output it creates, and under ts-node each is source-mapped: about a quarter of an
 * evaluation. Nothing reads them under mocks (a preview error is a ConfigError whose message names
 * the key and the fix), and the archives the program declares are byte-identical either way.
 * `Resource.callsites()` lifts the limit itself to record each resource's source position: those
 * traces are formatted by V8 without source maps (no `Error.prepareStackTrace`), about 90 ms of a
 * dev evaluation, since the mocks never read the positions. `pulumi preview` pays both.
 */
export async function withoutStackTraces<T>(evaluate: () => Promise<T>): Promise<T> {
  // Evaluations may overlap (the setting is the process's): the first to start saves what was
  // there, the last to end puts it back.
  if (evaluations++ === 0) outside = current();
  apply(OFF);
  try {
    return await evaluate();
  } finally {
    if (--evaluations === 0) apply(outside);
  }
}

/**
 * Runs `f` with the stack traces of outside every evaluation (frames, source-mapped), though an
 * evaluation is under way: work done meanwhile that is not the evaluation (`loadProgram`'s).
 */
export function withStackTraces<T>(f: () => T): T {
  if (evaluations === 0) return f();
  apply(outside);
  try {
    return f();
  } finally {
    if (evaluations > 0) apply(OFF);
  }
}

/**
 * Outside `withoutStackTraces` (the tests that construct components under the mocks themselves),
 * Pulumi still captures a stack for every promise it creates (`debuggablePromise`, read only to
 * report a promise leaked at exit), and under ts-node each is source-mapped: 6.5 of the 30 CPU
 * seconds of the component and handler tests, one process, measured with --cpu-prof. Those stacks
 * are formatted here as V8 formats frames, unmapped; every other error keeps ts-node's mapped
 * stack, so a failing assertion still points at the TypeScript line.
 */
export function unmappedPromiseStacks(): void {
  const mapped = Error.prepareStackTrace;
  if (!mapped || (mapped as { unmappedPromiseStacks?: boolean }).unmappedPromiseStacks) return;
  const prepare = (error: Error, frames: NodeJS.CallSite[]): unknown =>
    frames[0]?.getFunctionName() === "debuggablePromise"
      ? `${String(error)}${frames.map((f) => `\n    at ${String(f)}`).join("")}`
      : mapped(error, frames);
  Error.prepareStackTrace = Object.assign(prepare, { unmappedPromiseStacks: true });
}

/** How errors get their stack: how many frames, and who formats them (ts-node maps sources). */
interface StackTraces {
  limit: number;
  prepare: ErrorConstructor["prepareStackTrace"] | undefined;
}

const OFF: StackTraces = { limit: 0, prepare: undefined };
let evaluations = 0;
let outside: StackTraces = current();

function current(): StackTraces {
  return { limit: Error.stackTraceLimit, prepare: Error.prepareStackTrace };
}

function apply(t: StackTraces): void {
  Error.stackTraceLimit = t.limit;
  // Without a prepareStackTrace, V8 formats the frames itself.
  if (t.prepare) Error.prepareStackTrace = t.prepare;
  else delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
}
