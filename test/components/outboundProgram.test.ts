// The program (index.ts) with outbound subscriptions in the stack's config: wiring, outputs, and
// the preview errors of bad values, each naming the key and the fix.
import { expect } from "chai";
import { ofType, one } from "../mocks";
import { evaluateProgram } from "../program";
import { ConfigError } from "../../config/kinds";

const KEY = "whsec_" + Buffer.alloc(32, 3).toString("base64");
const SUBSCRIPTIONS = JSON.stringify([
  { name: "billing", url: "https://billing.example.com/hooks", events: ["RecordCreated"] },
  { name: "crm-eu", url: "https://crm.example.net/in", events: { source: ["switchyard.records"] } },
]);

describe("the program with outbound webhook subscriptions", function () {
  this.timeout(120000);

  it("declares OutboundWebhooks from the config, with a configured and a generated secret, and exports where they are", async () => {
    const p = await evaluateProgram("prod", {
      outboundSubscriptions: SUBSCRIPTIONS,
      outboundSecretBilling: KEY,
      outboundRetrySchedule: "[0,60,3600]",
      outboundRequestTimeoutSeconds: "20",
    });
    expect(
      ofType("aws:lambda/eventSourceMapping:EventSourceMapping").map((r) => r.name),
    ).to.include.members(["switchyard-prod-outbound-billing", "switchyard-prod-outbound-crm-eu"]);
    expect(
      one("aws:lambda/function:Function", "switchyard-prod-outbound-dispatcher").inputs.timeout,
    ).to.equal(50);
    expect(
      ofType("aws:secretsmanager/secretVersion:SecretVersion").map((r) => r.name),
    ).to.include.members([
      "switchyard-prod-outbound-billing",
      "switchyard-prod-outbound-crm-eu-generated",
    ]);
    expect(p.exports.outboundSecretSources).to.deep.equal({
      billing: "config",
      "crm-eu": "generated",
    });
    const arns = await new Promise<Record<string, string>>((r) =>
      p.exports.outboundSecretArns.apply(r),
    );
    expect(Object.keys(arns)).to.deep.equal(["billing", "crm-eu"]);
    // protection follows the stack's
    expect(
      one("aws:dynamodb/table:Table", "switchyard-prod-outbound-attempts").inputs
        .deletionProtectionEnabled,
    ).to.equal(true);
  });

  it("monitors each subscription: its four alarms, the dispatcher's, its route's, and a dashboard tile", async () => {
    await evaluateProgram("prod", {
      outboundSubscriptions: SUBSCRIPTIONS,
      outboundSecretBilling: KEY,
      outboundRetrySchedule: "[0,60,3600]",
    });
    // The oldest-message alarm follows the configured schedule: 3,660 s of retries plus an hour.
    expect(
      one("aws:cloudwatch/metricAlarm:MetricAlarm", "switchyard-prod-ops-outbound-crm-eu-oldest")
        .inputs.threshold,
    ).to.equal(3660 + 3600);
    const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => r.name);
    for (const sub of ["billing", "crm-eu"])
      expect(alarms).to.include.members(
        ["failures", "oldest", "dlq", "disabled"].map(
          (what) => `switchyard-prod-ops-outbound-${sub}-${what}`,
        ),
      );
    expect(alarms.filter((n) => n.includes("outbound-dispatcher")).length).to.be.greaterThan(0);
    expect(alarms.filter((n) => n.includes("out-billing")).length).to.be.greaterThan(0);
    const dlq = one(
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "switchyard-prod-ops-outbound-billing-dlq",
    );
    expect(dlq.inputs).to.include({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      threshold: 0,
    });
    expect(dlq.inputs.dimensions.QueueName).to.match(/outbound-billing/);
    const body = JSON.parse(
      one("aws:cloudwatch/dashboard:Dashboard", "switchyard-prod-ops").inputs.dashboardBody,
    );
    const titles = body.widgets.map((w: any) => w.properties?.title);
    expect(titles).to.include.members(["Outbound billing", "Outbound crm-eu"]);
  });

  it("declares nothing outbound while no subscription is configured", async () => {
    const p = await evaluateProgram("dev");
    expect(p.exports.outbound).to.equal(undefined);
    expect(p.exports.outboundSecretArns).to.deep.equal({});
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    [
      "a subscription over http",
      {
        outboundSubscriptions: JSON.stringify([
          { name: "a", url: "http://a.example.com", events: ["X"] },
        ]),
      },
      /switchyard:outboundSubscriptions subscription "a" url must be an https:\/\/ URL.*Fix it with: pulumi config set switchyard:outboundSubscriptions/,
    ],
    [
      "a malformed secret",
      { outboundSubscriptions: SUBSCRIPTIONS, outboundSecretBilling: "hunter2" },
      /switchyard:outboundSecretBilling \(the signing secret of outbound subscription "billing"\) must be a Standard Webhooks secret.*pulumi config set --secret switchyard:outboundSecretBilling/,
    ],
    [
      "a previous secret without a current one",
      { outboundSubscriptions: SUBSCRIPTIONS, outboundSecretCrmEuPrevious: KEY },
      /switchyard:outboundSecretCrmEuPrevious is set but switchyard:outboundSecretCrmEu is not/,
    ],
    [
      "a retry delay over 12 h",
      { outboundRetrySchedule: "[0,86400]" },
      /switchyard:outboundRetrySchedule must be a JSON list of 1-50 whole numbers/,
    ],
  ];
  for (const [what, overrides, message] of bad)
    it(`fails at preview on ${what}, naming the key and the fix`, async () => {
      let error: unknown;
      try {
        await evaluateProgram("dev", overrides);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.match(message);
    });
});
