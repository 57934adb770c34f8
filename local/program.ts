// Evaluates the Pulumi program (index.ts) in this process under mocks, for a stack, and returns
// what it declares: every resource with its resolved inputs, and each function's code archive.
// This is the local runtime's only source of truth about what exists.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { randomBytes } from "crypto";
import { recorded, resetRecorded, settle, setupMocks, Recorded } from "../test/mocks";
import { functionArchives } from "../components/lambda";

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

/** Secret config keys of the program: every key the program reads with getSecret. */
function secretKeysRead(): Set<string> {
  const keys = new Set<string>();
  for (const file of ["config.ts", "index.ts"]) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const m of text.matchAll(/\.(?:secret|optionalSecret)\(\s*"([A-Za-z0-9]+)"/g)) keys.add(m[1]);
  }
  return keys;
}

/**
 * Local secrets: SWITCHYARD_<KEY> environment variables (e.g. SWITCHYARD_RECORDSAPIKEY), then the
 * git-ignored .switchyard/secrets.json; required secrets still missing get a random local value.
 */
export function localSecrets(stack: string, stackConfig: Record<string, string>): { values: Record<string, string>; generated: string[] } {
  const file = fs.existsSync(LOCAL_SECRETS_FILE) ? JSON.parse(fs.readFileSync(LOCAL_SECRETS_FILE, "utf8")) : {};
  const values: Record<string, string> = {};
  const generated: string[] = [];
  for (const key of secretKeysRead()) {
    const full = `switchyard:${key}`;
    const v = process.env[`SWITCHYARD_${key.toUpperCase()}`] ?? file[key] ?? file[full];
    if (v !== undefined) values[full] = String(v);
    else if (!(full in stackConfig) && !/Previous$/.test(key)) {
      values[full] = key === "standardWebhookSecret" ? `whsec_${randomBytes(24).toString("base64")}` : `local-${randomBytes(16).toString("hex")}`;
      generated.push(key);
    }
  }
  void stack;
  return { values, generated };
}

export function readStackConfig(stack: string): Record<string, string> {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}: use --stack dev or --stack prod`);
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

export async function loadProgram(stack: string, overrides: Record<string, string> = {}): Promise<DeclaredProgram> {
  const stackConfig = { ...readStackConfig(stack), ...overrides };
  const secrets = localSecrets(stack, stackConfig);
  const config = { ...stackConfig, ...secrets.values };
  setupMocks(config, stack);
  await settle();
  resetRecorded();
  functionArchives.clear();
  for (const m of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, m)];
  const outputs = require(path.join(ROOT, "index.ts"));
  // Serializing functions is asynchronous: wait until registrations stop arriving.
  for (let last = -1, stable = 0; stable < 3; ) {
    await settle();
    await new Promise((r) => setTimeout(r, 100));
    stable = recorded.length === last ? stable + 1 : 0;
    last = recorded.length;
  }
  return { stack, config, resources: [...recorded], outputs, archives: functionArchives, generatedSecrets: secrets.generated };
}
