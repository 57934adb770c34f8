// The dispatcher's archive as `pulumi up` uploads it (the bundled __index.js), loaded in a fresh
// Node process with only the runtime's SDK on NODE_PATH, delivering a queued event from moto's SQS
// (moto also serves DynamoDB, Secrets Manager and EventBridge, through AWS_ENDPOINT_URL).
import { expect } from "chai";
import { randomBytes } from "crypto";
import { setupMocks, one, valueOf } from "../mocks";

setupMocks();
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import { EventHub } from "../../components/events/eventHub";
import { functionArchives } from "../../components/lambda";
import { OutboundWebhooks } from "../../components/webhooks/outboundWebhooks";
import { OUTBOUND_ENV } from "../../handlers/outbound/settings";
import { messageIdOf } from "../../handlers/outbound/message";
import { LambdaHost, materialize } from "../../local/artifacts";
import { startMotoServer, MotoServer } from "../../local/motoServer";
import {
  busEvent,
  createAttemptTable,
  sqsEvent,
  sqsRecord,
  startSubscriber,
} from "../handlers/outbound/outboundBed";

const REGION = "eu-west-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("the outbound dispatcher's archive in a fresh process", function () {
  this.timeout(120000);
  let moto: MotoServer;
  let sub: Awaited<ReturnType<typeof startSubscriber>>;
  let host: LambdaHost | undefined;

  before(async () => {
    [moto, sub] = await Promise.all([startMotoServer(), startSubscriber()]);
  });
  after(async () => {
    await host?.stop();
    await Promise.all([moto?.stop(), sub?.close()]);
  });

  it("POSTs a queued event signed with the secret from Secrets Manager and records it", async () => {
    // The local run's settings: an http:// subscriber on this machine.
    const hub = new EventHub("ahub");
    const out = new OutboundWebhooks("oa", {
      hub,
      allowHttp: true,
      subscriptions: [{ name: "billing", url: `http://127.0.0.1:${sub.port}/in`, events: ["X"] }],
    });
    await valueOf(out.dispatcher.function.arn);
    const dir = await materialize(functionArchives.get("oa-dispatcher")!);
    const declared = one("aws:lambda/function:Function", "oa-dispatcher").inputs;

    // The resources it names, created in moto.
    const cfg = { endpoint: moto.url, region: REGION, credentials };
    const sqs = new SQSClient(cfg);
    const db = new DynamoDBClient(cfg);
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "oa-billing" })))
      .QueueUrl!;
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "oa-billing-dlq" })))
      .QueueUrl!;
    const queueArn = (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes!.QueueArn!;
    const key = `whsec_${randomBytes(32).toString("base64")}`;
    const secretArn = (
      await new SecretsManagerClient(cfg).send(
        new CreateSecretCommand({
          Name: "oa-billing",
          SecretString: JSON.stringify({ current: key }),
        }),
      )
    ).ARN!;
    await new EventBridgeClient(cfg).send(new CreateEventBusCommand({ Name: "ahub" }));
    await createAttemptTable(db, declared.environment.variables[OUTBOUND_ENV.table]);

    host = await LambdaHost.start(dir, {
      timeoutSeconds: declared.timeout,
      env: {
        ...declared.environment.variables,
        // the declared names, with the ARNs and URLs moto gave them
        [OUTBOUND_ENV.resources]: JSON.stringify({
          billing: { queueArn, queueUrl, dlqUrl, secretArn },
        }),
        AWS_ENDPOINT_URL: moto.url,
      },
    });
    const event = busEvent({ orderId: "o-archive" }, "X");
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
    );
    const m = (
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }))
    ).Messages![0];
    sub.received.length = 0;
    sub.respond = () => ({ status: 202 });
    const result = await host.invoke(
      sqsEvent(
        sqsRecord({
          body: m.Body!,
          queueArn,
          receiptHandle: m.ReceiptHandle!,
          messageId: m.MessageId!,
        }),
      ),
    );
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(sub.received).to.have.length(1);
    const got = sub.received[0];
    expect(got.headers["webhook-id"]).to.equal(messageIdOf(event.id));
    expect(new Webhook(key).verify(got.body, got.headers as Record<string, string>)).to.deep.equal({
      type: "X",
      timestamp: event.time,
      data: { orderId: "o-archive" },
    });
    const { Item } = await DynamoDBDocumentClient.from(db).send(
      new GetCommand({
        TableName: declared.environment.variables[OUTBOUND_ENV.table],
        Key: { pk: messageIdOf(event.id), sk: "delivery#billing" },
      }),
    );
    expect(Item).to.include({ status: "succeeded", attempts: 1, lastStatusCode: 202 });
    // the EMF metric the alarms and tiles read: namespace, dimensions service and subscription
    const emf = host!.stdout
      .split("\n")
      .filter((l) => l.includes('"OutboundDelivered"'))
      .map((l) => JSON.parse(l));
    expect(emf).to.have.length(1);
    expect(emf[0]).to.include({
      service: "outbound-dispatcher",
      subscription: "billing",
      OutboundDelivered: 1,
    });
    expect(emf[0]._aws.CloudWatchMetrics[0]).to.deep.include({
      Namespace: "Switchyard",
      Dimensions: [["service", "subscription"]],
    });
    sqs.destroy();
    db.destroy();
  });
});
