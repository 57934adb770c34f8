import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { MOTO_RECORDING_FILE, SwitchyardLocal } from "../../local/runtime";
import { hashApiKey } from "../../handlers/tenants/apiKeys";

// Names the dev stack declares (hub switchyard-dev; tenant "demo" has ingress and one default rule).
const BUS = "switchyard-dev";
const DATA = "switchyard-dev-changes-data";
const ACCESS = "switchyard-dev-ingress-access";
const INGRESS = "switchyard-dev-ingress";
const REJECTED = "switchyard-dev-ingress-rejected";
const KEY = "demo-local-key";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const clients = (local: SwitchyardLocal) => ({
  events: new EventBridgeClient({ endpoint: local.awsUrl, region: "eu-west-1", credentials }),
  doc: DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: local.awsUrl, region: "eu-west-1", credentials }),
  ),
});

async function issueKey(local: SwitchyardLocal): Promise<void> {
  await clients(local).doc.send(
    new PutCommand({
      TableName: ACCESS,
      Item: {
        pk: `apikey#${hashApiKey(KEY)}`,
        keyHash: hashApiKey(KEY),
        tenant: "demo",
        permissions: ["backend_calls"],
        revoked: false,
      },
    }),
  );
}

async function write(
  local: SwitchyardLocal,
  op: string,
  payload: Record<string, unknown>,
  detailType = `doc.${op}`,
): Promise<void> {
  const out = await clients(local).events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: BUS,
          Source: "switchyard.input",
          DetailType: detailType,
          Detail: JSON.stringify({ tenant: "demo", rootSchema: "doc", api_key: KEY, payload }),
        },
      ],
    }),
  );
  expect(out.FailedEntryCount).to.equal(0);
  await local.drain();
}

const changeEvents = (local: SwitchyardLocal) =>
  local.bus.archive
    .filter((e) => e.source === "switchyard.output")
    .map((e) => [e["detail-type"], (e.detail as any).payload]);
const billing = async (local: SwitchyardLocal) =>
  (
    await clients(local).doc.send(
      new GetCommand({
        TableName: ACCESS,
        Key: { pk: `billing#demo#${new Date().toISOString().slice(0, 7)}` },
      }),
    )
  ).Item;

// Tenant ingress as `npm start` serves it: the bus route, the function's transaction against the
// local DynamoDB (moto_server), the emulated stream, the change publisher and the bus again.
describe("local runtime: tenant ingress and change events (dev stack)", function () {
  this.timeout(180_000);
  let local: SwitchyardLocal;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      log: () => undefined,
    });
    await issueKey(local);
  });
  after(async () => local?.stop());

  it("turns transactional POST, PATCH and DELETE writes into INSERT, MODIFY and REMOVE change events, each billed", async () => {
    await write(local, "POST", { id: "d-1", total: 1 });
    await write(local, "PATCH", { id: "d-1", paid: true });
    await write(local, "DELETE", { id: "d-1" });
    expect(changeEvents(local)).to.deep.equal([
      ["doc.POST", { total: 1, id: "d-1" }],
      ["doc.PATCH", { total: 1, paid: true, id: "d-1" }],
      ["doc.DELETE", { total: 1, paid: true, id: "d-1" }],
    ]);
    expect(await billing(local)).to.deep.include({ tokens: 30, requests: 3 });
    expect(local.queues.get(REJECTED)).to.deep.equal([]);
  });

  it("applies a redelivered event once: the second delivery answers as a duplicate and publishes nothing", async () => {
    const before = { events: changeEvents(local).length, billing: await billing(local) };
    const event = {
      version: "0",
      id: "local-redelivered-1",
      "detail-type": "doc.PUT",
      source: "switchyard.input",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "eu-west-1",
      resources: [],
      detail: { tenant: "demo", rootSchema: "doc", api_key: KEY, payload: { id: "d-2", total: 2 } },
    };
    const first = await local.lambdas.invoke(INGRESS, event);
    const second = await local.lambdas.invoke(INGRESS, event);
    await local.drain();
    expect(first).to.deep.equal({
      status: 200,
      operation: "PUT",
      tenant: "demo",
      rootSchema: "doc",
      id: "d-2",
    });
    expect(second).to.deep.equal({ ...(first as object), duplicate: true });
    // A PUT that creates the item is an INSERT on the stream, published as POST.
    expect(changeEvents(local).slice(before.events)).to.deep.equal([
      ["doc.POST", { total: 2, id: "d-2" }],
    ]);
    expect((await billing(local))!.requests).to.equal(before.billing!.requests + 1);
  });

  it("queues a refused write and publishes nothing for it", async () => {
    const before = changeEvents(local).length;
    await write(local, "DELETE", { id: "d-2" }, "x.y.DELETE");
    const queued = local.queues.get(REJECTED)!;
    expect(queued).to.have.length(1);
    expect(JSON.parse(queued[0].Body)).to.deep.include({ status: 400, code: "malformed" });
    expect(changeEvents(local)).to.have.length(before);
    expect(
      (
        await clients(local).doc.send(
          new GetCommand({ TableName: DATA, Key: { tenant: "demo", sk: "doc#d-2" } }),
        )
      ).Item,
    ).to.not.equal(undefined);
  });
});

describe("local runtime: --persist keeps DynamoDB data across runs (moto_server's recording)", function () {
  this.timeout(180_000);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-state-"));
  let local: SwitchyardLocal | undefined;
  after(async () => {
    await local?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("a second run finds the items, billing and event markers of the first, without publishing their changes again", async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      persist: true,
      stateDir,
      log: () => undefined,
    });
    await issueKey(local);
    await write(local, "POST", { id: "kept-1", total: 7 });
    expect(changeEvents(local)).to.have.length(1);
    await local.stop();
    expect(
      fs.statSync(path.join(stateDir, "dynamodb", "dev", MOTO_RECORDING_FILE)).size,
    ).to.be.greaterThan(0);

    const lines: string[] = [];
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      persist: true,
      stateDir,
      log: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.startsWith("DynamoDB: replayed "))).to.equal(true);
    const { doc } = clients(local);
    expect(
      (
        await doc.send(
          new GetCommand({ TableName: DATA, Key: { tenant: "demo", sk: "doc#kept-1" } }),
        )
      ).Item,
    ).to.deep.include({ data: { total: 7 }, version: 1 });
    expect(await billing(local)).to.deep.include({ tokens: 10, requests: 1 });
    await local.drain();
    expect(changeEvents(local)).to.deep.equal([]);
    // The key of the first run still works, and the item's POST is not applied twice.
    await write(local, "POST", { id: "kept-1", total: 8 });
    expect(JSON.parse(local.queues.get(REJECTED)![0].Body)).to.deep.include({
      status: 409,
      code: "conflict",
    });
  });
});
