import { expect } from "chai";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { realisticEvents } from "../../bench/samples";
import { PROVIDERS } from "../../handlers/webhooks/providers";
import {
  contractsWithTenantSources,
  EventContract,
  indexContracts,
  LAMBDA_FAILURE_DETAIL_TYPE,
  schemaDocument,
  schemaName,
  stackContracts,
  SWITCHYARD_CONTRACTS,
  tenantChangeContract,
  typeNameOf,
  WEBHOOK_PROVIDERS,
} from "../../lib/eventSchemas";
import { assertSupported, DRAFT_04, validate } from "../../lib/jsonSchema";
import { OUTBOUND_DETAIL_TYPES } from "../../lib/contracts";
import { deliveredEvent, nonConformity } from "../support/publishedEvents";

const envelope = (source: string, detailType: string, detail: unknown) => ({
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": detailType,
  source,
  account: "123456789012",
  time: "2026-11-21T10:00:00Z",
  region: "eu-west-1",
  resources: [],
  detail,
});

/** One event of each contract that is not in bench/samples.ts, in the shape its publisher sends. */
const MORE_SAMPLES = [
  envelope("switchyard.records", "RecordVerificationRequested", {
    tenantId: "acme",
    database: "billing",
    collection: "invoices",
    recordId: "inv-42",
    recordVersion: 3,
    payload: { total: 120 },
  }),
  envelope("switchyard.webhooks.twilio", "message.delivered", {
    provider: "twilio",
    deliveryId: "idem-1",
    correlationId: "idem-1",
    eventType: "message.delivered",
    receivedAt: "2026-11-21T10:00:00.000Z",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: { MessageStatus: "delivered", To: "+15550100" },
  }),
  envelope("switchyard.webhooks.standard", "invoice.paid", {
    provider: "standard",
    deliveryId: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    correlationId: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    eventType: "invoice.paid",
    receivedAt: "2026-11-21T10:00:00.000Z",
    headers: {},
    payload: { type: "invoice.paid", timestamp: "2026-11-21T10:00:00Z", data: { id: 1 } },
  }),
  envelope("switchyard.webhooks.hmac", "webhook", {
    provider: "hmac",
    deliveryId: "sha256:00",
    correlationId: "delivery-1",
    eventType: "webhook",
    receivedAt: "2026-11-21T10:00:00.000Z",
    headers: {},
    payloadRef: {
      bucket: "payloads",
      key: "hmac/ab",
      bytes: 300000,
      sha256: "a".repeat(64),
      contentType: "application/json",
    },
  }),
  envelope("switchyard.output", "invoice.PUT", {
    tenant: "demo",
    rootSchema: "invoice",
    operation: "PUT",
    payload: { id: "inv-1", total: 5 },
    changeId: "c0ffee",
  }),
  envelope("switchyard.outbound", OUTBOUND_DETAIL_TYPES.attemptExhausted, {
    subscription: "crm",
    messageId: "m-1",
    eventId: "e-1",
    eventSource: "switchyard.records",
    eventDetailType: "RecordCreated",
    attempts: 6,
    lastStatusCode: null,
    lastError: "timeout after 10000 ms",
    dlqUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/crm-dlq",
  }),
  envelope("switchyard.outbound", OUTBOUND_DETAIL_TYPES.endpointDisabled, {
    subscription: "crm",
    url: "https://crm.example.com/hooks",
    failingSince: "2026-11-20T10:00:00.000Z",
    disabledAt: "2026-11-21T10:00:00.000Z",
  }),
  envelope("lambda", LAMBDA_FAILURE_DETAIL_TYPE, {
    version: "1.0",
    timestamp: "2026-11-21T10:03:05.568Z",
    requestContext: {
      requestId: "e4b46cbf-b738-4880-a18c-df61200e0001",
      functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jobs-failed:$LATEST",
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
    },
    requestPayload: { requestPayload: { jobId: "j-1", type: "checksum" } },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: { errorType: "Error", errorMessage: "table unavailable" },
  }),
];

type Sample = ReturnType<typeof envelope>;
const index = indexContracts(SWITCHYARD_CONTRACTS);
const contractOf = (e: Sample) => index.find(e.source, e["detail-type"]);
const samples = (): Sample[] =>
  [...realisticEvents(), ...MORE_SAMPLES].filter((e) => contractOf(e as Sample)) as Sample[];

/** Ajv (draft-07 engine, strict: every keyword must be known), EventBridge's annotations declared. */
function ajv() {
  // strictRequired off: `oneOf: [{ required: ["payload"] }, ...]` names properties declared beside it.
  const a = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  addFormats(a);
  a.addKeyword("x-amazon-events-source");
  a.addKeyword("x-amazon-events-detail-type");
  return a;
}
/** The document for Ajv: draft-04 and draft-07 agree on every keyword of the subset. */
const forAjv = (c: EventContract) => {
  const { $schema, ...rest } = schemaDocument(c) as Record<string, unknown>;
  expect($schema).to.equal(DRAFT_04);
  return rest;
};

describe("lib/eventSchemas (the event contracts)", () => {
  it("has one webhook delivery contract per provider the receivers serve", () => {
    expect([...WEBHOOK_PROVIDERS].sort()).to.deep.equal([...PROVIDERS].sort());
  });

  it("names every schema <source>@<DetailType>, as EventBridge names discovered schemas", () => {
    expect(SWITCHYARD_CONTRACTS.map(schemaName)).to.deep.equal([
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
    expect(typeNameOf("EC2 Instance State-change Notification")).to.equal(
      "EC2InstanceState-changeNotification",
    );
    // A tenant rule's source may hold characters a schema name cannot.
    expect(schemaName(tenantChangeContract("acme sync/v2"))).to.equal("acme-sync-v2@TenantChange");
  });

  it("writes the whole event, detail inside, as the registry's draft-04 schemas do", () => {
    const c = SWITCHYARD_CONTRACTS.find(
      (x) => x.detailType === OUTBOUND_DETAIL_TYPES.endpointDisabled,
    )!;
    expect(schemaDocument(c)).to.deep.equal({
      $schema: "http://json-schema.org/draft-04/schema#",
      title: "Switchyard.Outbound.EndpointDisabled",
      description:
        "A subscription's endpoint failed every attempt for too long and was disabled. Published by the outbound webhook dispatcher.",
      type: "object",
      required: [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
      ],
      properties: {
        version: { type: "string" },
        id: { type: "string" },
        "detail-type": { type: "string", enum: ["Switchyard.Outbound.EndpointDisabled"] },
        source: { type: "string", enum: ["switchyard.outbound"] },
        account: { type: "string", pattern: "^\\d{12}$" },
        time: { type: "string", format: "date-time" },
        region: { type: "string" },
        resources: { type: "array", items: { type: "string" } },
        detail: {
          type: "object",
          required: ["subscription", "url", "failingSince", "disabledAt"],
          additionalProperties: false,
          properties: {
            subscription: { type: "string", minLength: 1 },
            url: { type: "string", minLength: 1 },
            failingSince: { type: "string", format: "date-time" },
            disabledAt: { type: "string", format: "date-time" },
          },
        },
      },
      "x-amazon-events-source": "switchyard.outbound",
      "x-amazon-events-detail-type": "Switchyard.Outbound.EndpointDisabled",
    });
    // A contract for every detail-type of its source bounds the detail-type as EventBridge does.
    const github = schemaDocument(SWITCHYARD_CONTRACTS.find((x) => x.source.endsWith("github"))!);
    expect(github.properties!["detail-type"]).to.deep.equal({
      type: "string",
      minLength: 1,
      maxLength: 128,
    });
    expect(github).not.to.have.property("x-amazon-events-detail-type");
  });

  it("uses only keywords both the publisher's validator and Ajv's strict mode know", () => {
    const a = ajv();
    for (const c of SWITCHYARD_CONTRACTS) {
      expect(() => assertSupported(schemaDocument(c)), schemaName(c)).not.to.throw();
      expect(() => a.compile(forAjv(c)), schemaName(c)).not.to.throw();
      expect(c.description.length, schemaName(c)).to.be.at.most(256);
    }
  });

  it("accepts the sample events of bench/samples.ts and one of every other contract; Ajv agrees", () => {
    const a = ajv();
    const all = samples();
    const covered = new Set(all.map((e) => schemaName(contractOf(e)!)));
    expect([...covered].sort()).to.deep.equal(SWITCHYARD_CONTRACTS.map(schemaName).sort());
    for (const e of all) {
      const c = contractOf(e)!;
      expect(validate(schemaDocument(c), e), schemaName(c)).to.deep.equal([]);
      expect(a.validate(forAjv(c), e), `${schemaName(c)}: ${a.errorsText()}`).to.equal(true);
    }
  });

  it("refuses broken events as Ajv does: a missing field, a wrong type, an extra field, a bad time, another source", () => {
    const a = ajv();
    const breakages: Array<[string, (e: any) => void]> = [
      ["missing detail field", (e) => delete e.detail[Object.keys(e.detail)[0]]],
      ["detail not an object", (e) => (e.detail = [e.detail])],
      ["extra field", (e) => (e.detail.unexpected = 1)],
      ["bad time", (e) => (e.time = "yesterday")],
      ["another source", (e) => (e.source = `${e.source}.other`)],
    ];
    for (const e of samples()) {
      const c = contractOf(e)!;
      for (const [what, breakIt] of breakages) {
        const broken = JSON.parse(JSON.stringify(e));
        breakIt(broken);
        const ours = validate(schemaDocument(c), broken).length === 0;
        const theirs = a.validate(forAjv(c), broken);
        expect(ours, `${schemaName(c)}, ${what}`).to.equal(theirs);
        // Open details (events of services outside Switchyard and Lambda's) take extra fields.
        const open = c.detail.additionalProperties === undefined;
        expect(ours, `${schemaName(c)}, ${what}`).to.equal(what === "extra field" && open);
      }
    }
  });

  it("adds a tenant change contract for each rule's own source, and refuses one that takes another kind's", () => {
    const tenants = {
      acme: { rules: [{ source: "acme.sync" }, {}] },
      globex: { rules: [{ source: "acme.sync" }, { source: "crm" }] },
    };
    expect(contractsWithTenantSources(tenants).map(schemaName).slice(-2)).to.deep.equal([
      "acme.sync@TenantChange",
      "crm@TenantChange",
    ]);
    expect(
      stackContracts({ webhookProviders: ["stripe"], tenants }).map(schemaName),
    ).to.include.members(["switchyard.webhooks.stripe@WebhookDelivery", "crm@TenantChange"]);
    expect(() =>
      indexContracts(
        stackContracts({
          webhookProviders: ["github"],
          tenants: { acme: { rules: [{ source: "switchyard.webhooks.github" }] } },
        }),
      ),
    ).to.throw(
      'event contracts switchyard.webhooks.github@WebhookDelivery and switchyard.webhooks.github@TenantChange both claim every detail-type of source "switchyard.webhooks.github"',
    );
    const created = SWITCHYARD_CONTRACTS[0];
    expect(() => indexContracts([created, { ...created, typeName: "Created2" }])).to.throw(
      'event contracts switchyard.records@RecordCreated and switchyard.records@Created2 both claim source "switchyard.records" with detail-type "RecordCreated"',
    );
  });

  it("the suites' conformance check (test/support/publishedEvents.ts) flags what the registry would not describe", () => {
    const c = tenantChangeContract("switchyard.output");
    const entry = {
      Source: "switchyard.output",
      DetailType: "invoice.PUT",
      Detail: JSON.stringify({
        tenant: "demo",
        rootSchema: "invoice",
        operation: "PUT",
        payload: {},
        changeId: "c",
      }),
    };
    expect(nonConformity({ entry, contract: c })).to.equal(undefined);
    expect(deliveredEvent({ entry, contract: c })).to.include({ "detail-type": "invoice.PUT" });
    expect(nonConformity({ entry: { ...entry, DetailType: "" }, contract: c })).to.equal(
      "switchyard.output@TenantChange: $.detail-type: must have at least 1 characters",
    );
    expect(
      nonConformity({ entry: { ...entry, Detail: '{"tenant":"demo"}' }, contract: c }),
    ).to.match(/^switchyard.output@TenantChange: \$.detail.rootSchema: is required/);
    expect(nonConformity({ entry })).to.equal(
      'no event contract names source "switchyard.output" with detail-type "invoice.PUT"',
    );
  });
});
