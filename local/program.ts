// Evaluates the Pulumi program (index.ts) in this process under mocks, for a stack, and returns
// what it declares: every resource with its resolved inputs, and each function's code archive.
// This is the local runtime's only source of truth about what exists.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { randomBytes } from "crypto";
import {
  recorded,
  resetRecorded,
  settle,
  setupMocks,
  withStackTraces,
  withoutStackTraces,
  Recorded,
} from "./mocks";
import { bundlerHasEntries, functionArchives } from "../components/lambda";
import { NAMESPACE } from "../config/kinds";
import { PREVIOUS_SECRET_SUFFIX, requiredSecrets } from "../config/keys";
import { readConfig } from "../config/read";
import { PROVIDER_MODULES } from "../handlers/webhooks/providers";
import { opaqueSecret } from "../handlers/webhooks/providers/module";
import { asLocalRun, LocalRun } from "../config/localRun";
import { allOrFirstFailure } from "./settled";
import { readSecrets, secretInFile } from "./secretsFile";

export const ROOT = path.join(__dirname, "..");
export const LOCAL_SECRETS_FILE = path.join(ROOT, ".switchyard", "secrets.json");

export interface DeclaredProgram {
  stack: string;
  config: Record<string, string>;
  resources: Recorded[];
  outputs: Record<string, unknown>;
  archives: typeof functionArchives;
  /** Secrets the runtime generated because none was given, by config key. */
  generatedSecrets: string[];
}

function generateSecret(key: string): string {
  // A webhook secret in its provider's format (its module knows it); an outbound subscription's
  // signing secret (outboundSecret<Name>) is a Standard Webhooks one; other secrets are opaque.
  const provider = key.startsWith("outboundSecret")
    ? PROVIDER_MODULES.find((m) => m.name === "standard")
    : PROVIDER_MODULES.find((m) => m.secret.key === key);
  return provider ? provider.secret.generate(randomBytes) : opaqueSecret(randomBytes);
}

/** A secret given in the environment: SWITCHYARD_<KEY> (e.g. SWITCHYARD_RECORDSAPIKEY). */
function envSecret(key: string): string | undefined {
  return process.env[`SWITCHYARD_${key.toUpperCase()}`];
}

/** A secret this machine has: SWITCHYARD_<KEY> in the environment, else .switchyard/secrets.json. */
function existingLocalSecret(key: string): string | undefined {
  const v = envSecret(key) ?? readSecrets(LOCAL_SECRETS_FILE)[key];
  return v === undefined ? undefined : String(v);
}

/**
 * A local secret: the SWITCHYARD_<KEY> environment variable (e.g. SWITCHYARD_RECORDSAPIKEY), else
 * the git-ignored .switchyard/secrets.json, else a random value that is written to that file so
 * later runs (and `npm run demo`) use the same one.
 */
export function localSecret(key: string): { value: string; generated: boolean } {
  const env = envSecret(key);
  if (env !== undefined) return { value: env, generated: false };
  return secretInFile(LOCAL_SECRETS_FILE, key, () => generateSecret(key));
}

export function readStackConfig(stack: string): Record<string, string> {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file))
    throw new Error(`no stack file ${file}: use --stack dev or --stack prod`);
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {}))
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

function evaluate(
  stack: string,
  config: Record<string, string>,
  run: LocalRun | undefined,
): Record<string, unknown> {
  setupMocks(config, stack);
  resetRecorded();
  functionArchives.clear();
  for (const m of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, m)];
  const load = () => require(path.join(ROOT, "index.ts"));
  return run ? asLocalRun(run, load) : load();
}

/**
 * The program of `stack` with its config, `overrides` and the secrets it needs. `run` (what the
 * local runtime serves: `npm start`) evaluates it as the local run (config/localRun.ts); without it
 * (the deploy rehearsal) it is evaluated as `pulumi up` would.
 */
export function loadProgram(
  stack: string,
  overrides: Record<string, string> = {},
  run?: LocalRun,
  meanwhile?: () => void,
): Promise<DeclaredProgram> {
  // `meanwhile` is not the evaluation: an error of its has its stack trace, source-mapped.
  const traced = meanwhile && (() => withStackTraces(meanwhile));
  return withoutStackTraces(() => evaluateWithSecrets(stack, overrides, run, traced));
}

async function evaluateWithSecrets(
  stack: string,
  overrides: Record<string, string>,
  run: LocalRun | undefined,
  meanwhile: (() => void) | undefined,
): Promise<DeclaredProgram> {
  const config: Record<string, string> = { ...readStackConfig(stack), ...overrides };
  // The stack's config says which secrets the program requires (config/keys.ts): each is given
  // before the program runs, so it is evaluated once. A bad value fails here as at preview.
  const read = () => readConfig((key) => config[`${NAMESPACE}:${key}`], stack);
  const values = run ? asLocalRun(run, read) : read();
  const generated: string[] = [];
  for (const { key } of requiredSecrets(values.webhookProviders)) {
    if (config[`${NAMESPACE}:${key}`] !== undefined) continue;
    const s = localSecret(key);
    config[`${NAMESPACE}:${key}`] = s.value;
    if (s.generated) generated.push(key);
  }
  // A webhook secret being rotated out (`<key>Previous`) is given when this machine has one.
  for (const { key, provider } of requiredSecrets(values.webhookProviders)) {
    const previous = `${key}${PREVIOUS_SECRET_SUFFIX}`;
    const v = provider ? existingLocalSecret(previous) : undefined;
    if (v !== undefined && config[`${NAMESPACE}:${previous}`] === undefined)
      config[`${NAMESPACE}:${previous}`] = v;
  }
  await settle();
  const outputs = evaluate(stack, config, run);
  // Functions register once their code is bundled: wait for every registration. esbuild bundles
  // them in its own process once it holds their entries (components/lambda.ts): `meanwhile`, the
  // caller's work that needs no program, runs then, in a wait this process would spend idle.
  const registered = settle().then(() =>
    (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs(),
  );
  // Both end before either's failure is reported: no registration is left running.
  await allOrFirstFailure([registered, meanwhile && bundlerHasEntries().then(meanwhile)]);
  return {
    stack,
    config,
    resources: [...recorded],
    outputs,
    archives: functionArchives,
    generatedSecrets: generated,
  };
}
