// Which AWS operations the local endpoint serves, and which service module serves each: the one
// table the endpoint's unknown-operation error, docs/local.md and the tests read.
// `npx ts-node --transpile-only local/services/operations.ts` rewrites docs/local.md's copy.
import * as fs from "fs";
import * as path from "path";

/** The service modules under local/services/ that serve endpoint operations. */
export type Engine =
  "dynamodb" | "eventbridge" | "secretsmanager" | "sqs" | "sns" | "stepfunctions" | "lambda" | "s3";

export interface ServedOperation {
  /** The service, as AWS names it. */
  service: string;
  /** The operation, as the API reference names it ("*": every operation of the service). */
  operation: string;
  /** How the SDK and the CLI send it. */
  protocol: string;
  /** The X-Amz-Target it arrives with, for the JSON protocols. */
  target?: string;
  /** The module under local/services/ that serves it. */
  engine: Engine;
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
    operation: "ListRules",
    protocol: "JSON 1.1",
    target: "AWSEvents.ListRules",
    engine: "eventbridge",
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
    service: "Secrets Manager",
    operation: "GetSecretValue",
    protocol: "JSON 1.1",
    target: "secretsmanager.GetSecretValue",
    engine: "secretsmanager",
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
  { service: "SNS", operation: "Publish", protocol: "query", engine: "sns" },
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
    operation: "ListStateMachines",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.ListStateMachines",
    engine: "stepfunctions",
  },
  {
    service: "Step Functions",
    operation: "ListExecutions",
    protocol: "JSON 1.0",
    target: "AWSStepFunctions.ListExecutions",
    engine: "stepfunctions",
  },
  {
    service: "Lambda",
    operation: "Invoke",
    protocol: "REST JSON",
    engine: "lambda",
    backend: "local/lambdas.ts (one process per sandbox)",
  },
  { service: "S3", operation: "PutObject", protocol: "REST XML, path style", engine: "s3" },
  { service: "S3", operation: "GetObject", protocol: "REST XML, path style", engine: "s3" },
  { service: "S3", operation: "HeadObject", protocol: "REST XML, path style", engine: "s3" },
];

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

/** The Markdown table docs/local.md shows. */
export function renderOperationsTable(): string {
  const rows = SERVED_OPERATIONS.map(
    (o) =>
      `| ${o.service} | ${o.operation === "*" ? "every operation" : `\`${o.operation}\``} | ${o.protocol} | \`local/services/${o.engine}.ts\`${o.backend ? `: ${o.backend}` : ""} |`,
  );
  return ["| service | operation | protocol | served by |", "|---|---|---|---|", ...rows].join(
    "\n",
  );
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
