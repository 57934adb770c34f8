import { expect } from "chai";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { hashApiKey, digestsEqual, verifyKey } from "../../../handlers/tenants/apiKeys";
import { IngressEvent, makeHandler, redactEvent } from "../../../handlers/tenants/eventIngress";
import {
  MAX_RULE_DETAIL_TYPE_LENGTH,
  MAX_RULE_SOURCE_LENGTH,
  Tenants,
} from "../../../lib/tenantRules";
import { makeHandler as makeChangePublisher } from "../../../handlers/tenants/changePublisher";
import { maxChangePayloadBytes } from "../../../handlers/tenants/items";
import { entrySize, PublishEntry } from "../../../handlers/lib/publisher";
import { createTenantTables, LocalDynamo, startLocalDynamo } from "./localDynamo";
import { mockInstance } from "../../support/aws";

const DATA = "tenant-data";
const ACCESS = "tenant-access";
const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/rejected";
const NOW = new Date("2026-11-21T10:00:00.000Z");

// The longest source and detail type a rule may have, in characters of 3 UTF-8 bytes each: the
// largest envelope a change event of the data table can get.
const WIDEST_RULE = {
  source: "\u20ac".repeat(MAX_RULE_SOURCE_LENGTH),
  detailType: "\u20ac".repeat(MAX_RULE_DETAIL_TYPE_LENGTH),
};

const tenants: Tenants = {
  acme: { ingressEnabled: true },
  globex: { ingressEnabled: true },
  initech: { ingressEnabled: false },
  // Each of the following has its own billing, counted exactly by its own tests.
  stark: { ingressEnabled: true },
  wayne: { ingressEnabled: true, rules: [{}, WIDEST_RULE] },
  tyrell: { ingressEnabled: true },
};

const KEYS = {
  acme: "acme-key-0123456789",
  acmeRevoked: "acme-revoked-key",
  acmeReadOnly: "acme-read-only-key",
  globex: "globex-key",
  initech: "initech-key",
  stark: "stark-key",
  wayne: "wayne-key",
  tyrell: "tyrell-key",
};

// Every event its own id, as EventBridge gives them: ingress applies each id once.
let eventIds = 0;
function ingressEvent(
  detailType: string,
  detail: Record<string, unknown>,
  id = `ev-${++eventIds}`,
): IngressEvent {
  return {
    version: "0",
    id,
    "detail-type": detailType,
    source: "switchyard.input",
    account: "123456789012",
    time: "2026-11-21T10:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail,
  };
}

const sqs = new SQSClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const sqsMock = mockInstance(sqs);

function rejections(): Array<{ body: any; attributes: any }> {
  return sqsMock.commandCalls(SendMessageCommand).map((c) => ({
    body: JSON.parse(c.args[0].input.MessageBody!),
    attributes: c.args[0].input.MessageAttributes,
  }));
}

describe("handlers/tenants/eventIngress against a local DynamoDB (moto_server)", () => {
  let ddb: LocalDynamo;
  let handler: ReturnType<typeof makeHandler>;
  let ids = 0;

  const item = async (schema: string, id: string, tenant = "acme") =>
    (
      await ddb.doc.send(
        new GetCommand({ TableName: DATA, Key: { tenant, sk: `${schema}#${id}` } }),
      )
    ).Item;
  const billing = async (tenant: string) =>
    (
      await ddb.doc.send(
        new GetCommand({ TableName: ACCESS, Key: { pk: `billing#${tenant}#2026-11` } }),
      )
    ).Item;

  before(async () => {
    ddb = await startLocalDynamo();
    await createTenantTables(ddb.client, DATA, ACCESS);
    const keyItem = (key: string, tenant: string, extra: Record<string, unknown> = {}) =>
      ddb.doc.send(
        new PutCommand({
          TableName: ACCESS,
          Item: {
            pk: `apikey#${hashApiKey(key)}`,
            keyHash: hashApiKey(key),
            tenant,
            permissions: ["backend_calls"],
            revoked: false,
            ...extra,
          },
        }),
      );
    await keyItem(KEYS.acme, "acme");
    await keyItem(KEYS.acmeRevoked, "acme", { revoked: true });
    await keyItem(KEYS.acmeReadOnly, "acme", { permissions: ["read"] });
    await keyItem(KEYS.globex, "globex");
    await keyItem(KEYS.initech, "initech");
    for (const t of ["stark", "wayne", "tyrell"] as const) await keyItem(KEYS[t], t);
    process.env.DATA_TABLE = DATA;
    process.env.ACCESS_TABLE = ACCESS;
    process.env.REJECTED_QUEUE_URL = QUEUE;
    handler = makeHandler({
      ddb: ddb.doc,
      sqs,
      tenants,
      clock: () => NOW,
      newId: () => `gen-${++ids}`,
    });
  });
  after(async () => {
    delete process.env.DATA_TABLE;
    delete process.env.ACCESS_TABLE;
    delete process.env.REJECTED_QUEUE_URL;
    await ddb.stop();
  });
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: "m-1" });
  });

  describe("applies authorized writes", () => {
    it("POST creates the item (id generated when the payload has none) and bills 10 tokens", async () => {
      const r = await handler(
        ingressEvent("invoice.POST", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { total: 120, lines: [1, 2] },
        }),
        {},
      );
      expect(r).to.deep.equal({
        status: 201,
        tenant: "acme",
        operation: "POST",
        rootSchema: "invoice",
        id: "gen-1",
      });
      expect(await item("invoice", "gen-1")).to.deep.equal({
        tenant: "acme",
        sk: "invoice#gen-1",
        rootSchema: "invoice",
        id: "gen-1",
        data: { total: 120, lines: [1, 2] },
        version: 1,
        lastOperation: "POST",
        updatedAt: "2026-11-21T10:00:00.000Z",
      });
      expect(await billing("acme")).to.deep.equal({
        pk: "billing#acme#2026-11",
        tenant: "acme",
        period: "2026-11",
        tokens: 10,
        requests: 1,
      });
      expect(rejections()).to.deep.equal([]);
    });

    it("POST with an id that exists is a 409 conflict, queued and not billed", async () => {
      const ok = await handler(
        ingressEvent("invoice.POST", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "inv-1", total: 1, note: "a" },
        }),
        {},
      );
      expect(ok.status).to.equal(201);
      const r = await handler(
        ingressEvent("invoice.POST", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "inv-1", total: 2 },
        }),
        {},
      );
      expect(r).to.deep.include({
        status: 409,
        code: "conflict",
        reason: "invoice inv-1 already exists (use PUT to replace it)",
      });
      expect((await item("invoice", "inv-1"))!.data).to.deep.equal({ total: 1, note: "a" });
      expect((await billing("acme"))!.tokens).to.equal(20);
      expect(rejections()).to.have.length(1);
    });

    it("PUT replaces the item's fields and counts the version up", async () => {
      const r = await handler(
        ingressEvent("invoice.PUT", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "inv-1", total: 3 },
        }),
        {},
      );
      expect(r).to.deep.equal({
        status: 200,
        tenant: "acme",
        operation: "PUT",
        rootSchema: "invoice",
        id: "inv-1",
      });
      const stored = await item("invoice", "inv-1");
      expect(stored).to.deep.include({ data: { total: 3 }, version: 2, lastOperation: "PUT" });
    });

    it("PATCH merges fields at the top level and removes those set to null", async () => {
      await handler(
        ingressEvent("invoice.PATCH", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "inv-1", status: "paid", total: null, "a.b": { c: 1 } },
        }),
        {},
      );
      expect(await item("invoice", "inv-1")).to.deep.include({
        data: { status: "paid", "a.b": { c: 1 } },
        version: 3,
        lastOperation: "PATCH",
      });
    });

    it("DELETE removes the item; PATCH or DELETE of a missing item is a 404", async () => {
      const del = await handler(
        ingressEvent("invoice.DELETE", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "inv-1" },
        }),
        {},
      );
      expect(del.status).to.equal(200);
      expect(await item("invoice", "inv-1")).to.equal(undefined);
      for (const op of ["PATCH", "DELETE"]) {
        const r = await handler(
          ingressEvent(`invoice.${op}`, {
            tenant: "acme",
            rootSchema: "invoice",
            api_key: KEYS.acme,
            payload: { id: "inv-1", x: 1 },
          }),
          {},
        );
        expect(r).to.deep.include({
          status: 404,
          code: "not-found",
          reason: "invoice inv-1 does not exist",
        });
      }
      expect(await item("invoice", "inv-1")).to.equal(undefined);
      // POST, POST, PUT, PATCH, DELETE applied; the 409 and the two 404s were not billed.
      expect(await billing("acme")).to.deep.include({ tokens: 50, requests: 5 });
    });

    it("keeps tenants apart: the same schema and id of two tenants are two items", async () => {
      for (const [tenant, key] of [
        ["acme", KEYS.acme],
        ["globex", KEYS.globex],
      ]) {
        await handler(
          ingressEvent("customer.PUT", {
            tenant,
            rootSchema: "customer",
            api_key: key,
            payload: { id: 7, name: tenant },
          }),
          {},
        );
      }
      expect((await item("customer", "7", "acme"))!.data).to.deep.equal({ name: "acme" });
      expect((await item("customer", "7", "globex"))!.data).to.deep.equal({ name: "globex" });
    });
  });

  describe("rejects to the queue with the reason and the event without its api_key", () => {
    const cases: Array<[string, string, Record<string, unknown>, number, string, string]> = [
      [
        "a tenant without ingress enabled",
        "invoice.POST",
        { tenant: "initech", rootSchema: "invoice", api_key: KEYS.initech, payload: {} },
        403,
        "ingress-disabled",
        "tenant initech does not have event ingress enabled",
      ],
      [
        "an unconfigured tenant",
        "invoice.POST",
        { tenant: "hooli", rootSchema: "invoice", api_key: KEYS.acme, payload: {} },
        403,
        "ingress-disabled",
        "tenant hooli does not have event ingress enabled",
      ],
      [
        "an unknown key",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: "guessed", payload: {} },
        401,
        "unknown-key",
        "unknown api key",
      ],
      [
        "a key that is not a string",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: 987654321987, payload: {} },
        401,
        "unknown-key",
        "detail.api_key must be a non-empty string",
      ],
      [
        "a revoked key",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acmeRevoked, payload: {} },
        401,
        "revoked-key",
        "api key is revoked",
      ],
      [
        "another tenant's key",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.globex, payload: {} },
        401,
        "other-tenant-key",
        "api key belongs to another tenant",
      ],
      [
        "a key without backend_calls",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acmeReadOnly, payload: {} },
        401,
        "missing-permission",
        "api key lacks the backend_calls permission",
      ],
      [
        "PUT without an item id",
        "invoice.PUT",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { total: 1 } },
        400,
        "missing-id",
        "PUT needs payload.id: a non-empty string of at most 512 characters or a whole number",
      ],
      [
        "PATCH without an item id",
        "invoice.PATCH",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "" } },
        400,
        "missing-id",
        "PATCH needs payload.id: a non-empty string of at most 512 characters or a whole number",
      ],
      [
        "DELETE without an item id",
        "invoice.DELETE",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: {} },
        400,
        "missing-id",
        "DELETE needs payload.id: a non-empty string of at most 512 characters or a whole number",
      ],
      [
        "a payload that is not an object",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: "x" },
        400,
        "malformed",
        "detail.payload must be a JSON object",
      ],
      [
        "a missing payload",
        "invoice.POST",
        { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme },
        400,
        "malformed",
        "detail.payload must be a JSON object",
      ],
      [
        "a schema name with the key separator",
        "a#b.POST",
        { tenant: "acme", rootSchema: "a#b", api_key: KEYS.acme, payload: {} },
        400,
        "malformed",
        'detail.rootSchema must be 1-64 letters, digits, "_", "." or "-"',
      ],
    ];
    for (const [what, detailType, detail, status, code, reason] of cases) {
      it(`${status} for ${what}`, async () => {
        const before = await billing("acme");
        const event = ingressEvent(detailType, detail, `ev-${code}`);
        const r = await handler(event, {});
        expect(r).to.deep.include({ status, code, reason });
        const sent = rejections();
        expect(sent).to.have.length(1);
        const { api_key: _k, ...kept } = detail;
        expect(sent[0].body).to.deep.equal({
          ...r,
          rejectedAt: "2026-11-21T10:00:00.000Z",
          event: { ...event, detail: kept },
        });
        expect(JSON.stringify(sent[0].body)).to.not.contain(String(detail.api_key));
        expect(sent[0].attributes).to.deep.include({
          status: { DataType: "Number", StringValue: String(status) },
          code: { DataType: "String", StringValue: code },
        });
        expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input.QueueUrl).to.equal(QUEUE);
        expect(await billing("acme")).to.deep.equal(before);
      });
    }

    it("500 when the write fails, naming the AWS error; not billed", async () => {
      process.env.DATA_TABLE = "no-such-table";
      const broken = makeHandler({ ddb: ddb.doc, sqs, tenants, clock: () => NOW });
      process.env.DATA_TABLE = DATA;
      const before = await billing("acme");
      const r = await broken(
        ingressEvent("invoice.PUT", {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: KEYS.acme,
          payload: { id: "x" },
        }),
        {},
      );
      expect(r.status).to.equal(500);
      expect(r.code).to.equal("internal");
      expect(r.reason).to.match(/^write failed: ResourceNotFoundException: /);
      expect(rejections()[0].body.reason).to.equal(r.reason);
      expect(await billing("acme")).to.deep.equal(before);
    });

    it("fails the invocation when the rejection cannot be queued (Lambda retries it)", async () => {
      sqsMock
        .on(SendMessageCommand)
        .rejects(Object.assign(new Error("queue gone"), { name: "QueueDoesNotExist" }));
      try {
        await handler(
          ingressEvent("invoice.POST", {
            tenant: "acme",
            rootSchema: "invoice",
            api_key: "nope",
            payload: {},
          }),
          {},
        );
        expect.fail("should throw");
      } catch (e: any) {
        expect(e.name).to.equal("QueueDoesNotExist");
      }
    });
  });

  it("bills exactly 200 tokens for 20 concurrent requests", async () => {
    const events = Array.from({ length: 20 }, (_, i) =>
      ingressEvent(
        "order.POST",
        {
          tenant: "globex",
          rootSchema: "order",
          api_key: KEYS.globex,
          payload: { id: `o-${i}`, n: i },
        },
        `c-${i}`,
      ),
    );
    const before = (await billing("globex")) ?? { tokens: 0, requests: 0 };
    const results = await Promise.all(events.map((e) => handler(e, {})));
    expect(results.map((r) => r.status)).to.deep.equal(Array(20).fill(201));
    const after = (await billing("globex"))!;
    expect(after.tokens - before.tokens).to.equal(200);
    expect(after.requests - before.requests).to.equal(20);
  });

  it("fails at cold start naming a missing environment variable", () => {
    delete process.env.REJECTED_QUEUE_URL;
    try {
      expect(() => makeHandler({ ddb: ddb.doc, sqs, tenants })).to.throw(
        "REJECTED_QUEUE_URL is not set",
      );
    } finally {
      process.env.REJECTED_QUEUE_URL = QUEUE;
    }
  });

  describe("the operation comes from <rootSchema>.<OPERATION> exactly", () => {
    const stark = (detailType: string, payload: Record<string, unknown>, rootSchema = "invoice") =>
      handler(
        ingressEvent(detailType, { tenant: "stark", rootSchema, api_key: KEYS.stark, payload }),
        {},
      );

    it("refuses x.y.DELETE for rootSchema invoice with 400 naming invoice.DELETE; the invoice is kept, not billed", async () => {
      expect((await stark("invoice.PUT", { id: "inv-6", total: 6 })).status).to.equal(200);
      const billed = await billing("stark");
      sqsMock.resetHistory();
      for (const detailType of [
        "x.y.DELETE",
        "order.DELETE",
        "invoice.v2.DELETE",
        "Invoice.DELETE",
        "xinvoice.DELETE",
      ]) {
        const r = await stark(detailType, { id: "inv-6" });
        expect(r, detailType).to.deep.include({
          status: 400,
          code: "malformed",
          reason: `detail-type must be "invoice.DELETE" (detail.rootSchema, a dot, the operation), got "${detailType}"`,
        });
      }
      expect(await item("invoice", "inv-6", "stark")).to.deep.include({
        data: { total: 6 },
        version: 1,
      });
      expect(await billing("stark")).to.deep.equal(billed);
      expect(rejections().map((x) => [x.body.code, x.attributes.status.StringValue])).to.deep.equal(
        Array(5).fill(["malformed", "400"]),
      );
    });

    it("accepts a dotted schema whose detail-type is that schema, a dot and the operation", async () => {
      const r = await stark("order.line.PUT", { id: "l-1", qty: 2 }, "order.line");
      expect(r).to.deep.include({ status: 200, rootSchema: "order.line", operation: "PUT" });
      expect((await item("order.line", "l-1", "stark"))!.data).to.deep.equal({ qty: 2 });
    });
  });

  describe("payload keys that name JavaScript's object machinery", () => {
    // JSON.parse, as the Lambda runtime reads the event: `__proto__` becomes an own key, as on AWS.
    const cases: Array<[string, string, string]> = [
      ["__proto__", '{"id":"p-1","__proto__":{"admin":true}}', "payload.__proto__"],
      ["constructor", '{"id":"p-2","constructor":{"name":"x"}}', "payload.constructor"],
      ["prototype", '{"id":"p-3","prototype":1}', "payload.prototype"],
      [
        "__proto__",
        '{"id":"p-4","a":{"b":[1,{"__proto__":{"polluted":true}}]}}',
        "payload.a.b[1].__proto__",
      ],
      [
        "constructor",
        '{"id":"p-5","lines":[{"constructor":"Object"}]}',
        "payload.lines[0].constructor",
      ],
      ["prototype", '{"id":"p-6","a":{"prototype":{"x":1}}}', "payload.a.prototype"],
    ];
    for (const op of ["POST", "PUT", "PATCH"]) {
      for (const [key, json, path] of cases) {
        it(`${op}: ${path} is a 400 naming it; nothing is written or billed`, async () => {
          const payload = JSON.parse(json);
          if (op === "PATCH")
            expect(
              (
                await handler(
                  ingressEvent("doc.PUT", {
                    tenant: "stark",
                    rootSchema: "doc",
                    api_key: KEYS.stark,
                    payload: { id: payload.id, v: 1 },
                  }),
                  {},
                )
              ).status,
            ).to.equal(200);
          const before = {
            item: await item("doc", payload.id, "stark"),
            billing: await billing("stark"),
          };
          sqsMock.resetHistory();
          const r = await handler(
            ingressEvent(`doc.${op}`, {
              tenant: "stark",
              rootSchema: "doc",
              api_key: KEYS.stark,
              payload,
            }),
            {},
          );
          expect(r).to.deep.include({
            status: 400,
            code: "malformed",
            reason: `detail.payload must not contain the key "${key}" (found at ${path}): it is refused at any depth`,
          });
          expect({
            item: await item("doc", payload.id, "stark"),
            billing: await billing("stark"),
          }).to.deep.equal(before);
          expect(rejections()).to.have.length(1);
          expect({} as any).to.not.have.property("polluted");
          expect({} as any).to.not.have.property("admin");
        });
      }
    }
  });

  it("numbers DynamoDB cannot store exactly are a 400 naming them, not a 500", async () => {
    for (const [json, found] of [
      ['{"id":"n-1","big":12345678901234567890}', "12345678901234567000 at payload.big"],
      ['{"id":"n-2","tiny":[1e-200]}', "1e-200 at payload.tiny[0]"],
    ]) {
      const r = await handler(
        ingressEvent("doc.PUT", {
          tenant: "stark",
          rootSchema: "doc",
          api_key: KEYS.stark,
          payload: JSON.parse(json),
        }),
        {},
      );
      expect(r).to.deep.include({
        status: 400,
        code: "malformed",
        reason: `detail.payload numbers must be 0 or of a magnitude from 1e-130 to 9007199254740991 (found ${found}); send others as strings`,
      });
    }
  });

  describe("every accepted write has a change event the bus accepts", () => {
    const limit = maxChangePayloadBytes(262144);
    const wayne = (op: string, payload: Record<string, unknown>, id?: string) =>
      handler(
        ingressEvent(
          `doc.${op}`,
          { tenant: "wayne", rootSchema: "doc", api_key: KEYS.wayne, payload },
          id,
        ),
        {},
      );
    /** A payload whose JSON (as the change event carries it: fields, then id) is exactly `bytes` long. */
    const sized = (id: string, bytes: number) => {
      const p = { blob: "", id };
      return { id, blob: "x".repeat(bytes - Buffer.byteLength(JSON.stringify(p))) };
    };
    /** The change events the real change publisher sends for a stream record of the stored item. */
    const publishedFor = async (eventName: "INSERT" | "MODIFY" | "REMOVE", image: any) => {
      const sent: PublishEntry[] = [];
      process.env.DEFAULT_BUS_ARN =
        "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-dev";
      const publisher = makeChangePublisher({
        eventBridge: {
          send: async (c: any) => {
            sent.push(...c.input.Entries);
            return {
              FailedEntryCount: 0,
              Entries: c.input.Entries.map((_: unknown, i: number) => ({ EventId: `e-${i}` })),
            };
          },
        },
        tenants,
        publisher: { sleep: async () => undefined },
      });
      delete process.env.DEFAULT_BUS_ARN;
      const record = {
        // A DynamoDB Streams event id: 32 hex digits.
        eventID: "0123456789abcdef0123456789abcdef",
        eventName,
        eventSource: "aws:dynamodb",
        dynamodb: {
          [eventName === "REMOVE" ? "OldImage" : "NewImage"]: image,
          SequenceNumber: "100",
          StreamViewType: "NEW_AND_OLD_IMAGES",
        },
      };
      const out = await publisher({ Records: [record as any] }, {});
      return { out, sent };
    };
    const rawItem = async (id: string) =>
      (
        await ddb.client.send(
          new GetItemCommand({
            TableName: DATA,
            Key: { tenant: { S: "wayne" }, sk: { S: `doc#${id}` } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    it("the largest accepted item's change event fits the bus limit under the widest rule; one byte more is a 413, not written or billed", async () => {
      expect(limit).to.be.within(262144 - 2048, 262144 - 1024);
      const ok = await wayne("PUT", sized("max-1", limit));
      expect(ok.status).to.equal(200);
      for (const eventName of ["MODIFY", "REMOVE"] as const) {
        const { out, sent } = await publishedFor(eventName, await rawItem("max-1"));
        expect(out).to.deep.equal({ batchItemFailures: [] });
        expect(sent.map((e) => e.Source)).to.deep.equal(["switchyard.output", WIDEST_RULE.source]);
        const widest = entrySize(sent[1]);
        expect(widest).to.be.at.most(262144);
        // What is left is the envelope's allowance this event does not use: a tenant id and schema
        // shorter than 64 characters, an operation shorter than DELETE, a change id shorter than 128.
        const unused =
          64 -
          "wayne".length +
          (64 - "doc".length) +
          (6 - (eventName === "REMOVE" ? 6 : 3)) +
          (128 - 32);
        expect(262144 - widest).to.equal(unused);
      }
      const billed = await billing("wayne");
      sqsMock.resetHistory();
      for (const op of ["POST", "PUT"]) {
        const r = await wayne(op, sized(`over-${op}`, limit + 1));
        expect(r, op).to.deep.include({
          status: 413,
          code: "too-large",
          reason: `the item would be ${limit + 1} bytes as a change event's payload; at most ${limit} fit the bus's 262144-byte event limit`,
        });
        expect(await item("doc", `over-${op}`, "wayne")).to.equal(undefined);
      }
      expect(await billing("wayne")).to.deep.equal(billed);
      expect(rejections().map((x) => x.body.status)).to.deep.equal([413, 413]);
    });

    it("PUT then PATCH of 150 KB each: the PATCH would grow the item past the limit and is a 413; the item stays as the PUT left it", async () => {
      const before = (await billing("wayne"))!;
      expect((await wayne("PUT", { id: "grow-1", a: "a".repeat(150_000) })).status).to.equal(200);
      sqsMock.resetHistory();
      const r = await wayne("PATCH", { id: "grow-1", b: "b".repeat(150_000) });
      expect(r).to.deep.include({ status: 413, code: "too-large" });
      expect(r.reason).to.match(
        new RegExp(
          `^the item would be 300\\d{3} bytes as a change event's payload; at most ${limit} fit`,
        ),
      );
      const stored = (await item("doc", "grow-1", "wayne"))!;
      expect(Object.keys(stored.data)).to.deep.equal(["a"]);
      expect(stored).to.deep.include({ version: 1, lastOperation: "PUT" });
      const after = (await billing("wayne"))!;
      expect(after.requests - before.requests).to.equal(1);
      expect(rejections()).to.have.length(1);
      // Shrinking it, or growing it within the limit, is accepted.
      expect(
        (await wayne("PATCH", { id: "grow-1", a: null, b: "b".repeat(150_000) })).status,
      ).to.equal(200);
      expect((await wayne("PATCH", { id: "grow-1", c: "c".repeat(100_000) })).status).to.equal(200);
      const grown = (await item("doc", "grow-1", "wayne"))!;
      expect(Object.keys(grown.data).sort()).to.deep.equal(["b", "c"]);
      expect(grown.version).to.equal(3);
    });

    it("with a 1 MB bus, DynamoDB's 400 KB item limit is the bound: 413 naming it, not a 500", async () => {
      process.env.MAX_CHANGE_EVENT_BYTES = "1048576";
      const wide = makeHandler({ ddb: ddb.doc, sqs, tenants, clock: () => NOW });
      delete process.env.MAX_CHANGE_EVENT_BYTES;
      const r = await wide(
        ingressEvent("doc.PUT", {
          tenant: "wayne",
          rootSchema: "doc",
          api_key: KEYS.wayne,
          payload: { id: "huge-1", a: "a".repeat(500_000) },
        }),
        {},
      );
      expect(r).to.deep.include({
        status: 413,
        code: "too-large",
        reason: "the item would be larger than DynamoDB's 400 KB item limit",
      });
      expect(await item("doc", "huge-1", "wayne")).to.equal(undefined);
    });
  });

  describe("a write and its billing are one transaction, applied once per event id", () => {
    const tyrell = (op: string, payload: Record<string, unknown>) =>
      ingressEvent(`unit.${op}`, {
        tenant: "tyrell",
        rootSchema: "unit",
        api_key: KEYS.tyrell,
        payload,
      });
    const unitIds = async () =>
      (
        await ddb.doc.send(
          new QueryCommand({
            TableName: DATA,
            KeyConditionExpression: "tenant = :t AND begins_with(sk, :s)",
            ExpressionAttributeValues: { ":t": "tyrell", ":s": "unit#" },
          }),
        )
      )
        .Items!.map((i) => i.id)
        .sort();
    const counts = async () => {
      const b = await billing("tyrell");
      return { tokens: b?.tokens ?? 0, requests: b?.requests ?? 0 };
    };

    it("an invocation cut off right after its write reached DynamoDB, then retried: one item, billed once, the retry answers as the first", async () => {
      const before = await counts();
      let reached!: () => void;
      const wrote = new Promise<void>((r) => (reached = r));
      let cut = false;
      // Reads pass; the first write is sent, and then the invocation never hears back (Lambda's timeout).
      const cutOff = {
        send: async (command: any) => {
          if (cut) return new Promise(() => undefined);
          if (command.constructor.name === "GetCommand") return ddb.doc.send(command);
          await ddb.doc.send(command);
          cut = true;
          reached();
          return new Promise(() => undefined);
        },
      };
      const event = tyrell("POST", { id: "u-cut", model: "n6" });
      void makeHandler({ ddb: cutOff, sqs, tenants, clock: () => NOW })(event, {});
      await wrote;
      sqsMock.resetHistory();
      // Lambda's retry of the asynchronous invocation: the same event, the same id.
      const retry = await handler(event, {});
      expect(retry).to.deep.equal({
        status: 201,
        tenant: "tyrell",
        rootSchema: "unit",
        operation: "POST",
        id: "u-cut",
        duplicate: true,
      });
      expect(await item("unit", "u-cut", "tyrell")).to.deep.include({
        data: { model: "n6" },
        version: 1,
      });
      const after = await counts();
      expect([after.tokens - before.tokens, after.requests - before.requests]).to.deep.equal([
        10, 1,
      ]);
      expect(rejections()).to.deep.equal([]);
    });

    it("a redelivered POST without an id neither writes a second item nor bills twice, and answers with the first item's id", async () => {
      const before = { ids: await unitIds(), ...(await counts()) };
      const event = tyrell("POST", { model: "n7" });
      const first = await handler(event, {});
      expect(first).to.deep.include({ status: 201, operation: "POST" });
      const again = await handler(event, {});
      expect(again).to.deep.equal({ ...first, duplicate: true });
      expect(await unitIds()).to.deep.equal([...before.ids, first.id].sort());
      const after = await counts();
      expect([after.tokens - before.tokens, after.requests - before.requests]).to.deep.equal([
        10, 1,
      ]);
      expect(rejections()).to.deep.equal([]);
    });

    it("a redelivered DELETE answers 200 as the first did, not 404, and is billed once", async () => {
      expect((await handler(tyrell("PUT", { id: "u-del", model: "x" }), {})).status).to.equal(200);
      const before = await counts();
      const event = tyrell("DELETE", { id: "u-del" });
      expect(await handler(event, {})).to.deep.include({ status: 200, id: "u-del" });
      expect(await handler(event, {})).to.deep.include({
        status: 200,
        id: "u-del",
        duplicate: true,
      });
      expect(await item("unit", "u-del", "tyrell")).to.equal(undefined);
      const after = await counts();
      expect(after.requests - before.requests).to.equal(1);
      expect(rejections()).to.deep.equal([]);
    });

    it("keeps a marker per applied event in the access table, expiring after 7 days (the table's TTL attribute)", async () => {
      const event = tyrell("PUT", { id: "u-mark", model: "m" });
      await handler(event, {});
      const marker = (
        await ddb.doc.send(new GetCommand({ TableName: ACCESS, Key: { pk: `event#${event.id}` } }))
      ).Item;
      expect(marker).to.deep.equal({
        pk: `event#${event.id}`,
        tenant: "tyrell",
        rootSchema: "unit",
        operation: "PUT",
        id: "u-mark",
        status: 200,
        appliedAt: NOW.toISOString(),
        expiresAt: NOW.getTime() / 1000 + 7 * 86400,
      });
    });

    it("10 concurrent deliveries of one event: one write, billed once, every answer a 201 for the same item", async () => {
      const before = await counts();
      const event = tyrell("POST", { id: "u-race", model: "r" });
      const results = await Promise.all(Array.from({ length: 10 }, () => handler(event, {})));
      expect(results.map((r) => r.status)).to.deep.equal(Array(10).fill(201));
      expect(results.filter((r) => !r.duplicate)).to.have.length(1);
      expect(new Set(results.map((r) => r.id))).to.deep.equal(new Set(["u-race"]));
      const after = await counts();
      expect([after.tokens - before.tokens, after.requests - before.requests]).to.deep.equal([
        10, 1,
      ]);
    });

    it("a billing counter that cannot be added to fails the write too: nothing is left unbilled", async () => {
      await ddb.doc.send(
        new PutCommand({
          TableName: ACCESS,
          Item: { pk: "billing#tyrell#2026-12", tenant: "tyrell", tokens: "not a number" },
        }),
      );
      const december = new Date("2026-12-01T00:00:00.000Z");
      const h = makeHandler({ ddb: ddb.doc, sqs, tenants, clock: () => december });
      sqsMock.resetHistory();
      const r = await h(tyrell("PUT", { id: "u-unbillable", model: "z" }), {});
      expect(r).to.deep.include({ status: 500, code: "internal" });
      expect(await item("unit", "u-unbillable", "tyrell")).to.equal(undefined);
      expect(rejections()).to.have.length(1);
    });

    it("retries a transaction DynamoDB cancelled for a conflicting one, and applies it once", async () => {
      const before = await counts();
      let injected = 0;
      const conflicting = {
        send: async (command: any) => {
          if (command.constructor.name === "TransactWriteCommand" && injected++ === 0) {
            throw Object.assign(
              new Error(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None]",
              ),
              {
                name: "TransactionCanceledException",
                CancellationReasons: [
                  { Code: "None" },
                  { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" },
                  { Code: "None" },
                ],
              },
            );
          }
          return ddb.doc.send(command);
        },
      };
      const r = await makeHandler({
        ddb: conflicting,
        sqs,
        tenants,
        clock: () => NOW,
        retryDelayMs: () => 0,
      })(tyrell("PUT", { id: "u-conflict", model: "c" }), {});
      expect(r).to.deep.include({ status: 200, id: "u-conflict" });
      expect(injected).to.equal(2);
      const after = await counts();
      expect(after.requests - before.requests).to.equal(1);
    });

    it("two concurrent PATCHes of one item both land: the later re-reads and merges onto the earlier", async () => {
      expect((await handler(tyrell("PUT", { id: "u-merge", a: 1 }), {})).status).to.equal(200);
      let transactions = 0;
      const counting = {
        send: (command: any) => {
          if (command.constructor.name === "TransactWriteCommand") transactions++;
          return ddb.doc.send(command);
        },
      };
      const h = makeHandler({ ddb: counting, sqs, tenants, clock: () => NOW });
      const [x, y] = await Promise.all([
        h(tyrell("PATCH", { id: "u-merge", b: 2 }), {}),
        h(tyrell("PATCH", { id: "u-merge", c: 3 }), {}),
      ]);
      expect([x.status, y.status]).to.deep.equal([200, 200]);
      expect(await item("unit", "u-merge", "tyrell")).to.deep.include({
        data: { a: 1, b: 2, c: 3 },
        version: 3,
      });
      // Both read version 1; the second's transaction was cancelled by its condition and sent again.
      expect(transactions).to.equal(3);
    });
  });

  // Last: it bills acme, whose billing the tests above count exactly.
  describe("correlation id on log lines", () => {
    it("each event's lines carry its detail.correlationId, else its event id", async () => {
      const lines: Array<{ message: string; correlation_id?: string }> = [];
      let keys: Record<string, string> = {};
      const logger = {
        info: (message: string) => lines.push({ message, ...keys }),
        error: (message: string) => lines.push({ message, ...keys }),
        // Powertools Logger's contract: appended keys last until resetKeys.
        resetKeys: () => (keys = {}),
        setCorrelationId: (v: unknown) => (keys = { ...keys, correlation_id: String(v) }),
      };
      const h = makeHandler({
        ddb: ddb.doc,
        sqs,
        tenants,
        clock: () => NOW,
        newId: () => `gen-${++ids}`,
        logger,
      });
      const detail = {
        tenant: "acme",
        rootSchema: "invoice",
        api_key: KEYS.acme,
        payload: { id: "corr-1", total: 1 },
      };
      await h(
        ingressEvent("invoice.PUT", { ...detail, correlationId: "corr-webhook-9" }, "ev-corr-1"),
        {},
      );
      await h(ingressEvent("invoice.PUT", { ...detail, api_key: "not-a-key" }, "ev-corr-2"), {});
      expect(lines.map((l) => [l.message, l.correlation_id])).to.deep.equal([
        ["ingress applied", "corr-webhook-9"],
        ["ingress rejected", "ev-corr-2"],
      ]);
    });
  });
});

describe("handlers/tenants/apiKeys", () => {
  const h = hashApiKey("k");
  it("hashes keys with SHA-256 (hex)", () => {
    expect(hashApiKey("abc")).to.equal(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
  it("compares digests of equal length only, and rejects a stored hash that differs", () => {
    expect(digestsEqual(h, h)).to.equal(true);
    expect(digestsEqual(h, hashApiKey("l"))).to.equal(false);
    expect(digestsEqual(h, h.slice(0, 62))).to.equal(false);
    const item = {
      keyHash: hashApiKey("other"),
      tenant: "acme",
      permissions: ["backend_calls"],
      revoked: false,
    };
    expect(verifyKey(item, h, "acme")).to.deep.equal({
      ok: false,
      code: "unknown-key",
      reason: "unknown api key",
    });
    expect(verifyKey({ ...item, keyHash: h }, h, "acme")).to.deep.equal({ ok: true });
    expect(
      verifyKey({ ...item, keyHash: h, permissions: new Set(["backend_calls"]) }, h, "acme"),
    ).to.deep.equal({ ok: true });
  });
  it("redacts only the api_key from a kept event", () => {
    expect(
      redactEvent({ id: "1", detail: { tenant: "a", api_key: "s", payload: { api_key: "kept" } } }),
    ).to.deep.equal({
      id: "1",
      detail: { tenant: "a", payload: { api_key: "kept" } },
    });
  });
});
