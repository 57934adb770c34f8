// Rules between config keys, each stated once: the keys it relates, what the docs say and the
// preview error, which names those keys and the command that fixes it. Where a component enforces
// the same rule on its own arguments, both call the component's predicate. Pure (no Pulumi).
import { parseConsumers } from "../components/apigw/spec";
import {
  EXPRESS_MAX_PLANNED_WAIT_SECONDS,
  expressWaitTooLong,
  plannedWaitSeconds,
  sourcesNamedTwice,
} from "../components/records/verificationSpec";
import { minimumIdempotencyTtl } from "../components/webhooks/receiverSpec";
import { eventSource } from "../lib/contracts";
import { ConfigError, fixCommand, keyError, NAMESPACE } from "./kinds";
import { ConfigKey, ConfigValues } from "./keys";

export interface Rule {
  /** The keys the rule relates; the docs list it under each. */
  readonly keys: readonly ConfigKey[];
  /** The rule, as the docs state it. */
  readonly doc: string;
  /** The preview error when the stack breaks it. */
  readonly check: (v: ConfigValues, stack: string) => ConfigError | undefined;
}

const ns = (key: ConfigKey) => `${NAMESPACE}:${key}`;
const unique = <T>(xs: T[]) => [...new Set(xs)];

export const RULES: readonly Rule[] = [
  {
    keys: ["verificationSources", "verificationWebhookProviders"],
    doc: "`verificationSources` must not name `switchyard.webhooks.<provider>` of a provider in `verificationWebhookProviders` (each event would start two executions)",
    check: (v, stack) => {
      const twice = sourcesNamedTwice(
        v.verificationSources,
        unique(v.verificationWebhookProviders).map(eventSource),
      );
      if (twice.length === 0) return undefined;
      const fix = JSON.stringify(v.verificationSources.filter((x) => !twice.includes(x)));
      return new ConfigError(
        `${ns("verificationSources")} names ${twice.join(", ")}, whose requests ${ns("verificationWebhookProviders")} already routes to the workflow (each event would start two executions). Fix it with: ${fixCommand("verificationSources", `'${fix}'`, stack)}`,
      );
    },
  },
  {
    keys: ["verificationWebhookProviders", "webhookProviders"],
    doc: "each provider in `verificationWebhookProviders` must be in `webhookProviders` (its receiver delivers the requests)",
    check: (v, stack) => {
      const enabled = v.webhookProviders as string[];
      const disabled = v.verificationWebhookProviders.filter((p) => !enabled.includes(p));
      if (disabled.length === 0) return undefined;
      const fix = JSON.stringify(v.verificationWebhookProviders.filter((p) => enabled.includes(p)));
      return new ConfigError(
        `${ns("verificationWebhookProviders")} names ${disabled.join(", ")}, not in ${ns("webhookProviders")} (${JSON.stringify(enabled)}): no receiver would deliver those requests. Fix it with: ${fixCommand("verificationWebhookProviders", `'${fix}'`, stack)} (or enable the provider in webhookProviders)`,
      );
    },
  },
  {
    keys: [
      "verificationWorkflowType",
      "verificationAnchorWaitSeconds",
      "verificationRetryWaitSeconds",
      "verificationMaxAttempts",
    ],
    doc: `an \`EXPRESS\` workflow (at most 5 minutes) needs \`verificationAnchorWaitSeconds\` + (\`verificationMaxAttempts\` - 1) × \`verificationRetryWaitSeconds\` ≤ ${EXPRESS_MAX_PLANNED_WAIT_SECONDS} s`,
    check: (v, stack) => {
      const loop = {
        workflowType: v.verificationWorkflowType,
        anchorWaitSeconds: v.verificationAnchorWaitSeconds,
        retryWaitSeconds: v.verificationRetryWaitSeconds,
        maxVerifyAttempts: v.verificationMaxAttempts,
      };
      if (!expressWaitTooLong(loop)) return undefined;
      return new ConfigError(
        `${ns("verificationWorkflowType")} is EXPRESS (at most 5 minutes per execution), but verificationAnchorWaitSeconds + (verificationMaxAttempts - 1) * verificationRetryWaitSeconds is ${plannedWaitSeconds(loop)} s, more than ${EXPRESS_MAX_PLANNED_WAIT_SECONDS} s. Fix it with: ${fixCommand("verificationWorkflowType", "STANDARD", stack)} (or shorten the waits)`,
      );
    },
  },
  {
    keys: ["webhookIdempotencyTtlSeconds", "webhookToleranceSeconds"],
    doc: "`webhookIdempotencyTtlSeconds` must be at least twice `webhookToleranceSeconds` (a delivery signed that far ahead verifies for twice as long, and must be remembered as long)",
    check: (v, stack) => {
      const tolerance = v.webhookToleranceSeconds;
      const ttl = v.webhookIdempotencyTtlSeconds;
      const minTtl = minimumIdempotencyTtl(tolerance);
      if (ttl >= minTtl) return undefined;
      return new ConfigError(
        `${ns("webhookIdempotencyTtlSeconds")} (${ttl}) must be at least twice ${ns("webhookToleranceSeconds")} (${tolerance}): a delivery signed ${tolerance} s ahead verifies for ${minTtl} s, and its idempotency record must live as long or it can be replayed. Fix it with: ${fixCommand("webhookIdempotencyTtlSeconds", String(Math.max(minTtl, 300)), stack)} (or lower ${ns("webhookToleranceSeconds")})`,
      );
    },
  },
  {
    keys: ["webhookAllowedCidrs", "webhookProviders"],
    doc: "each provider in `webhookAllowedCidrs` must be in `webhookProviders`",
    check: (v, stack) => {
      const p = Object.keys(v.webhookAllowedCidrs).find(
        (x) => !(v.webhookProviders as string[]).includes(x),
      );
      if (p === undefined) return undefined;
      const fix = Object.fromEntries(
        Object.entries(v.webhookAllowedCidrs).filter(([x]) => x !== p),
      );
      return keyError(
        "webhookAllowedCidrs",
        `names ${p}, which is not in ${ns("webhookProviders")}`,
        `'${JSON.stringify(fix)}'`,
        stack,
      );
    },
  },
  {
    keys: ["recordsGatewayConsumers", "recordsGatewayTiers"],
    doc: "each tier named in `recordsGatewayConsumers` must be in `recordsGatewayTiers`",
    check: (v, stack) => {
      try {
        parseConsumers(v.recordsGatewayConsumers, Object.keys(v.recordsGatewayTiers));
        return undefined;
      } catch (e) {
        return keyError(
          "recordsGatewayConsumers",
          (e as Error).message,
          `'{"acme":"${Object.keys(v.recordsGatewayTiers)[0]}"}'`,
          stack,
        );
      }
    },
  },
  {
    keys: ["jobsAuth", "jobsJwtIssuer", "jobsJwtAudience", "jobsJwtJwksUrl"],
    doc: "`jobsJwtIssuer`, `jobsJwtAudience` and `jobsJwtJwksUrl` are required when `jobsAuth` is `jwt`",
    check: (v, stack) => {
      if (v.jobsAuth !== "jwt") return undefined;
      const examples = [
        ["jobsJwtIssuer", "https://id.example.com/"],
        ["jobsJwtAudience", "switchyard-jobs"],
        ["jobsJwtJwksUrl", "https://id.example.com/.well-known/jwks.json"],
      ] as const;
      const missing = examples.find(([k]) => !v[k]);
      return missing
        ? keyError(missing[0], 'is not set (jobsAuth is "jwt")', missing[1], stack)
        : undefined;
    },
  },
];
