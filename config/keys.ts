// Every `switchyard:` config key and secret, declared once: kind, default, range and doc. config.ts
// reads the stack through this table, config/rules.ts relates its keys, and docs/configuration.md's
// tables are generated from it (npm run docs). Defaults a component also has come from that
// component's pure defaults, so each is written once. No Pulumi here (test/config checks that).
import {
  STAGE_DEFAULTS,
  parseConsumerList,
  parseConsumers,
  parseTier,
  parseTiers,
  UsageTier,
} from "../components/apigw/spec";
import { CLIENT_INIT_MODES, DEFAULT_CLIENT_INIT } from "../components/clientInit";
import { HUB_DEFAULTS, LOG_RETENTION_DAYS } from "../components/events/hubSpec";
import {
  JOBS_AUTH_MODES,
  JOBS_DEFAULTS,
  JWT_RESULT_TTL_SECONDS,
} from "../components/jobs/jobsSpec";
import { MONITORING_DEFAULTS } from "../components/ops/thresholds";
import { GATEWAY_DEFAULTS, gatewayRoutes } from "../components/records/gatewaySpec";
import {
  RECORD_INGESTION_DEFAULTS,
  RecordStreamSource,
  resolveStreamSource,
} from "../components/records/ingestionSpec";
import { FORWARDER_DEFAULTS } from "../components/records/recordPayload";
import {
  LOG_LEVELS,
  VERIFICATION_DEFAULTS,
  WEBHOOK_REQUEST_PROVIDERS,
  WORKFLOW_TYPES,
} from "../components/records/verificationDefinition";
import { STREAM_DEFAULTS } from "../components/tenants/streamMapping";
import { Tenants, validateTenants } from "../lib/tenantRules";
import { WEBHOOK_DEFAULTS } from "../components/webhooks/receiverSpec";
import {
  OUTBOUND_COMPONENT_DEFAULTS,
  parseRetrySchedule,
  parseSubscriptions,
  SubscriptionSpec,
} from "../components/webhooks/outboundSpec";
import { localRun } from "./localRun";
import {
  isProvider,
  Provider,
  PROVIDER_MODULES,
  ProviderModule,
  PROVIDERS,
  SchemeProvider,
  UrlSigningProvider,
} from "../handlers/webhooks/providers";
import { parseCidr } from "../handlers/webhooks/sourceIp";
import {
  bool,
  choice,
  decimal,
  int,
  json,
  KeyDecl,
  KeyProblem,
  list,
  oneOf,
  text,
  url,
} from "./kinds";

/** Default usage plan tiers of the records gateway (the component requires tiers). */
export const DEFAULT_GATEWAY_TIERS: Record<string, UsageTier> = {
  standard: { rateLimit: 100, burstLimit: 200, quota: 1000000, period: "MONTH" },
  partner: { rateLimit: 500, burstLimit: 1000, quota: 20000000, period: "MONTH" },
};

const tiersDoc = (tiers: Record<string, UsageTier>) =>
  Object.entries(tiers)
    .map(
      ([n, t]) =>
        `\`${n}\` ${t.rateLimit}/s, burst ${t.burstLimit}` +
        (t.quota ? `, ${t.quota.toLocaleString("en-US")}/${t.period!.toLowerCase()}` : ""),
    )
    .join("; ");

/** `switchyard:webhookAllowedCidrs`: per provider, a non-empty list of CIDR blocks. */
function checkAllowedCidrs(v: unknown): Partial<Record<Provider, string[]>> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error("must be a JSON object of provider name to a list of CIDR blocks");
  }
  for (const [p, cidrs] of Object.entries(v)) {
    if (!isProvider(p)) throw new Error(`names "${p}", not one of ${PROVIDERS.join(", ")}`);
    if (!Array.isArray(cidrs) || cidrs.length === 0 || cidrs.some((c) => typeof c !== "string")) {
      throw new Error(
        `${p} must be a non-empty list of CIDR strings (omit the provider to allow any address)`,
      );
    }
    for (const c of cidrs) parseCidr(c);
  }
  return v as Partial<Record<Provider, string[]>>;
}

/** Each URL-signing provider's public URL key, by the key its module names. */
type PublicUrlKeys = {
  [M in UrlSigningProvider as M["publicUrl"]["key"]]: KeyDecl<string | undefined>;
};

/**
 * The key of the URL a provider signs (its module's `publicUrl`), for each provider whose
 * signature covers the URL: set when a custom domain fronts its receiver.
 */
function publicUrlKeys(): PublicUrlKeys {
  const out: Record<string, KeyDecl<string | undefined>> = {};
  for (const m of PROVIDER_MODULES) {
    if (!("publicUrl" in m)) continue;
    out[m.publicUrl.key] = text({
      default: undefined,
      pattern: /^https:\/\/[^\s?#]+$/,
      example: m.publicUrl.example,
      doc: m.publicUrl.doc,
    });
  }
  return out as PublicUrlKeys;
}

/** Each provider with several schemes: the key that chooses one, by the key its module names. */
type SchemeKeys = {
  [M in SchemeProvider as M["schemes"]["key"]]: KeyDecl<M["schemes"]["values"][number]>;
};

/** The key choosing the scheme of each provider whose module has several (the first is the default). */
function schemeKeys(): SchemeKeys {
  const out: Record<string, KeyDecl<string>> = {};
  for (const m of PROVIDER_MODULES as readonly ProviderModule[]) {
    if (!m.schemes) continue;
    out[m.schemes.key] = oneOf({
      default: m.schemes.values[0],
      values: m.schemes.values,
      doc: m.schemes.doc,
    });
  }
  return out as SchemeKeys;
}

/** The config keys, in the order of the docs' table. */
export const KEYS = {
  // --- the hub ---
  hubName: text({
    default: "switchyard",
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/,
    example: "switchyard",
    doc: "bus name and resource prefix (1-20 letters, digits, hyphens)",
  }),
  protect: bool({
    default: HUB_DEFAULTS.protect,
    doc: "removal protection (and DynamoDB deletion protection) on everything that holds data: the bus, archive and DLQ (EventHub), the tenant data table (ChangePublisher), the tenant access table and rejected-events queue (EventIngress), the ingestion bucket, then not force-destroyed (RecordIngestion), the webhook deliveries table (`<hub>-webhooks-idempotency`) and payload bucket (WebhookReceiver) and the jobs table (JobsApi)",
  }),
  archiveRetentionDays: int({
    default: HUB_DEFAULTS.archiveRetentionDays,
    min: 0,
    max: 3650,
    doc: "days the archive keeps events ({range}, 0 = forever)",
  }),
  dlqRetentionSeconds: int({
    default: HUB_DEFAULTS.dlqRetentionSeconds,
    min: 60,
    max: 1209600,
    doc: "seconds the DLQ keeps a message",
  }),
  logRetentionDays: choice({
    default: HUB_DEFAULTS.logRetentionDays,
    values: LOG_RETENTION_DAYS,
    range: "a CloudWatch Logs retention value",
    doc: "retention of every log group the program declares: the hub's, the functions', the verification workflow's and both APIs' access logs ({range})",
  }),
  debugRoute: bool({
    default: HUB_DEFAULTS.debugRoute,
    doc: "log every bus event to `/aws/events/<hub>-debug`",
  }),
  schemaDiscovery: bool({
    default: HUB_DEFAULTS.schemaDiscovery,
    doc: "schema discoverer on the bus",
  }),
  lambdaClientInit: oneOf({
    default: DEFAULT_CLIENT_INIT,
    values: CLIENT_INIT_MODES,
    doc: "where every function builds its AWS SDK clients: `on-first-use` (a cold start pays only for the services its request calls) or `at-init` (all during Lambda's init phase); see [Performance](performance.md)",
  }),
  publisherAccountIds: list({
    default: HUB_DEFAULTS.publisherAccountIds,
    item: /^\d{12}$/,
    example: "'[\"111122223333\"]'",
    doc: "JSON list of account ids allowed to PutEvents",
  }),
  publisherOrganizationId: text({
    default: undefined,
    pattern: /^o-[a-z0-9]{10,32}$/,
    example: "o-abc123defg",
    doc: "`o-...`: accounts of this organization may PutEvents",
  }),
  // --- records forwarding ---
  recordsApiEndpoint: url({
    example: "https://records.example.com",
    doc: "root of the records API (https, no trailing `/`)",
  }),
  recordsRateLimitPerSecond: int({
    default: FORWARDER_DEFAULTS.rateLimitPerSecond,
    min: 1,
    max: 300,
    doc: "API destination invocation rate",
  }),
  recordsSources: list({ default: FORWARDER_DEFAULTS.sources, doc: "event sources forwarded" }),
  recordsDetailTypes: list({
    default: FORWARDER_DEFAULTS.detailTypes,
    doc: "detail types forwarded",
  }),
  // --- record verification workflow ---
  verificationWorkflowType: oneOf({
    default: VERIFICATION_DEFAULTS.workflowType,
    values: WORKFLOW_TYPES,
    doc: "Step Functions type of the verification workflow: {range} (at most 5 minutes per execution)",
  }),
  verificationLogLevel: oneOf({
    default: VERIFICATION_DEFAULTS.logLevel,
    values: LOG_LEVELS,
    doc: "execution history sent to its log group: {range}",
  }),
  verificationLogExecutionData: bool({
    default: VERIFICATION_DEFAULTS.includeExecutionData,
    doc: "log states' input and output (record payloads) too",
  }),
  verificationAnchorWaitSeconds: int({
    default: VERIFICATION_DEFAULTS.anchorWaitSeconds,
    min: 0,
    max: 86400,
    doc: "wait between ingest and the first verify",
  }),
  verificationRetryWaitSeconds: int({
    default: VERIFICATION_DEFAULTS.retryWaitSeconds,
    min: 0,
    max: 86400,
    doc: "wait between two verify calls",
  }),
  verificationMaxAttempts: int({
    default: VERIFICATION_DEFAULTS.maxVerifyAttempts,
    min: 1,
    max: 100,
    doc: "verify calls before the verification-failed notification",
  }),
  verificationSources: list({
    default: VERIFICATION_DEFAULTS.sources,
    doc: "event sources that start a verification",
  }),
  verificationDetailTypes: list({
    default: VERIFICATION_DEFAULTS.detailTypes,
    doc: "detail types that start a verification",
  }),
  verificationWebhookProviders: list({
    default: [],
    // Only senders that choose their body can send a verification request.
    item: new RegExp(`^(${WEBHOOK_REQUEST_PROVIDERS.join("|")})$`),
    example: "'[\"hmac\"]'",
    doc: `${WEBHOOK_REQUEST_PROVIDERS.map((p) => `\`${p}\``).join(" and/or ")}: webhook receivers whose signed deliveries of those detail types start a verification`,
  }),
  // --- tenant change publishing, tenant ingress, record ingestion ---
  tenants: json<Tenants>({
    default: {},
    check: validateTenants,
    example: `'{"acme":{"ingressEnabled":true,"rules":[{"schemaNames":["invoice"]}]}}'`,
    doc: "tenant id to `{ingressEnabled, rules}`: who may write through ingress, which changes publish where (see Tenants)",
  }),
  streamMaxRetryAttempts: int({
    default: STREAM_DEFAULTS.maximumRetryAttempts,
    min: 0,
    max: 10000,
    doc: "retries of a failing DynamoDB stream record before the hub's DLQ",
  }),
  streamMaxRecordAgeSeconds: int({
    default: STREAM_DEFAULTS.maximumRecordAgeInSeconds,
    min: 60,
    max: 604800,
    doc: "oldest stream record still processed",
  }),
  ingestionPrefix: text({
    default: RECORD_INGESTION_DEFAULTS.prefix,
    // eslint-disable-next-line no-control-regex -- S3 keys may not hold control characters
    pattern: /^(?!\/)[^\u0000-\u001f]{0,512}$/,
    example: RECORD_INGESTION_DEFAULTS.prefix,
    doc: "S3 key prefix of the ingestion bucket whose objects are ingested (no leading `/`)",
  }),
  recordsStreamSource: json<RecordStreamSource | undefined>({
    default: undefined,
    check: (v) => {
      if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new Error("must be a JSON object");
      return resolveStreamSource(v as RecordStreamSource);
    },
    example: `'{"tableArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/orders","streamArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2026-01-01T00:00:00.000"}'`,
    doc: "JSON `{tableArn, streamArn, tenantAttribute?, idAttribute?, versionAttribute?, collection?}`: a table whose changes become records",
  }),
  // --- webhook receivers ---
  webhookProviders: list<Provider>({
    default: [],
    item: new RegExp(`^(${PROVIDERS.join("|")})$`),
    example: '\'["github","stripe"]\'',
    doc: `JSON list of webhook receivers to deploy: ${PROVIDERS.map((p) => `\`${p}\``).join(", ")} (each needs its secret)`,
  }),
  webhookToleranceSeconds: int({
    default: WEBHOOK_DEFAULTS.toleranceSeconds,
    min: 1,
    max: 3600,
    doc: "accepted age / clock skew of a signed timestamp",
  }),
  webhookMaxEntryBytes: int({
    default: WEBHOOK_DEFAULTS.maxEntryBytes,
    min: 1024,
    max: 1048576,
    doc: "largest event entry published; bigger bodies go to S3 or get 413 (above 405504, the stored delivery's DynamoDB item limit applies)",
  }),
  webhookPayloadStorage: bool({
    default: WEBHOOK_DEFAULTS.payloadStorage,
    doc: "store oversized bodies in S3 and publish a reference; `false` answers 413",
  }),
  webhookPayloadRetentionDays: int({
    default: WEBHOOK_DEFAULTS.payloadRetentionDays,
    min: 1,
    max: 3650,
    doc: "days stored webhook bodies are kept",
  }),
  webhookIdempotencyTtlSeconds: int({
    default: WEBHOOK_DEFAULTS.idempotencyTtlSeconds,
    min: 300,
    max: 2592000,
    doc: "seconds a delivery is remembered for deduplication, its stored event kept with it",
  }),
  webhookAllowedCidrs: json<Partial<Record<Provider, string[]>>>({
    default: {},
    defaultNote: "any address",
    check: checkAllowedCidrs,
    example:
      '\'{"github":["192.30.252.0/22","185.199.108.0/22","140.82.112.0/20","143.55.64.0/20"]}\'',
    doc: 'JSON object of enabled provider to a non-empty list of CIDR blocks its deliveries must come from, e.g. `{"github":["192.30.252.0/22","185.199.108.0/22","140.82.112.0/20","143.55.64.0/20","2a0a:a440::/29","2606:50c0::/32"]}`',
  }),
  ...schemeKeys(),
  webhookReservedConcurrency: int({
    default: undefined,
    defaultNote: "unreserved",
    min: 1,
    max: 1000,
    example: "10",
    doc: "reserved concurrency of each receiver function",
  }),
  webhookTimeoutSeconds: int({
    default: WEBHOOK_DEFAULTS.timeoutSeconds,
    min: 1,
    max: 900,
    doc: "timeout of each receiver function ({range}; GitHub waits 10 s)",
  }),
  ...publicUrlKeys(),
  // --- outbound webhooks ---
  outboundSubscriptions: json<SubscriptionSpec[]>({
    default: [],
    // http:// and loopback endpoints only while the local run evaluates the program (config/localRun.ts)
    check: (v) => parseSubscriptions(v, localRun() !== undefined),
    example: `'[{"name":"billing","url":"https://billing.example.com/hooks","events":["OrderPlaced"],"rateLimitPerSecond":10,"headers":{"X-Tenant":"acme"}}]'`,
    doc: "JSON list of outbound webhook subscriptions: `name` (1-20 lowercase letters, digits, hyphens), `url` (https), `events` (a list of detail types or an event pattern), optional `rateLimitPerSecond` (1-1000) and `headers`; each signs with `outboundSecret<Name>` (e.g. `outboundSecretBilling`) when set, else with a secret generated in Secrets Manager (`outboundSecretArns`); see [Outbound webhooks](outbound-webhooks.md)",
  }),
  outboundRetrySchedule: json<number[]>({
    default: OUTBOUND_COMPONENT_DEFAULTS.retryScheduleSeconds,
    check: parseRetrySchedule,
    example: "'[0,5,300,1800,7200,18000,36000,36000]'",
    doc: "JSON list of seconds to wait before each delivery attempt (1-50 entries, each 0-43000: a retry waits as an SQS visibility timeout, at most 12 h)",
  }),
  outboundRequestTimeoutSeconds: int({
    default: OUTBOUND_COMPONENT_DEFAULTS.requestTimeoutSeconds,
    min: 1,
    max: 60,
    doc: "seconds an endpoint has to answer 2xx before the attempt fails",
  }),
  outboundDisableAfterSeconds: int({
    default: OUTBOUND_COMPONENT_DEFAULTS.disableAfterSeconds,
    min: 3600,
    max: 2592000,
    doc: "an endpoint failing every attempt for this many seconds is disabled and its messages parked",
  }),
  outboundAttemptLogTtlDays: int({
    default: OUTBOUND_COMPONENT_DEFAULTS.attemptLogTtlDays,
    min: 1,
    max: 365,
    doc: "days the outbound attempt log keeps deliveries and attempts (DynamoDB TTL, {range})",
  }),
  // --- jobs API ---
  jobsAuth: oneOf({
    default: JOBS_DEFAULTS.auth,
    values: JOBS_AUTH_MODES,
    doc: "jobs API access: `iam` (SigV4, caller role), `apiKey` (usage plan) or `jwt` (token authorizer)",
  }),
  jobsCallerPrincipals: list({
    default: [],
    defaultNote: "this account",
    item: /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+)$/,
    example: "'[\"arn:aws:iam::111122223333:role/ci\"]'",
    doc: "JSON list of IAM ARNs (role, user, root) that may assume the caller role (`iam`)",
  }),
  jobsJwtIssuer: text({ default: undefined, doc: "`iss` of accepted tokens" }),
  jobsJwtAudience: text({ default: undefined, doc: "value tokens' `aud` must contain" }),
  jobsJwtJwksUrl: text({
    default: undefined,
    pattern: /^https:\/\/[^\s]+$/,
    example: "https://id.example.com/.well-known/jwks.json",
    doc: "https URL of the issuer's JWKS",
  }),
  jobsJwtCacheSeconds: int({
    default: JWT_RESULT_TTL_SECONDS,
    min: 0,
    max: 3600,
    doc: "seconds API Gateway caches the authorizer's answer per token",
  }),
  jobsApiKeyConsumers: json<string[]>({
    default: JOBS_DEFAULTS.apiKeyConsumers,
    check: parseConsumerList,
    example: '\'["ops","batch"]\'',
    doc: "JSON list of consumers that get a jobs API key (`apiKey`)",
  }),
  jobsApiKeyTier: json<UsageTier>({
    default: JOBS_DEFAULTS.apiKeyTier,
    check: (v) => parseTier("jobsApiKeyTier", v),
    example: `'{"rateLimit":50,"burstLimit":100,"quota":100000,"period":"DAY"}'`,
    doc: "the jobs usage plan: rate, burst, optional `quota` + `period` (`apiKey`)",
  }),
  jobsRateLimit: int({
    default: JOBS_DEFAULTS.throttle.rateLimit,
    min: 1,
    max: 10000,
    doc: "jobs stage throttle, requests/s",
  }),
  jobsBurstLimit: int({
    default: JOBS_DEFAULTS.throttle.burstLimit,
    min: 1,
    max: 5000,
    doc: "jobs stage burst",
  }),
  jobsTtlDays: int({
    default: JOBS_DEFAULTS.jobTtlDays,
    min: 1,
    max: 365,
    doc: "days a job and its Idempotency-Key are kept (DynamoDB TTL, {range})",
  }),
  jobsPointInTimeRecovery: bool({
    default: JOBS_DEFAULTS.pointInTimeRecovery,
    doc: "point-in-time recovery of the jobs table",
  }),
  jobsRetryAttempts: int({
    default: JOBS_DEFAULTS.processorRetryAttempts,
    min: 0,
    max: 2,
    doc: "Lambda's retries of a failed processing attempt before the error handler",
  }),
  jobsWafRateLimit: int({
    default: 0,
    defaultNote: "no WAF",
    min: 0,
    max: 2000000000,
    range: "0, or 10-2000000000",
    refine: (v) =>
      v > 0 && v < 10
        ? new KeyProblem(
            `must be 0 (no WAF) or from 10 (AWS WAF's lowest rate limit), got "${v}"`,
            "2000",
          )
        : undefined,
    doc: "requests per IP per 5 minutes before AWS WAF blocks",
  }),
  // --- records gateway ---
  recordsGatewayTiers: json<Record<string, UsageTier>>({
    default: DEFAULT_GATEWAY_TIERS,
    defaultDoc: tiersDoc(DEFAULT_GATEWAY_TIERS),
    check: parseTiers,
    example: `'{"standard":{"rateLimit":100,"burstLimit":200,"quota":1000000,"period":"MONTH"}}'`,
    doc: 'JSON usage plan tiers: `rateLimit`, `burstLimit`, optional `quota` + `period` (`DAY`/`WEEK`/`MONTH`), optional `throttles` per `"/path/METHOD"`',
  }),
  recordsGatewayConsumers: json<Record<string, string>>({
    default: GATEWAY_DEFAULTS.consumers,
    check: (v) => parseConsumers(v),
    example: `'{"acme":"standard"}'`,
    doc: "JSON consumer name → tier; each gets an API key on that tier's plan",
  }),
  recordsGatewayRoutes: json<string[]>({
    default: GATEWAY_DEFAULTS.extraRoutes,
    check: (v) => {
      if (!Array.isArray(v) || v.some((r) => typeof r !== "string"))
        throw new Error('must be a JSON list such as ["POST /records/batch"]');
      gatewayRoutes(v as string[]);
      return v as string[];
    },
    example: `'["POST /records/batch"]'`,
    doc: 'JSON list of extra proxied routes, `"<METHOD> /path"` → `<recordsApiEndpoint>/api/v1/path`',
  }),
  recordsGatewayRateLimit: int({
    default: GATEWAY_DEFAULTS.throttle.rateLimit,
    min: 1,
    max: 10000,
    doc: "gateway stage throttle, requests/s, protecting the records API",
  }),
  recordsGatewayBurstLimit: int({
    default: GATEWAY_DEFAULTS.throttle.burstLimit,
    min: 1,
    max: 5000,
    doc: "gateway stage burst",
  }),
  recordsGatewayAuthorizerCacheSeconds: int({
    default: GATEWAY_DEFAULTS.authorizerCacheSeconds,
    min: 0,
    max: 3600,
    doc: "seconds API Gateway caches the upstream-key authorizer per consumer key",
  }),
  // --- both REST APIs ---
  apiXrayTracing: bool({
    default: STAGE_DEFAULTS.xrayTracing,
    doc: "X-Ray tracing on both API stages",
  }),
  apiDetailedMetrics: bool({
    default: STAGE_DEFAULTS.metrics,
    doc: "per-method CloudWatch metrics on both API stages",
  }),
  apiGatewayAccountLogging: bool({
    default: false,
    doc: "declare the account's API Gateway CloudWatch role (needed for access logs; in an account shared by both stacks, `false` in one)",
  }),
  // --- alarms and dashboard ---
  alarmEmail: text({
    default: undefined,
    pattern: /^[^@\s"]+@[^@\s"]+\.[^@\s"]+$/,
    example: "ops@example.com",
    doc: "email subscribed to the alarm topic (confirm the subscription mail); while unset, preview warns that nobody receives the alarms",
  }),
  alarmLambdaErrorThreshold: int({
    default: MONITORING_DEFAULTS.lambdaErrors,
    min: 1,
    max: 1000000,
    doc: "function errors per minute that raise its alarm",
  }),
  alarmApi5xxRatePercent: decimal({
    default: MONITORING_DEFAULTS.api5xxRatePercent,
    above: 0,
    max: 100,
    doc: "percent of REST API requests answered 5xx, in 3 of 5 minutes, above which the API alarms: a decimal {range}, e.g. `0.5`",
  }),
  alarmApiLatencyP99Ms: int({
    default: MONITORING_DEFAULTS.apiLatencyP99Ms,
    min: 100,
    max: 60000,
    doc: "REST API p99 latency in ms, in 3 of 5 minutes, that alarms",
  }),
  alarmWebhookRejectionsPerMinute: int({
    default: MONITORING_DEFAULTS.webhookRejectionsPerMinute,
    min: 1,
    max: 1000000,
    doc: "webhook signature rejections per minute above which the receivers alarm",
  }),
  alarmAsyncEventAgeSeconds: int({
    default: MONITORING_DEFAULTS.asyncEventAgeSeconds,
    min: 60,
    max: 21600,
    doc: "age of the oldest event in an async function's queue that alarms",
  }),
} satisfies Record<string, KeyDecl<unknown>>;

export type ConfigKey = keyof typeof KEYS;
/** The typed value of every key, as the table reads it. */
export type ConfigValues = {
  -readonly [K in ConfigKey]: (typeof KEYS)[K] extends KeyDecl<infer T> ? T : never;
};

/** A secret: set with `pulumi config set --secret`, never committed. */
export interface SecretDecl {
  readonly key: string;
  /** What it is, as the missing-secret error says it. */
  readonly what: string;
  /** The value's shape in the docs' command, e.g. `whsec_...`. */
  readonly placeholder: string;
  /** Required only while this webhook provider is enabled. */
  readonly provider?: Provider;
}

/** Each webhook provider's secret, from its module (its `...Previous` twin holds the secret being rotated out). */
export const WEBHOOK_SECRET_KEYS = Object.fromEntries(
  PROVIDER_MODULES.map(({ name, secret: { key, what, placeholder } }) => [
    name,
    { key, what, placeholder },
  ]),
) as Record<Provider, Omit<SecretDecl, "provider">>;

/** The secret entries of a provider list, each required while its provider is enabled. */
export function webhookSecrets(
  providers: readonly Provider[],
  keys: Record<Provider, Omit<SecretDecl, "provider">> = WEBHOOK_SECRET_KEYS,
): SecretDecl[] {
  return providers.map((provider) => ({ ...keys[provider], provider }));
}

/** Suffix of the optional secret that holds a webhook secret being rotated out. */
export const PREVIOUS_SECRET_SUFFIX = "Previous";

export const SECRETS: readonly SecretDecl[] = [
  { key: "recordsApiKey", what: "the records API key, sent as X-API-Key", placeholder: "<key>" },
  ...webhookSecrets(PROVIDERS),
];

/** The secrets a stack must set: the records API key and each enabled webhook provider's. */
export function requiredSecrets(webhookProviders: readonly Provider[]): SecretDecl[] {
  return SECRETS.filter((s) => s.provider === undefined || webhookProviders.includes(s.provider));
}
