// `dlq redrive`: each dead-lettered event re-delivered to exactly the target that failed it, with
// the input that target receives (its rule's transformer), and to nothing else; its DLQ message
// deleted only once the target accepted it.
//
// No target gets an event twice because of a redrive. The hub's redrive ledger (a DynamoDB table,
// REDRIVE_LEDGER) holds one item per (event id, target ARN), and each delivery goes:
//   1. claim: PutItem status=delivering, on condition the item does not exist (two operators
//      redriving at once: one claim wins, the other run skips the event);
//   2. deliver to the target;
//   3. record: status=delivered (on condition the claim is this run's);
//   4. delete the DLQ message.
// A crash after 3 leaves a delivered item: the next run deletes the message without delivering.
// A crash between 1 and 3 leaves a claim in doubt: the target may or may not have the event, so
// the next run does not deliver it and says so; once the operator has checked the target,
// `dlq release <event id>` removes the claim (the next redrive then delivers). A target that
// answers with a refusal (definitely not delivered) has its claim removed at once, and its message
// stays for a later redrive. The same event dead-lettered twice (SQS delivers at least once) shares
// one item, so only one copy is delivered.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { REDRIVE_LEDGER } from "../../lib/contracts";
import { OpsContext, output } from "./context";
import { DeadLetter, describe, receiveAll, release, remove } from "./dlq";
import {
  deliver,
  deployedTarget,
  inputFor,
  newRunId,
  ruleOf,
  TargetRefused,
  targetKind,
} from "./targets";

function isBusArn(arn: string): boolean {
  try {
    return targetKind(arn) === "eventBus";
  } catch {
    return false;
  }
}

export interface RedriveFilter {
  /** Only the dead letter with this event id or SQS message id (the console's redrive button). */
  id?: string;
  /** A route name (routeRuleArns), a rule name or a rule ARN. */
  rule?: string;
  /** A target id in its rule, or a target ARN. */
  target?: string;
  /** Only events dead-lettered at or after this time. */
  since?: Date;
  dryRun?: boolean;
}

export type RedriveOutcome =
  "redriven" | "would-redrive" | "already-redriven" | "in-doubt" | "refused" | "skipped";

export interface RedriveResult {
  eventId?: string;
  messageId: string;
  ruleArn?: string;
  targetArn?: string;
  outcome: RedriveOutcome;
  detail: string;
  /** The input delivered (or, with --dry-run, that would be). */
  input?: string;
}

const ledgerKey = (eventId: string, targetArn: string) => `${eventId}|${targetArn}`;

function ruleMatches(c: OpsContext, wanted: string, ruleArn: string): boolean {
  const routeArn = (c.outputs.routeRuleArns ?? {})[wanted];
  return routeArn === ruleArn || ruleArn === wanted || ruleOf(ruleArn).name === wanted;
}

export async function redrive(c: OpsContext, f: RedriveFilter): Promise<RedriveResult[]> {
  const table = output(c, "redriveLedgerTableName");
  const runId = newRunId();
  const letters = await receiveAll(c);
  const untouched: DeadLetter[] = [];
  const results: RedriveResult[] = [];
  try {
    for (const d of letters) {
      const selected =
        (!f.id || d.messageId === f.id || d.event?.id === f.id) &&
        (!f.rule || (d.ruleArn !== undefined && ruleMatches(c, f.rule, d.ruleArn))) &&
        (!f.since || new Date(d.sentAt) >= f.since);
      if (!selected) {
        untouched.push(d);
        continue;
      }
      const r = await redriveOne(c, table, runId, d, f);
      const removed = r.outcome === "redriven" || (r.outcome === "already-redriven" && !f.dryRun);
      if (!removed) untouched.push(d);
      if (r.outcome === "skipped" && f.target) continue; // another target's: not this run's
      results.push(r);
      c.print(
        `${r.outcome} ${r.eventId ?? r.messageId} -> ${r.targetArn ?? "?"}: ${r.detail}${f.dryRun && r.input !== undefined ? `\n  input: ${r.input}` : ""}`,
      );
    }
  } finally {
    await release(c, untouched);
  }
  const count = (o: RedriveOutcome) => results.filter((r) => r.outcome === o).length;
  c.print(
    f.dryRun
      ? `dry run: ${count("would-redrive")} would be redriven, ${count("already-redriven")} already were; nothing delivered, deleted or recorded`
      : `${count("redriven")} redriven, ${count("already-redriven")} already redriven (message removed), ${count("in-doubt")} in doubt, ${count("refused")} refused by their target, ${count("skipped")} skipped`,
  );
  return results;
}

async function redriveOne(
  c: OpsContext,
  table: string,
  runId: string,
  d: DeadLetter,
  f: RedriveFilter,
): Promise<RedriveResult> {
  const base = {
    eventId: d.event?.id,
    messageId: d.messageId,
    ruleArn: d.ruleArn,
    targetArn: d.targetArn,
  };
  // The webhook relay's dead letter names the bus it could not publish to and no rule: the
  // event goes back onto that bus as it was (handlers/webhooks/relay.ts).
  const toBus = !d.ruleArn && d.targetArn !== undefined && isBusArn(d.targetArn);
  if (!d.event || !d.targetArn || (!d.ruleArn && !toBus))
    return {
      ...base,
      outcome: "skipped",
      detail:
        "not a dead letter EventBridge or the webhook relay wrote (no event body, or no RULE_ARN/TARGET_ARN)",
    };
  const event = d.event;
  let target: Awaited<ReturnType<typeof deployedTarget>>;
  let input: string;
  if (toBus) {
    target = { Id: "bus", Arn: d.targetArn };
    input = JSON.stringify(event);
  } else {
    try {
      target = await deployedTarget(c.clients, d.ruleArn!, d.targetArn);
    } catch (e) {
      return { ...base, outcome: "skipped", detail: (e as Error).message };
    }
    try {
      input = inputFor(d.ruleArn!, target, event);
    } catch (e) {
      return {
        ...base,
        outcome: "skipped",
        detail: `its input cannot be rendered: ${(e as Error).message}`,
      };
    }
  }
  if (f.target && f.target !== target.Id && f.target !== target.Arn)
    return { ...base, outcome: "skipped", detail: `target ${target.Id} is not ${f.target}` };
  const key = { [REDRIVE_LEDGER.key]: { S: ledgerKey(event.id, d.targetArn) } };
  const existing = (
    await c.clients.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    )
  ).Item;
  const known = existing ? await fromLedger(c, d, existing, f.dryRun) : undefined;
  if (known) return { ...base, ...known };
  if (f.dryRun)
    return {
      ...base,
      outcome: "would-redrive",
      detail: `would deliver to ${target.Id} (${d.errorCode} ${d.errorMessage ?? ""})`.trim(),
      input,
    };

  const now = new Date();
  try {
    await c.clients.dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...key,
          status: { S: "delivering" },
          runId: { S: runId },
          claimedAt: { S: now.toISOString() },
          eventId: { S: event.id },
          ...(d.ruleArn ? { ruleArn: { S: d.ruleArn } } : {}),
          targetArn: { S: d.targetArn },
          messageId: { S: d.messageId },
          [REDRIVE_LEDGER.ttlAttribute]: {
            N: String(Math.floor(now.getTime() / 1000) + REDRIVE_LEDGER.ttlDays * 86400),
          },
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": REDRIVE_LEDGER.key },
      }),
    );
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
    return {
      ...base,
      outcome: "in-doubt",
      detail: "another redrive claimed it just now; run again once it has finished",
    };
  }
  let accepted: string;
  try {
    accepted = await deliver(c.clients, target, input, event);
  } catch (e) {
    const why = e instanceof TargetRefused ? e : new TargetRefused((e as Error).message, false);
    if (!why.definite)
      return {
        ...base,
        outcome: "in-doubt",
        detail: `${why.message}; the target may have it: check it, then npm run ops -- dlq release ${event.id}`,
        input,
      };
    // Refused: the target does not have it; a later redrive may try again.
    await c.clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: table,
        Key: key,
        ConditionExpression: "runId = :run",
        ExpressionAttributeValues: { ":run": { S: runId } },
      }),
    );
    return { ...base, outcome: "refused", detail: why.message, input };
  }
  await c.clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key,
      UpdateExpression: "SET #s = :delivered, deliveredAt = :at, accepted = :accepted",
      ConditionExpression: "runId = :run",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: {
        ":delivered": { S: "delivered" },
        ":at": { S: new Date().toISOString() },
        ":accepted": { S: accepted },
        ":run": { S: runId },
      },
    }),
  );
  await remove(c, d);
  return { ...base, outcome: "redriven", detail: `${target.Id}: ${accepted}`, input };
}

/** What the ledger already says of this (event, target). */
async function fromLedger(
  c: OpsContext,
  d: DeadLetter,
  item: Record<string, any>,
  dryRun?: boolean,
): Promise<Pick<RedriveResult, "outcome" | "detail"> | undefined> {
  const status = item.status?.S;
  if (status === "delivered") {
    if (!dryRun) await remove(c, d);
    return {
      outcome: "already-redriven",
      detail: `delivered by a redrive at ${item.deliveredAt?.S}${dryRun ? "" : "; its DLQ message removed"}`,
    };
  }
  return {
    outcome: "in-doubt",
    detail: `a redrive claimed it at ${item.claimedAt?.S} and did not record the outcome; check the target, then npm run ops -- dlq release ${d.event?.id}`,
  };
}

/**
 * Removes the in-doubt claims of an event (of one target with `targetArn`): the operator has
 * checked that the target does not have it, so the next redrive delivers it.
 */
export async function releaseClaims(
  c: OpsContext,
  eventId: string,
  targetArn?: string,
): Promise<number> {
  const table = output(c, "redriveLedgerTableName");
  const letters = await receiveAll(c);
  await release(c, letters);
  const arns = new Set(
    letters
      .filter((d) => d.event?.id === eventId && d.targetArn)
      .map((d) => d.targetArn!)
      .filter((a) => !targetArn || a === targetArn),
  );
  if (targetArn) arns.add(targetArn);
  let released = 0;
  for (const arn of arns) {
    try {
      await c.clients.dynamodb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { [REDRIVE_LEDGER.key]: { S: ledgerKey(eventId, arn) } },
          ConditionExpression: "#s = :delivering",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":delivering": { S: "delivering" } },
        }),
      );
      released++;
      c.print(`released the claim of ${eventId} -> ${arn}: the next redrive delivers it`);
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      c.print(`no claim in doubt for ${eventId} -> ${arn}`);
    }
  }
  return released;
}

export { describe };
