// Evaluates the whole Pulumi program (index.ts) for a stack under the shared mocks, with the
// stack's committed Pulumi.<stack>.yaml config plus the secrets a user would set.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { PROVIDER_MODULES } from "../handlers/webhooks/providers";
import { recorded, resetRecorded, settle, setupMocks, withoutStackTraces, Recorded } from "./mocks";

const ROOT = path.join(__dirname, "..");

/** The secrets a user sets with `pulumi config set --secret` (test values). */
export const TEST_SECRETS: Record<string, string> = {
  "switchyard:recordsApiKey": "test-records-api-key",
  // every webhook provider's signing secret: the valid example its module declares
  ...Object.fromEntries(
    PROVIDER_MODULES.map((m) => [`switchyard:${m.secret.key}`, m.secret.example]),
  ),
};

/** The `config:` map of Pulumi.<stack>.yaml, as strings the way the CLI passes them. */
export function stackConfig(stack: string): Record<string, string> {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

export interface Program {
  exports: Record<string, any>;
  resources: Recorded[];
}

// Evaluating the whole program serializes every function (seconds each), so a stack evaluated
// with its committed config is evaluated once per test process and shared.
const committed = new Map<string, Program>();

/**
 * Loads index.ts for `stack`; `overrides` replace or (with undefined) remove keys. Without
 * overrides the stack's evaluation is shared between callers, and the mocks' record of resources
 * is set back to it, so `one`/`ofType` see that program.
 */
export async function evaluateProgram(
  stack: string,
  overrides: Record<string, string | undefined> = {},
): Promise<Program> {
  const shared = Object.keys(overrides).length === 0;
  const cached = shared ? committed.get(stack) : undefined;
  if (cached) {
    await settle();
    resetRecorded();
    recorded.push(...cached.resources);
    return cached;
  }
  const program = await evaluateFresh(stack, overrides);
  if (shared) committed.set(stack, program);
  return program;
}

async function evaluateFresh(
  stack: string,
  overrides: Record<string, string | undefined>,
): Promise<Program> {
  return withoutStackTraces(() => evaluateUnder(stack, overrides));
}

async function evaluateUnder(
  stack: string,
  overrides: Record<string, string | undefined>,
): Promise<Program> {
  const config: Record<string, string> = { ...stackConfig(stack), ...TEST_SECRETS };
  for (const [k, v] of Object.entries(overrides)) {
    const key = k.includes(":") ? k : `switchyard:${k}`;
    if (v === undefined) delete config[key];
    else config[key] = v;
  }
  setupMocks(config, stack);
  await settle();
  resetRecorded();
  for (const m of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, m)];
  const outputs = require(path.join(ROOT, "index.ts"));
  await settle();
  // functions register only once their closure is serialized, which takes longer the more
  // functions the program declares; wait until every pending registration has reached the mocks.
  await (
    require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }
  ).waitForRPCs();
  return { exports: outputs, resources: [...recorded] };
}
