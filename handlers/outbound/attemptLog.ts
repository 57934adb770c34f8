// The outbound attempt log (one DynamoDB table, TTL on `expiresAt`): per message and subscription a
// delivery item (status, attempts, the lease one dispatcher holds while it POSTs, the event for
// resends) and one item per attempt (time, status, latency, first bytes of the response); per
// subscription the endpoint's health (failing since, disabled at) and a per-second rate counter.
//
// Keys: `pk` = the message id, `sk` = `delivery#<subscription>` or
// `attempt#<subscription>#<time>#<n>`: every attempt of a message is one Query. Delivery and attempt
// items also carry `subscription` and `at` (ISO time), the keys of the `bySubscription` index: a
// subscription's messages and attempts over a time range are one Query of the index. Endpoint
// (`endpoint#<subscription>`) and rate (`rate#<subscription>`) items have no `subscription`, so the
// index stays sparse.
import { sdkDynamodbDocument, SendClient } from "../lib/lazy";

export type DeliveryStatus = "pending" | "delivering" | "retrying" | "succeeded" | "exhausted";

export interface DeliveryItem {
  pk: string;
  sk: string;
  kind: "delivery";
  subscription: string;
  at: string;
  status: DeliveryStatus;
  attempts: number;
  leaseOwner?: string;
  leaseUntil?: number;
  event?: string;
  lastStatusCode?: number;
  lastError?: string;
  nextAttemptAt?: string;
  /** The same, in ms: an early copy of the message (SQS duplicates) waits until then. */
  nextAttemptAtMs?: number;
  succeededAt?: string;
  updatedAt: string;
  expiresAt: number;
}

export interface AttemptItem {
  pk: string;
  sk: string;
  kind: "attempt";
  subscription: string;
  at: string;
  messageId: string;
  attempt: number;
  outcome: "success" | "failure";
  statusCode?: number;
  failure?: string;
  error?: string;
  latencyMs: number;
  response: string;
  expiresAt: number;
}

export interface EndpointItem {
  pk: string;
  sk: string;
  failingSince?: number;
  lastFailureAt?: number;
  lastSuccessAt?: number;
  disabledAt?: number;
}

export const deliveryKey = (messageId: string, subscription: string) => ({
  pk: messageId,
  sk: `delivery#${subscription}`,
});
export const endpointKey = (subscription: string) => ({
  pk: `endpoint#${subscription}`,
  sk: "state",
});
const rateKey = (subscription: string, second: number) => ({
  pk: `rate#${subscription}`,
  sk: String(second),
});

/** Events larger than this are not kept on the delivery item (DynamoDB items hold 400 KB). */
export const MAX_STORED_EVENT_BYTES = 300000;

export type Acquired =
  | { acquired: true; attempts: number }
  | { acquired: false; status: DeliveryStatus; leaseUntil?: number; nextAttemptAtMs?: number };

const isConditionFailure = (e: unknown) =>
  (e as { name?: string }).name === "ConditionalCheckFailedException";

export interface AttemptLogOptions {
  /** A DynamoDB document client (anything with its `send`). */
  doc: SendClient;
  table: string;
  /** Days items live. */
  ttlDays: number;
}

export function makeAttemptLog(o: AttemptLogOptions) {
  const cmd = () => sdkDynamodbDocument();
  const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + o.ttlDays * 86400;

  return {
    /**
     * Takes the delivery of a message to a subscription for one attempt: refused while another
     * dispatcher holds an unexpired lease, before the scheduled time of the next attempt, and once
     * the delivery succeeded or was exhausted (so an at-least-once duplicate of the SQS message
     * never POSTs again, nor early). Counts the attempt.
     */
    async acquire(a: {
      messageId: string;
      subscription: string;
      owner: string;
      nowMs: number;
      leaseMs: number;
      event: string;
    }): Promise<Acquired> {
      const now = new Date(a.nowMs).toISOString();
      const storeEvent = Buffer.byteLength(a.event) <= MAX_STORED_EVENT_BYTES;
      try {
        const out = await o.doc.send(
          new (cmd().UpdateCommand)({
            TableName: o.table,
            Key: deliveryKey(a.messageId, a.subscription),
            UpdateExpression:
              "SET kind = :kind, subscription = :sub, #at = if_not_exists(#at, :now), #status = :delivering, " +
              "attempts = if_not_exists(attempts, :zero) + :one, leaseOwner = :owner, leaseUntil = :until, " +
              "updatedAt = :now, expiresAt = :exp" +
              (storeEvent ? ", event = if_not_exists(event, :event)" : ""),
            ConditionExpression:
              "attribute_not_exists(pk) OR (#status <> :succeeded AND #status <> :exhausted AND " +
              "(attribute_not_exists(leaseUntil) OR leaseUntil < :nowMs) AND " +
              "(attribute_not_exists(nextAttemptAtMs) OR nextAttemptAtMs <= :dueMs))",
            ExpressionAttributeNames: { "#status": "status", "#at": "at" },
            ExpressionAttributeValues: {
              ":kind": "delivery",
              ":sub": a.subscription,
              ":now": now,
              ":nowMs": a.nowMs,
              // a second of clock skew between dispatchers
              ":dueMs": a.nowMs + 1000,
              ":delivering": "delivering",
              ":succeeded": "succeeded",
              ":exhausted": "exhausted",
              ":zero": 0,
              ":one": 1,
              ":owner": a.owner,
              ":until": a.nowMs + a.leaseMs,
              ":exp": expiresAt(a.nowMs),
              ...(storeEvent ? { ":event": a.event } : {}),
            },
            ReturnValues: "ALL_NEW",
          }),
        );
        return { acquired: true, attempts: out.Attributes.attempts };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        const item = await this.getDelivery(a.messageId, a.subscription);
        return {
          acquired: false,
          status: item?.status ?? "pending",
          leaseUntil: item?.leaseUntil,
          nextAttemptAtMs: item?.nextAttemptAtMs,
        };
      }
    },

    async getDelivery(messageId: string, subscription: string): Promise<DeliveryItem | undefined> {
      const out = await o.doc.send(
        new (cmd().GetCommand)({
          TableName: o.table,
          Key: deliveryKey(messageId, subscription),
          ConsistentRead: true,
        }),
      );
      return out.Item as DeliveryItem | undefined;
    },

    /**
     * Ends this dispatcher's attempt: `succeeded` or `exhausted` (final), or `retrying` (lease
     * released). Conditional on still holding the lease; false when another took it over.
     */
    async finish(a: {
      messageId: string;
      subscription: string;
      owner: string;
      nowMs: number;
      status: "succeeded" | "exhausted" | "retrying";
      statusCode?: number;
      error?: string;
      nextAttemptAt?: number;
    }): Promise<boolean> {
      const now = new Date(a.nowMs).toISOString();
      const sets = ["#status = :status", "updatedAt = :now"];
      const values: Record<string, unknown> = {
        ":status": a.status,
        ":now": now,
        ":owner": a.owner,
      };
      if (a.statusCode !== undefined) {
        sets.push("lastStatusCode = :code");
        values[":code"] = a.statusCode;
      }
      if (a.error !== undefined) {
        sets.push("lastError = :err");
        values[":err"] = a.error.slice(0, 1000);
      }
      if (a.status === "succeeded") sets.push("succeededAt = :now");
      if (a.nextAttemptAt !== undefined) {
        sets.push("nextAttemptAt = :next", "nextAttemptAtMs = :nextMs");
        values[":next"] = new Date(a.nextAttemptAt).toISOString();
        values[":nextMs"] = a.nextAttemptAt;
      }
      try {
        await o.doc.send(
          new (cmd().UpdateCommand)({
            TableName: o.table,
            Key: deliveryKey(a.messageId, a.subscription),
            UpdateExpression: `SET ${sets.join(", ")} REMOVE leaseOwner, leaseUntil`,
            ConditionExpression: "leaseOwner = :owner",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async logAttempt(a: Omit<AttemptItem, "pk" | "sk" | "kind" | "expiresAt"> & { nowMs: number }) {
      const { nowMs, ...rest } = a;
      const item: AttemptItem = {
        pk: a.messageId,
        sk: `attempt#${a.subscription}#${a.at}#${a.attempt}`,
        kind: "attempt",
        ...rest,
        expiresAt: expiresAt(nowMs),
      };
      await o.doc.send(new (cmd().PutCommand)({ TableName: o.table, Item: item }));
    },

    /** Every item of a message: its deliveries and attempts, in key order. */
    async messageItems(messageId: string): Promise<Array<DeliveryItem | AttemptItem>> {
      const items: Array<DeliveryItem | AttemptItem> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await o.doc.send(
          new (cmd().QueryCommand)({
            TableName: o.table,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": messageId },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    },

    async getEndpoint(subscription: string): Promise<EndpointItem | undefined> {
      const out = await o.doc.send(
        new (cmd().GetCommand)({
          TableName: o.table,
          Key: endpointKey(subscription),
          ConsistentRead: true,
        }),
      );
      return out.Item as EndpointItem | undefined;
    },

    /** Records a failed attempt; returns the endpoint's state after it. */
    async endpointFailed(subscription: string, nowMs: number): Promise<EndpointItem> {
      const out = await o.doc.send(
        new (cmd().UpdateCommand)({
          TableName: o.table,
          Key: endpointKey(subscription),
          UpdateExpression:
            "SET failingSince = if_not_exists(failingSince, :now), lastFailureAt = :now",
          ExpressionAttributeValues: { ":now": nowMs },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes as EndpointItem;
    },

    /** Clears the failing streak after a success. */
    async endpointSucceeded(subscription: string, nowMs: number): Promise<void> {
      await o.doc.send(
        new (cmd().UpdateCommand)({
          TableName: o.table,
          Key: endpointKey(subscription),
          UpdateExpression: "SET lastSuccessAt = :now REMOVE failingSince",
          ExpressionAttributeValues: { ":now": nowMs },
        }),
      );
    },

    /** Disables the endpoint; true for the one caller that did (it announces it). */
    async disableEndpoint(subscription: string, nowMs: number): Promise<boolean> {
      try {
        await o.doc.send(
          new (cmd().UpdateCommand)({
            TableName: o.table,
            Key: endpointKey(subscription),
            UpdateExpression: "SET disabledAt = :now",
            ConditionExpression: "attribute_not_exists(disabledAt)",
            ExpressionAttributeValues: { ":now": nowMs },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    /** Enables a disabled endpoint again (the recovery command's `enable`). */
    async enableEndpoint(subscription: string): Promise<void> {
      await o.doc.send(
        new (cmd().UpdateCommand)({
          TableName: o.table,
          Key: endpointKey(subscription),
          UpdateExpression: "REMOVE disabledAt, failingSince",
        }),
      );
    },

    /** Takes one delivery of this second's budget; false when the limit is reached. */
    async takeRate(subscription: string, limit: number, nowMs: number): Promise<boolean> {
      const second = Math.floor(nowMs / 1000);
      try {
        await o.doc.send(
          new (cmd().UpdateCommand)({
            TableName: o.table,
            Key: rateKey(subscription, second),
            UpdateExpression: "ADD #count :one SET expiresAt = :exp",
            ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames: { "#count": "count" },
            ExpressionAttributeValues: { ":one": 1, ":limit": limit, ":exp": second + 120 },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },
  };
}

export type AttemptLog = ReturnType<typeof makeAttemptLog>;
