import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { meaning, renderSection, STACKS } from "../../config/docs";
import { ConfigError, NAMESPACE } from "../../config/kinds";
import { ConfigKey, KEYS, SECRETS, WEBHOOK_SECRET_KEYS, webhookSecrets } from "../../config/keys";
import { readConfig } from "../../config/read";
import { RULES } from "../../config/rules";
import { HUB_DEFAULTS } from "../../components/events/hubSpec";
import { JOBS_DEFAULTS } from "../../components/jobs/jobsSpec";
import { MONITORING_DEFAULTS } from "../../components/ops/thresholds";
import { VERIFICATION_DEFAULTS } from "../../components/records/verificationDefinition";
import { WEBHOOK_DEFAULTS } from "../../components/webhooks/receiverSpec";
import { PROVIDERS } from "../../handlers/webhooks/providers";
import { CONFIG_DOC, generatedConfigDoc, stackFile } from "../../scripts/docs";

const ROOT = path.join(__dirname, "..", "..");

/** Reads `values` (keys without the namespace) as stack `dev` would. */
const read = (values: Record<string, string>) => readConfig((k) => values[k], "dev");
const VALID = { recordsApiEndpoint: "https://records.example.com" };

describe("the config key table (config/keys.ts)", () => {
  it("is what docs/configuration.md shows (npm run docs regenerates it)", () => {
    expect(fs.readFileSync(CONFIG_DOC, "utf8")).to.equal(generatedConfigDoc());
  });

  it("documents each stack's committed value in its column, and every committed key is declared", () => {
    const table = renderSection("keys", {
      dev: stackFile("dev"),
      prod: stackFile("prod"),
    }).split("\n");
    for (const [i, stack] of STACKS.entries()) {
      const committed = stackFile(stack);
      const declared = Object.keys(committed).filter((k) => k.startsWith(`${NAMESPACE}:`));
      for (const k of declared)
        expect(KEYS, `${k} in Pulumi.${stack}.yaml`).to.have.property(
          k.slice(NAMESPACE.length + 1),
        );
      for (const key of Object.keys(KEYS) as ConfigKey[]) {
        const row = table.find((r) => r.startsWith(`| \`${key}\` |`))!;
        const cell = row.split(" | ")[2 + i];
        const v = committed[`${NAMESPACE}:${key}`];
        expect(cell, `${key} (${stack})`).to.equal(
          v !== undefined ? `\`${v}\`` : KEYS[key].default === undefined ? "unset" : "default",
        );
      }
      // and the committed values are valid
      expect(() => readConfig((k) => committed[`${NAMESPACE}:${k}`], stack)).not.to.throw();
    }
  });

  it("takes each default a component also has from that component", () => {
    expect(KEYS.archiveRetentionDays.default).to.equal(HUB_DEFAULTS.archiveRetentionDays);
    expect(KEYS.protect.default).to.equal(HUB_DEFAULTS.protect);
    expect(KEYS.verificationAnchorWaitSeconds.default).to.equal(
      VERIFICATION_DEFAULTS.anchorWaitSeconds,
    );
    expect(KEYS.webhookIdempotencyTtlSeconds.default).to.equal(
      WEBHOOK_DEFAULTS.idempotencyTtlSeconds,
    );
    expect(KEYS.jobsApiKeyTier.default).to.equal(JOBS_DEFAULTS.apiKeyTier);
    expect(KEYS.alarmApiLatencyP99Ms.default).to.equal(MONITORING_DEFAULTS.apiLatencyP99Ms);
    // what the docs say is what the reader returns for an unset key
    const v = read(VALID);
    for (const key of Object.keys(KEYS) as ConfigKey[]) {
      if (key !== "recordsApiEndpoint") expect(v[key], key).to.deep.equal(KEYS[key].default);
    }
  });

  it("loads without Pulumi, so docs tooling and tests can read it", () => {
    const out = execFileSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        'require("./scripts/docs"); require("./config/read"); console.log(Object.keys(require.cache).filter((f) => f.includes("@pulumi")).length)',
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(out.trim()).to.equal("0");
  });

  it("names the key, the problem and the fix in each error", () => {
    expect(() => read({ ...VALID, jobsTtlDays: "400" })).to.throw(
      ConfigError,
      'switchyard:jobsTtlDays must be a whole number from 1 to 365, got "400". Fix it with: pulumi config set switchyard:jobsTtlDays 7 --stack dev',
    );
    expect(() => read({})).to.throw(
      "switchyard:recordsApiEndpoint is not set. Fix it with: pulumi config set switchyard:recordsApiEndpoint https://records.example.com --stack dev",
    );
  });

  it("declares one secret per webhook provider from the provider list, required while it is enabled", () => {
    expect(SECRETS.filter((s) => s.provider).map((s) => s.provider)).to.deep.equal(PROVIDERS);
    expect(webhookSecrets(["github"])).to.deep.equal([
      { ...WEBHOOK_SECRET_KEYS.github, provider: "github" },
    ]);
    expect(renderSection("secrets", { dev: {}, prod: {} })).to.contain(
      "| `stripeWebhookSecret` | `pulumi config set --secret switchyard:stripeWebhookSecret whsec_...` (when `stripe` is enabled) |",
    );
  });

  it("shows ranges in the meaning column, and points a key to its rules", () => {
    expect(meaning("dlqRetentionSeconds")).to.equal("seconds the DLQ keeps a message (60-1209600)");
    expect(meaning("webhookTimeoutSeconds")).to.equal(
      "timeout of each receiver function (1-900; GitHub waits 10 s)",
    );
    expect(meaning("webhookToleranceSeconds")).to.contain("see [rules](#rules-between-keys)");
  });
});

describe("the rules between config keys (config/rules.ts)", () => {
  it("relate declared keys only, each rule at least two", () => {
    for (const r of RULES) {
      expect(r.keys.length).to.be.at.least(2);
      for (const k of r.keys) expect(KEYS).to.have.property(k);
    }
  });

  const broken: Array<[Record<string, string>, string]> = [
    [
      {
        webhookProviders: '["hmac"]',
        verificationWebhookProviders: '["hmac"]',
        verificationSources: '["switchyard.webhooks.hmac","x"]',
      },
      `switchyard:verificationSources names switchyard.webhooks.hmac, whose requests switchyard:verificationWebhookProviders already routes to the workflow (each event would start two executions). Fix it with: pulumi config set switchyard:verificationSources '["x"]' --stack dev`,
    ],
    [
      { webhookProviders: '["github"]', webhookAllowedCidrs: '{"stripe":["10.0.0.0/8"]}' },
      "switchyard:webhookAllowedCidrs names stripe, which is not in switchyard:webhookProviders. Fix it with: pulumi config set switchyard:webhookAllowedCidrs '{}' --stack dev",
    ],
    [
      { webhookToleranceSeconds: "600", webhookIdempotencyTtlSeconds: "1000" },
      "switchyard:webhookIdempotencyTtlSeconds (1000) must be at least twice switchyard:webhookToleranceSeconds (600): a delivery signed 600 s ahead verifies for 1200 s, and its idempotency record must live as long or it can be replayed. Fix it with: pulumi config set switchyard:webhookIdempotencyTtlSeconds 1200 --stack dev (or lower switchyard:webhookToleranceSeconds)",
    ],
    [
      { jobsAuth: "jwt", jobsJwtIssuer: "https://id.example.com/" },
      'switchyard:jobsJwtAudience is not set (jobsAuth is "jwt"). Fix it with: pulumi config set switchyard:jobsJwtAudience switchyard-jobs --stack dev',
    ],
    [
      {
        recordsGatewayTiers: '{"basic":{"rateLimit":1,"burstLimit":1}}',
        recordsGatewayConsumers: '{"acme":"standard"}',
      },
      `switchyard:recordsGatewayConsumers consumer "acme" names tier "standard", which is not one of basic. Fix it with: pulumi config set switchyard:recordsGatewayConsumers '{"acme":"basic"}' --stack dev`,
    ],
    [
      { verificationWorkflowType: "EXPRESS", verificationAnchorWaitSeconds: "241" },
      "switchyard:verificationWorkflowType is EXPRESS (at most 5 minutes per execution), but verificationAnchorWaitSeconds + (verificationMaxAttempts - 1) * verificationRetryWaitSeconds is 361 s, more than 240 s.",
    ],
  ];
  for (const [values, message] of broken) {
    it(`refuses ${JSON.stringify(values)}`, () => {
      expect(() => read({ ...VALID, ...values })).to.throw(ConfigError, message);
    });
  }

  it("accepts the same keys when the rule holds", () => {
    expect(() =>
      read({ ...VALID, verificationWorkflowType: "EXPRESS", verificationAnchorWaitSeconds: "120" }),
    ).not.to.throw();
    expect(() =>
      read({ ...VALID, webhookToleranceSeconds: "3600", webhookIdempotencyTtlSeconds: "7200" }),
    ).not.to.throw();
  });
});
