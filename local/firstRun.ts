// What a first run prints besides its URLs, so that nothing has to be looked up: each webhook
// receiver with its provider and where its signing secret comes from (Twilio: the exact URL it
// signs), AWS CLI commands that inspect the run's state through the local endpoint, and a demo
// tenant's API key, issued at start the way an operator issues one (a key item in the tenant
// access table, written through the endpoint), so ingress events can be sent at once.
import * as path from "path";
import { ACCOUNT, REGION } from "./mocks";
import { LOCAL_SECRETS_FILE, localSecret, ROOT } from "./program";
import { WEBHOOK_SECRET_KEYS } from "../config";
import { NAMESPACE } from "../config/kinds";
import { PREVIOUS_SECRET_SUFFIX } from "../config/keys";
import { BACKEND_CALLS, INGRESS_SOURCE } from "../lib/tenantRules";
import { hashApiKey, keyItemPk } from "../handlers/tenants/apiKeys";
import { SAMPLE_SOURCE } from "./sampleSubscriber";
import { LOCAL_CREDENTIALS } from "./credentials";

/** The environment the printed AWS CLI commands need (the endpoint accepts key local/local). */
export const CLI_ENVIRONMENT = {
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: REGION,
};

/** Where a local secret came from: what the run was given, an environment variable, or the file. */
export function secretSource(
  key: string,
  overrides: Record<string, string>,
  generated: string[],
): string {
  if (overrides[`${NAMESPACE}:${key}`] !== undefined) return "given to this run";
  const env = `SWITCHYARD_${key.toUpperCase()}`;
  if (process.env[env] !== undefined) return env;
  const file = path.relative(ROOT, LOCAL_SECRETS_FILE);
  return generated.includes(key) ? `${file} (generated now)` : file;
}

export interface WebhookReceiver {
  provider: string;
  /** The URL the program declares: what a provider is configured with, and what Twilio signs. */
  publicUrl: string;
  localUrl: string;
  secretKey: string;
  secretSource: string;
  /** Where the secret being rotated out comes from, when this run has one. */
  previousSource?: string;
}

export function webhookReceivers(
  webhooks: Record<string, { publicUrl: string; localUrl: string }>,
  config: Record<string, string>,
  overrides: Record<string, string>,
  generated: string[],
): WebhookReceiver[] {
  return Object.entries(webhooks).map(([provider, w]) => {
    const key = WEBHOOK_SECRET_KEYS[provider as keyof typeof WEBHOOK_SECRET_KEYS].key;
    const previous = `${key}${PREVIOUS_SECRET_SUFFIX}`;
    return {
      provider,
      publicUrl: w.publicUrl,
      localUrl: w.localUrl,
      secretKey: key,
      secretSource: secretSource(key, overrides, generated),
      ...(config[`${NAMESPACE}:${previous}`] !== undefined
        ? { previousSource: secretSource(previous, overrides, []) }
        : {}),
    };
  });
}

/** The banner's lines for the receivers ("<provider> at <URL>": not a served port's "<name>: <URL>"). */
export function webhookLines(receivers: WebhookReceiver[]): string[] {
  if (!receivers.length) return [];
  const lines = ["  webhook receivers (POST a delivery signed as the provider signs it):"];
  for (const r of receivers) {
    lines.push(
      `    ${r.provider} at ${r.localUrl} (secret ${r.secretKey} from ${r.secretSource}${r.previousSource ? `; the previous one, still accepted, from ${r.previousSource}` : ""})`,
    );
    if (r.provider === "twilio")
      lines.push(
        `      Twilio signs the URL it posts to: sign ${r.publicUrl} (with the form parameters) and post to ${r.localUrl}`,
      );
  }
  return lines;
}

/** The banner's line for the console (local/console/): what it shows, and where. */
export function consoleLines(url: string): string[] {
  if (!url) return [];
  return [
    `  console: ${url}/ (a live page of the journal: bus events with their rules and targets, webhook verdicts, executions, outbound deliveries, queues, dead letters to redrive, ingress refusals)`,
  ];
}

/** A tenant whose events the ingress accepts, and the key issued to it for this machine. */
export interface DemoTenant {
  tenant: string;
  apiKey: string;
  accessTable: string;
  busName: string;
}

/** The first tenant with ingress enabled in the stack's config, if any. */
export function ingressTenant(config: Record<string, string>): string | undefined {
  const tenants = JSON.parse(config[`${NAMESPACE}:tenants`] ?? "{}") as Record<
    string,
    { ingressEnabled?: boolean }
  >;
  return Object.entries(tenants).find(([, t]) => t.ingressEnabled)?.[0];
}

/**
 * Issues the demo tenant's key: its item in the tenant access table, written through the local
 * endpoint as any client writes it. The key is this machine's `demoTenantApiKey` local secret
 * (SWITCHYARD_DEMOTENANTAPIKEY or .switchyard/secrets.json, generated once), so it stays the same.
 */
export function demoTenant(tenant: string, accessTable: string, busName: string): DemoTenant {
  return { tenant, apiKey: localSecret("demoTenantApiKey").value, accessTable, busName };
}

/** Writes the demo tenant's key item to its access table at `endpoint`. */
export async function issueDemoTenantKey(endpoint: string, t: DemoTenant): Promise<void> {
  const { tenant, apiKey, accessTable } = t;
  const keyHash = hashApiKey(apiKey);
  // Loaded here, not with the runtime: `npm start` writes the key after it serves.
  const { DynamoDBClient } =
    require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  const { DynamoDBDocumentClient, PutCommand } =
    require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  try {
    await doc.send(
      new PutCommand({
        TableName: accessTable,
        Item: {
          pk: keyItemPk(keyHash),
          keyHash,
          tenant,
          permissions: [BACKEND_CALLS],
          revoked: false,
          label: "local demo key (npm start)",
        },
      }),
    );
  } finally {
    doc.destroy();
  }
}

/** The put-events entry that sends the demo tenant's first document through the ingress. */
export function demoIngressEntry(t: DemoTenant): string {
  return JSON.stringify([
    {
      EventBusName: t.busName,
      Source: INGRESS_SOURCE,
      DetailType: "doc.POST",
      Detail: JSON.stringify({
        tenant: t.tenant,
        rootSchema: "doc",
        api_key: t.apiKey,
        payload: { id: "hello-1", text: "hello" },
      }),
    },
  ]);
}

/** A shell word: quoted when it holds anything but safe characters. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface InspectTargets {
  awsUrl: string;
  busName: string;
  /** The hub's dead-letter queue name. */
  dlqName?: string;
  tables: string[];
  stateMachineArns: string[];
  demoTenant?: DemoTenant;
}

/** AWS CLI commands that work against the local endpoint, as argument lists. */

/**
 * `aws sqs receive-message` arguments that read a DLQ without hiding what they read (visibility 0),
 * with every attribute EventBridge and the ingestion reports set.
 */
export function dlqReceiveArgs(queueUrl: string): string[] {
  return [
    "sqs",
    "receive-message",
    "--queue-url",
    queueUrl,
    "--max-number-of-messages",
    "10",
    "--visibility-timeout",
    "0",
    "--attribute-names",
    "All",
    "--message-attribute-names",
    "All",
  ];
}
export function cliCommands(t: InspectTargets): string[][] {
  const aws = ["aws", "--endpoint-url", t.awsUrl];
  const out: string[][] = [[...aws, "events", "list-rules", "--event-bus-name", t.busName]];
  if (t.dlqName) out.push([...aws, ...dlqReceiveArgs(`${t.awsUrl}/${ACCOUNT}/${t.dlqName}`)]);
  for (const table of t.tables) out.push([...aws, "dynamodb", "scan", "--table-name", table]);
  for (const arn of t.stateMachineArns)
    out.push([...aws, "stepfunctions", "list-executions", "--state-machine-arn", arn]);
  if (t.demoTenant)
    out.push([...aws, "events", "put-events", "--entries", demoIngressEntry(t.demoTenant)]);
  return out;
}

export function inspectLines(t: InspectTargets): string[] {
  const lines = [
    `  inspect with the AWS CLI (${Object.entries(CLI_ENVIRONMENT)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}):`,
  ];
  for (const c of cliCommands(t)) {
    if (c.includes("put-events")) continue;
    lines.push(`    ${c.map(shellWord).join(" ")}`);
  }
  if (t.demoTenant) {
    lines.push(
      `  demo tenant ${t.demoTenant.tenant}: API key ${t.demoTenant.apiKey} (issued in ${t.demoTenant.accessTable}); send it a document through the ingress:`,
    );
    const put = cliCommands(t).find((c) => c.includes("put-events"))!;
    lines.push(`    ${put.map(shellWord).join(" ")}`);
  }
  return lines;
}

/** What the banner says of outbound webhooks: the sample subscriber and each subscription. */
export interface OutboundInfo {
  subscriberUrl: string;
  awsUrl: string;
  controlUrl: string;
  busName: string;
  table: string;
  speed: number;
  retryScheduleSeconds: number[];
  subscriptions: Array<{
    name: string;
    url: string;
    /** What a local subscription's endpoint does; absent for the stack's own. */
    about?: string;
    /** The detail type it selects (source SAMPLE_SOURCE), for a local subscription. */
    detailType?: string;
    secretKey: string;
    secretSource: string;
    /** Its queue's URL at the local endpoint. */
    queueUrl: string;
    dlqName: string;
  }>;
}

/** A put-events entry that a local subscription's rule matches. */
export function samplePutEntry(busName: string, detailType: string): string {
  return JSON.stringify([
    {
      EventBusName: busName,
      Source: SAMPLE_SOURCE,
      DetailType: detailType,
      Detail: JSON.stringify({ hello: "from the AWS CLI" }),
    },
  ]);
}

/** What `npm run outbound` (the AWS SDK: AWS_REGION, not the CLI's AWS_DEFAULT_REGION) needs here. */
export function outboundCliEnvironment(o: Pick<OutboundInfo, "awsUrl">): Record<string, string> {
  return { AWS_ENDPOINT_URL: o.awsUrl, ...CLI_ENVIRONMENT, AWS_REGION: REGION };
}

/** `npm run outbound -- resend` against this run: the endpoint, credentials and names it needs. */
export function resendCommand(o: OutboundInfo, subscription: string, messageId: string): string[] {
  const queueUrl = o.subscriptions.find((s) => s.name === subscription)?.queueUrl ?? "<queue URL>";
  return [
    ...Object.entries(outboundCliEnvironment(o)).map(([k, v]) => `${k}=${v}`),
    "npm",
    "run",
    "outbound",
    "--",
    "resend",
    messageId,
    "--table",
    o.table,
    "--queue",
    `${subscription}=${queueUrl}`,
  ];
}

export function outboundLines(o: OutboundInfo): string[] {
  const scaled = o.retryScheduleSeconds.map((s) => +(s * o.speed).toFixed(3));
  const lines = [
    `  sample subscriber (outbound webhooks): ${o.subscriberUrl} (GET /received: each delivery it got, verified with standardwebhooks)`,
  ];
  for (const s of o.subscriptions)
    lines.push(
      `    subscription ${s.name} -> ${s.url}${s.about ? `: ${s.about}` : ""} (secret ${s.secretKey} from ${s.secretSource}; DLQ ${s.dlqName})`,
    );
  lines.push(
    `    retry schedule ${o.retryScheduleSeconds.join(", ")} s, waited at --speed ${o.speed} as ${scaled.join(", ")} s; after the last attempt: the subscription's DLQ and Switchyard.Outbound.AttemptExhausted on the bus (${o.controlUrl}/events)`,
  );
  const local = o.subscriptions.filter((s) => s.detailType);
  if (local.length) {
    lines.push(
      `    deliver one: put an event of source ${SAMPLE_SOURCE} and detail type ${local.map((s) => `${s.detailType} (${s.name})`).join(", ")}:`,
    );
    const put = [
      "aws",
      "--endpoint-url",
      o.awsUrl,
      "events",
      "put-events",
      "--entries",
      samplePutEntry(o.busName, local[0].detailType!),
    ];
    lines.push(`    ${put.map(shellWord).join(" ")}`);
  }
  const flaky = o.subscriptions.find((s) => s.name === "flaky");
  if (flaky)
    lines.push(
      `    recover a message of flaky: curl -X POST ${o.subscriberUrl}/flaky/recover, then`,
      `    ${resendCommand(o, "flaky", "<messageId>").map(shellWord).join(" ")}`,
    );
  return lines;
}
