// Local services of the outbound dispatcher tests: dynalite with the attempt log table as the
// component declares it, moto_server for SQS, a scripted HTTP subscriber, a recording EventBridge
// client, an in-memory secret store, and an in-memory SQS with a fake clock for the retry schedule.
import * as http from "http";
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import {
  ATTEMPT_TABLE,
  DispatcherSettings,
  OUTBOUND_DEFAULTS,
} from "../../../handlers/outbound/settings";
import { parseSigningSecrets } from "../../../handlers/lib/secrets";

export const credentials = { accessKeyId: "local", secretAccessKey: "local" };
export const REGION = "us-east-1";

export async function startDynalite() {
  const server = require("dynalite")({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    endpoint,
    client,
    doc,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The attempt log table with the component's keys and index. */
export async function createAttemptTable(client: DynamoDBClient, name: string) {
  const t = ATTEMPT_TABLE;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [t.hashKey, t.rangeKey, t.index.hashKey, t.index.rangeKey].map((n) => ({
        AttributeName: n,
        AttributeType: "S",
      })),
      KeySchema: [
        { AttributeName: t.hashKey, KeyType: "HASH" },
        { AttributeName: t.rangeKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: t.index.name,
          KeySchema: [
            { AttributeName: t.index.hashKey, KeyType: "HASH" },
            { AttributeName: t.index.rangeKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
}

export async function createQueue(sqs: SQSClient, name: string) {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const arn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))
  ).Attributes!.QueueArn!;
  return { url, arn };
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A subscriber that answers each POST with `respond` (status, body, delay in ms, or no answer). */
export async function startSubscriber() {
  const received: Received[] = [];
  let respond: (n: number) => {
    status?: number;
    body?: string;
    delayMs?: number;
    hang?: boolean;
  } = () => ({ status: 204 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      });
      const r = respond(received.length);
      if (r.hang) return;
      setTimeout(() => {
        res.writeHead(r.status ?? 200, { "content-type": "text/plain" });
        res.end(r.body ?? "");
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    set respond(f: typeof respond) {
      respond = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An EventBridge client that records PutEvents entries. */
export function recordingEvents() {
  const entries: Array<{
    Source: string;
    DetailType: string;
    Detail: string;
    EventBusName?: string;
  }> = [];
  return {
    entries,
    async send(command: any) {
      const e = command.input.Entries ?? [];
      entries.push(...e);
      return {
        FailedEntryCount: 0,
        Entries: e.map((_: unknown, i: number) => ({ EventId: `e${entries.length + i}` })),
      };
    },
  };
}

/** Secrets by ARN; the value as Secrets Manager holds it (plain or {"current","previous"}). */
export function secretStore(values: Record<string, string>) {
  return {
    values,
    async getSigningSecrets(arn: string) {
      const v = values[arn];
      if (v === undefined) throw new Error(`no secret ${arn}`);
      return parseSigningSecrets(v);
    },
  };
}

export function settings(over: Partial<DispatcherSettings> = {}): DispatcherSettings {
  return {
    subscriptions: [],
    retryScheduleSeconds: [...OUTBOUND_DEFAULTS.retryScheduleSeconds],
    requestTimeoutMs: 2000,
    maxResponseBytes: OUTBOUND_DEFAULTS.maxResponseBytes,
    disableAfterSeconds: OUTBOUND_DEFAULTS.disableAfterSeconds,
    attemptLogTtlDays: 30,
    parkSeconds: OUTBOUND_DEFAULTS.parkSeconds,
    allowHttp: true,
    ...over,
  };
}

let eventSeq = 0;
/** An EventBridge event as a rule's SQS target delivers it. */
export function busEvent(detail: unknown = { orderId: "o-1" }, detailType = "OrderPlaced") {
  eventSeq++;
  return {
    version: "0",
    id: `6f7c1b2a-0000-4000-8000-${String(eventSeq).padStart(12, "0")}`,
    "detail-type": detailType,
    source: "shop.orders",
    account: "123456789012",
    time: "2026-12-05T10:00:00Z",
    region: REGION,
    resources: [],
    detail,
  };
}

export function sqsRecord(o: {
  body: string;
  queueArn: string;
  receiptHandle?: string;
  messageId?: string;
}): SQSRecord {
  return {
    messageId: o.messageId ?? `m-${Math.random().toString(36).slice(2)}`,
    receiptHandle: o.receiptHandle ?? "rh",
    body: o.body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "events",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: o.queueArn,
    awsRegion: REGION,
  };
}

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/**
 * SQS in memory on a fake clock, as the event source mapping sees it: messages become visible at
 * their `visibleAt`; ChangeMessageVisibility and SendMessage are recorded.
 */
export function fakeSqs(clock: { now: number }) {
  type Msg = { id: string; body: string; visibleAt: number; handle: string; queueUrl: string };
  const queues = new Map<string, Msg[]>();
  const visibilityChanges: Array<{ queueUrl: string; seconds: number; at: number }> = [];
  let seq = 0;
  const q = (url: string) => {
    if (!queues.has(url)) queues.set(url, []);
    return queues.get(url)!;
  };
  return {
    queues,
    visibilityChanges,
    enqueue(queueUrl: string, body: string) {
      q(queueUrl).push({
        id: `sqs-${++seq}`,
        body,
        visibleAt: clock.now,
        handle: `h-${seq}`,
        queueUrl,
      });
    },
    /** Receives every visible message (they become invisible for `visibilitySeconds`). */
    receive(queueUrl: string, visibilitySeconds = 60): Msg[] {
      const out = q(queueUrl).filter((m) => m.visibleAt <= clock.now);
      for (const m of out) {
        m.visibleAt = clock.now + visibilitySeconds * 1000;
        m.handle = `h-${++seq}`;
      }
      return out.map((m) => ({ ...m }));
    },
    delete(queueUrl: string, id: string) {
      queues.set(
        queueUrl,
        q(queueUrl).filter((m) => m.id !== id),
      );
    },
    nextVisibleAt(queueUrl: string): number | undefined {
      const times = q(queueUrl).map((m) => m.visibleAt);
      return times.length ? Math.min(...times) : undefined;
    },
    async send(command: any) {
      const name = command.constructor.name;
      const i = command.input;
      if (name === "ChangeMessageVisibilityCommand") {
        const m = q(i.QueueUrl).find((x) => x.handle === i.ReceiptHandle);
        if (!m)
          throw Object.assign(new Error("receipt handle is invalid"), {
            name: "ReceiptHandleIsInvalid",
          });
        m.visibleAt = clock.now + i.VisibilityTimeout * 1000;
        visibilityChanges.push({
          queueUrl: i.QueueUrl,
          seconds: i.VisibilityTimeout,
          at: clock.now,
        });
        return {};
      }
      if (name === "SendMessageCommand") {
        this.enqueue(i.QueueUrl, i.MessageBody);
        return { MessageId: `sqs-${seq}` };
      }
      throw new Error(`fake SQS does not implement ${name}`);
    },
  };
}
