// Recovery of outbound webhooks against a deployed stack (or any endpoint in AWS_ENDPOINT_URL):
// resend one message, resend every exhausted message of a subscription since a time, enable a
// disabled endpoint, and read the attempt log. A resend queues the stored event again under the same
// message id (receivers deduplicate on webhook-id) and restarts its retry schedule.
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  AttemptItem,
  deliveryKey,
  DeliveryItem,
  makeAttemptLog,
} from "../handlers/outbound/attemptLog";
import { BusEvent, resendBody } from "../handlers/outbound/message";
import { BY_SUBSCRIPTION_INDEX } from "../handlers/outbound/settings";

export interface RecoveryContext {
  /** A DynamoDB document client. */
  doc: { send(command: any): Promise<any> };
  sqs: { send(command: any): Promise<any> };
  table: string;
  /** Subscription name to its queue URL. */
  queueUrls: Record<string, string>;
  now?: () => Date;
}

export interface ResendOutcome {
  messageId: string;
  subscription: string;
  resent: boolean;
  reason?: string;
}

/** Queues a message again for one subscription, or every subscription it went to. */
export async function resend(
  c: RecoveryContext,
  messageId: string,
  subscription?: string,
): Promise<ResendOutcome[]> {
  const log = makeAttemptLog({ doc: c.doc, table: c.table, ttlDays: 30 });
  const deliveries = (await log.messageItems(messageId)).filter(
    (i): i is DeliveryItem =>
      i.kind === "delivery" && (subscription === undefined || i.subscription === subscription),
  );
  if (deliveries.length === 0)
    throw new Error(
      `no delivery of ${messageId}${subscription ? ` to ${subscription}` : ""} in table ${c.table}`,
    );
  const out: ResendOutcome[] = [];
  for (const d of deliveries) out.push(await resendDelivery(c, d));
  return out;
}

async function resendDelivery(c: RecoveryContext, d: DeliveryItem): Promise<ResendOutcome> {
  const now = (c.now ?? (() => new Date()))();
  const base = { messageId: d.pk, subscription: d.subscription };
  const queueUrl = c.queueUrls[d.subscription];
  if (!queueUrl)
    return { ...base, resent: false, reason: `no queue URL for subscription ${d.subscription}` };
  if (!d.event)
    return { ...base, resent: false, reason: "the event was too large to keep in the attempt log" };
  try {
    // Back to pending (attempts restart), unless a dispatcher holds it right now.
    await c.doc.send(
      new UpdateCommand({
        TableName: c.table,
        Key: deliveryKey(d.pk, d.subscription),
        UpdateExpression:
          "SET #status = :pending, attempts = :zero, resentAt = :now, updatedAt = :now REMOVE leaseOwner, leaseUntil, nextAttemptAt, nextAttemptAtMs",
        ConditionExpression: "attribute_not_exists(leaseUntil) OR leaseUntil < :nowMs",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":pending": "pending",
          ":zero": 0,
          ":now": now.toISOString(),
          ":nowMs": now.getTime(),
        },
      }),
    );
  } catch (e) {
    if ((e as { name?: string }).name === "ConditionalCheckFailedException")
      return { ...base, resent: false, reason: "being delivered right now" };
    throw e;
  }
  await c.sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: resendBody(d.pk, JSON.parse(d.event) as BusEvent, now),
    }),
  );
  return { ...base, resent: true };
}

/** Items of a subscription (deliveries and attempts) from `since`, by time. */
export async function subscriptionItems(
  c: Pick<RecoveryContext, "doc" | "table">,
  subscription: string,
  since: Date,
): Promise<Array<DeliveryItem | AttemptItem>> {
  const items: Array<DeliveryItem | AttemptItem> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await c.doc.send(
      new QueryCommand({
        TableName: c.table,
        IndexName: BY_SUBSCRIPTION_INDEX,
        KeyConditionExpression: "subscription = :s AND #at >= :since",
        ExpressionAttributeNames: { "#at": "at" },
        ExpressionAttributeValues: { ":s": subscription, ":since": since.toISOString() },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Resends every message of a subscription whose attempts were exhausted since `since`. */
export async function resendFailed(
  c: RecoveryContext,
  subscription: string,
  since: Date,
): Promise<ResendOutcome[]> {
  const failed = (await subscriptionItems(c, subscription, since)).filter(
    (i): i is DeliveryItem => i.kind === "delivery" && i.status === "exhausted",
  );
  const out: ResendOutcome[] = [];
  for (const d of failed) out.push(await resendDelivery(c, d));
  return out;
}

/** Enables a disabled endpoint: its parked messages are delivered at their next look. */
export async function enable(c: Pick<RecoveryContext, "doc" | "table">, subscription: string) {
  await makeAttemptLog({ doc: c.doc, table: c.table, ttlDays: 30 }).enableEndpoint(subscription);
}

/** A message's deliveries and attempts. */
export async function messageHistory(c: Pick<RecoveryContext, "doc" | "table">, messageId: string) {
  return makeAttemptLog({ doc: c.doc, table: c.table, ttlDays: 30 }).messageItems(messageId);
}
