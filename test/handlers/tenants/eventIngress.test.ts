import { expect } from "chai";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { hashApiKey, digestsEqual, verifyKey } from "../../../handlers/tenants/apiKeys";
import { IngressEvent, makeHandler, redactEvent } from "../../../handlers/tenants/eventIngress";
import { Tenants } from "../../../components/tenants/tenantRules";
import { createTenantTables, LocalDynamo, startDynalite } from "./localDynamo";
import { mockInstance } from "./instanceMock";

const DATA = "tenant-data";
const ACCESS = "tenant-access";
const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/rejected";
const NOW = new Date("2026-11-21T10:00:00.000Z");

const tenants: Tenants = {
  acme: { ingressEnabled: true },
  globex: { ingressEnabled: true },
  initech: { ingressEnabled: false },
};

const KEYS = {
  acme: "acme-key-0123456789",
  acmeRevoked: "acme-revoked-key",
  acmeReadOnly: "acme-read-only-key",
  globex: "globex-key",
  initech: "initech-key",
};

function ingressEvent(detailType: string, detail: Record<string, unknown>, id = "ev-1"): IngressEvent {
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

const sqs = new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockInstance(sqs);

function rejections(): Array<{ body: any; attributes: any }> {
  return sqsMock.commandCalls(SendMessageCommand).map((c) => ({
    body: JSON.parse(c.args[0].input.MessageBody!),
    attributes: c.args[0].input.MessageAttributes,
  }));
}

describe("handlers/tenants/eventIngress against dynalite", () => {
  let ddb: LocalDynamo;
  let handler: ReturnType<typeof makeHandler>;
  let ids = 0;

  const item = async (schema: string, id: string, tenant = "acme") =>
    (await ddb.doc.send(new GetCommand({ TableName: DATA, Key: { tenant, sk: `${schema}#${id}` } }))).Item;
  const billing = async (tenant: string) =>
    (await ddb.doc.send(new GetCommand({ TableName: ACCESS, Key: { pk: `billing#${tenant}#2026-11` } }))).Item;

  before(async () => {
    ddb = await startDynalite();
    await createTenantTables(ddb.client, DATA, ACCESS);
    const keyItem = (key: string, tenant: string, extra: Record<string, unknown> = {}) =>
      ddb.doc.send(
        new PutCommand({
          TableName: ACCESS,
          Item: { pk: `apikey#${hashApiKey(key)}`, keyHash: hashApiKey(key), tenant, permissions: ["backend_calls"], revoked: false, ...extra },
        }),
      );
    await keyItem(KEYS.acme, "acme");
    await keyItem(KEYS.acmeRevoked, "acme", { revoked: true });
    await keyItem(KEYS.acmeReadOnly, "acme", { permissions: ["read"] });
    await keyItem(KEYS.globex, "globex");
    await keyItem(KEYS.initech, "initech");
    process.env.DATA_TABLE = DATA;
    process.env.ACCESS_TABLE = ACCESS;
    process.env.REJECTED_QUEUE_URL = QUEUE;
    handler = makeHandler({ ddb: ddb.doc, sqs, tenants, clock: () => NOW, newId: () => `gen-${++ids}` });
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
        ingressEvent("invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { total: 120, lines: [1, 2] } }),
        {},
      );
      expect(r).to.deep.equal({ status: 201, tenant: "acme", operation: "POST", rootSchema: "invoice", id: "gen-1" });
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
      expect(await billing("acme")).to.deep.equal({ pk: "billing#acme#2026-11", tenant: "acme", period: "2026-11", tokens: 10, requests: 1 });
      expect(rejections()).to.deep.equal([]);
    });

    it("POST with an id that exists is a 409 conflict, queued and not billed", async () => {
      const ok = await handler(
        ingressEvent("invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "inv-1", total: 1, note: "a" } }),
        {},
      );
      expect(ok.status).to.equal(201);
      const r = await handler(
        ingressEvent("invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "inv-1", total: 2 } }),
        {},
      );
      expect(r).to.deep.include({ status: 409, code: "conflict", reason: "invoice inv-1 already exists (use PUT to replace it)" });
      expect((await item("invoice", "inv-1"))!.data).to.deep.equal({ total: 1, note: "a" });
      expect((await billing("acme"))!.tokens).to.equal(20);
      expect(rejections()).to.have.length(1);
    });

    it("PUT replaces the item's fields and counts the version up", async () => {
      const r = await handler(
        ingressEvent("invoice.PUT", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "inv-1", total: 3 } }),
        {},
      );
      expect(r).to.deep.equal({ status: 200, tenant: "acme", operation: "PUT", rootSchema: "invoice", id: "inv-1" });
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
        ingressEvent("invoice.DELETE", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "inv-1" } }),
        {},
      );
      expect(del.status).to.equal(200);
      expect(await item("invoice", "inv-1")).to.equal(undefined);
      for (const op of ["PATCH", "DELETE"]) {
        const r = await handler(
          ingressEvent(`invoice.${op}`, { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "inv-1", x: 1 } }),
          {},
        );
        expect(r).to.deep.include({ status: 404, code: "not-found", reason: "invoice inv-1 does not exist" });
      }
      expect(await item("invoice", "inv-1")).to.equal(undefined);
      // POST, POST, PUT, PATCH, DELETE applied; the 409 and the two 404s were not billed.
      expect(await billing("acme")).to.deep.include({ tokens: 50, requests: 5 });
    });

    it("keeps tenants apart: the same schema and id of two tenants are two items", async () => {
      for (const [tenant, key] of [["acme", KEYS.acme], ["globex", KEYS.globex]]) {
        await handler(
          ingressEvent("customer.PUT", { tenant, rootSchema: "customer", api_key: key, payload: { id: 7, name: tenant } }),
          {},
        );
      }
      expect((await item("customer", "7", "acme"))!.data).to.deep.equal({ name: "acme" });
      expect((await item("customer", "7", "globex"))!.data).to.deep.equal({ name: "globex" });
    });
  });

  describe("rejects to the queue with the reason and the event without its api_key", () => {
    const cases: Array<[string, string, Record<string, unknown>, number, string, string]> = [
      ["a tenant without ingress enabled", "invoice.POST", { tenant: "initech", rootSchema: "invoice", api_key: KEYS.initech, payload: {} }, 403, "ingress-disabled", "tenant initech does not have event ingress enabled"],
      ["an unconfigured tenant", "invoice.POST", { tenant: "hooli", rootSchema: "invoice", api_key: KEYS.acme, payload: {} }, 403, "ingress-disabled", "tenant hooli does not have event ingress enabled"],
      ["an unknown key", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: "guessed", payload: {} }, 401, "unknown-key", "unknown api key"],
      ["a key that is not a string", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: 987654321987, payload: {} }, 401, "unknown-key", "detail.api_key must be a non-empty string"],
      ["a revoked key", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acmeRevoked, payload: {} }, 401, "revoked-key", "api key is revoked"],
      ["another tenant's key", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.globex, payload: {} }, 401, "other-tenant-key", "api key belongs to another tenant"],
      ["a key without backend_calls", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acmeReadOnly, payload: {} }, 401, "missing-permission", "api key lacks the backend_calls permission"],
      ["PUT without an item id", "invoice.PUT", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { total: 1 } }, 400, "missing-id", "PUT needs payload.id: a non-empty string of at most 512 characters or a whole number"],
      ["PATCH without an item id", "invoice.PATCH", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "" } }, 400, "missing-id", "PATCH needs payload.id: a non-empty string of at most 512 characters or a whole number"],
      ["DELETE without an item id", "invoice.DELETE", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: {} }, 400, "missing-id", "DELETE needs payload.id: a non-empty string of at most 512 characters or a whole number"],
      ["a payload that is not an object", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: "x" }, 400, "malformed", "detail.payload must be a JSON object"],
      ["a missing payload", "invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme }, 400, "malformed", "detail.payload must be a JSON object"],
      ["a schema name with the key separator", "a#b.POST", { tenant: "acme", rootSchema: "a#b", api_key: KEYS.acme, payload: {} }, 400, "malformed", 'detail.rootSchema must be 1-64 letters, digits, "_", "." or "-"'],
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
        ingressEvent("invoice.PUT", { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "x" } }),
        {},
      );
      expect(r.status).to.equal(500);
      expect(r.code).to.equal("internal");
      expect(r.reason).to.match(/^write failed: ResourceNotFoundException: /);
      expect(rejections()[0].body.reason).to.equal(r.reason);
      expect(await billing("acme")).to.deep.equal(before);
    });

    it("fails the invocation when the rejection cannot be queued (Lambda retries it)", async () => {
      sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error("queue gone"), { name: "QueueDoesNotExist" }));
      try {
        await handler(ingressEvent("invoice.POST", { tenant: "acme", rootSchema: "invoice", api_key: "nope", payload: {} }), {});
        expect.fail("should throw");
      } catch (e: any) {
        expect(e.name).to.equal("QueueDoesNotExist");
      }
    });
  });

  it("bills exactly 200 tokens for 20 concurrent requests", async () => {
    const events = Array.from({ length: 20 }, (_, i) =>
      ingressEvent("order.POST", { tenant: "globex", rootSchema: "order", api_key: KEYS.globex, payload: { id: `o-${i}`, n: i } }, `c-${i}`),
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
      expect(() => makeHandler({ ddb: ddb.doc, sqs, tenants })).to.throw("REJECTED_QUEUE_URL is not set");
    } finally {
      process.env.REJECTED_QUEUE_URL = QUEUE;
    }
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
      const h = makeHandler({ ddb: ddb.doc, sqs, tenants, clock: () => NOW, newId: () => `gen-${++ids}`, logger });
      const detail = { tenant: "acme", rootSchema: "invoice", api_key: KEYS.acme, payload: { id: "corr-1", total: 1 } };
      await h(ingressEvent("invoice.PUT", { ...detail, correlationId: "corr-webhook-9" }, "ev-corr-1"), {});
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
    expect(hashApiKey("abc")).to.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
  it("compares digests of equal length only, and rejects a stored hash that differs", () => {
    expect(digestsEqual(h, h)).to.equal(true);
    expect(digestsEqual(h, hashApiKey("l"))).to.equal(false);
    expect(digestsEqual(h, h.slice(0, 62))).to.equal(false);
    const item = { keyHash: hashApiKey("other"), tenant: "acme", permissions: ["backend_calls"], revoked: false };
    expect(verifyKey(item, h, "acme")).to.deep.equal({ ok: false, code: "unknown-key", reason: "unknown api key" });
    expect(verifyKey({ ...item, keyHash: h }, h, "acme")).to.deep.equal({ ok: true });
    expect(verifyKey({ ...item, keyHash: h, permissions: new Set(["backend_calls"]) }, h, "acme")).to.deep.equal({ ok: true });
  });
  it("redacts only the api_key from a kept event", () => {
    expect(redactEvent({ id: "1", detail: { tenant: "a", api_key: "s", payload: { api_key: "kept" } } })).to.deep.equal({
      id: "1",
      detail: { tenant: "a", payload: { api_key: "kept" } },
    });
  });
});
