// The local runtime, end to end, where AWS parity decides the outcome: a replay started with
// EventBridge's StartReplay reaches the route that accepts replays on the archive's own bus (and
// not the live routes), and an S3 object with one bad record is ingested with that record reported
// through SQS SendMessageBatch, the invocation succeeding instead of being retried.
import { expect } from "chai";
import {
  EventBridgeClient,
  PutEventsCommand,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SwitchyardLocal } from "../../local/runtime";
import { ACCOUNT } from "../../local/mocks";
import { S3_FAILURE_SOURCE } from "../../handlers/records/s3Ingestion";

const REGION = "eu-west-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("local runtime parity: replays and partial S3 ingestion failures", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      log: () => undefined,
    });
  });
  after(async () => local?.stop());

  it("StartReplay re-puts the archive's events onto its bus, where the replay route delivers them", async () => {
    const events = new EventBridgeClient({ endpoint: local.awsUrl, region: REGION, credentials });
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: "switchyard-dev",
            Source: "switchyard.records",
            DetailType: "RecordCreated",
            Detail: JSON.stringify({
              tenantId: "acme",
              recordId: "replayed-1",
              recordVersion: 1,
              payload: { total: 1 },
            }),
          },
        ],
      }),
    );
    const id = put.Entries![0].EventId!;
    await local.drain();
    const delivered = () =>
      local.logLines.filter((l) => new RegExp(`target \\S+/log delivered event ${id}`).test(l));
    expect(delivered()).to.have.length(1);
    const forwarded = () => local.records!.calls.filter((c) => c.body?.recordId === "replayed-1");
    expect(forwarded()).to.have.length(1);

    const archive = local.program.resources.find(
      (r) => r.type === "aws:cloudwatch/eventArchive:EventArchive",
    )!;
    const out = await events.send(
      new StartReplayCommand({
        ReplayName: "parity-1",
        EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/${archive.inputs.name ?? archive.name}`,
        EventStartTime: new Date(Date.now() - 60_000),
        EventEndTime: new Date(Date.now() + 60_000),
        Destination: { Arn: archive.inputs.eventSourceArn },
      }),
    );
    expect(out.State).to.equal("STARTING");
    await local.drain();
    // The debug route (includeReplayed) delivers the replayed event; the records route, live
    // only, does not forward the record a second time.
    expect(delivered()).to.have.length(2);
    expect(
      local.logLines.some((l) => l.includes(`event ${id}`) && l.includes("(replay parity-1)")),
    ).to.equal(true);
    expect(forwarded()).to.have.length(1);
  });

  it("ingests an S3 object with one bad record: the bad one reported by SendMessageBatch, the invocation succeeding", async () => {
    const notification = local.program.resources.find(
      (r) => r.type === "aws:s3/bucketNotification:BucketNotification",
    )!;
    // The notification names the bucket by id; the local ids are "<resource name>-id".
    const declared = local.program.resources.find(
      (r) => r.type === "aws:s3/bucket:Bucket" && `${r.name}-id` === notification.inputs.bucket,
    )!;
    const bucket = String(declared.inputs.bucket ?? declared.name);
    const prefix = notification.inputs.lambdaFunctions[0].filterPrefix ?? "";
    const s3 = new S3Client({
      endpoint: local.awsUrl,
      region: REGION,
      credentials,
      forcePathStyle: true,
    });
    const dlq = [...local.queues.keys()].find((q) => /dlq/.test(q) && /switchyard-dev/.test(q))!;
    const before = local.queues.get(dlq)!.length;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}parity.json`,
        ContentType: "application/json",
        Body: JSON.stringify([
          { tenantId: "acme", recordId: "s3-good", recordVersion: 1, payload: { n: 1 } },
          { tenantId: "acme", recordId: "s3-bad", recordVersion: -1, payload: { n: 2 } },
        ]),
      }),
    );
    await local.drain();
    expect(local.records!.calls.filter((c) => c.body?.recordId === "s3-good")).to.have.length(1);
    const reports = local.queues
      .get(dlq)!
      .slice(before)
      .map((m) => JSON.parse(m.Body));
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({
      source: S3_FAILURE_SOURCE,
      key: `${prefix}parity.json`,
      index: 1,
      recordId: "s3-bad",
    });
    expect(reports[0].error).to.match(/^invalid record: recordVersion/);
    expect(local.logLines.filter((l) => /ingest.*failed \(async/.test(l))).to.deep.equal([]);
  });
});
