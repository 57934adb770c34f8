// Which AWS operations the local endpoint serves, and where each goes: to the engine (a service
// module under local/services/ that executes it: delivery, invocation, executions) or to moto (the
// account the program was applied to at start: reads and inspection). The one table the endpoint's
// router, its unknown-operation error, docs/local.md and the tests read.
// `npx ts-node --transpile-only local/services/operations.ts` rewrites docs/local.md's copy.
import * as fs from "fs";
import * as path from "path";

/** The service modules under local/services/ that serve endpoint operations. */
export type Engine =
  | "dynamodb"
  | "eventbridge"
  | "secretsmanager"
  | "sqs"
  | "sns"
  | "stepfunctions"
  | "lambda"
  | "s3"
  /** Proxied to moto_server (local/services/moto.ts), once the program is applied to it. */
  | "moto";

export interface ServedOperation {
  /** The service, as AWS names it. */
  service: string;
  /** The operation, as the API reference names it ("*": every operation of the service). */
  operation: string;
  /** How the SDK and the CLI send it. */
  protocol: string;
  /** The X-Amz-Target it arrives with, for the JSON protocols. */
  target?: string;
  /** The module under local/services/ that serves it ("moto": proxied to moto_server). */
  engine: Engine;
  /**
   * The service's SigV4 signing name, for a row that sends every other operation of the service to
   * moto: how the router recognises a request of a REST or query protocol (its credential scope).
   */
  signingName?: string;
  /** For such a row of a JSON protocol: the X-Amz-Target prefix of the service's operations. */
  targetPrefix?: string;
  /** What serves it behind that module, when it is not the module alone. */
  backend?: string;
}

export const SERVED_OPERATIONS: readonly ServedOperation[] = [
  {
    service: "DynamoDB",
    operation: "*",
    protocol: "JSON 1.0",
    target: "DynamoDB_20120810.*",
    engine: "dynamodb",
    backend:
      "moto_server, one request at a time; PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems also emit stream records",
  },
  {
    service: "EventBridge",
    operation: "PutEvents",
    protocol: "JSON 1.1",
    target: "AWSEvents.PutEvents",
    engine: "eventbridge",
    backend: "local/bus.ts",
  },
  {
    service: "EventBridge",
    operation: "StartReplay",
    protocol: "JSON 1.1",
    target: "AWSEvents.StartReplay",
    engine: "eventbridge",
    backend: "local/bus.ts; Destination.FilterArns honoured",
  },
  {
    service: "EventBridge",
    operation: "DescribeReplay",
    protocol: "JSON 1.1",
    target: "AWSEvents.DescribeReplay",
    engine: "eventbridge",
    backend: "local/bus.ts: RUNNING until every replayed event is delivered or dead-lettered",
  },

  {
    service: "EventBridge",
    operation: "ListTargetsByRule",
    protocol: "JSON 1.1",
    target: "AWSEvents.ListTargetsByRule",
    engine: "eventbridge",
    backend: "all targets in one page",
  },
  {
    service: "EventBridge",
    operation: "DescribeApiDestination",
    protocol: "JSON 1.1",
    target: "AWSEvents.DescribeApiDestination",
    engine: "eventbridge",
    backend: "InvocationEndpoint is where the endpoint is served locally",
  },
  {
    service: "EventBridge",
    operation: "DescribeConnection",
    protocol: "JSON 1.1",
    target: "AWSEvents.DescribeConnection",
    engine: "eventbridge",
  },
  {
    service: "EventBridge",
    operation: "*",
    protocol: "JSON 1.1",
    engine: "moto",
    signingName: "events",
    targetPrefix: "AWSEvents",
    backend:
      "buses, rules (with the archive's `Events-Archive-<name>`), targets, archives, connections, API destinations",
  },
  {
    service: "Secrets Manager",
    operation: "GetSecretValue",
    protocol: "JSON 1.1",
    target: "secretsmanager.GetSecretValue",
    engine: "secretsmanager",
    backend:
      "the declared secret versions and each connection's secret, by the ARNs functions are given",
  },
  {
    service: "Secrets Manager",
    operation: "*",
    protocol: "JSON 1.1",
    engine: "moto",
    signingName: "secretsmanager",
    targetPrefix: "secretsmanager",
    backend: "the declared secrets and versions (moto's ARNs)",
  },
  {
    service: "SQS",
    operation: "SendMessage",
    protocol: "JSON 1.0 and query",
    target: "AmazonSQS.SendMessage",
    engine: "sqs",
  },
  {
    service: "SQS",
    operation: "SendMessageBatch",
    protocol: "JSON 1.0 and query",
    target: "AmazonSQS.SendMessageBatch",
    engine: "sqs",
  },
  {
    service: "SQS",
    operation: "ReceiveMessage",
    protocol: "JSON 1.0 and query",
    target: "AmazonSQS.ReceiveMessage",
    engine: "sqs",
    backend: "visibility timeout kept; no long polling (WaitTimeSeconds answers at once)",
  },
  {
    service: "SQS",
    operation: "DeleteMessage",
    protocol: "JSON 1.0 and query",
    target: "AmazonSQS.DeleteMessage",
    engine: "sqs",
  },
  {
    service: "SQS",
    operation: "ChangeMessageVisibility",
    protocol: "JSON 1.0 and query",
    target: "AmazonSQS.ChangeMessageVisibility",
    engine: "sqs",
    backend:
      "the timeout scaled by --speed (retry waits); the queues' event source mappings feed their functions",
  },
  {
    service: "SQS",
    operation: "*",
    protocol: "JSON 1.0 and query",
    engine: "moto",
    signingName: "sqs",
    targetPrefix: "AmazonSQS",
    backend:
      "the declared queues, attributes and policies (the messages are the engine's: see below)",
  },
  { service: "SNS", operation: "Publish", protocol: "query", engine: "sns" },
  {
    service: "SNS",
    operation: "*",
    protocol: "query",
    engine: "moto",
    signingName: "sns",
    backend: "topics, policies, subscriptions",
  },
  {
    service: "Step Functions",
    operation: "StartExecution",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.StartExecution",
    engine: "stepfunctions",
    backend: "local/stateMachines.ts (aws-local-stepfunctions)",
  },
  {
    service: "Step Functions",
    operation: "ListExecutions",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.ListExecutions",
    engine: "stepfunctions",
  },
  {
    service: "Step Functions",
    operation: "DescribeExecution",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.DescribeExecution",
    engine: "stepfunctions",
  },
  {
    service: "Step Functions",
    operation: "GetExecutionHistory",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.GetExecutionHistory",
    engine: "stepfunctions",
    backend: "the execution's start and end events",
  },
  {
    service: "Step Functions",
    operation: "*",
    protocol: "JSON 1.0",
    engine: "moto",
    signingName: "states",
    targetPrefix: "AWSStepFunctions",
    backend: "state machines and their definitions (moto reads every type back as STANDARD)",
  },
  {
    service: "Lambda",
    operation: "Invoke",
    protocol: "REST JSON",
    engine: "lambda",
    backend: "local/lambdas.ts (one process per sandbox)",
  },
  {
    service: "Lambda",
    operation: "*",
    protocol: "REST JSON",
    engine: "moto",
    signingName: "lambda",
    backend: "functions (their configuration and code), URLs, permissions, mappings",
  },
  {
    service: "S3",
    operation: "PutObject",
    protocol: "REST XML, path style",
    engine: "s3",
    backend: "written through to moto, then the bucket's declared notifications invoked",
  },
  {
    service: "S3",
    operation: "*",
    protocol: "REST XML, path style",
    engine: "moto",
    signingName: "s3",
    backend: "buckets and their configuration, objects (GetObject, HeadObject, ListObjectsV2...)",
  },
  {
    service: "CloudWatch Logs",
    operation: "*",
    protocol: "JSON 1.1",
    engine: "moto",
    signingName: "logs",
    targetPrefix: "Logs_20140328",
    backend: "log groups, and each function's log streams (written by the engine)",
  },
  {
    service: "CloudWatch",
    operation: "*",
    protocol: "query",
    engine: "moto",
    signingName: "monitoring",
    backend: "alarms and the dashboard (never evaluated locally)",
  },
  {
    service: "API Gateway",
    operation: "*",
    protocol: "REST JSON",
    engine: "moto",
    signingName: "apigateway",
    backend: "REST APIs, stages, usage plans, API keys (the APIs are served on ports of their own)",
  },
  {
    service: "IAM",
    operation: "*",
    protocol: "query",
    engine: "moto",
    signingName: "iam",
    backend: "roles and policies (not evaluated, but for the jobs API's caller)",
  },
  {
    service: "WAF",
    operation: "*",
    protocol: "JSON 1.1",
    engine: "moto",
    signingName: "wafv2",
    targetPrefix: "AWSWAF_20190729",
    backend: "web ACLs and their associations (not enforced)",
  },
];

/** The rows that send every other operation of a service to moto. */
export function motoServices(): ServedOperation[] {
  return SERVED_OPERATIONS.filter((o) => o.engine === "moto");
}

/** The X-Amz-Target values served, for the JSON protocols. */
export function servedTargets(): string[] {
  return SERVED_OPERATIONS.flatMap((o) => (o.target ? [o.target] : []));
}

/** "SNS Publish, S3 PutObject, ...": what the unknown-operation error lists. */
export function servedOperationNames(): string {
  return SERVED_OPERATIONS.map(
    (o) => `${o.service} ${o.operation === "*" ? "(every operation)" : o.operation}`,
  ).join(", ");
}

/** Where a row's operations go, as docs/local.md shows it. */
function servedBy(o: ServedOperation): string {
  const where =
    o.engine === "moto"
      ? "moto_server (`local/services/moto.ts`)"
      : `\`local/services/${o.engine}.ts\``;
  return `${where}${o.backend ? `: ${o.backend}` : ""}`;
}

/** The Markdown table docs/local.md shows. */
export function renderOperationsTable(): string {
  const rows = SERVED_OPERATIONS.map(
    (o) =>
      `| ${o.service} | ${o.operation === "*" ? (o.engine === "moto" ? "every other operation" : "every operation") : `\`${o.operation}\``} | ${o.protocol} | ${o.engine === "moto" ? "moto" : "engine"} | ${servedBy(o)} |`,
  );
  return [
    "| service | operation | protocol | goes to | served by |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

export const OPERATIONS_DOC = path.join(__dirname, "..", "..", "docs", "local.md");
const BEGIN = "<!-- served operations: generated from local/services/operations.ts -->";
const END = "<!-- end of served operations -->";

/** docs/local.md with its table of served operations regenerated from SERVED_OPERATIONS. */
export function regenerateOperationsDoc(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`docs/local.md must hold the markers ${BEGIN} and ${END}`);
  return `${doc.slice(0, start + BEGIN.length)}\n${renderOperationsTable()}\n${doc.slice(end)}`;
}

if (require.main === module) {
  const doc = fs.readFileSync(OPERATIONS_DOC, "utf8");
  fs.writeFileSync(OPERATIONS_DOC, regenerateOperationsDoc(doc));
  console.log(`${OPERATIONS_DOC}: table of served operations regenerated`);
}
