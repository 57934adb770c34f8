// The local AWS endpoint answers PutEvents, StartReplay and SQS sends as AWS does. Expected answers
// come from AWS's API references (PutEvents: 1-10 entries, the entry size rule, per-entry
// ErrorCode/ErrorMessage; SendMessageBatch: its batch errors and Successful/Failed entries) and
// the messages AWS returns as recorded by moto 5.2.1 (which ships on this machine) and LocalStack's
// AWS-validated snapshots.
import { expect } from "chai";
import { execFile, spawnSync } from "child_process";
import { createHash, randomUUID } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutEventsRequestEntry,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AwsError, createAwsEndpoint, LocalServices } from "../../local/awsEndpoint";
import { BusEvent, LocalBus, LocalTarget } from "../../local/bus";
import { entrySize } from "../../handlers/lib/publisher";
import { withoutReplays } from "../../components/events/patterns";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;

const target = (ruleName: string, busName: string, id: string): LocalTarget => ({
  ruleName,
  busName,
  id,
  arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`,
  retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
});

/** A bus "hub" with a live route (replays excluded, as routes are declared) and a replay route. */
function hubBus(delivered: { target: string; event: BusEvent }[]): LocalBus {
  const source = { source: ["app.orders"] };
  return new LocalBus(
    [
      {
        name: "live",
        arn: "rule/hub/live",
        busName: "hub",
        pattern: withoutReplays(source),
        enabled: true,
      },
      { name: "audit", arn: "rule/hub/audit", busName: "hub", pattern: source, enabled: true },
      {
        name: "other",
        arn: "rule/default/other",
        busName: "default",
        pattern: source,
        enabled: true,
      },
    ],
    [
      target("live", "hub", "live-t"),
      target("audit", "hub", "audit-t"),
      target("other", "default", "other-t"),
    ],
    {
      account: ACCOUNT,
      region: REGION,
      maxEntryBytes: 262144,
      log: () => undefined,
      retryDelayMs: () => 1,
      deadLetter: async () => undefined,
      deliver: async (t, _input, event) => void delivered.push({ target: t.id, event }),
    },
    ["default", "hub"],
  );
}

interface Sent {
  QueueUrl: string;
  MessageBody: string;
  MessageAttributes?: unknown;
}

function services(bus: LocalBus, queues: Map<string, Sent[]>): LocalServices {
  return {
    dynamodbUrl: "http://127.0.0.1:9",
    putEvents: async (entries) => bus.putEvents(entries),
    startReplay: async (request) => bus.startReplay(request, new Map([["hub-archive", "hub"]])),
    getSecretValue: async (id) => {
      throw new AwsError("ResourceNotFoundException", `Secrets Manager can't find ${id}.`);
    },
    snsPublish: async () => randomUUID(),
    sqsSendMessage: async (a) => {
      const q = queues.get(a.QueueUrl.split("/").pop()!);
      if (!q)
        throw new AwsError(
          "AWS.SimpleQueueService.NonExistentQueue",
          "The specified queue does not exist.",
        );
      q.push(a);
      return randomUUID();
    },
    startExecution: async () => ({ executionArn: "arn", startDate: 0 }),
    invokeLambda: async () => ({ status: 200, payload: "null" }),
    s3Put: async () => "etag",
    s3Get: async () => {
      throw new AwsError("NoSuchKey", "The specified key does not exist.", 404);
    },
  };
}

const order = (id: string, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: "hub",
  Source: "app.orders",
  DetailType: "OrderPlaced",
  Detail: JSON.stringify({ id }),
  ...extra,
});

async function expectError(p: Promise<unknown>, name: string, status: number): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    expect(e.name, e.message).to.equal(name);
    expect(e.$metadata?.httpStatusCode).to.equal(status);
    return e;
  }
  expect.fail(`expected ${name}`);
}

describe("local endpoint parity: EventBridge PutEvents, StartReplay and SQS sends", function () {
  this.timeout(60_000);
  let server: http.Server;
  let url: string;
  let bus: LocalBus;
  let delivered: { target: string; event: BusEvent }[];
  const queues = new Map<string, Sent[]>();
  let events: EventBridgeClient;
  let sqs: SQSClient;

  before(async () => {
    delivered = [];
    bus = hubBus(delivered);
    server = createAwsEndpoint(services(bus, queues));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    events = new EventBridgeClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
    sqs = new SQSClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
  });
  after(() => new Promise((r) => server.close(r)));
  beforeEach(() => {
    bus.archive.length = 0;
    delivered.length = 0;
    queues.clear();
    queues.set("failures", []);
  });

  describe("PutEvents", () => {
    it("rejects 11 entries with ValidationException and publishes none of them", async () => {
      const e = await expectError(
        events.send(
          new PutEventsCommand({ Entries: Array.from({ length: 11 }, (_, i) => order(`o${i}`)) }),
        ),
        "ValidationException",
        400,
      );
      expect(e.message).to.equal(
        "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
      );
      expect(bus.archive).to.have.length(0);
    });

    it("rejects no entries with ValidationException", async () => {
      const e = await expectError(
        events.send(new PutEventsCommand({ Entries: [] })),
        "ValidationException",
        400,
      );
      expect(e.message).to.contain("Member must have length greater than or equal to 1");
    });

    it("measures each entry with EventBridge's entry-size rule: 256 KB passes, one byte more fails", async () => {
      const at = (bytes: number): PutEventsRequestEntry => {
        const base = {
          Source: "app.orders",
          DetailType: "OrderPlaced",
          Resources: ["arn:aws:s3:::bucket"],
          Time: new Date(),
          Detail: JSON.stringify({ pad: "" }),
        };
        const pad = "x".repeat(bytes - entrySize(base));
        const e = { ...base, EventBusName: "hub", Detail: JSON.stringify({ pad }) };
        expect(entrySize(e)).to.equal(bytes);
        return e;
      };
      const ok = await events.send(new PutEventsCommand({ Entries: [at(262144)] }));
      expect(ok.FailedEntryCount).to.equal(0);
      const e = await expectError(
        events.send(new PutEventsCommand({ Entries: [at(262145)] })),
        "ValidationException",
        400,
      );
      expect(e.message).to.equal("Total size of the entries in the request is over the limit.");
      expect(bus.archive).to.have.length(1);
    });

    it("rejects a request whose entries together pass 256 KB, before publishing the first", async () => {
      const big = (id: string) =>
        order(id, { Detail: JSON.stringify({ id, pad: "x".repeat(140_000) }) });
      await expectError(
        events.send(new PutEventsCommand({ Entries: [big("a"), big("b")] })),
        "ValidationException",
        400,
      );
      expect(bus.archive).to.have.length(0);
      await bus.drain();
      expect(delivered).to.have.length(0);
    });

    it("rejects an unknown bus with ResourceNotFoundException before publishing any entry", async () => {
      const e = await expectError(
        events.send(
          new PutEventsCommand({
            Entries: [order("ok"), order("lost", { EventBusName: busArn("nope") })],
          }),
        ),
        "ResourceNotFoundException",
        400,
      );
      expect(e.message).to.equal("Event bus nope does not exist.");
      expect(bus.archive).to.have.length(0);
    });

    it("reports entries missing a field or with a malformed Detail in Entries[i], publishing the rest", async () => {
      const out = await events.send(
        new PutEventsCommand({
          Entries: [
            order("good"),
            { ...order("x"), Source: undefined },
            { ...order("x"), DetailType: undefined },
            { ...order("x"), Detail: undefined },
            order("x", { Detail: "{not json" }),
            order("x", { Detail: "[1,2]" }),
          ],
        }),
      );
      expect(out.FailedEntryCount).to.equal(5);
      expect(out.Entries![0].EventId).to.be.a("string");
      expect(out.Entries!.slice(1)).to.deep.equal([
        {
          ErrorCode: "InvalidArgument",
          ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument.",
        },
        {
          ErrorCode: "InvalidArgument",
          ErrorMessage:
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        },
        {
          ErrorCode: "InvalidArgument",
          ErrorMessage: "Parameter Detail is not valid. Reason: Detail is a required argument.",
        },
        { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." },
        { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." },
      ]);
      expect(bus.archive.map((e) => e.detail)).to.deep.equal([{ id: "good" }]);
    });

    it("answers malformed input with 400 SerializationException/ValidationException, never 500", async () => {
      const post = async (body: string) => {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            "x-amz-target": "AWSEvents.PutEvents",
            "content-type": "application/x-amz-json-1.1",
          },
          body,
        });
        return {
          status: res.status,
          type: res.headers.get("x-amzn-errortype"),
          body: (await res.json()) as { __type: string },
        };
      };
      for (const [body, type] of [
        ["{not json", "SerializationException"],
        ["[]", "SerializationException"],
        ['{"Entries":"x"}', "SerializationException"],
        ['{"Entries":[1]}', "SerializationException"],
        ['{"Entries":[{"Source":5,"DetailType":"t","Detail":"{}"}]}', "SerializationException"],
        [
          '{"Entries":[{"Source":"s","DetailType":"t","Detail":"{}","Time":"yesterday"}]}',
          "SerializationException",
        ],
        ["{}", "ValidationException"],
        [
          '{"Entries":[{"Source":"s","DetailType":"t","Detail":"{}","EventBusName":"a b"}]}',
          "ValidationException",
        ],
      ] as const) {
        const out = await post(body);
        expect(out.status, body).to.equal(400);
        expect(out.type, body).to.equal(type);
        expect(out.body.__type, body).to.equal(type);
      }
      expect(bus.archive).to.have.length(0);
    });
  });

  describe("other JSON operations", () => {
    it("answers a missing or mistyped member with 400, never 500", async () => {
      for (const [target, body, type] of [
        ["secretsmanager.GetSecretValue", {}, "ValidationException"],
        ["secretsmanager.GetSecretValue", { SecretId: 7 }, "SerializationException"],
        ["AWSStepFunctions.StartExecution", { input: "{}" }, "ValidationException"],
        [
          "AWSStepFunctions.StartExecution",
          { stateMachineArn: "a", input: {} },
          "SerializationException",
        ],
      ] as const) {
        const res = await fetch(url, {
          method: "POST",
          headers: { "x-amz-target": target, "content-type": "application/x-amz-json-1.1" },
          body: JSON.stringify(body),
        });
        expect(res.status, `${target} ${JSON.stringify(body)}`).to.equal(400);
        expect(((await res.json()) as { __type: string }).__type).to.equal(type);
      }
    });
  });

  describe("StartReplay", () => {
    it("re-puts the archive's events onto its source bus with replay-name, where replay-accepting routes deliver them", async () => {
      await events.send(new PutEventsCommand({ Entries: [order("o-1")] }));
      await bus.drain();
      expect(delivered.map((d) => d.target).sort()).to.deep.equal(["audit-t", "live-t"]);
      delivered.length = 0;

      const out = await events.send(
        new StartReplayCommand({
          ReplayName: "r1",
          EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/hub-archive`,
          EventStartTime: new Date(Date.now() - 60_000),
          EventEndTime: new Date(Date.now() + 60_000),
          Destination: { Arn: busArn("hub") },
        }),
      );
      expect(out.State).to.equal("STARTING");
      expect(out.ReplayArn).to.equal(`arn:aws:events:${REGION}:${ACCOUNT}:replay/r1`);
      await bus.drain();
      // The route that accepts replays gets the event again, marked; the live route and the
      // default bus's rule do not.
      expect(delivered.map((d) => d.target)).to.deep.equal(["audit-t"]);
      expect(delivered[0].event["replay-name"]).to.equal("r1");
      expect(delivered[0].event.detail).to.deep.equal({ id: "o-1" });
    });

    it("replays from the control port go to each event's own bus too", async () => {
      await events.send(new PutEventsCommand({ Entries: [order("o-2")] }));
      await bus.drain();
      delivered.length = 0;
      expect(bus.replay("r-control", new Date(0), new Date(Date.now() + 1000))).to.equal(1);
      await bus.drain();
      expect(delivered.map((d) => [d.target, d.event["replay-name"]])).to.deep.equal([
        ["audit-t", "r-control"],
      ]);
    });

    it("refuses a replay onto another bus, an unknown archive and a reused name as EventBridge does", async () => {
      const replay = (over: Record<string, unknown>) =>
        events.send(
          new StartReplayCommand({
            ReplayName: "r2",
            EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/hub-archive`,
            EventStartTime: new Date(0),
            EventEndTime: new Date(),
            Destination: { Arn: busArn("hub") },
            ...over,
          }),
        );
      let e = await expectError(
        replay({ Destination: { Arn: busArn("default") } }),
        "ValidationException",
        400,
      );
      expect(e.message).to.equal(
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
      );
      e = await expectError(
        replay({ EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/none` }),
        "ValidationException",
        400,
      );
      expect(e.message).to.equal(
        "Parameter EventSourceArn is not valid. Reason: Archive none does not exist.",
      );
      await replay({});
      e = await expectError(replay({}), "ResourceAlreadyExistsException", 400);
      expect(e.message).to.equal("Replay r2 already exists.");
    });
  });

  describe("SQS", () => {
    const queueUrl = `${"http://127.0.0.1:1"}/${ACCOUNT}/failures`;

    it("SendMessageBatch (JSON protocol): sends the good entries, reports the bad one in Failed", async () => {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: [
            {
              Id: "0",
              MessageBody: '{"record":1}',
              MessageAttributes: { source: { DataType: "String", StringValue: "s3" } },
            },
            { Id: "1", MessageBody: "" },
            { Id: "2", MessageBody: '{"record":3}' },
          ],
        }),
      );
      // The SDK checks each MD5OfMessageBody against what it sent.
      expect(out.Successful!.map((s) => s.Id)).to.deep.equal(["0", "2"]);
      expect(out.Successful![0].MD5OfMessageBody).to.equal(
        createHash("md5").update('{"record":1}').digest("hex"),
      );
      expect(out.Failed).to.deep.equal([
        {
          Id: "1",
          SenderFault: true,
          Code: "MissingParameter",
          Message: "The request must contain the parameter MessageBody.",
        },
      ]);
      expect(queues.get("failures")!.map((m) => m.MessageBody)).to.deep.equal([
        '{"record":1}',
        '{"record":3}',
      ]);
    });

    it("MD5OfMessageAttributes is SQS's digest (checked against moto's implementation of it)", async () => {
      const attrs = {
        source: { DataType: "String", StringValue: "s3" },
        count: { DataType: "Number", StringValue: "3" },
        blob: { DataType: "Binary", BinaryValue: Buffer.from([1, 2, 3]) },
      };
      const out = await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: "hello",
          MessageAttributes: attrs,
        }),
      );
      const py = spawnSync(
        "python3",
        [
          "-c",
          [
            "import sys, json, base64",
            "from moto.sqs.models import Message",
            "a = json.loads(sys.argv[1])",
            "for v in a.values():",
            "    if 'BinaryValue' in v: v['BinaryValue'] = base64.b64decode(v['BinaryValue'])",
            "m = Message.__new__(Message)",
            "m.message_attributes = a",
            "print(m.attribute_md5)",
          ].join("\n"),
          JSON.stringify({
            ...attrs,
            blob: { DataType: "Binary", BinaryValue: Buffer.from([1, 2, 3]).toString("base64") },
          }),
        ],
        { encoding: "utf8" },
      );
      expect(py.status, py.stderr).to.equal(0);
      expect(out.MD5OfMessageAttributes).to.equal(py.stdout.trim());
    });

    it("rejects a whole batch (too many, repeated ids, bad ids, too long, empty) before sending any", async () => {
      const cases: [unknown[], string, string][] = [
        [
          Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: "x" })),
          "TooManyEntriesInBatchRequest",
          "Maximum number of entries per request are 10. You have sent 11.",
        ],
        [
          [
            { Id: "a", MessageBody: "x" },
            { Id: "a", MessageBody: "y" },
          ],
          "BatchEntryIdsNotDistinct",
          "Id a repeated.",
        ],
        [
          [{ Id: "no spaces", MessageBody: "x" }],
          "InvalidBatchEntryId",
          "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        ],
        [
          [
            { Id: "a", MessageBody: "x".repeat(200_000) },
            { Id: "b", MessageBody: "x".repeat(100_000) },
          ],
          "BatchRequestTooLong",
          "Batch requests cannot be longer than 262144 bytes. You have sent 300000 bytes.",
        ],
        [
          [],
          "EmptyBatchRequest",
          "There should be at least one SendMessageBatchRequestEntry in the request.",
        ],
      ];
      for (const [entries, name, message] of cases) {
        const e = await expectError(
          sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries as any })),
          name,
          400,
        );
        expect(e.message).to.equal(message);
        expect(e.Code ?? e.$response?.headers?.["x-amzn-query-error"]).to.match(
          new RegExp(`^AWS\\.SimpleQueueService\\.${name}`),
        );
      }
      expect(queues.get("failures")).to.have.length(0);
    });

    it("answers an unknown queue with QueueDoesNotExist and the query code in x-amzn-query-error", async () => {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "x-amz-target": "AmazonSQS.SendMessage",
          "content-type": "application/x-amz-json-1.0",
        },
        body: JSON.stringify({ QueueUrl: `${url}/${ACCOUNT}/nope`, MessageBody: "x" }),
      });
      expect(res.status).to.equal(400);
      expect(res.headers.get("x-amzn-query-error")).to.equal(
        "AWS.SimpleQueueService.NonExistentQueue;Sender",
      );
      expect(await res.json()).to.deep.equal({
        __type: "com.amazonaws.sqs#QueueDoesNotExist",
        message: "The specified queue does not exist.",
      });
      await expectError(
        sqs.send(new SendMessageCommand({ QueueUrl: `${url}/${ACCOUNT}/nope`, MessageBody: "x" })),
        "QueueDoesNotExist",
        400,
      );
    });

    it("serves the query protocol: SendMessage and SendMessageBatch as XML, errors as ErrorResponse", async () => {
      const post = async (form: Record<string, string>) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            Version: "2012-11-05",
            QueueUrl: queueUrl,
            ...form,
          }).toString(),
        });
        return { status: res.status, text: await res.text() };
      };
      const one = await post({ Action: "SendMessage", MessageBody: "q1" });
      expect(one.status).to.equal(200);
      expect(one.text).to.match(
        new RegExp(
          `<SendMessageResponse[^>]*><SendMessageResult><MessageId>[-0-9a-f]{36}</MessageId><MD5OfMessageBody>${createHash("md5").update("q1").digest("hex")}</MD5OfMessageBody></SendMessageResult>`,
        ),
      );
      const batch = await post({
        Action: "SendMessageBatch",
        "SendMessageBatchRequestEntry.1.Id": "a",
        "SendMessageBatchRequestEntry.1.MessageBody": "q2",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "source",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "String",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "s3",
        "SendMessageBatchRequestEntry.2.Id": "b",
        "SendMessageBatchRequestEntry.2.MessageBody": "",
      });
      expect(batch.status).to.equal(200);
      expect(batch.text).to.contain("<SendMessageBatchResultEntry><Id>a</Id>");
      expect(batch.text).to.contain(
        "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>MissingParameter</Code>",
      );
      expect(queues.get("failures")!.map((m) => m.MessageBody)).to.deep.equal(["q1", "q2"]);
      const missing = await post({
        Action: "SendMessage",
        QueueUrl: `${url}/${ACCOUNT}/nope`,
        MessageBody: "x",
      });
      expect(missing.status).to.equal(400);
      expect(missing.text).to.contain(
        "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message>",
      );
    });

    it("answers aws-cli's JSON-protocol SendMessage (AmazonSQS.SendMessage)", async function () {
      // Asynchronous: the endpoint answers from this process while the CLI runs.
      const cli = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
        missing?: boolean;
      }>((resolve) =>
        execFile(
          "aws",
          [
            "sqs",
            "send-message",
            "--endpoint-url",
            url,
            "--region",
            REGION,
            "--queue-url",
            queueUrl,
            "--message-body",
            "from the cli",
            "--output",
            "json",
          ],
          {
            env: { ...process.env, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" },
            timeout: 60_000,
          },
          (err, stdout, stderr) =>
            resolve({
              code: err ? ((err as any).code ?? 1) : 0,
              stdout,
              stderr,
              missing: (err as any)?.code === "ENOENT",
            }),
        ),
      );
      if (cli.missing) this.skip();
      expect(cli.code, cli.stderr).to.equal(0);
      expect(JSON.parse(cli.stdout).MD5OfMessageBody).to.equal(
        createHash("md5").update("from the cli").digest("hex"),
      );
      expect(queues.get("failures")!.map((m) => m.MessageBody)).to.deep.equal(["from the cli"]);
    });
  });
});
