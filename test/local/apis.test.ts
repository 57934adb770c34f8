import { expect } from "chai";
import { SwitchyardLocal } from "../../local/runtime";

// The records gateway served locally from its declared API Gateway resources: consumer keys,
// usage-plan throttles and quotas, and the upstream key injected by the declared authorizer.
describe("local runtime: the records gateway's keys, usage plans and upstream key", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;
  let url: string;
  let keys: Record<string, string>;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      log: () => undefined,
      configOverrides: {
        "switchyard:recordsGatewayTiers": JSON.stringify({
          tiny: { rateLimit: 1, burstLimit: 2, quota: 4, period: "DAY" },
          roomy: { rateLimit: 1000, burstLimit: 1000, quota: 1000, period: "MONTH" },
        }),
        "switchyard:recordsGatewayConsumers": JSON.stringify({ small: "tiny", big: "roomy" }),
      },
    });
    const name = Object.keys(local.restApis).find((n) => n.endsWith("-records-gw"))!;
    url = local.apiUrls[name];
    keys = local.restApis[name].apiKeys;
  });
  after(async () => local?.stop());

  const record = (id: string) =>
    JSON.stringify({
      tenantId: "acme",
      database: "crm",
      collection: "invoices",
      recordId: id,
      recordVersion: 1,
      recordPayload: { total: 1 },
    });
  const keyOf = (consumer: string) => Object.entries(keys).find(([k]) => k.endsWith(consumer))![1];

  it("refuses calls without a consumer key, or with an unknown one", async () => {
    const none = await fetch(`${url}/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: record("a"),
    });
    expect(none.status).to.equal(403);
    const wrong = await fetch(`${url}/records`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "guess" },
      body: record("a"),
    });
    expect(wrong.status).to.equal(403);
  });

  it("reaches the records API with the upstream key, whatever X-API-Key the consumer sent", async () => {
    const res = await fetch(`${url}/records`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": keyOf("big") },
      body: record("gw-1"),
    });
    expect(res.status).to.equal(202);
    // The stand-in answers 401 to any key but the records API key: a 202 proves the gateway
    // replaced the consumer's key with the upstream one.
    const call = local.records!.calls.find((c) => c.body?.recordId === "gw-1")!;
    expect(call.status).to.equal(202);
    const body = (await res.json()) as { recordHash: string };
    expect(body.recordHash).to.match(/^[0-9a-f]{64}$/);
  });

  it("throttles a consumer beyond its tier's burst with 429, then enforces its quota", async () => {
    const send = () =>
      fetch(`${url}/records`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": keyOf("small") },
        body: record("gw-2"),
      });
    // Sends until the tier's token bucket (1 a second) lets the call through, for at most 5 s: a
    // throttled call ("Too Many Requests") takes no token and counts against no quota.
    const sendPastThrottle = async () => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const res = await send();
        const throttled =
          res.status === 429 &&
          ((await res.clone().json()) as { message: string }).message === "Too Many Requests";
        if (!throttled || Date.now() > deadline) return res;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const burst = await Promise.all([send(), send(), send()]);
    expect(burst.map((r) => r.status).sort()).to.deep.equal([202, 202, 429]);
    expect((await sendPastThrottle()).status).to.equal(202);
    expect((await sendPastThrottle()).status).to.equal(202);
    const over = await sendPastThrottle();
    expect(over.status).to.equal(429);
    expect(((await over.json()) as { message: string }).message).to.equal("Limit Exceeded");
  });
});
