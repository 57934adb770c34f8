// Reads and validates the stack's `switchyard:` config. Every error names the key and the command
// that fixes it, so a bad value fails at preview, before anything is deployed.
import * as pulumi from "@pulumi/pulumi";
import { LOG_RETENTION_DAYS } from "./components/events/eventHub";
import { CLIENT_INIT_MODES, ClientInit } from "./components/lambda";
// --- jobs API and records gateway ---
import {
  parseConsumerList,
  parseConsumers,
  parseTier,
  parseTiers,
  UsageTier,
} from "./components/apigw/spec";
import { JOBS_AUTH_MODES, JobsAuth } from "./components/jobs/jobsSpec";
import { gatewayRoutes } from "./components/records/gatewaySpec";
// --- webhook receivers ---
import { HMAC_SIGNED_CONTENTS, HmacSignedContent } from "./handlers/webhooks/hmac";
import { isProvider, Provider, PROVIDERS } from "./handlers/webhooks/providers";
import { parseCidr } from "./handlers/webhooks/sourceIp";
import { minimumIdempotencyTtl } from "./components/webhooks/webhookReceiver";
import { eventSource } from "./handlers/webhooks/receiver";
// --- record verification workflow ---
import {
  EXPRESS_MAX_PLANNED_WAIT_SECONDS,
  LOG_LEVELS,
  LogLevel,
  WORKFLOW_TYPES,
  WorkflowType,
} from "./components/records/verificationWorkflow";
import {
  DEFAULT_VERIFICATION_DETAIL_TYPES,
  plannedWaitSeconds,
  WEBHOOK_REQUEST_PROVIDERS,
  WebhookRequestProvider,
} from "./components/records/verificationDefinition";
// --- tenant change publishing, tenant ingress, record ingestion ---
import { Tenants, validateTenants } from "./components/tenants/tenantRules";
import { RecordStreamSource, resolveStreamSource } from "./components/records/recordIngestion";

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

  /** A decimal number in (`above`, `max`] such as 0.5: digits and an optional fraction, no sign or exponent. */
  decimal(key: string, def: number, above: number, max: number): number {
    const s = this.raw(key);
    if (s === undefined) return def;
    const v = Number(s.trim());
    if (!/^\d+(\.\d+)?$/.test(s.trim()) || !(v > above && v <= max)) {
      this.fail(
        key,
        `must be a number above ${above} and at most ${max} (decimals allowed, such as 0.5), got "${s}"`,
        String(def),
      );
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
    if (s !== "true" && s !== "false")
      this.fail(key, `must be true or false, got "${s}"`, String(def));
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
      this.fail(
        key,
        `must be a JSON list of strings${item ? ` matching ${item}` : ""}, got ${s}`,
        example,
      );
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
      this.fail(
        key,
        `must be an https:// URL without a trailing slash, got "${v}"`,
        "https://records.example.com",
      );
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

// --- record verification workflow ---
/** The verification workflow's keys; an EXPRESS workflow's waits must fit its 5-minute limit. */
function verificationConfig(s: Settings, enabledProviders: Provider[]) {
  const v = {
    workflowType: s.string("verificationWorkflowType", "STANDARD", WORKFLOW_TYPES) as WorkflowType,
    logLevel: s.string("verificationLogLevel", "ERROR", LOG_LEVELS) as LogLevel,
    includeExecutionData: s.bool("verificationLogExecutionData", false),
    anchorWaitSeconds: s.int("verificationAnchorWaitSeconds", 90, 0, 86400),
    retryWaitSeconds: s.int("verificationRetryWaitSeconds", 30, 0, 86400),
    maxVerifyAttempts: s.int("verificationMaxAttempts", 5, 1, 100),
    sources: s.stringList("verificationSources", ["switchyard.records"]),
    detailTypes: s.stringList("verificationDetailTypes", DEFAULT_VERIFICATION_DETAIL_TYPES),
    // Only senders that choose their body can send a verification request.
    webhookProviders: s.stringList(
      "verificationWebhookProviders",
      [],
      new RegExp(`^(${WEBHOOK_REQUEST_PROVIDERS.join("|")})$`),
      "'[\"hmac\"]'",
    ) as WebhookRequestProvider[],
  };
  const twice = v.webhookProviders.map(eventSource).filter((src) => v.sources.includes(src));
  if (twice.length > 0) {
    throw new ConfigError(
      `${NAMESPACE}:verificationSources names ${twice.join(", ")}, whose requests ${NAMESPACE}:verificationWebhookProviders already routes to the workflow (each event would start two executions). Fix it with: pulumi config set ${NAMESPACE}:verificationSources '${JSON.stringify(v.sources.filter((x) => !twice.includes(x)))}' --stack ${s.stack}`,
    );
  }
  const disabled = v.webhookProviders.filter((p) => !enabledProviders.includes(p));
  if (disabled.length > 0) {
    throw new ConfigError(
      `${NAMESPACE}:verificationWebhookProviders names ${disabled.join(", ")}, not in ${NAMESPACE}:webhookProviders (${JSON.stringify(enabledProviders)}): no receiver would deliver those requests. Fix it with: pulumi config set ${NAMESPACE}:verificationWebhookProviders '${JSON.stringify(v.webhookProviders.filter((p) => enabledProviders.includes(p)))}' --stack ${s.stack} (or enable the provider in webhookProviders)`,
    );
  }
  const planned = plannedWaitSeconds(v);
  if (v.workflowType === "EXPRESS" && planned > EXPRESS_MAX_PLANNED_WAIT_SECONDS) {
    throw new ConfigError(
      `${NAMESPACE}:verificationWorkflowType is EXPRESS (at most 5 minutes per execution), but verificationAnchorWaitSeconds + (verificationMaxAttempts - 1) * verificationRetryWaitSeconds is ${planned} s, more than ${EXPRESS_MAX_PLANNED_WAIT_SECONDS} s. Fix it with: pulumi config set ${NAMESPACE}:verificationWorkflowType STANDARD --stack ${s.stack} (or shorten the waits)`,
    );
  }
  return v;
}

// --- tenant change publishing, tenant ingress, record ingestion ---
/** Tenants (ingress, change rules), the stream mappings' bounds, and the record ingestion sources. */
function tenantsConfig(s: Settings) {
  return {
    tenants: s.json<Tenants>(
      "tenants",
      {},
      validateTenants,
      `'{"acme":{"ingressEnabled":true,"rules":[{"schemaNames":["invoice"]}]}}'`,
    ),
    streamMaxRetryAttempts: s.int("streamMaxRetryAttempts", 5, 0, 10000),
    streamMaxRecordAgeSeconds: s.int("streamMaxRecordAgeSeconds", 86400, 60, 604800),
    ingestionPrefix:
      // eslint-disable-next-line no-control-regex -- S3 keys may not hold control characters
      s.optionalString("ingestionPrefix", /^(?!\/)[^\u0000-\u001f]{0,512}$/, "incoming/") ??
      "incoming/",
    recordsStreamSource: s.json<RecordStreamSource | undefined>(
      "recordsStreamSource",
      undefined,
      (v) => {
        if (typeof v !== "object" || v === null || Array.isArray(v))
          throw new Error("must be a JSON object");
        return resolveStreamSource(v as RecordStreamSource);
      },
      `'{"tableArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/orders","streamArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2026-01-01T00:00:00.000"}'`,
    ),
  };
}

// --- alarms and dashboard ---
/** Where alarms notify and when they fire (switchyard:ops:Monitoring thresholds). */
function monitoringConfig(s: Settings) {
  const alarmEmail = s.optionalString(
    "alarmEmail",
    /^[^@\s"]+@[^@\s"]+\.[^@\s"]+$/,
    "ops@example.com",
  );
  if (alarmEmail === undefined) {
    // Not an error (a new stack may not have an on-call address yet), but said at every preview.
    void pulumi.log.warn(
      `${NAMESPACE}:alarmEmail is not set: the alarms of stack ${s.stack} notify a topic (alarmTopicArn) without an email subscription, so nobody receives them unless you subscribed the topic yourself. Set it with: pulumi config set ${NAMESPACE}:alarmEmail <address> --stack ${s.stack}`,
    );
  }
  return {
    alarmEmail,
    lambdaErrors: s.int("alarmLambdaErrorThreshold", 1, 1, 1000000),
    api5xxRatePercent: s.decimal("alarmApi5xxRatePercent", 1, 0, 100),
    apiLatencyP99Ms: s.int("alarmApiLatencyP99Ms", 3000, 100, 60000),
    webhookRejectionsPerMinute: s.int("alarmWebhookRejectionsPerMinute", 20, 1, 1000000),
    asyncEventAgeSeconds: s.int("alarmAsyncEventAgeSeconds", 300, 60, 21600),
  };
}

// --- webhook receivers ---
/** Each provider's secret config key (its `...Previous` twin holds the secret being rotated out). */
export const WEBHOOK_SECRET_KEYS: Record<Provider, { key: string; what: string }> = {
  github: { key: "githubWebhookSecret", what: "the GitHub webhook secret" },
  twilio: { key: "twilioAuthToken", what: "the Twilio auth token that signs webhooks" },
  stripe: { key: "stripeWebhookSecret", what: "the Stripe endpoint signing secret, whsec_..." },
  standard: { key: "standardWebhookSecret", what: "the Standard Webhooks secret, whsec_<base64>" },
  hmac: { key: "hmacWebhookSecret", what: "the generic HMAC webhook key" },
};

/** `switchyard:webhookAllowedCidrs`: per enabled provider, a non-empty list of CIDR blocks. */
function checkAllowedCidrs(v: unknown, enabled: Provider[]): Partial<Record<Provider, string[]>> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error("must be a JSON object of provider name to a list of CIDR blocks");
  }
  for (const [p, list] of Object.entries(v)) {
    if (!isProvider(p)) throw new Error(`names "${p}", not one of ${PROVIDERS.join(", ")}`);
    if (!enabled.includes(p))
      throw new Error(`names ${p}, which is not in ${NAMESPACE}:webhookProviders`);
    if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== "string")) {
      throw new Error(
        `${p} must be a non-empty list of CIDR strings (omit the provider to allow any address)`,
      );
    }
    for (const c of list) parseCidr(c);
  }
  return v as Partial<Record<Provider, string[]>>;
}

/** The enabled webhook providers. */
function webhooksEnabled(s: Settings): Provider[] {
  return s.stringList(
    "webhookProviders",
    [],
    new RegExp(`^(${PROVIDERS.join("|")})$`),
    '\'["github","stripe"]\'',
  ) as Provider[];
}

/** Enabled webhook providers, their secrets (required for each enabled one) and the receivers' limits. */
function webhooksConfig(s: Settings) {
  const enabled = webhooksEnabled(s);
  const reserved = s.optionalString("webhookReservedConcurrency", /^([1-9]\d{0,2}|1000)$/, "10");
  const twilioPublicUrl = s.optionalString(
    "twilioPublicUrl",
    /^https:\/\/[^\s?#]+$/,
    "https://hooks.example.com/twilio",
  );
  const allowedCidrs = s.json<Partial<Record<Provider, string[]>>>(
    "webhookAllowedCidrs",
    {},
    (v) => checkAllowedCidrs(v, enabled),
    '\'{"github":["192.30.252.0/22","185.199.108.0/22","140.82.112.0/20","143.55.64.0/20"]}\'',
  );
  const hmacSignedContent = s.string(
    "hmacWebhookSignedContent",
    "headers",
    HMAC_SIGNED_CONTENTS,
  ) as HmacSignedContent;
  const providers: Partial<
    Record<
      Provider,
      {
        secret: pulumi.Output<string>;
        previousSecret?: pulumi.Output<string>;
        publicUrl?: string;
        allowedCidrs?: string[];
        signedContent?: HmacSignedContent;
      }
    >
  > = {};
  for (const p of [...new Set(enabled)]) {
    const { key, what } = WEBHOOK_SECRET_KEYS[p];
    providers[p] = {
      secret: s.secret(key, what),
      previousSecret: s.optionalSecret(`${key}Previous`),
      ...(p === "twilio" && twilioPublicUrl ? { publicUrl: twilioPublicUrl } : {}),
      ...(allowedCidrs[p] ? { allowedCidrs: allowedCidrs[p] } : {}),
      ...(p === "hmac" ? { signedContent: hmacSignedContent } : {}),
    };
  }
  const toleranceSeconds = s.int("webhookToleranceSeconds", 300, 1, 3600);
  const idempotencyTtlSeconds = s.int("webhookIdempotencyTtlSeconds", 259200, 300, 2592000);
  const minTtl = minimumIdempotencyTtl(toleranceSeconds);
  if (idempotencyTtlSeconds < minTtl) {
    throw new ConfigError(
      `${NAMESPACE}:webhookIdempotencyTtlSeconds (${idempotencyTtlSeconds}) must be at least twice ${NAMESPACE}:webhookToleranceSeconds (${toleranceSeconds}): a delivery signed ${toleranceSeconds} s ahead verifies for ${minTtl} s, and its idempotency record must live as long or it can be replayed. Fix it with: pulumi config set ${NAMESPACE}:webhookIdempotencyTtlSeconds ${Math.max(minTtl, 300)} --stack ${s.stack} (or lower ${NAMESPACE}:webhookToleranceSeconds)`,
    );
  }
  return {
    providers,
    toleranceSeconds,
    maxEntryBytes: s.int("webhookMaxEntryBytes", 262144, 1024, 1048576),
    payloadStorage: s.bool("webhookPayloadStorage", true),
    payloadRetentionDays: s.int("webhookPayloadRetentionDays", 30, 1, 3650),
    idempotencyTtlSeconds,
    reservedConcurrency: reserved === undefined ? undefined : Number(reserved),
    timeoutSeconds: s.int("webhookTimeoutSeconds", 8, 1, 900),
  };
}

// --- jobs API and records gateway ---
/** Default usage plan tiers of the records gateway. */
export const DEFAULT_GATEWAY_TIERS: Record<string, UsageTier> = {
  standard: { rateLimit: 100, burstLimit: 200, quota: 1000000, period: "MONTH" },
  partner: { rateLimit: 500, burstLimit: 1000, quota: 20000000, period: "MONTH" },
};

/** The jobs API (auth mode, JWT, API keys, throttling, TTL, WAF) and the records gateway (tiers, consumers). */
function apisConfig(s: Settings) {
  const fail = (key: string, problem: string, example: string): never => {
    throw new ConfigError(
      `${NAMESPACE}:${key} ${problem}. Fix it with: pulumi config set ${NAMESPACE}:${key} ${example} --stack ${s.stack}`,
    );
  };
  const auth = s.string("jobsAuth", "iam", JOBS_AUTH_MODES) as JobsAuth;
  let jwt:
    { issuer: string; audience: string; jwksUrl: string; resultTtlSeconds: number } | undefined;
  const issuer = s.optionalString("jobsJwtIssuer");
  const audience = s.optionalString("jobsJwtAudience");
  const jwksUrl = s.optionalString(
    "jobsJwtJwksUrl",
    /^https:\/\/[^\s]+$/,
    "https://id.example.com/.well-known/jwks.json",
  );
  const resultTtlSeconds = s.int("jobsJwtCacheSeconds", 300, 0, 3600);
  if (auth === "jwt") {
    if (!issuer) fail("jobsJwtIssuer", 'is not set (jobsAuth is "jwt")', "https://id.example.com/");
    if (!audience) fail("jobsJwtAudience", 'is not set (jobsAuth is "jwt")', "switchyard-jobs");
    if (!jwksUrl)
      fail(
        "jobsJwtJwksUrl",
        'is not set (jobsAuth is "jwt")',
        "https://id.example.com/.well-known/jwks.json",
      );
    jwt = { issuer: issuer!, audience: audience!, jwksUrl: jwksUrl!, resultTtlSeconds };
  }
  const callerPrincipals = s.stringList(
    "jobsCallerPrincipals",
    [],
    /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+)$/,
    "'[\"arn:aws:iam::111122223333:role/ci\"]'",
  );
  const wafRateLimit = s.int("jobsWafRateLimit", 0, 0, 2000000000);
  if (wafRateLimit > 0 && wafRateLimit < 10) {
    fail(
      "jobsWafRateLimit",
      `must be 0 (no WAF) or from 10 (AWS WAF's lowest rate limit), got "${wafRateLimit}"`,
      "2000",
    );
  }
  const tiers = s.json(
    "recordsGatewayTiers",
    DEFAULT_GATEWAY_TIERS,
    parseTiers,
    `'{"standard":{"rateLimit":100,"burstLimit":200,"quota":1000000,"period":"MONTH"}}'`,
  );
  return {
    jobs: {
      auth,
      jwt,
      callerPrincipals:
        auth === "iam" && callerPrincipals.length > 0 ? callerPrincipals : undefined,
      apiKeyConsumers: s.json(
        "jobsApiKeyConsumers",
        ["default"],
        parseConsumerList,
        '\'["ops","batch"]\'',
      ),
      apiKeyTier: s.json<UsageTier>(
        "jobsApiKeyTier",
        { rateLimit: 50, burstLimit: 100 },
        (v) => parseTier("jobsApiKeyTier", v),
        `'{"rateLimit":50,"burstLimit":100,"quota":100000,"period":"DAY"}'`,
      ),
      throttle: {
        rateLimit: s.int("jobsRateLimit", 100, 1, 10000),
        burstLimit: s.int("jobsBurstLimit", 200, 1, 5000),
      },
      jobTtlDays: s.int("jobsTtlDays", 7, 1, 365),
      pointInTimeRecovery: s.bool("jobsPointInTimeRecovery", false),
      processorRetryAttempts: s.int("jobsRetryAttempts", 2, 0, 2),
      wafRateLimit: wafRateLimit === 0 ? undefined : wafRateLimit,
    },
    gateway: {
      tiers,
      consumers: s.json<Record<string, string>>(
        "recordsGatewayConsumers",
        {},
        (v) => parseConsumers(v, Object.keys(tiers)),
        `'{"acme":"standard"}'`,
      ),
      extraRoutes: s.json<string[]>(
        "recordsGatewayRoutes",
        [],
        (v) => {
          if (!Array.isArray(v) || v.some((r) => typeof r !== "string"))
            throw new Error('must be a JSON list such as ["POST /records/batch"]');
          gatewayRoutes(v as string[]);
          return v as string[];
        },
        `'["POST /records/batch"]'`,
      ),
      throttle: {
        rateLimit: s.int("recordsGatewayRateLimit", 300, 1, 10000),
        burstLimit: s.int("recordsGatewayBurstLimit", 600, 1, 5000),
      },
      authorizerCacheSeconds: s.int("recordsGatewayAuthorizerCacheSeconds", 300, 0, 3600),
    },
    xrayTracing: s.bool("apiXrayTracing", true),
    metrics: s.bool("apiDetailedMetrics", true),
    accountLogging: s.bool("apiGatewayAccountLogging", false),
  };
}

/** Everything index.ts composes, read from the stack's config. */
export function loadConfig() {
  const s = new Settings();
  return {
    stack: s.stack,
    /** Name of the bus and prefix of every resource. */
    hubName:
      s.optionalString("hubName", /^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/, "switchyard") ?? "switchyard",
    /** Removal protection on stateful resources (bus, archive, queues, tables). */
    protect: s.bool("protect", false),
    archiveRetentionDays: s.int("archiveRetentionDays", 30, 0, 3650),
    dlqRetentionSeconds: s.int("dlqRetentionSeconds", 1209600, 60, 1209600),
    logRetentionDays: s.oneOf("logRetentionDays", 30, LOG_RETENTION_DAYS),
    debugRoute: s.bool("debugRoute", false),
    schemaDiscovery: s.bool("schemaDiscovery", false),
    // where every function builds its AWS SDK clients (handlers/lib/lazy.ts)
    lambdaClientInit: s.string("lambdaClientInit", "on-first-use", CLIENT_INIT_MODES) as ClientInit,
    publisherAccountIds: s.stringList(
      "publisherAccountIds",
      [],
      /^\d{12}$/,
      "'[\"111122223333\"]'",
    ),
    publisherOrganizationId: s.optionalString(
      "publisherOrganizationId",
      /^o-[a-z0-9]{10,32}$/,
      "o-abc123defg",
    ),
    records: {
      apiEndpoint: s.url("recordsApiEndpoint"),
      apiKey: s.secret("recordsApiKey", "the records API key, sent as X-API-Key"),
      rateLimitPerSecond: s.int("recordsRateLimitPerSecond", 300, 1, 300),
      sources: s.stringList("recordsSources", ["switchyard.records"]),
      detailTypes: s.stringList("recordsDetailTypes", ["RecordCreated", "RecordUpdated"]),
    },
    // record verification workflow (and the webhook receivers that start it)
    verification: verificationConfig(s, webhooksEnabled(s)),
    // tenant change publishing, tenant ingress, record ingestion
    tenancy: tenantsConfig(s),
    // alarms and dashboard
    monitoring: monitoringConfig(s),
    // webhook receivers
    webhooks: webhooksConfig(s),
    // jobs API and records gateway
    apis: apisConfig(s),
    settings: s,
  };
}

export type SwitchyardConfig = ReturnType<typeof loadConfig>;
