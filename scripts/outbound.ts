// npm run outbound -- <command>: recovery of outbound webhooks with the AWS SDK, against the
// deployed stack (names from `pulumi stack output --json`, a saved copy of it, or flags) or any
// endpoint in AWS_ENDPOINT_URL.
//
//   resend <messageId> [--subscription <name>]    queue a message again (same id, schedule restarts)
//   resend-failed <subscription> --since <ISO>     resend every message exhausted since that time
//   enable <subscription>                          enable an endpoint disabled after failing
//   attempts <messageId>                           a message's deliveries and attempts
//   attempts-of <subscription> --since <ISO>       a subscription's deliveries and attempts
//
// Names: --table <attempt log table> and --queue <subscription>=<queue URL> (repeatable), or
// --outputs <file> (saved `pulumi stack output --json`), or --stack <name> (runs the Pulumi CLI).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  enable,
  messageHistory,
  resend,
  resendFailed,
  subscriptionItems,
} from "./outboundRecovery";
import { stackOutputs } from "./stackOutputs";

const USAGE = `usage: npm run outbound -- resend <messageId> [--subscription <name>]
       npm run outbound -- resend-failed <subscription> --since <ISO time>
       npm run outbound -- enable <subscription>
       npm run outbound -- attempts <messageId>
       npm run outbound -- attempts-of <subscription> --since <ISO time>
names: --table <name> --queue <subscription>=<url> ... | --outputs <stack outputs JSON> | --stack <stack>`;

export interface ParsedArgs {
  command: string;
  target: string;
  flags: Record<string, string[]>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const [k, inline] = a.slice(2).split(/=(.*)/s, 2);
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`--${k} needs a value\n${USAGE}`);
      (flags[k] ??= []).push(v);
    } else positional.push(a);
  }
  const [command, target] = positional;
  if (!command || !target) throw new Error(USAGE);
  return { command, target, flags };
}

/** The attempt table and queue URLs: flags first, then stack outputs. */
export function resolveNames(flags: Record<string, string[]>): {
  table: string;
  queueUrls: Record<string, string>;
} {
  const outputs: Record<string, any> =
    flags.table && !flags.outputs
      ? {}
      : stackOutputs(flags, "pass --table and --queue <subscription>=<url>, or --outputs <file>");
  const table = flags.table?.[0] ?? outputs.outboundAttemptTableName;
  if (!table)
    throw new Error("no attempt log table: pass --table, or deploy a stack with subscriptions");
  const queueUrls: Record<string, string> = { ...(outputs.outboundQueueUrls ?? {}) };
  for (const q of flags.queue ?? []) {
    const [name, url] = q.split(/=(.*)/s, 2);
    if (!name || !url) throw new Error(`--queue must be <subscription>=<queue URL>, got ${q}`);
    queueUrls[name] = url;
  }
  return { table, queueUrls };
}

function since(flags: Record<string, string[]>): Date {
  const raw = flags.since?.[0];
  const d = raw ? new Date(raw) : undefined;
  if (!d || isNaN(d.getTime()))
    throw new Error(`--since <ISO time> is required, e.g. --since 2026-12-01T00:00:00Z`);
  return d;
}

export async function main(argv: string[], print = (s: string) => console.log(s)) {
  const { command, target, flags } = parseArgs(argv);
  const names = resolveNames(flags);
  const db = new DynamoDBClient({});
  const c = {
    doc: DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient({}),
    ...names,
  };
  try {
    switch (command) {
      case "resend":
        for (const r of await resend(c, target, flags.subscription?.[0])) print(JSON.stringify(r));
        break;
      case "resend-failed": {
        const out = await resendFailed(c, target, since(flags));
        for (const r of out) print(JSON.stringify(r));
        print(`${out.filter((r) => r.resent).length} of ${out.length} exhausted messages resent`);
        break;
      }
      case "enable":
        await enable(c, target);
        print(`subscription ${target} enabled`);
        break;
      case "attempts":
        for (const i of await messageHistory(c, target)) print(JSON.stringify(withoutEvent(i)));
        break;
      case "attempts-of":
        for (const i of await subscriptionItems(c, target, since(flags)))
          print(JSON.stringify(withoutEvent(i)));
        break;
      default:
        throw new Error(`unknown command ${command}\n${USAGE}`);
    }
  } finally {
    db.destroy();
    c.sqs.destroy();
  }
}

const withoutEvent = (i: object) => {
  const { event: _event, ...rest } = i as Record<string, unknown>;
  return rest;
};

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
