import { expect } from "chai";
import { createHash } from "crypto";
import type { DynamoDBRecord } from "aws-lambda";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { makeSecretReader } from "../../../handlers/lib/secrets";
import { makeHandler, recordFromStream } from "../../../handlers/records/streamIngestion";
import { mockInstance } from "../../support/aws";
import { ScriptedRecordsApi } from "./scriptedRecordsApi";

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:records-key-AbCdEf";
const sm = new SecretsManagerClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const smMock = mockInstance(sm);
const MAPPING = {
  tenantAttribute: "tenantId",
  idAttribute: "pk",
  versionAttribute: "version",
  collection: "orders",
};

let seq = 0;
function change(
  eventName: "INSERT" | "MODIFY" | "REMOVE",
  images: { New?: any; Old?: any },
): DynamoDBRecord {
  const n = ++seq;
  return {
    eventID: `e-${n}`,
    eventName,
    eventSource: "aws:dynamodb",
    eventVersion: "1.1",
    awsRegion: "eu-west-1",
    eventSourceARN:
      "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: 1795000000 + n,
      Keys: { pk: (images.New ?? images.Old).pk },
      NewImage: images.New,
      OldImage: images.Old,
      SequenceNumber: String(500 + n).padStart(21, "0"),
      SizeBytes: 100,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

const v1 = {
  pk: { S: "o-1" },
  tenantId: { S: "acme" },
  version: { N: "1" },
  total: { N: "10.5" },
  tags: { SS: ["a", "b"] },
};
const v2 = {
  ...v1,
  version: { N: "2" },
  total: { N: "12" },
  paid: { BOOL: true },
  lines: { L: [{ M: { sku: { S: "x" }, qty: { N: "2" } } }] },
};

function key(tenant: string, id: string, version: number, op: string, canonical: string) {
  return `${tenant}:${id}:${version}:${op}:${createHash("sha256").update(canonical).digest("hex")}`;
}

describe("handlers/records/streamIngestion against a local records API", () => {
  let api: ScriptedRecordsApi;
  let handler: ReturnType<typeof makeHandler>;

  before(async () => {
    api = new ScriptedRecordsApi(
      () => "stream-key",
      (b, n) =>
        b.recordId === "o-rejected"
          ? { status: 422 }
          : b.recordId === "o-flaky" && n === 0
            ? { status: 502 }
            : { status: 202 },
    );
    await api.start();
    Object.assign(process.env, {
      RECORDS_API_URL: `${api.url}/api/v1/records`,
      RECORDS_API_KEY_SECRET_ARN: SECRET,
      SOURCE_TENANT_ATTRIBUTE: "tenantId",
      SOURCE_ID_ATTRIBUTE: "pk",
      SOURCE_VERSION_ATTRIBUTE: "version",
      SOURCE_COLLECTION: "orders",
    });
    smMock.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: "stream-key" });
    handler = makeHandler({
      secrets: makeSecretReader({ client: sm }),
      sleep: async () => undefined,
    });
  });
  after(async () => {
    for (const k of [
      "RECORDS_API_URL",
      "RECORDS_API_KEY_SECRET_ARN",
      "SOURCE_TENANT_ATTRIBUTE",
      "SOURCE_ID_ATTRIBUTE",
      "SOURCE_VERSION_ATTRIBUTE",
      "SOURCE_COLLECTION",
    ]) {
      delete process.env[k];
    }
    await api.stop();
  });
  beforeEach(() => {
    api.calls.length = 0;
  });

  it("forwards inserted and modified items as upsert and removed ones as delete (old image)", () => {
    const ins = change("INSERT", { New: v1 });
    const mod = change("MODIFY", { Old: v1, New: v2 });
    const rem = change("REMOVE", { Old: v2 });
    expect(recordFromStream(ins, MAPPING)).to.deep.equal({
      tenantId: "acme",
      recordId: "o-1",
      recordVersion: 1,
      operationType: "upsert",
      payload: { pk: "o-1", tenantId: "acme", version: 1, total: 10.5, tags: ["a", "b"] },
      database: "switchyard.dynamodb",
      collection: "orders",
      sourceTimestamp: new Date((1795000000 + seq - 2) * 1000).toISOString(),
    });
    expect(recordFromStream(mod, MAPPING)).to.deep.include({
      operationType: "upsert",
      recordVersion: 2,
    });
    expect(recordFromStream(rem, MAPPING)).to.deep.include({
      operationType: "delete",
      recordVersion: 2,
      payload: {
        pk: "o-1",
        tenantId: "acme",
        version: 2,
        total: 12,
        tags: ["a", "b"],
        paid: true,
        lines: [{ sku: "x", qty: 2 }],
      },
    });
    // Without a numeric version, the change's time is the version.
    const { version: _v, ...unversioned } = v1;
    expect(
      recordFromStream(change("INSERT", { New: unversioned }), MAPPING).recordVersion,
    ).to.equal(1795000000 + seq);
  });

  it("names exactly the poisoned records in batchItemFailures and ingests the rest, in order", async () => {
    const ins = change("INSERT", { New: v1 });
    const noTenant = change("INSERT", { New: { pk: { S: "o-2" }, version: { N: "1" } } });
    const flaky = change("INSERT", { New: { ...v1, pk: { S: "o-flaky" } } });
    const rejected = change("INSERT", { New: { ...v1, pk: { S: "o-rejected" } } });
    const rem = change("REMOVE", { Old: v2 });
    const res = await handler({ Records: [ins, noTenant, flaky, rejected, rem] }, {});
    expect(res).to.deep.equal({
      batchItemFailures: [
        { itemIdentifier: noTenant.dynamodb!.SequenceNumber },
        { itemIdentifier: rejected.dynamodb!.SequenceNumber },
      ],
    });
    expect(
      api.calls.map((c) => `${c.body.recordId} ${c.body.operationType} ${c.status}`),
    ).to.deep.equal([
      "o-1 upsert 202",
      "o-flaky upsert 502",
      "o-flaky upsert 202",
      "o-rejected upsert 422",
      "o-1 delete 202",
    ]);
    const del = api.calls[4];
    const canonical =
      '{"lines":[{"qty":2,"sku":"x"}],"paid":true,"pk":"o-1","tags":["a","b"],"tenantId":"acme","total":12,"version":2}';
    expect(del.headers["x-api-key"]).to.equal("stream-key");
    expect(del.body.idempotencyKey).to.equal(key("acme", "o-1", 2, "delete", canonical));
    expect(del.body).to.deep.include({
      tenantId: "acme",
      database: "switchyard.dynamodb",
      collection: "orders",
      recordVersion: 2,
    });
  });
});
