// The dead-letter queues of the hub (its DLQ and any route's own) and what EventBridge wrote in
// each message: the event as the body, and the rule, target, error and retries as the message
// attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION and
// RETRY_ATTEMPTS. Listing receives every message and makes it visible again at once.
import { ListRulesCommand, ListTargetsByRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { OpsContext, output } from "./context";
import { DeadLetteredEvent, deployedTarget, inputFor, ruleOf } from "./targets";

/** The message attributes EventBridge sets on a dead letter. */
export const DLQ_ATTRIBUTES = [
  "RULE_ARN",
  "TARGET_ARN",
  "ERROR_CODE",
  "ERROR_MESSAGE",
  "EXHAUSTED_RETRY_CONDITION",
  "RETRY_ATTEMPTS",
] as const;

export interface DeadLetter {
  queueUrl: string;
  messageId: string;
  receiptHandle: string;
  /** When EventBridge dead-lettered it (SQS SentTimestamp). */
  sentAt: string;
  /** The event, or undefined when the body is not one (a message someone else sent). */
  event?: DeadLetteredEvent;
  body: string;
  ruleArn?: string;
  targetArn?: string;
  errorCode?: string;
  errorMessage?: string;
  exhaustedRetryCondition?: string;
  retryAttempts?: number;
}

/** How long a listed message stays hidden while a command works on it (seconds). */
const HOLD_SECONDS = 120;

function queueUrlOf(arn: string): string {
  const [, , , region, account, name] = arn.split(":");
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

/** The hub's DLQ and the DLQs any target on the hub's bus names, by URL. */
export async function dlqUrls(c: OpsContext): Promise<string[]> {
  const urls = new Set<string>([output(c, "dlqUrl")]);
  const bus = output(c, "busName");
  let token: string | undefined;
  do {
    const rules = await c.clients.events.send(
      new ListRulesCommand({ EventBusName: bus, NextToken: token }),
    );
    // A rule an AWS service manages (an archive's Events-Archive-<name>) is no route of ours.
    for (const r of (rules.Rules ?? []).filter((x) => !x.ManagedBy)) {
      const targets = await c.clients.events.send(
        new ListTargetsByRuleCommand({ Rule: r.Name, EventBusName: bus }),
      );
      for (const t of targets.Targets ?? [])
        if (t.DeadLetterConfig?.Arn) urls.add(queueUrlOf(t.DeadLetterConfig.Arn));
    }
    token = rules.NextToken;
  } while (token);
  return [...urls];
}

function parse(queueUrl: string, m: Message): DeadLetter {
  const a = (k: string) => m.MessageAttributes?.[k]?.StringValue;
  let event: DeadLetteredEvent | undefined;
  try {
    const body = JSON.parse(m.Body ?? "");
    if (body && typeof body === "object" && typeof body.id === "string" && "detail" in body)
      event = body;
  } catch {
    // Not an event: listed with its body.
  }
  const retries = a("RETRY_ATTEMPTS");
  return {
    queueUrl,
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
    event,
    body: m.Body ?? "",
    ruleArn: a("RULE_ARN"),
    targetArn: a("TARGET_ARN"),
    errorCode: a("ERROR_CODE"),
    errorMessage: a("ERROR_MESSAGE"),
    exhaustedRetryCondition: a("EXHAUSTED_RETRY_CONDITION"),
    retryAttempts: retries === undefined ? undefined : Number(retries),
  };
}

/**
 * Every message of the DLQs, each held (invisible) for HOLD_SECONDS; call `release` on those the
 * command does not delete.
 */
export async function receiveAll(c: OpsContext): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  const seen = new Set<string>();
  for (const queueUrl of await dlqUrls(c)) {
    // SQS answers a short poll from a subset of its servers: an empty answer twice means empty.
    for (let empty = 0; empty < 2;) {
      const r = await c.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: HOLD_SECONDS,
          WaitTimeSeconds: c.controlUrl ? 0 : 1,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
        }),
      );
      if (!r.Messages?.length) {
        empty++;
        continue;
      }
      for (const m of r.Messages) {
        if (seen.has(m.MessageId!)) continue;
        seen.add(m.MessageId!);
        out.push(parse(queueUrl, m));
      }
    }
  }
  return out.sort((x, y) => x.sentAt.localeCompare(y.sentAt));
}

/** Makes held messages visible again. */
export async function release(c: OpsContext, letters: DeadLetter[]): Promise<void> {
  for (const d of letters)
    await c.clients.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: d.queueUrl,
          ReceiptHandle: d.receiptHandle,
          VisibilityTimeout: 0,
        }),
      )
      .catch(() => undefined); // Deleted meanwhile, or its hold expired: visible either way.
}

export async function remove(c: OpsContext, d: DeadLetter): Promise<void> {
  await c.clients.sqs.send(
    new DeleteMessageCommand({ QueueUrl: d.queueUrl, ReceiptHandle: d.receiptHandle }),
  );
}

/** One line per dead letter. */
export function describe(d: DeadLetter): string {
  const rule = d.ruleArn ? ruleOf(d.ruleArn).name : "?";
  const what = d.event
    ? `event ${d.event.id} ${d.event.source}/${d.event["detail-type"]}`
    : `message ${d.messageId} (not an event)`;
  return `${d.sentAt} ${what} rule ${rule} target ${d.targetArn ?? "?"}: ${d.errorCode ?? "?"} ${JSON.stringify(d.errorMessage ?? "")} after ${d.retryAttempts ?? "?"} retries (${d.exhaustedRetryCondition ?? "?"}) [${d.queueUrl.split("/").pop()}]`;
}

export async function list(c: OpsContext, json: boolean): Promise<DeadLetter[]> {
  const letters = await receiveAll(c);
  await release(c, letters);
  for (const d of letters) c.print(json ? JSON.stringify(view(d)) : describe(d));
  if (!json) c.print(`${letters.length} dead-lettered event(s)`);
  return letters;
}

/** What `list --json` and `show` print of a dead letter (no receipt handle). */
export function view(d: DeadLetter) {
  const { receiptHandle: _r, body: _b, ...rest } = d;
  return d.event ? rest : { ...rest, body: d.body };
}

/** A dead letter by its event id or SQS message id, with the input its target gets. */
export async function show(c: OpsContext, id: string): Promise<void> {
  const letters = await receiveAll(c);
  await release(c, letters);
  const d = letters.find((x) => x.event?.id === id || x.messageId === id);
  if (!d)
    throw new Error(
      `no dead letter with event id or message id ${id} (npm run ops -- dlq list shows them)`,
    );
  c.print(JSON.stringify(view(d), null, 2));
  if (d.ruleArn && d.targetArn && d.event) {
    try {
      const t = await deployedTarget(c.clients, d.ruleArn, d.targetArn);
      c.print(`input the target receives:\n${inputFor(d.ruleArn, t, d.event)}`);
    } catch (e) {
      c.print(`input the target receives: unknown (${(e as Error).message})`);
    }
  }
}
