import { expect } from "chai";
import type { DynamoDBRecord } from "aws-lambda";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { GetItemCommand, AttributeValue } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  CHANGE_PUBLISHER_SERVICE,
  LoggerLike,
  makeHandler,
} from "../../../handlers/tenants/changePublisher";
import { makeMetrics } from "../../../handlers/lib/telemetry";
import { makeHandler as makeIngress, IngressEvent } from "../../../handlers/tenants/eventIngress";
import { changeFromStreamRecord } from "../../../handlers/tenants/items";
import { hashApiKey } from "../../../handlers/tenants/apiKeys";
import { Tenants } from "../../../lib/tenantRules";
import { createTenantTables, LocalDynamo, startLocalDynamo } from "./localDynamo";
import { mockInstance } from "../../support/aws";
import { Blob, count, emfOf as emfOfBlobs, metricsOf } from "../emf";
import { expectRefusedEvents } from "../../support/publishedEvents";

const HUB = "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-dev";
const PARTNER = "arn:aws:events:eu-west-1:444455556666:event-bus/partner";
const STREAM =
  "arn:aws:dynamodb:eu-west-1:123456789012:table/tenant-data/stream/2026-01-01T00:00:00.000";

const tenants: Tenants = {
  acme: {
    ingressEnabled: true,
    rules: [
      {},
      {
        targetBusArn: PARTNER,
        source: "acme.sync",
        detailType: "InvoiceChanged",
        operations: ["PUT", "PATCH", "DELETE"],
        schemaNames: ["invoice"],
      },
      { schemaNames: ["customer"], source: "crm" },
    ],
  },
  quiet: { ingressEnabled: true },
  picky: { rules: [{ schemaNames: ["invoice"], operations: ["DELETE"] }] },
};

const eventBridge = new EventBridgeClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const eb = mockInstance(eventBridge);
const sqs = new SQSClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const sqsMock = mockInstance(sqs);

type Image = Record<string, AttributeValue>;
let seq = 0;

/** A stream record as Lambda delivers it, around images read from the real table. */
function streamRecord(
  eventName: "INSERT" | "MODIFY" | "REMOVE",
  images: { New?: Image; Old?: Image },
): DynamoDBRecord {
  const n = ++seq;
  const keyOf = (i: Image) => ({ tenant: i.tenant, sk: i.sk });
  return {
    eventID: `change-${n}`,
    eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    eventSourceARN: STREAM,
    dynamodb: {
      ApproximateCreationDateTime: 1795000000 + n,
      Keys: keyOf((images.New ?? images.Old)!) as any,
      ...(images.New ? { NewImage: images.New as any } : {}),
      ...(images.Old ? { OldImage: images.Old as any } : {}),
      SequenceNumber: String(1000 + n).padStart(21, "0"),
      SizeBytes: 200,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

/** Every entry EventBridge received, with the bus it was sent to and its detail parsed. */
function published(): Array<{ bus: string; source: string; detailType: string; detail: any }> {
  return eb
    .commandCalls(PutEventsCommand)
    .flatMap((c) => c.args[0].input.Entries as PutEventsRequestEntry[])
    .map((e) => ({
      bus: e.EventBusName!,
      source: e.Source!,
      detailType: e.DetailType!,
      detail: JSON.parse(e.Detail!),
    }));
}

/** Runs `fn` and returns the EMF blobs written to stdout meanwhile, and what it returned or threw. */
async function emfOf<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: any; blobs: Blob[] }> {
  const { result: settled, blobs } = await emfOfBlobs(() =>
    fn().then(
      (result): { result?: T; error?: any } => ({ result }),
      (error) => ({ error }),
    ),
  );
  return { ...settled, blobs };
}

/** The one blob a batch emits: the summed publishing outcome, dimension service=change-publisher. */
function publishBlob(values: {
  EventsPublished: number;
  PublishRetries: number;
  EventsPublishFailed?: number;
}) {
  const names = [
    "EventsPublished",
    "PublishRetries",
    ...(values.EventsPublishFailed !== undefined ? ["EventsPublishFailed"] : []),
  ];
  return {
    namespace: "Switchyard",
    dimensions: [["service"]],
    metrics: count(...names),
    values: { service: "change-publisher", ...values },
  };
}

describe("handlers/tenants/changePublisher (stream images from a local DynamoDB)", () => {
  let ddb: LocalDynamo;
  let handler: ReturnType<typeof makeHandler>;
  const images: Record<string, Image> = {};

  const raw = async (tenant: string, sk: string) =>
    (
      await ddb.client.send(
        new GetItemCommand({ TableName: "data", Key: { tenant: { S: tenant }, sk: { S: sk } } }),
      )
    ).Item as Image;

  before(async () => {
    // Real items, written by the ingress handler, give the images the stream would carry.
    ddb = await startLocalDynamo();
    await createTenantTables(ddb.client, "data", "access");
    await ddb.doc.send(
      new PutCommand({
        TableName: "access",
        Item: {
          pk: `apikey#${hashApiKey("k")}`,
          keyHash: hashApiKey("k"),
          tenant: "acme",
          permissions: ["backend_calls"],
          revoked: false,
        },
      }),
    );
    Object.assign(process.env, {
      DATA_TABLE: "data",
      ACCESS_TABLE: "access",
      REJECTED_QUEUE_URL: "https://sqs.local/q",
    });
    sqsMock.on(SendMessageCommand).resolves({});
    const ingress = makeIngress({
      ddb: ddb.doc,
      sqs,
      tenants,
      clock: () => new Date("2026-11-21T10:00:00Z"),
    });
    let writes = 0;
    const write = async (op: string, schema: string, payload: object) => {
      const r = await ingress(
        {
          id: `e-${++writes}`,
          "detail-type": `${schema}.${op}`,
          source: "switchyard.input",
          detail: { tenant: "acme", rootSchema: schema, api_key: "k", payload },
        } as IngressEvent,
        {},
      );
      expect(r.status).to.be.oneOf([200, 201]);
    };
    await write("POST", "invoice", { id: "inv-1", total: 10 });
    images.posted = await raw("acme", "invoice#inv-1");
    await write("PUT", "invoice", { id: "inv-1", total: 12 });
    images.put = await raw("acme", "invoice#inv-1");
    await write("PATCH", "invoice", { id: "inv-1", paid: true });
    images.patched = await raw("acme", "invoice#inv-1");
    await write("DELETE", "invoice", { id: "inv-1" });
    await write("POST", "customer", { id: "c-1", name: "Ann" });
    images.customer = await raw("acme", "customer#c-1");
    await write("POST", "order", { id: "o-1" });
    images.order = await raw("acme", "order#o-1");
    process.env.DEFAULT_BUS_ARN = HUB;
    handler = makeHandler({ eventBridge, tenants, publisher: { sleep: async () => undefined } });
  });
  after(async () => {
    for (const k of ["DATA_TABLE", "ACCESS_TABLE", "REJECTED_QUEUE_URL", "DEFAULT_BUS_ARN"])
      delete process.env[k];
    await ddb.stop();
  });
  beforeEach(() => {
    eb.reset();
    eb.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
    }));
  });

  it("reads each stream record as a change: INSERT is POST, MODIFY is PUT or PATCH, REMOVE is DELETE with the old item", () => {
    const cases: Array<[DynamoDBRecord, string, object]> = [
      [streamRecord("INSERT", { New: images.posted }), "POST", { total: 10, id: "inv-1" }],
      [
        streamRecord("MODIFY", { Old: images.posted, New: images.put }),
        "PUT",
        { total: 12, id: "inv-1" },
      ],
      [
        streamRecord("MODIFY", { Old: images.put, New: images.patched }),
        "PATCH",
        { total: 12, paid: true, id: "inv-1" },
      ],
      [
        streamRecord("REMOVE", { Old: images.patched }),
        "DELETE",
        { total: 12, paid: true, id: "inv-1" },
      ],
    ];
    for (const [record, operation, payload] of cases) {
      expect(changeFromStreamRecord(record)).to.deep.equal({
        tenant: "acme",
        rootSchema: "invoice",
        operation,
        payload,
        changeId: record.eventID,
      });
    }
  });

  it("publishes one event per matching rule, in rule order, to each rule's bus", async () => {
    const put = streamRecord("MODIFY", { Old: images.posted, New: images.put });
    const res = await handler({ Records: [put] }, {});
    expect(res).to.deep.equal({ batchItemFailures: [] });
    const detail = {
      tenant: "acme",
      rootSchema: "invoice",
      operation: "PUT",
      payload: { total: 12, id: "inv-1" },
      changeId: put.eventID,
    };
    expect(published()).to.deep.equal([
      { bus: HUB, source: "switchyard.output", detailType: "invoice.PUT", detail },
      { bus: PARTNER, source: "acme.sync", detailType: "InvoiceChanged", detail },
    ]);
  });

  it("publishes nothing for a tenant without rules or a change no rule matches", async () => {
    const quiet = { ...images.order, tenant: { S: "quiet" } };
    const picky = { ...images.order, tenant: { S: "picky" } };
    const res = await handler(
      {
        Records: [
          streamRecord("INSERT", { New: quiet }),
          streamRecord("REMOVE", { Old: picky }),
          streamRecord("INSERT", { New: picky }),
        ],
      },
      {},
    );
    expect(res).to.deep.equal({ batchItemFailures: [] });
    expect(published()).to.deep.equal([]);
  });

  it("names exactly the poisoned record in batchItemFailures and publishes the rest, in order", async () => {
    const good1 = streamRecord("INSERT", { New: images.customer });
    const poisoned = streamRecord("INSERT", {
      New: { ...images.order, sk: { S: "no-separator" } },
    });
    const good2 = streamRecord("REMOVE", { Old: images.patched });
    const good3 = streamRecord("INSERT", { New: images.order });
    const res = await handler({ Records: [good1, poisoned, good2, good3] }, {});
    expect(res).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: poisoned.dynamodb!.SequenceNumber }],
    });
    expect(
      published().map(
        (p) =>
          `${p.bus === HUB ? "hub" : "partner"} ${p.source} ${p.detailType} ${p.detail.changeId}`,
      ),
    ).to.deep.equal([
      `hub switchyard.output customer.POST ${good1.eventID}`,
      `hub crm customer.POST ${good1.eventID}`,
      `hub switchyard.output invoice.DELETE ${good2.eventID}`,
      `partner acme.sync InvoiceChanged ${good2.eventID}`,
      `hub switchyard.output order.POST ${good3.eventID}`,
    ]);
    expect(published()[2].detail.payload).to.deep.equal({ total: 12, paid: true, id: "inv-1" });
  });

  it("fails a record whose event its contract refuses, without sending it, and publishes the rest", async () => {
    expectRefusedEvents();
    // A tenant id the tenants setting would refuse (a space), written to the table directly.
    const odd = makeHandler({
      eventBridge,
      tenants: { ...tenants, "odd tenant": { rules: [{}] } },
      publisher: { sleep: async () => undefined },
    });
    const good = streamRecord("INSERT", { New: images.order });
    const refused = streamRecord("INSERT", {
      New: { ...images.order, tenant: { S: "odd tenant" } },
    });
    const res = await odd({ Records: [refused, good] }, {});
    expect(res).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: refused.dynamodb!.SequenceNumber }],
    });
    expect(published().map((p) => `${p.detail.tenant} ${p.detailType}`)).to.deep.equal([
      "acme order.POST",
    ]);
  });

  it("fails a record whose event EventBridge refuses, after retrying only retryable entries", async () => {
    // The partner bus refuses this account (its bus policy does not allow it): not retryable.
    eb.on(PutEventsCommand).callsFake((input) =>
      input.Entries[0].EventBusName === PARTNER
        ? {
            FailedEntryCount: 1,
            Entries: [
              {
                ErrorCode: "AccessDeniedException",
                ErrorMessage: "not authorized to put events on partner",
              },
            ],
          }
        : {
            FailedEntryCount: 0,
            Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
          },
    );
    const invoice = streamRecord("MODIFY", { Old: images.put, New: images.patched });
    const customer = streamRecord("INSERT", { New: images.customer });
    const res = await handler({ Records: [invoice, customer] }, {});
    expect(res).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: invoice.dynamodb!.SequenceNumber }],
    });
    expect(
      eb
        .commandCalls(PutEventsCommand)
        .map((c) => c.args[0].input.Entries!.map((e) => `${e.EventBusName} ${e.DetailType}`)),
    ).to.deep.equal([
      [`${HUB} invoice.PATCH`],
      [`${PARTNER} InvoiceChanged`],
      [`${HUB} customer.POST`, `${HUB} customer.POST`],
    ]);
  });

  it("throws when every record of the batch fails, so the mapping bisects and retries", async () => {
    const bad = streamRecord("INSERT", { New: { ...images.order, tenant: { N: "1" } } });
    try {
      await handler({ Records: [bad] }, {});
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.name).to.equal("FullBatchFailureError");
    }
  });

  describe("business metrics (EMF, one blob per batch)", () => {
    const logs: Array<{ level: string; message: string; extra?: any }> = [];
    const logger: LoggerLike = {
      info: (message, extra) => logs.push({ level: "info", message, extra }),
      error: (message, extra) => logs.push({ level: "error", message, extra }),
    };
    const withMetrics = (metrics = makeMetrics(CHANGE_PUBLISHER_SERVICE)) =>
      makeHandler({
        eventBridge,
        tenants,
        logger,
        metrics,
        publisher: { sleep: async () => undefined },
      });
    beforeEach(() => (logs.length = 0));

    it("a fully published batch: EventsPublished (all events of all records), PublishRetries 0, no failure metric", async () => {
      const h = withMetrics();
      const put = streamRecord("MODIFY", { Old: images.posted, New: images.put });
      const customer = streamRecord("INSERT", { New: images.customer });
      const { result, blobs } = await emfOf(() => h({ Records: [put, customer] }, {}));
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(published()).to.have.length(4);
      expect(blobs.map(metricsOf)).to.deep.equal([
        publishBlob({ EventsPublished: 4, PublishRetries: 0 }),
      ]);
    });

    it("a throttled-then-retried entry and a refused one: the record fails as before, the blob counts 3 published, 1 retry, 1 failed", async () => {
      let throttled = false;
      eb.on(PutEventsCommand).callsFake((input) => {
        if (input.Entries[0].EventBusName === PARTNER) {
          return {
            FailedEntryCount: 1,
            Entries: [
              {
                ErrorCode: "AccessDeniedException",
                ErrorMessage: "not authorized to put events on partner",
              },
            ],
          };
        }
        if (input.Entries[0].DetailType === "invoice.PATCH" && !throttled) {
          throttled = true;
          return {
            FailedEntryCount: 1,
            Entries: [{ ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" }],
          };
        }
        return {
          FailedEntryCount: 0,
          Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
        };
      });
      const h = withMetrics();
      const invoice = streamRecord("MODIFY", { Old: images.put, New: images.patched });
      const customer = streamRecord("INSERT", { New: images.customer });
      const { result, blobs } = await emfOf(() => h({ Records: [invoice, customer] }, {}));
      // Partial batch failure reported exactly as without metrics.
      expect(result).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: invoice.dynamodb!.SequenceNumber }],
      });
      expect(
        eb
          .commandCalls(PutEventsCommand)
          .map((c) => c.args[0].input.Entries!.map((e) => `${e.EventBusName} ${e.DetailType}`)),
      ).to.deep.equal([
        [`${HUB} invoice.PATCH`],
        [`${HUB} invoice.PATCH`],
        [`${PARTNER} InvoiceChanged`],
        [`${HUB} customer.POST`, `${HUB} customer.POST`],
      ]);
      expect(blobs.map(metricsOf)).to.deep.equal([
        publishBlob({ EventsPublished: 3, PublishRetries: 1, EventsPublishFailed: 1 }),
      ]);
    });

    it("a batch no rule matches emits zeros; a wholly failed batch still throws and still emits its blob", async () => {
      const h = withMetrics();
      const quiet = streamRecord("INSERT", { New: { ...images.order, tenant: { S: "quiet" } } });
      const none = await emfOf(() => h({ Records: [quiet] }, {}));
      expect(none.result).to.deep.equal({ batchItemFailures: [] });
      expect(none.blobs.map(metricsOf)).to.deep.equal([
        publishBlob({ EventsPublished: 0, PublishRetries: 0 }),
      ]);

      eb.on(PutEventsCommand).resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: "AccessDeniedException", ErrorMessage: "denied" }],
      });
      const order = streamRecord("INSERT", { New: images.order });
      const all = await emfOf(() => h({ Records: [order] }, {}));
      expect(all.error?.name).to.equal("FullBatchFailureError");
      expect(all.blobs.map(metricsOf)).to.deep.equal([
        publishBlob({ EventsPublished: 0, PublishRetries: 0, EventsPublishFailed: 1 }),
      ]);
    });

    it("never fails or changes a batch's answer when the metrics fail; logs the fault and does not carry counts over", async () => {
      const metrics = makeMetrics(CHANGE_PUBLISHER_SERVICE);
      const h = withMetrics(metrics);
      const realFlush = metrics.publishStoredMetrics.bind(metrics);
      metrics.publishStoredMetrics = () => {
        throw new Error("stdout closed");
      };
      const good = streamRecord("INSERT", { New: images.customer });
      const poisoned = streamRecord("INSERT", {
        New: { ...images.order, sk: { S: "no-separator" } },
      });
      const flushFails = await emfOf(() => h({ Records: [good, poisoned] }, {}));
      expect(flushFails.result).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: poisoned.dynamodb!.SequenceNumber }],
      });
      expect(flushFails.blobs).to.deep.equal([]);
      expect(logs.find((l) => l.message === "change metrics not flushed")?.extra).to.deep.equal({
        error: { name: "Error", message: "stdout closed" },
      });
      metrics.publishStoredMetrics = realFlush;

      const realAdd = metrics.addMetric.bind(metrics);
      metrics.addMetric = () => {
        throw new Error("no metric");
      };
      const recordFails = await emfOf(() =>
        h({ Records: [streamRecord("INSERT", { New: images.order })] }, {}),
      );
      expect(recordFails.result).to.deep.equal({ batchItemFailures: [] });
      expect(recordFails.blobs).to.deep.equal([]);
      expect(logs.find((l) => l.message === "change metrics not recorded")?.extra).to.deep.equal({
        error: { name: "Error", message: "no metric" },
      });
      metrics.addMetric = realAdd;

      // The next batch emits only its own counts (customer: 2 events).
      const next = await emfOf(() =>
        h({ Records: [streamRecord("INSERT", { New: images.customer })] }, {}),
      );
      expect(next.blobs.map(metricsOf)).to.deep.equal([
        publishBlob({ EventsPublished: 2, PublishRetries: 0 }),
      ]);
    });

    it("emits nothing without a Metrics instance (the default)", async () => {
      const { result, blobs } = await emfOf(() =>
        handler({ Records: [streamRecord("INSERT", { New: images.customer })] }, {}),
      );
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(blobs).to.deep.equal([]);
    });
  });

  it("fails at cold start without DEFAULT_BUS_ARN", () => {
    delete process.env.DEFAULT_BUS_ARN;
    try {
      expect(() => makeHandler({ eventBridge, tenants })).to.throw("DEFAULT_BUS_ARN is not set");
    } finally {
      process.env.DEFAULT_BUS_ARN = HUB;
    }
  });

  it("fails at cold start on an event size limit that is not a positive whole number, naming MAX_EVENT_BYTES", () => {
    for (const bad of ["abc", "0", "1.5"]) {
      process.env.MAX_EVENT_BYTES = bad;
      try {
        expect(() => makeHandler({ eventBridge, tenants })).to.throw(
          `MAX_EVENT_BYTES must be a positive whole number (the bus's event size limit in bytes), got "${bad}"`,
        );
      } finally {
        delete process.env.MAX_EVENT_BYTES;
      }
    }
  });
});
