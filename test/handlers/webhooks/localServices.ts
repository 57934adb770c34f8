// Local AWS for the webhook receiver tests: the idempotency table (in the DynamoDB that
// test/support/aws.ts starts), and one HTTP endpoint that answers the JSON protocols the receiver
// speaks, dispatching on X-Amz-Target: Secrets Manager GetSecretValue and EventBridge PutEvents
// answered here in AWS's shapes (and errors), DynamoDB forwarded to that DynamoDB. Point
// AWS_ENDPOINT_URL at it.
import * as http from "http";
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";

/** The idempotency table as the component declares it: partition key `id` (S). */
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

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
}

export interface LocalAws {
  endpoint: string;
  /** SecretString by secret id (ARN); change it to rotate. */
  secrets: Map<string, string>;
  /** Every entry accepted by PutEvents, in order. */
  events: PutEventsEntry[];
  /** Operations received, in order (X-Amz-Target). */
  operations: string[];
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
  const operations: string[] = [];
  let seq = 0;

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    operations.push(target);
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(payload));
    };
    if (target.startsWith("DynamoDB_20120810.")) {
      const url = new URL(dynaliteEndpoint);
      const fwd = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: url.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 500, up.headers);
          up.pipe(res);
        },
      );
      fwd.on("error", (e) => json(500, { __type: "InternalFailure", message: e.message }));
      fwd.end(body);
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
    if (target === "AWSEvents.PutEvents") {
      const entries = (input.Entries ?? []) as PutEventsEntry[];
      if (entries.length > 10) {
        return json(400, {
          __type: "ValidationException",
          message:
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
        });
      }
      events.push(...entries);
      return json(200, {
        FailedEntryCount: 0,
        Entries: entries.map(() => ({ EventId: `local-${++seq}` })),
      });
    }
    json(400, {
      __type: "UnknownOperationException",
      message: `local AWS does not implement ${target || "this request"}`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secrets,
    events,
    operations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
