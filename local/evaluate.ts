// Evaluates the whole Pulumi program (index.ts) for a stack under the shared mocks (local/mocks.ts),
// with the stack's committed Pulumi.<stack>.yaml config plus the secrets a user would set, and
// returns what it declares. Shared by the tests, `npm run cost` and `npm run bench`; a stack
// evaluated with its committed config is evaluated once per process.
import { createHash } from "crypto";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { requiredSecrets } from "../config/keys";
import { NAMESPACE } from "../config/kinds";
import { readConfig } from "../config/read";
import type * as pulumi from "@pulumi/pulumi";
import { recorded, resetRecorded, settle, setupMocks, withoutStackTraces, Recorded } from "./mocks";

const ROOT = path.join(__dirname, "..");

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

/**
 * A placeholder for each secret `config` (default: the stack's committed config) requires
 * (config/keys.ts `requiredSecrets`), of the form `npm start` generates (a `whsec_` base64 key for
 * Standard Webhooks, an opaque value otherwise) but derived from the key, so an evaluation that
 * only reads what the program declares (`npm run cost`) neither needs real secrets nor writes any.
 */
export function placeholderSecrets(
  stack: string,
  config: Record<string, string> = stackConfig(stack),
): Record<string, string> {
  const values = readConfig((key) => config[`${NAMESPACE}:${key}`], stack);
  const out: Record<string, string> = {};
  for (const { key } of requiredSecrets(values.webhookProviders)) {
    const digest = createHash("sha256").update(`switchyard placeholder ${key}`).digest();
    out[`${NAMESPACE}:${key}`] = /standard/i.test(key)
      ? `whsec_${digest.subarray(0, 24).toString("base64")}`
      : `local-${digest.subarray(0, 16).toString("hex")}`;
  }
  return out;
}

/**
 * The config the program of `stack` is evaluated with: Pulumi.<stack>.yaml, `secrets`, then
 * `overrides` (undefined removes a key; keys without a namespace are `switchyard:` ones).
 */
export function programConfig(
  stack: string,
  secrets: Record<string, string>,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const config: Record<string, string> = { ...stackConfig(stack), ...secrets };
  for (const [k, v] of Object.entries(overrides)) {
    const key = k.includes(":") ? k : `${NAMESPACE}:${k}`;
    if (v === undefined) delete config[key];
    else config[key] = v;
  }
  return config;
}

/** components/lambda.ts's archives, loaded once the mocks are set (it imports @pulumi/aws). */
function declaredArchives(): Map<string, pulumi.asset.AssetArchive> {
  return (require("../components/lambda") as typeof import("../components/lambda"))
    .functionArchives;
}

export interface Program {
  exports: Record<string, any>;
  resources: Recorded[];
  /** Each declared function's code archive, by name (as `functionArchives` held it). */
  archives: Map<string, pulumi.asset.AssetArchive>;
}

// Evaluating the whole program bundles every function (a second or two in all), so a stack evaluated
// with its committed config (and the same secrets) is evaluated once per process and shared.
const committed = new Map<string, Program>();

/**
 * Loads index.ts for `stack` with `secrets` (default: placeholderSecrets); `overrides` replace or (with
 * undefined) remove keys. Without overrides the stack's evaluation is shared between callers, and
 * the mocks' record of resources is set back to it, so `one`/`ofType` see that program.
 */
export async function evaluateProgram(
  stack: string,
  overrides: Record<string, string | undefined> = {},
  secrets: Record<string, string> = placeholderSecrets(stack, programConfig(stack, {}, overrides)),
): Promise<Program> {
  const shared = Object.keys(overrides).length === 0;
  const key = `${stack} ${JSON.stringify(Object.entries(secrets).sort())}`;
  const cached = shared ? committed.get(key) : undefined;
  if (cached) {
    await settle();
    resetRecorded();
    recorded.push(...cached.resources);
    // The local runtime clears functionArchives when it loads a program: put this one's back.
    for (const [name, archive] of cached.archives) declaredArchives().set(name, archive);
    return cached;
  }
  const program = await withoutStackTraces(() =>
    evaluateUnder(stack, programConfig(stack, secrets, overrides)),
  );
  if (shared) committed.set(key, program);
  return program;
}

async function evaluateUnder(stack: string, config: Record<string, string>): Promise<Program> {
  setupMocks(config, stack);
  await settle();
  resetRecorded();
  for (const m of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, m)];
  const outputs = require(path.join(ROOT, "index.ts"));
  await settle();
  // A function registers once its code is bundled (asynchronously, esbuild): wait until every
  // pending registration has reached the mocks.
  await (
    require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }
  ).waitForRPCs();
  const functions = new Set(
    recorded.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name),
  );
  const archives = new Map([...declaredArchives()].filter(([name]) => functions.has(name)));
  return { exports: outputs, resources: [...recorded], archives };
}
