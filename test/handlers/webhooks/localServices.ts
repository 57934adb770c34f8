// Local AWS for the webhook receiver tests: the deliveries table (in the DynamoDB that
// test/support/aws.ts starts) with its stream feeding the relay, and one HTTP endpoint that answers
// the JSON protocols the receiver and the relay speak, dispatching on X-Amz-Target: Secrets Manager
// GetSecretValue and EventBridge PutEvents answered here in AWS's shapes (and errors), DynamoDB
// forwarded to that DynamoDB. Point AWS_ENDPOINT_URL at it.
//
// The stream is the local runtime's (local/streams.ts): each write's item read before and after,
// the record DynamoDB would emit, delivered in batches as Lambda's poller does (retries, bisection,
// partial batch responses, on-failure destination), so the relay runs as it runs behind a mapping.
import * as http from "http";
import { AddressInfo } from "net";
import { randomUUID } from "crypto";
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { LocalStreams, StreamMapping, StreamTable } from "../../../local/streams";
import { RELAY_STREAM_SETTINGS } from "../../../components/webhooks/receiverSpec";

/** The deliveries table as the component declares it: partition key `id` (S), a NEW_IMAGE stream. */
export async function createIdempotencyTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}

export async function scanTable(
  client: DynamoDBClient,
  name: string,
): Promise<Record<string, any>[]> {
  return (
    (await client.send(new ScanCommand({ TableName: name, ConsistentRead: true }))).Items ?? []
  );
}

/** The on-failure destination the relay's mappings name (the hub's DLQ). */
export const RELAY_DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:hub-dlq";

/**
 * Deliveries tables' streams feeding a relay, with the relay's mapping settings
 * (RELAY_STREAM_SETTINGS): writes made through `client` (or reported to `aroundWrite`) emit their
 * records; `settled()` waits until every record was handled; `onFailure` holds what the mappings
 * sent to their on-failure destination.
 */
export class RelayStreams {
  private readonly tables = new Map<string, StreamTable>();
  private readonly mappings: StreamMapping[] = [];
  private readonly relays = new Map<string, (event: unknown) => Promise<unknown>>();
  private readonly streams: LocalStreams;
  /** Messages sent to the on-failure destination, in order. */
  public readonly onFailure: any[] = [];
  /** Batches the relay was invoked with, in order. */
  public readonly invocations: any[] = [];

  constructor(private readonly dynamo: Pick<DynamoDBClient, "send">) {
    this.streams = new LocalStreams(this.tables, this.mappings, {
      dynamo,
      region: "eu-west-1",
      invoke: async (functionName, event) => {
        this.invocations.push(event);
        return this.relays.get(functionName)!(event);
      },
      sendToDestination: async (_arn, message) => {
        this.onFailure.push(message);
      },
      log: () => undefined,
    });
  }

  /**
   * Feeds `table`'s stream to `relay` through a mapping as the component declares it
   * (RELAY_STREAM_SETTINGS); `maximumRetryAttempts` overrides its retries, for a test of their end.
   */
  feed(
    table: string,
    relay: (event: any) => Promise<unknown>,
    o: { maximumRetryAttempts?: number } = {},
  ): void {
    const streamArn = `arn:aws:dynamodb:eu-west-1:123456789012:table/${table}/stream/2026-12-06T00:00:00.000`;
    this.tables.set(table, {
      name: table,
      arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${table}`,
      streamArn,
      keys: ["id"],
      viewType: "NEW_IMAGE",
    });
    const functionName = `${table}-relay`;
    this.relays.set(functionName, relay);
    const m = RELAY_STREAM_SETTINGS.mapping;
    this.mappings.push({
      uuid: randomUUID(),
      streamArn,
      functionName,
      batchSize: m.batchSize,
      reportBatchItemFailures: true,
      bisectOnError: true,
      maximumRetryAttempts: o.maximumRetryAttempts ?? m.maximumRetryAttempts,
      onFailure: RELAY_DLQ_ARN,
    });
  }

  /** Runs a write (wire-format request) so that the tables' streams see it. */
  aroundWrite(operation: string, request: any, forward: () => Promise<number>): Promise<void> {
    const p = this.streams.aroundDynamoWrite(operation, request, forward);
    // A write's record is emitted after its item is read back: settled() waits for that too.
    const tracked = p.catch(() => undefined).finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
    return p;
  }
  private readonly writes = new Set<Promise<unknown>>();

  /** A DynamoDB client whose writes reach the streams, as the receivers' writes do in AWS. */
  get client(): Pick<DynamoDBClient, "send"> {
    return {
      send: async (command: any) => {
        const operation = String(command.constructor.name).replace(/Command$/, "");
        let out: any;
        await this.aroundWrite(operation, command.input, async () => {
          out = await this.dynamo.send(command);
          return 200;
        });
        return out;
      },
    } as Pick<DynamoDBClient, "send">;
  }

  /** Until every record written so far was handled, retries and on-failure sends included. */
  async settled(): Promise<void> {
    do {
      await Promise.all([...this.writes]);
      await this.streams.drain();
    } while (this.writes.size > 0);
  }
}

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
}

/** A per-entry PutEvents error, as EventBridge reports an entry it did not take. */
export interface EntryRefusal {
  ErrorCode: string;
  ErrorMessage: string;
}

export interface LocalAws {
  endpoint: string;
  /** SecretString by secret id (ARN); change it to rotate. */
  secrets: Map<string, string>;
  /** Every entry accepted by PutEvents, in order. */
  events: PutEventsEntry[];
  /**
   * The error PutEvents answers for an entry, as EventBridge refuses one entry of a call and takes
   * the others; undefined (the default, and for every entry it returns undefined for) accepts it.
   */
  refusePutEvents?: (entry: PutEventsEntry) => EntryRefusal | undefined;
  /** Every SQS SendMessage input (the relay's dead letters), in order. */
  sentMessages: Array<{ QueueUrl: string; MessageBody: string; MessageAttributes?: any }>;
  /** Operations received, in order (X-Amz-Target). */
  operations: string[];
  /** The deliveries tables' streams: `streams.feed(table, relay)`, then `streams.settled()`. */
  streams: RelayStreams;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startLocalAws(dynaliteEndpoint: string): Promise<LocalAws> {
  const secrets = new Map<string, string>();
  const events: PutEventsEntry[] = [];
  const sentMessages: LocalAws["sentMessages"] = [];
  const operations: string[] = [];
  let seq = 0;
  const url = new URL(dynaliteEndpoint);
  const dynamo = new DynamoDBClient({
    endpoint: dynaliteEndpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const streams = new RelayStreams(dynamo);

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    operations.push(target);
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(payload));
    };
    if (target.startsWith("DynamoDB_20120810.")) {
      const forward = () =>
        new Promise<number>((resolve) => {
          const fwd = http.request(
            {
              host: url.hostname,
              port: url.port,
              method: req.method,
              path: req.url,
              headers: { ...req.headers, host: url.host },
            },
            (up) => {
              const chunks: Buffer[] = [];
              up.on("data", (c) => chunks.push(c));
              up.on("end", () => {
                res.writeHead(up.statusCode ?? 500, up.headers);
                res.end(Buffer.concat(chunks));
                resolve(up.statusCode ?? 500);
              });
            },
          );
          fwd.on("error", (e) => {
            json(500, { __type: "InternalFailure", message: e.message });
            resolve(500);
          });
          fwd.end(body);
        });
      await streams.aroundWrite(
        target.slice("DynamoDB_20120810.".length),
        body.length ? JSON.parse(body.toString("utf8")) : {},
        forward,
      );
      return;
    }
    const input = body.length ? JSON.parse(body.toString("utf8")) : {};
    if (target === "secretsmanager.GetSecretValue") {
      const value = secrets.get(input.SecretId);
      if (value === undefined) {
        return json(400, {
          __type: "ResourceNotFoundException",
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      return json(200, {
        ARN: input.SecretId,
        Name: input.SecretId,
        SecretString: value,
        VersionId: "v1",
        VersionStages: ["AWSCURRENT"],
      });
    }
    if (target === "AmazonSQS.SendMessage") {
      sentMessages.push(input);
      return json(200, {
        MessageId: randomUUID(),
        MD5OfMessageBody: require("crypto")
          .createHash("md5")
          .update(input.MessageBody)
          .digest("hex"),
      });
    }
    if (target === "AWSEvents.PutEvents") {
      const entries = (input.Entries ?? []) as PutEventsEntry[];
      if (entries.length > 10) {
        return json(400, {
          __type: "ValidationException",
          message:
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
        });
      }
      const refusals = entries.map((e) => local.refusePutEvents?.(e));
      events.push(...entries.filter((_, i) => !refusals[i]));
      return json(200, {
        FailedEntryCount: refusals.filter(Boolean).length,
        Entries: refusals.map((r) => r ?? { EventId: `local-${++seq}` }),
      });
    }
    json(400, {
      __type: "UnknownOperationException",
      message: `local AWS does not implement ${target || "this request"}`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const local: LocalAws = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secrets,
    events,
    sentMessages,
    operations,
    streams,
    close: async () => {
      await streams.settled();
      dynamo.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return local;
}
