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

/** The secrets in `file` (none when it does not exist); a file that is not a JSON object fails. */
export function readSecrets(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const text = fs.readFileSync(file, "utf8");
  const shown = path.relative(process.cwd(), file) || file;
  const fix = "fix it, or delete it and the run generates new local secrets";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${shown} is not valid JSON (${(e as Error).message}): ${fix}`, { cause: e });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error(`${shown} must hold a JSON object of secrets by config key: ${fix}`);
  return parsed as Record<string, string>;
}

/**
 * Writes `secrets` to `file` (mode 0600) all at once: into a file of its own beside it, then
 * renamed over it, so that another process reading it at the same time (parallel test workers, two
 * runs started together on a fresh clone) sees the old content or the new, never a part of it.
 * `rename(2)` replaces the file atomically on the same filesystem; no library needed for that.
 */
export function writeSecrets(file: string, secrets: Record<string, string>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.writeFileSync(partial, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
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

/**
 * The secret `key` of `file`, else one made by `generate` and added to the file. Processes that
 * start together on a fresh clone (parallel test workers, two runs) each find the keys missing:
 * the file is read again and written under a lock, so that every process ends up with the value
 * the file keeps, and none overwrites a key another has just added.
 */
export function secretInFile(
  file: string,
  key: string,
  generate: () => string,
): { value: string; generated: boolean } {
  const known = readSecrets(file)[key];
  if (known !== undefined) return { value: String(known), generated: false };
  return underLock(`${file}.lock`, () => {
    const current = readSecrets(file);
    if (current[key] !== undefined) return { value: String(current[key]), generated: false };
    const value = generate();
    writeSecrets(file, { ...current, [key]: value });
    return { value, generated: true };
  });
}

/** A lock older than this was left by a process that ended inside it (it holds it for a few ms). */
const STALE_LOCK_MS = 10_000;

/**
 * Runs `f` holding the lock file `lock`, created exclusively (O_EXCL): another process waits for
 * it. Synchronous, as its callers are: the lock libraries on npm lock asynchronously, or not at
 * all when synchronous (proper-lockfile's lockSync does not retry).
 */
function underLock<T>(lock: string, f: () => T): T {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const age =
        Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new Error(`${lock} is held by another run: delete it if no run is starting`, {
          cause: e,
        });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
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
