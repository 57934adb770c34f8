// dynalite (the real DynamoDB wire API, in process) with a jobs table keyed as JobsApi declares it.
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";

export interface LocalJobsTable {
  url: string;
  client: DynamoDBClient;
  table: string;
  /** Every item of the table, as raw AttributeValue maps, sorted by pk. */
  items(): Promise<Record<string, any>[]>;
  stop(): Promise<void>;
}

export async function startJobsTable(table = "jobs"): Promise<LocalJobsTable> {
  const server = require("dynalite")({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
  return {
    url,
    client,
    table,
    async items() {
      const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      return (out.Items ?? []).sort((x, y) => String(x.pk.S).localeCompare(String(y.pk.S)));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A logger that keeps every line (as JSON text) for assertions. */
export function captureLogger() {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, ...extra: object[]) =>
      lines.push(JSON.stringify({ level, message, ...Object.assign({}, ...extra) }));
  return { lines, logger: { info: log("INFO"), warn: log("WARN"), error: log("ERROR") } };
}

/** An API Gateway (REST, proxy) event. */
export function proxyEvent(o: {
  method?: string;
  resource?: string;
  path?: string;
  body?: string | null;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string> | null;
  isBase64Encoded?: boolean;
}): any {
  const path = o.path ?? "/jobs";
  return {
    resource: o.resource ?? "/jobs",
    path,
    httpMethod: o.method ?? "POST",
    headers: o.headers ?? { "Content-Type": "application/json" },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: o.pathParameters ?? null,
    stageVariables: null,
    body: o.body === undefined ? null : o.body,
    isBase64Encoded: o.isBase64Encoded ?? false,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      stage: "v1",
      path: `/v1${path}`,
      resourcePath: o.resource ?? "/jobs",
      httpMethod: o.method ?? "POST",
      requestId: "req-1",
      identity: {
        sourceIp: "203.0.113.9",
        caller: "AROAEXAMPLE:session",
        userArn: "arn:aws:sts::123456789012:assumed-role/jobs-caller/session",
      },
    },
  };
}
