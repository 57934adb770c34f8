// Recovery against local AWS (moto_server for both SQS and DynamoDB, reached through
// AWS_ENDPOINT_URL by the command itself): exhaust a message, resend the failed ones, deliver them.
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { randomBytes } from "crypto";
import { startMotoServer, MotoServer } from "../../../local/motoServer";
import { makeDispatcher } from "../../../handlers/outbound/dispatcher";
import { messageIdOf } from "../../../handlers/outbound/message";
import { messageHistory, resend, resendFailed } from "../../../scripts/outboundRecovery";
import {
  busEvent,
  createAttemptTable,
  createQueue,
  credentials,
  recordingEvents,
  REGION,
  secretStore,
  settings,
  sqsEvent,
  sqsRecord,
  startSubscriber,
} from "./outboundBed";

const ROOT = path.join(__dirname, "..", "..", "..");
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:billing";

describe("outbound recovery (npm run outbound) against moto", function () {
  this.timeout(120000);
  let moto: MotoServer;
  let sqs: SQSClient;
  let db: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let sub: Awaited<ReturnType<typeof startSubscriber>>;
  let queue: { url: string; arn: string };
  let dlq: { url: string; arn: string };
  const table = "recovery-attempts";
  let handler: ReturnType<typeof makeDispatcher>;

  before(async () => {
    [moto, sub] = await Promise.all([startMotoServer(), startSubscriber()]);
    sqs = new SQSClient({ endpoint: moto.url, region: REGION, credentials });
    db = new DynamoDBClient({ endpoint: moto.url, region: REGION, credentials });
    doc = DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } });
    await createAttemptTable(db, table);
    queue = await createQueue(sqs, "billing");
    dlq = await createQueue(sqs, "billing-dlq");
    handler = makeDispatcher({
      // one attempt: its failure exhausts the message
      settings: settings({
        retryScheduleSeconds: [0],
        subscriptions: [{ name: "billing", url: `http://billing.test:${sub.port}/` }],
      }),
      resources: {
        billing: {
          queueArn: queue.arn,
          queueUrl: queue.url,
          dlqUrl: dlq.url,
          secretArn: SECRET_ARN,
        },
      },
      table,
      busName: "hub",
      sqs,
      doc,
      events: recordingEvents(),
      secrets: secretStore({ [SECRET_ARN]: `whsec_${randomBytes(24).toString("base64")}` }),
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
    });
  });
  after(async () => {
    sqs?.destroy();
    db?.destroy();
    await Promise.all([moto?.stop(), sub?.close()]);
  });

  /** Drains the queue through the dispatcher, as the event source mapping does. */
  async function drain() {
    for (;;) {
      const msgs =
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 30,
            }),
          )
        ).Messages ?? [];
      if (msgs.length === 0) return;
      const records = msgs.map((m) =>
        sqsRecord({
          body: m.Body!,
          queueArn: queue.arn,
          receiptHandle: m.ReceiptHandle!,
          messageId: m.MessageId!,
        }),
      );
      const out = await handler(sqsEvent(...records));
      const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of records)
        if (!failed.has(r.messageId))
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: r.receiptHandle }),
          );
    }
  }

  const ctx = () => ({ doc, sqs, table, queueUrls: { billing: queue.url } });
  const send = (e: unknown) =>
    sqs.send(
      new (require("@aws-sdk/client-sqs").SendMessageCommand)({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify(e),
      }),
    );

  it("resends exhausted messages from the command line (AWS_ENDPOINT_URL), under the same id, and they are delivered", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    sub.respond = () => ({ status: 500 });
    const events = [busEvent({ n: 1 }), busEvent({ n: 2 })];
    for (const e of events) await send(e);
    await drain();
    for (const e of events) {
      const d = (await messageHistory(ctx(), messageIdOf(e.id))).find((i) => i.kind === "delivery");
      expect(d).to.include({ status: "exhausted", attempts: 1 });
    }
    sub.received.length = 0;
    sub.respond = () => ({ status: 200 });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "scripts/outbound.ts",
        "resend-failed",
        "billing",
        "--since",
        since,
        "--table",
        table,
        "--queue",
        `billing=${queue.url}`,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: moto.url,
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
        },
      },
    );
    expect(stdout).to.contain("2 of 2 exhausted messages resent");
    await drain();
    expect(sub.received.map((r) => r.headers["webhook-id"]).sort()).to.deep.equal(
      events.map((e) => messageIdOf(e.id)).sort(),
    );
    for (const e of events) {
      const items = await messageHistory(ctx(), messageIdOf(e.id));
      expect(items.find((i) => i.kind === "delivery")).to.include({
        status: "succeeded",
        attempts: 1,
      });
      expect(items.filter((i) => i.kind === "attempt").map((i: any) => i.outcome)).to.have.members([
        "failure",
        "success",
      ]);
    }
  });

  it("resends one message on request, even one already delivered", async () => {
    sub.respond = () => ({ status: 204 });
    const e = busEvent({ n: 3 });
    await send(e);
    await drain();
    sub.received.length = 0;
    const out = await resend(ctx(), messageIdOf(e.id));
    expect(out).to.deep.equal([
      { messageId: messageIdOf(e.id), subscription: "billing", resent: true },
    ]);
    await drain();
    expect(sub.received).to.have.length(1);
    expect(sub.received[0].headers["webhook-id"]).to.equal(messageIdOf(e.id));
  });

  it("finds nothing to resend before --since, and says so for an unknown message", async () => {
    expect(await resendFailed(ctx(), "billing", new Date(Date.now() + 60000))).to.deep.equal([]);
    await resend(ctx(), "msg_unknown").then(
      () => expect.fail("resent"),
      (err) => expect(err.message).to.equal(`no delivery of msg_unknown in table ${table}`),
    );
  });
});
