import { expect } from "chai";
import { evaluateProgram, Program } from "./program";
import { valueOf } from "./mocks";

function count(p: Program): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of p.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

/** The registry's schema names, in declaration order. */
const schemaNames = (p: Program) =>
  p.resources.filter((r) => r.type === "aws:schemas/schema:Schema").map((r) => r.inputs.name);

describe("the program (index.ts) per stack", () => {
  it("evaluates the dev stack: debug route, schema discovery, short retention, no protection", async () => {
    const p = await evaluateProgram("dev");
    expect(await valueOf(p.exports.busName)).to.equal("switchyard-dev");
    expect(await valueOf(p.exports.recordsDestinationArn)).to.match(
      /:api-destination\/switchyard-dev-forwarder-records\//,
    );
    const archive = p.resources.find((r) => r.type === "aws:cloudwatch/eventArchive:EventArchive")!;
    expect(archive.inputs.retentionDays).to.equal(7);
    const dlq = p.resources.find(
      (r) => r.name === "switchyard-dev-dlq" && r.type === "aws:sqs/queue:Queue",
    )!;
    expect(dlq.inputs.messageRetentionSeconds).to.equal(345600);
    expect(count(p)["aws:schemas/discoverer:Discoverer"]).to.equal(1);
    expect(Object.keys(p.exports.hub.routes).sort()).to.deep.equal([
      "debug",
      "records",
      "tenant-ingress",
      "verification",
      "verification-hmac",
      "verification-standard",
    ]);
    const dest = p.resources.find(
      (r) => r.type === "aws:cloudwatch/eventApiDestination:EventApiDestination",
    )!;
    expect(dest.inputs.invocationRateLimitPerSecond).to.equal(10);
    expect(dest.inputs.invocationEndpoint).to.equal(
      "https://sandbox.records.example.com/api/v1/records",
    );
    expect((p.exports.hub.bus as any).__protect).to.equal(false);
    // The event contracts: every provider the dev stack receives from, the default change source.
    expect(await valueOf(p.exports.schemaRegistryName)).to.equal("switchyard-dev-contracts");
    expect(schemaNames(p)).to.deep.equal([
      "switchyard.records@RecordCreated",
      "switchyard.records@RecordUpdated",
      "switchyard.records@RecordVerificationRequested",
      "switchyard.webhooks.github@WebhookDelivery",
      "switchyard.webhooks.twilio@WebhookDelivery",
      "switchyard.webhooks.stripe@WebhookDelivery",
      "switchyard.webhooks.standard@WebhookDelivery",
      "switchyard.webhooks.hmac@WebhookDelivery",
      "switchyard.output@TenantChange",
      "switchyard.outbound@Switchyard.Outbound.AttemptExhausted",
      "switchyard.outbound@Switchyard.Outbound.EndpointDisabled",
      "lambda@LambdaFunctionInvocationResult-Failure",
    ]);
  });

  it("evaluates the prod stack: long retention, protection, no debug route", async () => {
    const p = await evaluateProgram("prod");
    expect(await valueOf(p.exports.busName)).to.equal("switchyard-prod");
    const archive = p.resources.find((r) => r.type === "aws:cloudwatch/eventArchive:EventArchive")!;
    expect(archive.inputs.retentionDays).to.equal(365);
    expect(count(p)["aws:schemas/discoverer:Discoverer"]).to.equal(undefined);
    expect(Object.keys(p.exports.hub.routes)).to.deep.equal([
      "records",
      "verification",
      "tenant-ingress",
    ]);
    const dest = p.resources.find(
      (r) => r.type === "aws:cloudwatch/eventApiDestination:EventApiDestination",
    )!;
    expect(dest.inputs.invocationRateLimitPerSecond).to.equal(300);
    expect((p.exports.hub.bus as any).__protect).to.equal(true);
    // Webhook delivery contracts of the two providers prod receives from only.
    expect(schemaNames(p).filter((n) => n.includes("webhooks"))).to.deep.equal([
      "switchyard.webhooks.github@WebhookDelivery",
      "switchyard.webhooks.stripe@WebhookDelivery",
    ]);
    const registry = p.resources.find((r) => r.type === "aws:schemas/registry:Registry")!;
    expect((registry as any).inputs.name).to.equal("switchyard-prod-contracts");
  });

  it("fails at preview when the records API key secret is missing, with the command to set it", async () => {
    try {
      await evaluateProgram("prod", { recordsApiKey: undefined });
      expect.fail("the program should not evaluate");
    } catch (e: any) {
      expect(e.message).to.equal(
        "Missing secret switchyard:recordsApiKey (the records API key, sent as X-API-Key) for stack prod. Set it with: pulumi config set --secret switchyard:recordsApiKey <value> --stack prod",
      );
    }
  });

  const bad: Array<[string, string, string]> = [
    [
      "archiveRetentionDays",
      "forever",
      'switchyard:archiveRetentionDays must be a whole number from 0 to 3650, got "forever". Fix it with: pulumi config set switchyard:archiveRetentionDays 30 --stack dev',
    ],
    ["logRetentionDays", "10", "switchyard:logRetentionDays must be one of 1, 3, 5, 7, 14, 30"],
    [
      "recordsApiEndpoint",
      "http://records.example.com",
      'switchyard:recordsApiEndpoint must be an https:// URL without a trailing slash, got "http://records.example.com"',
    ],
    [
      "recordsRateLimitPerSecond",
      "301",
      'switchyard:recordsRateLimitPerSecond must be a whole number from 1 to 300, got "301"',
    ],
    [
      "debugRoute",
      "yes",
      'switchyard:debugRoute must be true or false, got "yes". Fix it with: pulumi config set switchyard:debugRoute false --stack dev',
    ],
    [
      "publisherAccountIds",
      '["12"]',
      "switchyard:publisherAccountIds must be a JSON list of strings matching",
    ],
    [
      "lambdaClientInit",
      "eager",
      'switchyard:lambdaClientInit must be one of on-first-use, at-init, got "eager". Fix it with: pulumi config set switchyard:lambdaClientInit on-first-use --stack dev',
    ],
  ];
  for (const [key, value, message] of bad) {
    it(`fails at preview naming switchyard:${key} when it is ${value}`, async () => {
      try {
        await evaluateProgram("dev", { [key]: value });
        expect.fail("the program should not evaluate");
      } catch (e: any) {
        expect(e.message).to.contain(message);
      }
    });
  }
});

describe("the program's alarms", () => {
  // Two alarms on the same metric and dimensions notify twice for one fault and cost twice.
  for (const stack of ["dev", "prod"])
    it(`watches each metric once on ${stack}, with outbound webhook subscriptions declared`, async () => {
      const p = await evaluateProgram(stack, {
        outboundSubscriptions: JSON.stringify([
          { name: "billing", url: "https://billing.example.com/hooks", events: ["RecordCreated"] },
          { name: "crm-eu", url: "https://crm.example.net/in", events: { source: ["x.y"] } },
        ]),
        outboundSecretBilling: "whsec_" + Buffer.alloc(32, 3).toString("base64"),
        outboundSecretCrmEu: "whsec_" + Buffer.alloc(32, 4).toString("base64"),
      });
      const alarms = p.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
      const watched = new Map<string, string[]>();
      for (const a of alarms) {
        const key = JSON.stringify([
          a.inputs.namespace,
          a.inputs.metricName,
          a.inputs.dimensions,
          a.inputs.statistic ?? a.inputs.extendedStatistic,
          a.inputs.metricQueries,
        ]);
        watched.set(key, [...(watched.get(key) ?? []), a.name]);
      }
      const twice = [...watched.values()].filter((names) => names.length > 1);
      expect(twice).to.deep.equal([]);
      // Each subscription's rule has its pair of rule alarms.
      for (const s of ["billing", "crm-eu"])
        expect(
          alarms.filter((a) => a.inputs.dimensions?.RuleName === `switchyard-${stack}-out-${s}`),
        ).to.have.length(2);
    });
});
