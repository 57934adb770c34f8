// dynalite (the real DynamoDB wire API, in process) with a jobs table keyed as JobsApi declares it.
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { startLocalDynamo } from "../../support/aws";

export interface LocalJobsTable {
  url: string;
  client: DynamoDBClient;
  table: string;
  /** Every item of the table, as raw AttributeValue maps, sorted by pk. */
  items(): Promise<Record<string, any>[]>;
  stop(): Promise<void>;
}

export async function startJobsTable(table = "jobs"): Promise<LocalJobsTable> {
  const dynamo = await startLocalDynamo();
  await dynamo.createTable(table, "pk");
  const client = dynamo.client;
  return {
    url: dynamo.endpoint,
    client,
    table,
    async items() {
      const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      return (out.Items ?? []).sort((x, y) => String(x.pk.S).localeCompare(String(y.pk.S)));
    },
    stop: () => dynamo.close(),
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
