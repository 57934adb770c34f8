// What every `npm run ops` command works with: the stack's outputs and SDK clients pointed at it.
// Against a deployed stack (--stack dev|prod, or --outputs <saved outputs>): the outputs from
// scripts/stackOutputs.ts and AWS as the SDK finds it. Against the local twin (--local): the
// endpoints file `npm start` writes (its outputs, its AWS endpoint and control port).
import * as fs from "fs";
import * as path from "path";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import * as yaml from "js-yaml";
import { ENDPOINTS_FILE } from "../../local/endpointsFile";
import { stackOutputs } from "../stackOutputs";
import { LOCAL_CREDENTIALS } from "../../local/credentials";
import { REGION } from "../../local/account";

export interface OpsClients {
  events: EventBridgeClient;
  sqs: SQSClient;
  lambda: LambdaClient;
  sfn: SFNClient;
  sns: SNSClient;
  secrets: SecretsManagerClient;
  dynamodb: DynamoDBClient;
  logs: CloudWatchLogsClient;
  firehose: FirehoseClient;
}

export interface OpsContext {
  /** The stack's name (dev, prod). */
  stack: string;
  /** The stack's outputs, as `pulumi stack output --json` prints them. */
  outputs: Record<string, any>;
  clients: OpsClients;
  /** The twin's control port, for --local. */
  controlUrl?: string;
  /** Where the command's lines go. */
  print(line: string): void;
  /** How long to wait between polls (DescribeReplay, FilterLogEvents). */
  pollMs: number;
}

/** The endpoints file of a running `npm start`, as local/cli.ts writes it. */
export interface EndpointsFile {
  stack: string;
  pid: number;
  target: { aws: string; control: string; busName: string };
  outputs: Record<string, any>;
}

export function readEndpointsFile(file = ENDPOINTS_FILE): EndpointsFile {
  if (!fs.existsSync(file))
    throw new Error(
      `no local run: ${file} does not exist. Start one with \`npm start\` (or pass --endpoints <file>)`,
    );
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as EndpointsFile;
  if (!parsed.outputs)
    throw new Error(`${file} has no stack outputs: restart \`npm start\` with this version`);
  return parsed;
}

/** The region a stack deploys to: AWS_REGION, else its Pulumi.<stack>.yaml `aws:region`. */
function stackRegion(stack: string): string | undefined {
  if (process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION)
    return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return undefined;
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return doc.config?.["aws:region"] as string | undefined;
}

/** The client settings every client shares (endpoint, region, credentials). */
type ClientConfig = NonNullable<ConstructorParameters<typeof SQSClient>[0]> &
  NonNullable<ConstructorParameters<typeof EventBridgeClient>[0]>;

function clients(config: ClientConfig): OpsClients {
  return {
    events: new EventBridgeClient(config),
    sqs: new SQSClient(config),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    secrets: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    logs: new CloudWatchLogsClient(config),
    firehose: new FirehoseClient(config),
  };
}

/** The context of a local run: its outputs, its AWS endpoint and its control port. */
export function localOpsContext(
  stack: string,
  outputs: Record<string, any>,
  awsUrl: string,
  controlUrl: string,
  print: (line: string) => void,
): OpsContext {
  return {
    stack,
    outputs,
    // The twin's endpoint accepts the functions' key (local/local) in its region.
    clients: clients({
      endpoint: awsUrl,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    }),
    controlUrl,
    print,
    pollMs: 100,
  };
}

export function opsContext(
  flags: Record<string, string[]>,
  print: (line: string) => void,
): OpsContext {
  if (flags.local) {
    const e = readEndpointsFile(flags.endpoints?.[0]);
    return localOpsContext(e.stack, e.outputs, e.target.aws, e.target.control, print);
  }
  const stack = flags.stack?.[0] ?? "dev";
  const outputs = stackOutputs(
    flags,
    "pass --outputs <saved `pulumi stack output --json`>, or --local for the local run",
  );
  return { stack, outputs, clients: clients({ region: stackRegion(stack) }), print, pollMs: 2000 };
}

export function closeContext(c: OpsContext): void {
  for (const client of Object.values(c.clients)) client.destroy();
}

/** An output the command needs, or an error naming it. */
export function output(c: OpsContext, name: string): any {
  const v = c.outputs[name];
  if (v === undefined || v === null)
    throw new Error(
      `stack ${c.stack} has no output ${name}: deploy this version of the program (pulumi up) first`,
    );
  return v;
}
