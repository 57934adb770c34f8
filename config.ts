// Reads the stack's `switchyard:` config through the key table (config/keys.ts) and the rules
// between keys (config/rules.ts), and shapes it for index.ts. Every error names the key and the
// command that fixes it, so a bad value fails at preview, before anything is deployed.
import * as pulumi from "@pulumi/pulumi";
import { HmacSignedContent } from "./handlers/webhooks/providers/hmac";
import { Provider, providerModule } from "./handlers/webhooks/providers";
import { ConfigError, NAMESPACE } from "./config/kinds";
import { ConfigKey, PREVIOUS_SECRET_SUFFIX, requiredSecrets, SecretDecl } from "./config/keys";
import { readConfig } from "./config/read";
import { outboundSubscriptionsWithSecrets } from "./components/webhooks/outboundConfig";
import { localRun } from "./config/localRun";

export { ConfigError, NAMESPACE } from "./config/kinds";
export { DEFAULT_GATEWAY_TIERS, WEBHOOK_SECRET_KEYS } from "./config/keys";

/** A secret that must be set; the error says the exact `--secret` command. */
function requireSecret(config: pulumi.Config, s: SecretDecl, stack: string) {
  const v = config.getSecret(s.key);
  if (v === undefined) {
    throw new ConfigError(
      `Missing secret ${NAMESPACE}:${s.key} (${s.what}) for stack ${stack}. Set it with: pulumi config set --secret ${NAMESPACE}:${s.key} <value> --stack ${stack}`,
    );
  }
  return v;
}

/** Everything index.ts composes, read from the stack's config. */
export function loadConfig() {
  const config = new pulumi.Config(NAMESPACE);
  const stack = pulumi.getStack();
  const v = readConfig((key) => config.get(key), stack);

  if (v.alarmEmail === undefined) {
    // Not an error (a new stack may not have an on-call address yet), but said at every preview.
    void pulumi.log.warn(
      `${NAMESPACE}:alarmEmail is not set: the alarms of stack ${stack} notify a topic (alarmTopicArn) without an email subscription, so nobody receives them unless you subscribed the topic yourself. Set it with: pulumi config set ${NAMESPACE}:alarmEmail <address> --stack ${stack}`,
    );
  }

  // Secrets: the records API key, and each enabled webhook provider's (with its rotation twin).
  const enabled = [...new Set(v.webhookProviders)];
  const required = requiredSecrets(enabled);
  const [recordsApiKey] = required
    .filter((s) => s.provider === undefined)
    .map((s) => requireSecret(config, s, stack));
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
  for (const p of enabled) {
    const s = required.find((x) => x.provider === p)!;
    const allowedCidrs = v.webhookAllowedCidrs[p];
    // Where the signature covers the URL, the module names the key of the public URL signed.
    const urlKey = providerModule(p).publicUrl?.key as ConfigKey | undefined;
    const publicUrl = urlKey ? (v[urlKey] as string | undefined) : undefined;
    // Where a receiver can run one of several schemes, the module names the key that chooses it.
    const schemeKey = providerModule(p).schemes?.key as ConfigKey | undefined;
    providers[p] = {
      secret: requireSecret(config, s, stack),
      previousSecret: config.getSecret(`${s.key}${PREVIOUS_SECRET_SUFFIX}`),
      ...(publicUrl ? { publicUrl } : {}),
      ...(allowedCidrs ? { allowedCidrs } : {}),
      ...(schemeKey ? { signedContent: v[schemeKey] as HmacSignedContent } : {}),
    };
  }

  return {
    stack,
    /** Name of the bus and prefix of every resource. */
    hubName: v.hubName,
    /** Removal protection on stateful resources (bus, archive, queues, tables, buckets). */
    protect: v.protect,
    archiveRetentionDays: v.archiveRetentionDays,
    dlqRetentionSeconds: v.dlqRetentionSeconds,
    logRetentionDays: v.logRetentionDays,
    debugRoute: v.debugRoute,
    schemaDiscovery: v.schemaDiscovery,
    // where every function builds its AWS SDK clients (handlers/lib/lazy.ts)
    lambdaClientInit: v.lambdaClientInit,
    publisherAccountIds: v.publisherAccountIds,
    publisherOrganizationId: v.publisherOrganizationId,
    records: {
      apiEndpoint: v.recordsApiEndpoint,
      apiKey: recordsApiKey,
      rateLimitPerSecond: v.recordsRateLimitPerSecond,
      sources: v.recordsSources,
      detailTypes: v.recordsDetailTypes,
    },
    // record verification workflow (and the webhook receivers that start it)
    verification: {
      workflowType: v.verificationWorkflowType,
      logLevel: v.verificationLogLevel,
      includeExecutionData: v.verificationLogExecutionData,
      anchorWaitSeconds: v.verificationAnchorWaitSeconds,
      retryWaitSeconds: v.verificationRetryWaitSeconds,
      maxVerifyAttempts: v.verificationMaxAttempts,
      sources: v.verificationSources,
      detailTypes: v.verificationDetailTypes,
      webhookProviders: v.verificationWebhookProviders,
    },
    // tenant change publishing, tenant ingress, record ingestion
    tenancy: {
      tenants: v.tenants,
      streamMaxRetryAttempts: v.streamMaxRetryAttempts,
      streamMaxRecordAgeSeconds: v.streamMaxRecordAgeSeconds,
      ingestionPrefix: v.ingestionPrefix,
      recordsStreamSource: v.recordsStreamSource,
    },
    // alarms and dashboard
    monitoring: {
      alarmEmail: v.alarmEmail,
      lambdaErrors: v.alarmLambdaErrorThreshold,
      api5xxRatePercent: v.alarmApi5xxRatePercent,
      apiLatencyP99Ms: v.alarmApiLatencyP99Ms,
      webhookRejectionsPerMinute: v.alarmWebhookRejectionsPerMinute,
      asyncEventAgeSeconds: v.alarmAsyncEventAgeSeconds,
    },
    // webhook receivers
    webhooks: {
      providers,
      toleranceSeconds: v.webhookToleranceSeconds,
      maxEntryBytes: v.webhookMaxEntryBytes,
      payloadStorage: v.webhookPayloadStorage,
      payloadRetentionDays: v.webhookPayloadRetentionDays,
      idempotencyTtlSeconds: v.webhookIdempotencyTtlSeconds,
      reservedConcurrency: v.webhookReservedConcurrency,
      timeoutSeconds: v.webhookTimeoutSeconds,
    },
    // outbound webhooks: subscriptions with their signing secrets (set, or generated in Secrets Manager)
    outbound: {
      subscriptions: outboundSubscriptionsWithSecrets(config, v.outboundSubscriptions, stack),
      retryScheduleSeconds: v.outboundRetrySchedule,
      requestTimeoutSeconds: v.outboundRequestTimeoutSeconds,
      disableAfterSeconds: v.outboundDisableAfterSeconds,
      attemptLogTtlDays: v.outboundAttemptLogTtlDays,
      // The local run only (never stack config): subscribers on this machine, its time scale.
      local: localRun(),
    },
    // jobs API and records gateway
    apis: {
      jobs: {
        auth: v.jobsAuth,
        jwt:
          v.jobsAuth === "jwt"
            ? {
                issuer: v.jobsJwtIssuer!,
                audience: v.jobsJwtAudience!,
                jwksUrl: v.jobsJwtJwksUrl!,
                resultTtlSeconds: v.jobsJwtCacheSeconds,
              }
            : undefined,
        callerPrincipals:
          v.jobsAuth === "iam" && v.jobsCallerPrincipals.length > 0
            ? v.jobsCallerPrincipals
            : undefined,
        apiKeyConsumers: v.jobsApiKeyConsumers,
        apiKeyTier: v.jobsApiKeyTier,
        throttle: { rateLimit: v.jobsRateLimit, burstLimit: v.jobsBurstLimit },
        jobTtlDays: v.jobsTtlDays,
        pointInTimeRecovery: v.jobsPointInTimeRecovery,
        processorRetryAttempts: v.jobsRetryAttempts,
        wafRateLimit: v.jobsWafRateLimit === 0 ? undefined : v.jobsWafRateLimit,
      },
      gateway: {
        tiers: v.recordsGatewayTiers,
        consumers: v.recordsGatewayConsumers,
        extraRoutes: v.recordsGatewayRoutes,
        throttle: { rateLimit: v.recordsGatewayRateLimit, burstLimit: v.recordsGatewayBurstLimit },
        authorizerCacheSeconds: v.recordsGatewayAuthorizerCacheSeconds,
      },
      xrayTracing: v.apiXrayTracing,
      metrics: v.apiDetailedMetrics,
      accountLogging: v.apiGatewayAccountLogging,
    },
  };
}

export type SwitchyardConfig = ReturnType<typeof loadConfig>;
