// A child of `npm run bench` (bench/programEval.ts): evaluates one program under the shared Pulumi
// mocks, with stack traces off as `test/program.ts` evaluates, prints one line
// `EVALUATED {"ms":..,"resources":..,"functions":..}` and exits. `ms` is from this process's start
// (Node's time origin) to the evaluation done: what evaluating costs before any resource would be
// sent to the engine, the Node and ts-node start-up included.
//
//   ts-node --transpile-only bench/evalProgram.ts dev|prod|one-callback-function|one-switchyard-function
import { performance } from "perf_hooks";

process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
// test/setup loads lib/lazyArborist.ts before @pulumi/pulumi, as index.ts does first under `pulumi
// preview` (whose language host has not loaded @pulumi/pulumi's runtime index by then).
require("../test/setup");

/** The programs the bench evaluates: the stacks, and the one-function baselines. */
export const PROGRAMS = [
  "dev",
  "prod",
  "one-callback-function",
  "one-switchyard-function",
] as const;
export type ProgramName = (typeof PROGRAMS)[number];

/** A role ARN, as the style guide requires of every CallbackFunction (no managed policies). */
const ROLE = "arn:aws:iam::123456789012:role/bench-one";

async function evaluateOneFunction(kind: ProgramName): Promise<{ resources: unknown[] }> {
  const mocks = require("../test/mocks");
  mocks.setupMocks({}, "dev");
  await mocks.settle();
  mocks.resetRecorded();
  await mocks.withoutStackTraces(async () => {
    if (kind === "one-callback-function") {
      const aws = require("@pulumi/aws");
      // Default packaging: the serialized callback and every package of `dependencies`.
      new aws.lambda.CallbackFunction("bench-one", {
        role: ROLE,
        callback: async () => ({ ok: true }),
      });
    } else {
      const { SwitchyardFunction } = require("../components/lambda");
      new SwitchyardFunction("bench-one", {
        logRetentionDays: 1,
        grants: [],
        handler: { module: "bench/referenceHandlers", factory: "createEmpty" },
      });
    }
    await mocks.settle();
    await (
      require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }
    ).waitForRPCs();
  });
  return { resources: [...mocks.recorded] };
}

async function main(kind: string): Promise<void> {
  if (!(PROGRAMS as readonly string[]).includes(kind))
    throw new Error(`unknown program "${kind}"; one of ${PROGRAMS.join(", ")}`);
  const program =
    kind === "dev" || kind === "prod"
      ? await require("../test/program").evaluateProgram(kind)
      : await evaluateOneFunction(kind as ProgramName);
  const ms = performance.now();
  const resources = program.resources as Array<{ type: string }>;
  const functions = resources.filter((r) => r.type === "aws:lambda/function:Function").length;
  if (functions === 0) throw new Error(`the ${kind} program declared no function`);
  console.log(`EVALUATED ${JSON.stringify({ ms, resources: resources.length, functions })}`);
}

if (require.main === module) {
  main(process.argv[2] ?? "").then(
    () => process.exit(0),
    (e) => {
      console.error(`evaluating ${process.argv[2]} failed: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
