import { expect } from "chai";
import { one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../../components/events/eventHub";
import { RecordsForwarder } from "../../components/records/recordsForwarder";

describe("RecordsForwarder", () => {
  let hub: EventHub;
  let fwd: RecordsForwarder;

  before(async () => {
    resetRecorded();
    hub = new EventHub("rhub");
    fwd = new RecordsForwarder("fwd", {
      hub,
      apiEndpoint: "https://records.example.com",
      apiKey: pulumi.secret("k-123"),
      rateLimitPerSecond: 20,
      sources: ["crm", "erp"],
    });
    await valueOf(fwd.destinationArn);
    await settle();
  });

  it("authenticates with an API key header from the secret", async () => {
    const c = one("aws:cloudwatch/eventConnection:EventConnection", "fwd-records-api").inputs;
    expect(c.authorizationType).to.equal("API_KEY");
    // The engine receives the auth parameters as a secret (Pulumi's secret signature wraps them),
    // so the key is encrypted in the state and never shown in a preview.
    expect(c.authParameters["4dabf18193072939515e22adb298388d"]).to.equal(
      "1b47061264138c4ac30d75fd1eb44270",
    );
    expect(c.authParameters.value).to.deep.equal({ apiKey: { key: "X-API-Key", value: "k-123" } });
  });

  it("declares the API destination: endpoint, POST, rate limit", () => {
    const d = one("aws:cloudwatch/eventApiDestination:EventApiDestination", "fwd-records").inputs;
    expect(d).to.include({
      invocationEndpoint: "https://records.example.com/api/v1/records",
      httpMethod: "POST",
      invocationRateLimitPerSecond: 20,
      connectionArn: `arn:aws:events:${REGION}:${ACCOUNT}:connection/fwd-records-api/0000`,
    });
  });

  it("routes the configured sources and default detail types with a complete record", () => {
    const rule = one("aws:cloudwatch/eventRule:EventRule", "rhub-records").inputs;
    expect(rule.eventBusName).to.equal("rhub");
    expect(JSON.parse(rule.eventPattern)).to.deep.equal({
      source: ["crm", "erp"],
      "detail-type": ["RecordCreated", "RecordUpdated"],
      detail: {
        tenantId: [{ exists: true }],
        recordId: [{ exists: true }],
        recordVersion: [{ numeric: [">=", 0] }],
      },
      "replay-name": [{ exists: false }],
    });
  });

  it("delivers through the destination with the record transformer, 185 retries over 24 h and the hub DLQ", () => {
    const t = one("aws:cloudwatch/eventTarget:EventTarget", "rhub-records-records-api").inputs;
    const destArn = `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/fwd-records/0000`;
    expect(t.arn).to.equal(destArn);
    expect(t.retryPolicy).to.deep.equal({
      maximumRetryAttempts: 185,
      maximumEventAgeInSeconds: 86400,
    });
    expect(t.deadLetterConfig).to.deep.equal({ arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:rhub-dlq` });
    expect(t.inputTransformer.inputPaths).to.deep.equal({
      tenantId: "$.detail.tenantId",
      database: "$.source",
      collection: "$.detail-type",
      recordId: "$.detail.recordId",
      recordVersion: "$.detail.recordVersion",
      payload: "$.detail.payload",
      time: "$.time",
    });
    expect(t.inputTransformer.inputTemplate).to.equal(
      '{"tenantId":"<tenantId>","database":"<database>","collection":"<collection>","recordId":"<recordId>","recordVersion":<recordVersion>,"operationType":"upsert","recordPayload":<payload>,"sourceTimestamp":"<time>","idempotencyKey":"<tenantId>:<recordId>:<recordVersion>"}',
    );
    const policy = JSON.parse(
      one("aws:iam/rolePolicy:RolePolicy", "rhub-records-records-api").inputs.policy,
    );
    expect(policy.Statement).to.deep.equal([
      { Effect: "Allow", Action: ["events:InvokeApiDestination"], Resource: destArn },
    ]);
    expect(t.roleArn).to.equal(`arn:aws:iam::${ACCOUNT}:role/rhub-records-records-api`);
  });

  it("parents its resources and its route to itself", () => {
    expect((fwd.connection as any).__parentResource).to.equal(fwd);
    expect((fwd.destination as any).__parentResource).to.equal(fwd);
    expect((fwd.route as any).__parentResource).to.equal(fwd);
    expect(hub.routes.records).to.equal(fwd.route);
  });

  it("exposes the connection, its secret and the destination", async () => {
    expect(await valueOf(fwd.connectionArn)).to.equal(
      `arn:aws:events:${REGION}:${ACCOUNT}:connection/fwd-records-api/0000`,
    );
    expect(await valueOf(fwd.connectionSecretArn)).to.match(
      /^arn:aws:secretsmanager:.*:secret:events!connection\/fwd-records-api\//,
    );
    expect(await valueOf(fwd.destinationArn)).to.equal(
      `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/fwd-records/0000`,
    );
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    [
      "an http endpoint",
      { apiEndpoint: "http://records.example.com" },
      "apiEndpoint must use https://",
    ],
    [
      "a trailing slash",
      { apiEndpoint: "https://records.example.com/" },
      'apiEndpoint must not end with "/"',
    ],
    [
      "a rate above 300",
      { rateLimitPerSecond: 500 },
      "rateLimitPerSecond must be an integer from 1 to 300, got 500",
    ],
    ["no sources", { sources: [] }, "sources must name at least one event source"],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what}`, () => {
      const h = new EventHub(`h${bad.findIndex((b) => b[0] === what)}`);
      expect(
        () =>
          new RecordsForwarder("x", {
            hub: h,
            apiEndpoint: "https://records.example.com",
            apiKey: "k",
            ...args,
          } as any),
      ).to.throw(message);
    });
  }
});
