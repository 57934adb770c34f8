// The webhook hot path, timed per delivery in two parts: the receiver's answer (signature check,
// contract check, the conditional write to its deliveries table on local DynamoDB, its JSON logs
// and EMF metrics), which is what the sender waits for; and the relay publishing that stored item
// (the stream record DynamoDB would send, PutEvents, its logs and EMF metrics).
import * as crypto from "crypto";
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { Logger } from "@aws-lambda-powertools/logger";
import { makeMetrics, WEBHOOK_SERVICE } from "../handlers/lib/telemetry";
import { summarize, Summary, timeEach } from "./stats";
import { REGION } from "../local/account";

const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
const SECRET = "bench-webhook-secret";

export interface WebhookResult extends Summary {
  /** The relay's invocation per stored delivery (one INSERT record each). */
  relay: Summary;
  deliveries: number;
  /** Status codes seen (all must be 200). */
  statuses: Record<string, number>;
  putEventsCalls: number;
  /** Bytes of log lines and EMF blobs the deliveries wrote. */
  telemetryBytes: number;
}

/** Starts dynalite in this process with the receiver's idempotency table. */
export async function startDynalite(
  table: string,
): Promise<{ client: DynamoDBClient; close: () => Promise<void> }> {
  const server = require("dynalite")({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    credentials,
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return { client, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Runs `iterations` distinct GitHub deliveries (plus warm-up) through `makeHandler` of
 * handlers/webhooks/receiver.ts. Returns undefined, with the reason, when the receiver is absent.
 */
export async function benchWebhook(
  iterations: number,
): Promise<WebhookResult | { skipped: string }> {
  let receiver: any;
  let relayModule: any;
  try {
    receiver = require("../handlers/webhooks/receiver");
    relayModule = require("../handlers/webhooks/relay");
  } catch (e) {
    return {
      skipped: `handlers/webhooks/receiver.ts cannot be loaded: ${(e as Error).message.split("\n")[0]}`,
    };
  }
  if (typeof receiver.makeHandler !== "function")
    return { skipped: "handlers/webhooks/receiver.ts exports no makeHandler" };

  const table = "bench-idempotency";
  const ddb = await startDynalite(table);
  const eventBridge = new EventBridgeClient({ region: REGION, credentials });
  const secretsManager = new SecretsManagerClient({ region: REGION, credentials });
  const eb = mockClient(eventBridge);
  const sm = mockClient(secretsManager);
  let n = 0;
  eb.on(PutEventsCommand).callsFake((input) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map(() => ({ EventId: `ev-${++n}` })),
  }));
  sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });

  // The items the receiver stored, in order: each becomes the stream record the relay is given.
  const stored: Array<Record<string, any>> = [];
  const dynamodb = {
    send: async (command: any) => {
      const out = await ddb.client.send(command);
      if (command.constructor.name === "PutItemCommand") stored.push(command.input.Item);
      return out;
    },
  };
  try {
    const handler = receiver.makeHandler({
      config: {
        provider: "github",
        secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-AbCdEf",
        idempotencyTable: table,
        idempotencyTtlSeconds: 3600,
        maxEntryBytes: 262144,
        toleranceSeconds: 300,
        payloadPrefix: "github/",
      },
      secretsManager,
      dynamodb,
      // As the deployed receiver: JSON log lines with the correlation id, EMF metrics per delivery.
      logger: new Logger({ serviceName: WEBHOOK_SERVICE, persistentKeys: { provider: "github" } }),
      metrics: makeMetrics(WEBHOOK_SERVICE),
    });
    const relay = relayModule.makeRelay({
      config: {
        eventBusArn: "arn:aws:events:eu-west-1:123456789012:event-bus/bench-bus",
        maxEntryBytes: 262144,
        deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-dlq",
      },
      eventBridge,
      // Every delivery is published: a dead letter would fail the run.
      sqs: {
        send: async () => {
          throw new Error("the relay sent a dead letter");
        },
      },
      logger: new Logger({ serviceName: WEBHOOK_SERVICE, persistentKeys: { role: "relay" } }),
      metrics: makeMetrics(WEBHOOK_SERVICE),
    });
    const payload = JSON.stringify({
      ref: "refs/heads/main",
      repository: { full_name: "acme/site", id: 1 },
      pusher: { name: "octocat" },
      commits: Array.from({ length: 3 }, (_, i) => ({
        id: `c${i}`,
        message: `change ${i}`,
        added: [`f${i}.ts`],
      })),
    });
    const statuses: Record<string, number> = {};
    // The log lines and EMF blobs are built and written as in Lambda, into a sink instead of the
    // terminal (Powertools writes through its own Console on process.stdout).
    const write = process.stdout.write;
    let written = 0;
    (process.stdout as any).write = (chunk: string | Uint8Array) => {
      written += chunk.length;
      return true;
    };
    let relaySamples: number[] = [];
    const samples = await timeEach(async (i) => {
      const body = payload.replace('"id":1', `"id":${i + 1000}`);
      const event = {
        version: "2.0",
        rawPath: "/github",
        rawQueryString: "",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": crypto.randomUUID(),
          "x-hub-signature-256": `sha256=${crypto.createHmac("sha256", SECRET).update(body).digest("hex")}`,
          "x-correlation-id": `bench-${i + 1000}`,
        },
        requestContext: {
          http: { method: "POST", path: "/github" },
          domainName: "bench.lambda-url.eu-west-1.on.aws",
          requestId: `r${i}`,
        },
        body,
        isBase64Encoded: false,
      };
      const context = {
        awsRequestId: crypto.randomUUID(),
        functionName: "bench-webhooks",
        getRemainingTimeInMillis: () => 10000,
      };
      const res = await handler(event, context);
      if (i >= 0) statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }, iterations)
      .then(async (answered) => {
        // Each stored delivery's stream record, as the mapping hands it to the relay.
        let seq = 0;
        const records = stored.map((item) => ({
          eventID: crypto.randomUUID(),
          eventName: "INSERT",
          eventSource: "aws:dynamodb",
          dynamodb: {
            Keys: { id: item.id },
            NewImage: item,
            SequenceNumber: String(++seq),
            StreamViewType: "NEW_IMAGE",
          },
        }));
        relaySamples = await timeEach(async (i) => {
          const r = records[i < 0 ? records.length + i : i];
          const out = await relay({ Records: [r] });
          if (out.batchItemFailures.length > 0) throw new Error("the relay failed a delivery");
        }, iterations);
        return answered;
      })
      .finally(() => {
        process.stdout.write = write;
      });
    return {
      ...summarize(samples),
      relay: summarize(relaySamples),
      deliveries: iterations,
      statuses,
      putEventsCalls: eb.commandCalls(PutEventsCommand).length,
      telemetryBytes: written,
    };
  } finally {
    eb.restore();
    sm.restore();
    await ddb.close();
  }
}
