// The jobs API and the records gateway as index.ts composes them from each stack's config.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { evaluateProgram, Program, stackConfig, TEST_SECRETS } from "../program";
import { recorded, settle, setupMocks, valueOf } from "../mocks";
import { DEFAULT_GATEWAY_TIERS, loadConfig } from "../../config";

const RECORDS_KEY = TEST_SECRETS["switchyard:recordsApiKey"];

/**
 * Evaluates the program and waits until the resources declared from outputs (method settings and
 * usage plans wait for the stage, which waits for the account logging role) are registered too.
 */
async function evaluate(
  stack: string,
  overrides: Record<string, string> = {},
): Promise<Program & { outs: Record<string, unknown> }> {
  const p = await evaluateProgram(stack, overrides);
  const outs = await outputValues(p);
  await settle();
  return { ...p, resources: [...recorded], outs };
}

function find(p: Program, type: string, name: string) {
  const found = p.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name}, found ${found.length}`);
  return found[0].inputs;
}

/** Every stack output that is a value or an Output (resources exported whole are skipped). */
async function outputValues(p: Program): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.exports)) {
    if (pulumi.Resource.isInstance(v)) continue;
    out[k] = await valueOf(pulumi.output(v as any));
  }
  return out;
}

/** The records API key is in no stack output, stage variable, log setting or function environment. */
function noKeyLeaks(p: Program & { outs: Record<string, unknown> }, stack: string): void {
  expect(JSON.stringify(p.outs)).to.not.contain(RECORDS_KEY);
  const mine = p.resources.filter(
    (r) =>
      r.name.startsWith(`switchyard-${stack}-jobs`) ||
      r.name.startsWith(`switchyard-${stack}-records-gw`),
  );
  expect(mine.filter((r) => r.type === "aws:apigateway/stage:Stage").length).to.equal(2);
  const holding = mine
    .filter((r) => JSON.stringify(r.inputs).includes(RECORDS_KEY))
    .map((r) => `${r.type} ${r.name}`);
  expect(holding).to.deep.equal([
    `aws:secretsmanager/secretVersion:SecretVersion switchyard-${stack}-records-gw-upstream-key`,
  ]);
  for (const stage of mine.filter((r) => r.type === "aws:apigateway/stage:Stage")) {
    expect(stage.inputs.variables, stage.name).to.equal(undefined);
  }
  const settings = mine.filter((r) => r.type === "aws:apigateway/methodSettings:MethodSettings");
  expect(settings.map((m) => m.inputs.settings.dataTraceEnabled)).to.deep.equal([false, false]);
}

describe("the program's jobs API and records gateway per stack", () => {
  it("dev: IAM-authorized jobs API with a caller role, throttled 20/40, the account logging role, one gateway consumer, no key leaks", async () => {
    const p = await evaluate("dev");
    const outs = p.outs;
    expect(outs.jobsApiUrl).to.equal(
      "https://switchyard-dev-jobs-id.execute-api.eu-west-1.amazonaws.com/v1",
    );
    expect(outs.jobsCallerRoleArn).to.equal(
      "arn:aws:iam::123456789012:role/switchyard-dev-jobs-caller",
    );
    expect(outs.jobsApiKeyIds).to.equal(undefined);
    expect(outs.recordsGatewayUrl).to.equal(
      "https://switchyard-dev-records-gw-id.execute-api.eu-west-1.amazonaws.com/v1",
    );
    expect(outs.recordsGatewayUsagePlanIds).to.deep.equal({
      standard: "switchyard-dev-records-gw-standard-id",
      partner: "switchyard-dev-records-gw-partner-id",
    });
    expect(outs.recordsGatewayKeyIds).to.deep.equal({
      "dev-tester": "switchyard-dev-records-gw-dev-tester-id",
    });
    expect(
      find(p, "aws:apigateway/methodSettings:MethodSettings", "switchyard-dev-jobs-v1").settings,
    ).to.include({
      throttlingRateLimit: 20,
      throttlingBurstLimit: 40,
    });
    expect(
      find(p, "aws:apigateway/methodSettings:MethodSettings", "switchyard-dev-records-gw-v1")
        .settings,
    ).to.include({
      throttlingRateLimit: 10,
      throttlingBurstLimit: 20,
    });
    expect(
      find(p, "aws:dynamodb/table:Table", "switchyard-dev-jobs-jobs").pointInTimeRecovery,
    ).to.deep.equal({ enabled: false });
    expect(
      find(p, "aws:lambda/function:Function", "switchyard-dev-jobs-submit").environment.variables
        .JOBS_TTL_SECONDS,
    ).to.equal("172800");
    expect(
      find(p, "aws:apigateway/account:Account", "switchyard-dev-apigw-logs").cloudwatchRoleArn,
    ).to.equal("arn:aws:iam::123456789012:role/switchyard-dev-apigw-logs");
    expect(
      find(p, "aws:apigateway/integration:Integration", "switchyard-dev-records-gw-post-records")
        .uri,
    ).to.equal("https://sandbox.records.example.com/api/v1/records");
    expect(p.resources.filter((r) => r.type === "aws:wafv2/webAcl:WebAcl")).to.deep.equal([]);
    noKeyLeaks(p, "dev");
  });

  it("prod: point-in-time recovery, 30-day jobs, a WAF rate limit, the account logging role, no consumers yet, no key leaks", async () => {
    const p = await evaluate("prod");
    const outs = p.outs;
    expect(find(p, "aws:dynamodb/table:Table", "switchyard-prod-jobs-jobs")).to.deep.include({
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
    });
    expect(
      find(p, "aws:lambda/function:Function", "switchyard-prod-jobs-submit").environment.variables
        .JOBS_TTL_SECONDS,
    ).to.equal("2592000");
    expect(
      find(p, "aws:wafv2/webAcl:WebAcl", "switchyard-prod-jobs-waf").rules[0].statement
        .rateBasedStatement.limit,
    ).to.equal(2000);
    // Prod declares the account's API Gateway logging role too (prod usually has its own account).
    expect(
      p.resources.filter((r) => r.type === "aws:apigateway/account:Account").map((r) => r.inputs),
    ).to.deep.equal([
      { cloudwatchRoleArn: "arn:aws:iam::123456789012:role/switchyard-prod-apigw-logs" },
    ]);
    expect(outs.recordsGatewayKeyIds).to.deep.equal({});
    expect(
      find(p, "aws:apigateway/usagePlan:UsagePlan", "switchyard-prod-records-gw-standard"),
    ).to.deep.include({
      throttleSettings: { rateLimit: 100, burstLimit: 200 },
      quotaSettings: { limit: 1000000, period: "MONTH" },
    });
    noKeyLeaks(p, "prod");
  });

  const bad: Array<[Record<string, string>, string]> = [
    [
      { jobsAuth: "basic" },
      'switchyard:jobsAuth must be one of iam, apiKey, jwt, got "basic". Fix it with: pulumi config set switchyard:jobsAuth iam --stack dev',
    ],
    [
      { jobsAuth: "jwt" },
      'switchyard:jobsJwtIssuer is not set (jobsAuth is "jwt"). Fix it with: pulumi config set switchyard:jobsJwtIssuer https://id.example.com/ --stack dev',
    ],
    [
      { jobsWafRateLimit: "5" },
      'switchyard:jobsWafRateLimit must be 0 (no WAF) or from 10 (AWS WAF\'s lowest rate limit), got "5"',
    ],
    [
      { recordsGatewayConsumers: '{"acme":"gold"}' },
      'switchyard:recordsGatewayConsumers consumer "acme" names tier "gold", which is not one of standard, partner',
    ],
    [
      { recordsGatewayTiers: '{"s":{"rateLimit":100}}' },
      'switchyard:recordsGatewayTiers tier "s".burstLimit must be a whole number from 1 to 5000, got undefined',
    ],
    [
      { recordsGatewayRoutes: '["FETCH /x"]' },
      'switchyard:recordsGatewayRoutes extraRoutes[0] must be "<METHOD> <path>"',
    ],
    [
      { jobsCallerPrincipals: '["bob"]' },
      "switchyard:jobsCallerPrincipals must be a JSON list of strings matching",
    ],
  ];
  for (const [overrides, message] of bad) {
    it(`fails at preview for ${JSON.stringify(overrides)}`, async () => {
      try {
        await evaluateProgram("dev", overrides);
        expect.fail("the program should not evaluate");
      } catch (e: any) {
        expect(e.message).to.contain(message);
      }
    });
  }

  it("reads JWT and API key settings into the JobsApi arguments", () => {
    const load = (overrides: Record<string, string>) => {
      setupMocks({ ...stackConfig("dev"), ...TEST_SECRETS, ...overrides }, "dev");
      return loadConfig().apis;
    };
    expect(
      load({
        "switchyard:jobsAuth": "jwt",
        "switchyard:jobsJwtIssuer": "https://id.example.com/",
        "switchyard:jobsJwtAudience": "switchyard-jobs",
        "switchyard:jobsJwtJwksUrl": "https://id.example.com/.well-known/jwks.json",
        "switchyard:jobsJwtCacheSeconds": "60",
      }).jobs,
    ).to.deep.include({
      auth: "jwt",
      jwt: {
        issuer: "https://id.example.com/",
        audience: "switchyard-jobs",
        jwksUrl: "https://id.example.com/.well-known/jwks.json",
        resultTtlSeconds: 60,
      },
      callerPrincipals: undefined,
    });
    const keyed = load({
      "switchyard:jobsAuth": "apiKey",
      "switchyard:jobsApiKeyConsumers": '["ops"]',
      "switchyard:jobsApiKeyTier": '{"rateLimit":5,"burstLimit":10,"quota":100,"period":"DAY"}',
    });
    expect(keyed.jobs).to.deep.include({
      auth: "apiKey",
      jwt: undefined,
      apiKeyConsumers: ["ops"],
      apiKeyTier: { rateLimit: 5, burstLimit: 10, quota: 100, period: "DAY" },
    });
    expect(
      load({ "switchyard:jobsCallerPrincipals": '["arn:aws:iam::111122223333:role/ci"]' }).jobs
        .callerPrincipals,
    ).to.deep.equal(["arn:aws:iam::111122223333:role/ci"]);
    expect(load({}).gateway).to.deep.equal({
      tiers: DEFAULT_GATEWAY_TIERS,
      consumers: { "dev-tester": "standard" },
      extraRoutes: [],
      throttle: { rateLimit: 10, burstLimit: 20 },
      authorizerCacheSeconds: 300,
    });
  });
});
