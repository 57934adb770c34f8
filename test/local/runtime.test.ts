import { expect } from "chai";
import * as http from "http";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { SwitchyardLocal } from "../../local/runtime";
import { MotoService } from "../../local/services/moto";

function client(local: SwitchyardLocal) {
  return new EventBridgeClient({
    endpoint: local.awsUrl,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

const recordEvent = (recordId: string) => ({
  EventBusName: "switchyard-dev",
  Source: "switchyard.records",
  DetailType: "RecordCreated",
  Detail: JSON.stringify({ tenantId: "acme", recordId, recordVersion: 2, payload: { total: 120 } }),
});

describe("local runtime: the bus and the records forwarder", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;

  before(async () => {
    local = await SwitchyardLocal.start({ stack: "dev", speed: 0.001, log: () => undefined });
  });
  after(async () => local?.stop());

  it("delivers a record event through the declared API destination, with the connection's key", async () => {
    const out = await client(local).send(new PutEventsCommand({ Entries: [recordEvent("inv-1")] }));
    expect(out.FailedEntryCount).to.equal(0);
    await local.drain();
    const calls = local.records!.calls.filter((c) => c.body?.recordId === "inv-1");
    expect(calls).to.have.length(1);
    expect(calls[0].status).to.equal(202);
    expect(calls[0].body).to.deep.include({
      tenantId: "acme",
      database: "switchyard.records",
      collection: "RecordCreated",
      recordVersion: 2,
      operationType: "upsert",
      idempotencyKey: "acme:inv-1:2",
    });
    expect(calls[0].body.recordPayload).to.deep.equal({ total: 120 });
    expect(local.logLines.some((l) => /rule switchyard-dev-records matched/.test(l))).to.equal(
      true,
    );
  });

  it("answers PutEvents like EventBridge: per-entry errors for bad entries, unknown buses rejected", async () => {
    const out = await client(local).send(
      new PutEventsCommand({
        Entries: [recordEvent("inv-2"), { ...recordEvent("x"), Detail: "not json" }],
      }),
    );
    expect(out.FailedEntryCount).to.equal(1);
    expect(out.Entries![0].EventId).to.be.a("string");
    expect(out.Entries![1]).to.include({ ErrorCode: "MalformedDetail" });
    try {
      await client(local).send(
        new PutEventsCommand({ Entries: [{ ...recordEvent("y"), EventBusName: "nope" }] }),
      );
      expect.fail("an unknown bus must be rejected");
    } catch (e: any) {
      expect(e.name).to.equal("ResourceNotFoundException");
    }
    try {
      await client(local).send(
        new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => recordEvent("z")) }),
      );
      expect.fail("11 entries must be rejected");
    } catch (e: any) {
      expect(e.name).to.equal("ValidationException");
    }
    await local.drain();
  });

  it("does not re-fire live routes on replayed events, but logs them on the debug route", async () => {
    const before = local.records!.calls.length;
    const n = local.bus.replay("r1", new Date(0), new Date());
    expect(n).to.be.greaterThan(0);
    await local.drain();
    expect(local.records!.calls.length).to.equal(before);
    expect(local.logLines.some((l) => /\(replay r1\)/.test(l))).to.equal(true);
  });

  it("answers an operation of a service the program does not use with an error naming it", async () => {
    const res = await fetch(local.awsUrl, {
      method: "POST",
      headers: {
        "x-amz-target": "Kinesis_20131202.ListStreams",
        "content-type": "application/x-amz-json-1.1",
      },
      body: "{}",
    });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as { __type: string; message: string };
    expect(body.__type).to.equal("UnknownOperationException");
    expect(body.message).to.contain("does not implement Kinesis_20131202.ListStreams");
  });

  it("sends the other operations of the program's services to moto, where the program was applied", async () => {
    const res = await fetch(local.awsUrl, {
      method: "POST",
      headers: {
        "x-amz-target": "AWSEvents.DescribeRule",
        "content-type": "application/x-amz-json-1.1",
      },
      body: JSON.stringify({ Name: "switchyard-dev-records", EventBusName: "switchyard-dev" }),
    });
    expect(res.status).to.equal(200);
    const rule = (await res.json()) as { Name: string; EventPattern: string };
    const declared = local
      .of("aws:cloudwatch/eventRule:EventRule")
      .find((r) => (r.inputs.name ?? r.name) === "switchyard-dev-records")!;
    expect(rule.Name).to.equal("switchyard-dev-records");
    expect(JSON.parse(rule.EventPattern)).to.deep.equal(JSON.parse(declared.inputs.eventPattern));
  });
});

describe("local runtime: a target that always fails", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;
  let server: http.Server;
  let hits = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      hits++;
      res.writeHead(503).end("unavailable");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as any).port;
    // The dev stack limits the destination to 10 calls/s; 300/s keeps 186 calls to about a second.
    local = await SwitchyardLocal.start({
      stack: "dev",
      speed: 0.0001,
      recordsEndpoint: `http://127.0.0.1:${port}`,
      configOverrides: { "switchyard:recordsRateLimitPerSecond": "300" },
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      log: () => undefined,
    });
  });
  after(async () => {
    await local?.stop();
    server.close();
  });

  it("ends in the declared DLQ after its 185 retries, with EventBridge's attributes", async () => {
    await client(local).send(new PutEventsCommand({ Entries: [recordEvent("doomed")] }));
    await local.drain();
    expect(hits).to.equal(186);
    const dlq = local.queues.get("switchyard-dev-dlq")!;
    expect(dlq).to.have.length(1);
    const event = JSON.parse(dlq[0].Body);
    expect(event.detail.recordId).to.equal("doomed");
    expect(dlq[0].MessageAttributes.ERROR_CODE.StringValue).to.equal("503");
    expect(dlq[0].MessageAttributes.RULE_ARN.StringValue).to.match(
      /:rule\/switchyard-dev\/switchyard-dev-records$/,
    );
    expect(dlq[0].MessageAttributes.TARGET_ARN.StringValue).to.match(
      /:api-destination\/switchyard-dev-forwarder-records\//,
    );
    expect(dlq[0].MessageAttributes.RETRY_ATTEMPTS.StringValue).to.equal("185");
  });
});

describe("local runtime: a program that cannot be evaluated", function () {
  this.timeout(60_000);

  it("fails to start with the config error, and stops moto_server, which was still starting (no other service was built)", async () => {
    const stopped: string[] = [];
    const original = MotoService.prototype.stop;
    MotoService.prototype.stop = async function (this: MotoService) {
      await original.call(this);
      // The config error comes milliseconds into the start, while moto_server is still starting.
      stopped.push(this.server ? "moto_server stopped" : "no moto_server to stop");
    };
    try {
      const err = await SwitchyardLocal.start({
        stack: "dev",
        speed: 0.001,
        moto: "engine",
        configOverrides: { "switchyard:recordsRateLimitPerSecond": "-5" },
        log: () => undefined,
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/recordsRateLimitPerSecond/);
      expect(stopped).to.deep.equal(["moto_server stopped"]);
    } finally {
      MotoService.prototype.stop = original;
    }
  });
});
