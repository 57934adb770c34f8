import { expect } from "chai";
import { createHash } from "crypto";
import type { S3Event } from "aws-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { makeSecretReader } from "../../../handlers/lib/secrets";
import {
  canonicalJson,
  idempotencyKey,
  IngestRecord,
  makeRecordsClient,
} from "../../../handlers/records/recordsApi";
import { decodeKey, makeHandler, recordFromObject } from "../../../handlers/records/s3Ingestion";
import { mockInstance } from "../../support/aws";
import { LocalS3 } from "./localS3";
import { ScriptedRecordsApi } from "./scriptedRecordsApi";

const BUCKET = "ingest-bucket";
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:records-key-AbCdEf";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hub-dlq";
const creds = { region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } };

const sqs = new SQSClient(creds);
const sqsMock = mockInstance(sqs);
const sm = new SecretsManagerClient(creds);
const smMock = mockInstance(sm);

function s3Event(...keys: string[]): S3Event {
  return {
    Records: keys.map((key) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventTime: "2026-11-21T10:00:00.000Z",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:x" },
      requestParameters: { sourceIPAddress: "127.0.0.1" },
      responseElements: { "x-amz-request-id": "r", "x-amz-id-2": "i" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "ingest",
        bucket: {
          name: BUCKET,
          ownerIdentity: { principalId: "p" },
          arn: `arn:aws:s3:::${BUCKET}`,
        },
        object: { key, size: 100, eTag: "e", sequencer: "1" },
      },
    })),
  };
}

/** What the function must send for a record: computed here independently of the module. */
function expectedKey(
  tenant: string,
  id: string,
  version: number,
  op: string,
  canonicalPayload: string,
) {
  return `${tenant}:${id}:${version}:${op}:${createHash("sha256").update(canonicalPayload).digest("hex")}`;
}

/** Reports sent to the DLQ, without their timestamps. */
function reports(): any[] {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => {
    expect(c.args[0].input.QueueUrl).to.equal(DLQ);
    return c.args[0].input.Entries!.map((e) => {
      expect(e.MessageAttributes).to.deep.equal({
        source: { DataType: "String", StringValue: "switchyard.records.s3-ingestion" },
      });
      const { failedAt, ...rest } = JSON.parse(e.MessageBody!);
      expect(Date.parse(failedAt)).to.be.a("number").and.not.NaN;
      return rest;
    });
  });
}

describe("handlers/records/s3Ingestion against a local records API", () => {
  let api: ScriptedRecordsApi;
  const s3 = new LocalS3();
  let apiKey = "key-1";
  const slept: number[] = [];
  let handler: ReturnType<typeof makeHandler>;

  before(async () => {
    api = new ScriptedRecordsApi(
      () => apiKey,
      (b, n) => {
        switch (b.recordId) {
          case "r-flaky":
            return [
              { status: 429, headers: { "retry-after": "1" } },
              { status: 500 },
              { status: 202 },
            ][Math.min(n, 2)];
          case "r-rejected":
            return { status: 400, body: { message: "recordPayload too large" } };
          case "r-down":
            return { status: 503 };
          default:
            return { status: 202 };
        }
      },
    );
    await api.start();
    await s3.start();
    process.env.RECORDS_API_URL = `${api.url}/api/v1/records`;
    process.env.RECORDS_API_KEY_SECRET_ARN = SECRET;
    process.env.FAILURE_QUEUE_URL = DLQ;
    handler = makeHandler({
      s3: new S3Client({ ...creds, endpoint: s3.url, forcePathStyle: true }),
      sqs,
      secrets: makeSecretReader({ client: sm }),
      sleep: async (ms) => {
        slept.push(ms);
      },
      client: { maxAttempts: 3, baseDelayMs: 10 },
    });
  });
  after(async () => {
    for (const k of ["RECORDS_API_URL", "RECORDS_API_KEY_SECRET_ARN", "FAILURE_QUEUE_URL"])
      delete process.env[k];
    await api.stop();
    await s3.stop();
  });
  beforeEach(() => {
    s3.objects.clear();
    s3.gets.length = 0;
    sqsMock.reset();
    smMock.reset();
    api.calls.length = 0;
    slept.length = 0;
    smMock
      .on(GetSecretValueCommand, { SecretId: SECRET })
      .callsFake(() => ({ ARN: SECRET, Name: "records-key", SecretString: apiKey }));
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it("sends each record of an array once it is accepted, retrying 429 and 5xx with the same idempotency key", async () => {
    const records = [
      {
        tenantId: "acme",
        recordId: "r-ok",
        recordVersion: 1,
        payload: { b: 1, a: { d: 2, c: 3 } },
        collection: "invoices",
      },
      {
        tenantId: "acme",
        recordId: "r-flaky",
        recordVersion: 2,
        payload: [3, { y: null, x: "é" }],
        operationType: "delete",
        sourceTimestamp: "2026-11-20T08:00:00Z",
      },
    ];
    s3.put(BUCKET, "incoming/batch 1.json", records);
    const r = await handler(s3Event("incoming/batch+1.json"), {});
    expect(s3.gets).to.deep.equal([`GET /${BUCKET}/incoming/batch 1.json`]);
    expect(r).to.deep.equal({ objects: 1, records: 2, sent: 2, failed: 0 });
    expect(api.statusesOf("r-ok")).to.deep.equal([202]);
    expect(api.statusesOf("r-flaky")).to.deep.equal([429, 500, 202]);
    // Retry-After: 1 is waited as 1000 ms; the 500 by backoff (full jitter, at most 20 ms).
    expect(slept[0]).to.equal(1000);
    expect(slept[1]).to.be.within(0, 20);
    const ok = api.calls.find((c) => c.body.recordId === "r-ok")!;
    const okKey = expectedKey("acme", "r-ok", 1, "upsert", '{"a":{"c":3,"d":2},"b":1}');
    expect(ok.path).to.equal("/api/v1/records");
    expect(ok.headers["x-api-key"]).to.equal("key-1");
    expect(ok.headers["idempotency-key"]).to.equal(okKey);
    expect(ok.body).to.deep.equal({
      tenantId: "acme",
      database: "switchyard.s3",
      collection: "invoices",
      recordId: "r-ok",
      recordVersion: 1,
      operationType: "upsert",
      recordPayload: { b: 1, a: { d: 2, c: 3 } },
      sourceTimestamp: "2026-11-21T10:00:00.000Z",
      idempotencyKey: okKey,
    });
    const flaky = api.calls.filter((c) => c.body.recordId === "r-flaky");
    const flakyKey = expectedKey("acme", "r-flaky", 2, "delete", '[3,{"x":"é","y":null}]');
    expect(flaky.map((c) => c.body.idempotencyKey)).to.deep.equal([flakyKey, flakyKey, flakyKey]);
    expect(flaky[0].body).to.deep.include({
      collection: "records",
      operationType: "delete",
      sourceTimestamp: "2026-11-20T08:00:00Z",
    });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it("sends an object holding one record", async () => {
    s3.put(BUCKET, "incoming/one.json", {
      tenantId: "t",
      recordId: "single",
      recordVersion: 0,
      payload: "text",
    });
    expect(await handler(s3Event("incoming/one.json"), {})).to.deep.equal({
      objects: 1,
      records: 1,
      sent: 1,
      failed: 0,
    });
    expect(api.calls.map((c) => c.body.recordPayload)).to.deep.equal(["text"]);
  });

  it("reports each record it could not ingest to the DLQ with the object key, and sends the rest", async () => {
    const records = [
      { tenantId: "acme", recordId: "r-rejected", recordVersion: 1, payload: {} },
      { tenantId: "acme", recordId: "r-down", recordVersion: 1, payload: { n: 1 } },
      { recordId: "r-no-tenant", recordVersion: 1, payload: {} },
      { tenantId: "acme", recordId: "r-ok2", recordVersion: 1, payload: {} },
      "not a record",
    ];
    s3.put(BUCKET, "incoming/mixed.json", records);
    const r = await handler(s3Event("incoming/mixed.json"), {});
    expect(r).to.deep.equal({ objects: 1, records: 5, sent: 1, failed: 4 });
    expect(api.statusesOf("r-rejected")).to.deep.equal([400]);
    expect(api.statusesOf("r-down")).to.deep.equal([503, 503, 503]);
    expect(api.statusesOf("r-no-tenant")).to.deep.equal([]);
    const where = {
      source: "switchyard.records.s3-ingestion",
      bucket: BUCKET,
      key: "incoming/mixed.json",
    };
    expect(reports().sort((a, b) => a.index - b.index)).to.deep.equal([
      {
        ...where,
        index: 0,
        recordId: "r-rejected",
        idempotencyKey: expectedKey("acme", "r-rejected", 1, "upsert", "{}"),
        status: 400,
        attempts: 1,
        error: 'records API answered 400: {"message":"recordPayload too large"}',
      },
      {
        ...where,
        index: 1,
        recordId: "r-down",
        idempotencyKey: expectedKey("acme", "r-down", 1, "upsert", '{"n":1}'),
        status: 503,
        attempts: 3,
        error: 'records API answered 503: {"accepted":false} (after 3 attempts)',
      },
      {
        ...where,
        index: 2,
        recordId: "r-no-tenant",
        error: "invalid record: tenantId must be a non-empty string",
      },
      { ...where, index: 4, error: "invalid record: record must be a JSON object" },
    ]);
  });

  it("reports an object that is missing or not JSON, naming its key", async () => {
    s3.put(BUCKET, "incoming/bad.json", "{ not json");
    const r = await handler(s3Event("incoming/gone.json", "incoming/bad.json"), {});
    expect(r).to.deep.equal({ objects: 2, records: 0, sent: 0, failed: 2 });
    const [gone, bad] = reports();
    expect(gone).to.deep.equal({
      source: "switchyard.records.s3-ingestion",
      bucket: BUCKET,
      key: "incoming/gone.json",
      error: "NoSuchKey: The specified key does not exist.",
    });
    expect(bad.key).to.equal("incoming/bad.json");
    expect(bad.error).to.match(/^object is not JSON: /);
  });

  it("reads the key again after a 401 (the secret was rotated) and goes on", async () => {
    s3.put(BUCKET, "incoming/a.json", {
      tenantId: "t",
      recordId: "r-rot",
      recordVersion: 1,
      payload: {},
    });
    await handler(s3Event("incoming/a.json"), {});
    apiKey = "key-2";
    try {
      const r = await handler(s3Event("incoming/a.json"), {});
      expect(r.sent).to.equal(1);
      expect(api.calls.map((c) => [c.headers["x-api-key"], c.status])).to.deep.equal([
        ["key-1", 202],
        ["key-1", 401],
        ["key-2", 202],
      ]);
    } finally {
      apiKey = "key-1";
    }
  });

  describe("on a cold start (a reader that has not read the key yet)", () => {
    const RECORD = { tenantId: "t", recordId: "r-cold", recordVersion: 1, payload: {} };
    /** An S3 client whose GetObject answers only when `answer` is called. */
    function heldS3() {
      const held: { answer?: () => void; asked: number } = { asked: 0 };
      const client = {
        send: () => {
          held.asked++;
          return new Promise((resolve) => {
            held.answer = () =>
              resolve({
                ContentLength: 2,
                Body: { transformToString: async () => JSON.stringify(RECORD) },
              });
          });
        },
      };
      return { held, client };
    }
    const coldHandler = (s3Client: { send(c: any): Promise<any> }) =>
      makeHandler({ s3: s3Client, sqs, secrets: makeSecretReader({ client: sm }) });

    it("reads the records API key while the object downloads, and reads it once", async () => {
      const { held, client } = heldS3();
      const run = coldHandler(client)(s3Event("incoming/cold.json"), {});
      await new Promise((r) => setImmediate(r));
      expect(held.asked, "GetObject sent").to.equal(1);
      expect(
        smMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input),
        "GetSecretValue sent before GetObject answered",
      ).to.deep.equal([{ SecretId: SECRET }]);
      held.answer!();
      expect(await run).to.deep.equal({ objects: 1, records: 1, sent: 1, failed: 0 });
      expect(smMock.commandCalls(GetSecretValueCommand)).to.have.length(1);
      expect(
        api.calls.map((c) => [c.body.recordId, c.headers["x-api-key"], c.status]),
      ).to.deep.equal([["r-cold", "key-1", 202]]);
    });

    it("reads the key again for the records when the early read fails, and sends them", async () => {
      smMock
        .on(GetSecretValueCommand)
        .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }))
        .callsFake(() => ({ ARN: SECRET, Name: "records-key", SecretString: apiKey }));
      const { held, client } = heldS3();
      const run = coldHandler(client)(s3Event("incoming/cold.json"), {});
      await new Promise((r) => setImmediate(r));
      held.answer!();
      expect(await run).to.deep.equal({ objects: 1, records: 1, sent: 1, failed: 0 });
      expect(smMock.commandCalls(GetSecretValueCommand)).to.have.length(2);
      expect(reports()).to.deep.equal([]);
    });

    it("does not read the key for an event without records", async () => {
      const { held, client } = heldS3();
      expect(await coldHandler(client)({ Records: [] }, {})).to.deep.equal({
        objects: 0,
        records: 0,
        sent: 0,
        failed: 0,
      });
      expect(held.asked).to.equal(0);
      expect(smMock.commandCalls(GetSecretValueCommand)).to.have.length(0);
    });
  });

  it("reports records it has no time left to send instead of timing out", async () => {
    s3.put(BUCKET, "incoming/late.json", [
      { tenantId: "t", recordId: "late", recordVersion: 1, payload: {} },
    ]);
    const r = await handler(s3Event("incoming/late.json"), {
      getRemainingTimeInMillis: () => 5000,
    });
    expect(r).to.deep.equal({ objects: 1, records: 1, sent: 0, failed: 1 });
    expect(api.calls).to.deep.equal([]);
    expect(reports()[0]).to.deep.include({
      index: 0,
      recordId: "late",
      error: "not sent: the invocation ran out of time",
    });
  });

  it("fails the invocation when the DLQ does not take a report, so Lambda retries it", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: "0", Code: "KMS.AccessDenied", SenderFault: true }],
    });
    try {
      await handler(s3Event("incoming/gone.json"), {});
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.message).to.equal(
        `could not report 1 ingestion failures to ${DLQ}: KMS.AccessDenied`,
      );
    }
  });
});

describe("handlers/records/recordsApi and record parsing", () => {
  const ONE_RECORD: IngestRecord = {
    tenantId: "t",
    recordId: "r",
    recordVersion: 1,
    operationType: "upsert",
    payload: {},
    database: "d",
    collection: "c",
    sourceTimestamp: "",
  };

  it("canonicalizes JSON: sorted keys at every level, arrays in order, no whitespace", () => {
    expect(canonicalJson({ b: [2, { z: 1, a: null }], a: "x", c: { y: true, x: 1.5 } })).to.equal(
      '{"a":"x","b":[2,{"a":null,"z":1}],"c":{"x":1.5,"y":true}}',
    );
    const r: IngestRecord = {
      tenantId: "t",
      recordId: "r",
      recordVersion: 3,
      operationType: "upsert",
      payload: { b: 1, a: 2 },
      database: "d",
      collection: "c",
      sourceTimestamp: "",
    };
    expect(idempotencyKey(r)).to.equal(idempotencyKey({ ...r, payload: { a: 2, b: 1 } }));
    expect(idempotencyKey(r)).to.not.equal(idempotencyKey({ ...r, payload: { a: 2, b: 2 } }));
    expect(idempotencyKey(r)).to.not.equal(idempotencyKey({ ...r, recordVersion: 4 }));
    expect(idempotencyKey(r)).to.not.equal(idempotencyKey({ ...r, operationType: "delete" }));
  });

  it("retries a network failure and reports status 0 when the API is never reached", async () => {
    const client = makeRecordsClient({
      url: "http://127.0.0.1:1/api/v1/records",
      apiKey: async () => "k",
      maxAttempts: 2,
      sleep: async () => undefined,
    });
    try {
      await client.send(ONE_RECORD);
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.status).to.equal(0);
      expect(e.attempts).to.equal(2);
      expect(e.message).to.match(/^records API not reached: .* \(after 2 attempts\)$/);
    }
  });

  it("fails a record the API redirects, on the first call, without following the redirect", async () => {
    const api = new ScriptedRecordsApi(
      () => "k",
      () => ({
        status: 307,
        headers: { location: "https://elsewhere.example.com/api/v1/records" },
      }),
    );
    const url = await api.start();
    try {
      const client = makeRecordsClient({
        url: `${url}/api/v1/records`,
        apiKey: async () => "k",
        sleep: async () => undefined,
      });
      const e: any = await client.send(ONE_RECORD).then(
        () => expect.fail("should throw"),
        (err) => err,
      );
      expect([e.name, e.status, e.attempts]).to.deep.equal(["RecordsApiError", 307, 1]);
      expect(e.message).to.match(/^records API answered 307: /);
      expect(api.statusesOf("r")).to.deep.equal([307]);
    } finally {
      await api.stop();
    }
  });

  it("decodes S3 event keys and validates records", () => {
    expect(decodeKey("incoming/a+b%2Bc%C3%A9.json")).to.equal("incoming/a b+cé.json");
    expect(() =>
      recordFromObject({ tenantId: "t", recordId: "r", recordVersion: "1", payload: {} }, ""),
    ).to.throw("recordVersion must be a number >= 0");
    expect(() => recordFromObject({ tenantId: "t", recordId: "r", recordVersion: 1 }, "")).to.throw(
      "payload is missing",
    );
    expect(() =>
      recordFromObject(
        { tenantId: "t", recordId: "r", recordVersion: 1, payload: 1, operationType: "insert" },
        "",
      ),
    ).to.throw('operationType must be "upsert" or "delete"');
  });
});
