// Reads and validates the stack's `switchyard:` config. Every error names the key and the command
// that fixes it, so a bad value fails at preview, before anything is deployed.
import * as pulumi from "@pulumi/pulumi";
import { LOG_RETENTION_DAYS } from "./components/events/eventHub";

export const NAMESPACE = "switchyard";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A typed reader of one namespace, whose errors name `switchyard:<key>` and the fix. */
export class Settings {
  private readonly config: pulumi.Config;
  public readonly stack: string;

  constructor() {
    this.config = new pulumi.Config(NAMESPACE);
    this.stack = pulumi.getStack();
  }

  private fail(key: string, problem: string, example: string): never {
    throw new ConfigError(
      `${NAMESPACE}:${key} ${problem}. Fix it with: pulumi config set ${NAMESPACE}:${key} ${example} --stack ${this.stack}`,
    );
  }

  private raw(key: string): string | undefined {
    return this.config.get(key);
  }

  string(key: string, def: string, allowed?: readonly string[]): string {
    const v = this.raw(key) ?? def;
    if (allowed && !allowed.includes(v)) {
      this.fail(key, `must be one of ${allowed.join(", ")}, got "${v}"`, allowed[0]);
    }
    return v;
  }

  optionalString(key: string, pattern?: RegExp, example = "<value>"): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && pattern && !pattern.test(v)) {
      this.fail(key, `must match ${pattern}, got "${v}"`, example);
    }
    return v;
  }

  int(key: string, def: number, min: number, max: number): number {
    const s = this.raw(key);
    if (s === undefined) return def;
    const v = Number(s);
    if (!/^-?\d+$/.test(s.trim()) || v < min || v > max) {
      this.fail(key, `must be a whole number from ${min} to ${max}, got "${s}"`, String(def));
    }
    return v;
  }

  oneOf(key: string, def: number, allowed: readonly number[]): number {
    const s = this.raw(key);
    if (s === undefined) return def;
    const v = Number(s);
    if (!allowed.includes(v)) {
      this.fail(key, `must be one of ${allowed.join(", ")}, got "${s}"`, String(def));
    }
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const s = this.raw(key);
    if (s === undefined) return def;
    if (s !== "true" && s !== "false") this.fail(key, `must be true or false, got "${s}"`, String(def));
    return s === "true";
  }

  /** A JSON list of strings, each matching `item` when given. */
  stringList(key: string, def: string[], item?: RegExp, example = '\'["a","b"]\''): string[] {
    const s = this.raw(key);
    if (s === undefined) return def;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      this.fail(key, `must be a JSON list of strings, got "${s}"`, example);
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || (item && !item.test(x)))) {
      this.fail(key, `must be a JSON list of strings${item ? ` matching ${item}` : ""}, got ${s}`, example);
    }
    return v as string[];
  }

  /** A JSON object, checked by `check` (which throws a message without the key). */
  json<T>(key: string, def: T, check: (v: unknown) => T, example: string): T {
    const s = this.raw(key);
    if (s === undefined) return def;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      this.fail(key, `must be JSON, got "${s}"`, example);
    }
    try {
      return check(v);
    } catch (e) {
      this.fail(key, (e as Error).message, example);
    }
  }

  url(key: string, def?: string): string {
    const v = this.raw(key) ?? def;
    if (v === undefined) this.fail(key, "is not set", "https://records.example.com");
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== "https:" || v.endsWith("/")) {
      this.fail(key, `must be an https:// URL without a trailing slash, got "${v}"`, "https://records.example.com");
    }
    return v;
  }

  /** A secret that must be set; the error says the exact `--secret` command. */
  secret(key: string, what: string): pulumi.Output<string> {
    const v = this.config.getSecret(key);
    if (v === undefined) {
      throw new ConfigError(
        `Missing secret ${NAMESPACE}:${key} (${what}) for stack ${this.stack}. Set it with: pulumi config set --secret ${NAMESPACE}:${key} <value> --stack ${this.stack}`,
      );
    }
    return v;
  }

  /** A secret that may be absent. */
  optionalSecret(key: string): pulumi.Output<string> | undefined {
    return this.config.getSecret(key);
  }
}


/** Everything index.ts composes, read from the stack's config. */
export function loadConfig() {
  const s = new Settings();
  return {
    stack: s.stack,
    /** Name of the bus and prefix of every resource. */
    hubName: s.optionalString("hubName", /^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/, "switchyard") ?? "switchyard",
    /** Removal protection on stateful resources (bus, archive, queues, tables). */
    protect: s.bool("protect", false),
    archiveRetentionDays: s.int("archiveRetentionDays", 30, 0, 3650),
    dlqRetentionSeconds: s.int("dlqRetentionSeconds", 1209600, 60, 1209600),
    logRetentionDays: s.oneOf("logRetentionDays", 30, LOG_RETENTION_DAYS),
    debugRoute: s.bool("debugRoute", false),
    schemaDiscovery: s.bool("schemaDiscovery", false),
    publisherAccountIds: s.stringList("publisherAccountIds", [], /^\d{12}$/, "'[\"111122223333\"]'"),
    publisherOrganizationId: s.optionalString("publisherOrganizationId", /^o-[a-z0-9]{10,32}$/, "o-abc123defg"),
    records: {
      apiEndpoint: s.url("recordsApiEndpoint"),
      apiKey: s.secret("recordsApiKey", "the records API key, sent as X-API-Key"),
      rateLimitPerSecond: s.int("recordsRateLimitPerSecond", 300, 1, 300),
      sources: s.stringList("recordsSources", ["switchyard.records"]),
      detailTypes: s.stringList("recordsDetailTypes", ["RecordCreated", "RecordUpdated"]),
    },
    settings: s,
  };
}

export type SwitchyardConfig = ReturnType<typeof loadConfig>;
