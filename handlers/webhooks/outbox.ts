// The stored delivery: the one item a webhook receiver writes to accept a delivery, and the relay
// reads back from the table's DynamoDB stream to publish it. The receiver answers the provider once
// this conditional write succeeds (the item is the delivery's idempotency record and its event),
// and the relay puts the event on the bus, so a delivery is on the bus, or in the hub's DLQ, however
// the bus fares while the provider waits. Both sides take the item's layout from here.
import * as crypto from "crypto";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { PublishEntry } from "../lib/publisher";

/** Attribute names of a stored delivery. `id` and `expiration` are the table's key and TTL attribute. */
export const DELIVERY_ATTRIBUTES = {
  id: "id",
  /** Epoch seconds after which the id is forgotten (the table's TTL attribute). */
  expiration: "expiration",
  source: "eventSource",
  detailType: "detailType",
  detail: "detail",
  deliveryId: "deliveryId",
  correlationId: "correlationId",
} as const;

/**
 * DynamoDB's largest item is 400 KB, attribute names included: an entry up to this size is stored
 * whole with room for the other attributes (id, ids and names are under 1 KB); a bigger one is
 * stored in S3 and published by reference, as an entry over the bus limit is.
 */
export const MAX_STORED_ENTRY_BYTES = 400 * 1024 - 4096;

/**
 * The item id of a delivery's idempotency key. The layout Powertools idempotency gave these
 * records (`<prefix>#<base64 md5 of the JSON key>`), kept so deliveries remembered by an earlier
 * deployment stay duplicates across the upgrade. md5 names the item; it guards nothing (the key is
 * already covered by the signature).
 */
export function deliveryItemId(provider: string, key: string): string {
  const hash = crypto.createHash("md5").update(JSON.stringify(key)).digest("base64");
  return `switchyard.webhooks.${provider}#${hash}`;
}

export interface StoredDelivery {
  id: string;
  expiresAt: number;
  entry: PublishEntry;
  deliveryId: string;
  correlationId: string;
}

/** The PutItem input of a delivery that is accepted only when its id is new or expired. */
export function storeDeliveryInput(table: string, d: StoredDelivery, nowSeconds: number) {
  const A = DELIVERY_ATTRIBUTES;
  return {
    TableName: table,
    Item: {
      [A.id]: { S: d.id },
      [A.expiration]: { N: String(d.expiresAt) },
      [A.source]: { S: d.entry.Source },
      [A.detailType]: { S: d.entry.DetailType },
      [A.detail]: { S: d.entry.Detail },
      [A.deliveryId]: { S: d.deliveryId },
      [A.correlationId]: { S: d.correlationId },
    } satisfies Record<string, AttributeValue>,
    // TTL deletes expired items within days, not at once: an expired id is free again.
    ConditionExpression: "attribute_not_exists(#id) OR #expiration < :now",
    ExpressionAttributeNames: { "#id": A.id, "#expiration": A.expiration },
    ExpressionAttributeValues: { ":now": { N: String(nowSeconds) } },
  };
}

/**
 * The stored delivery a stream record's new image holds (its item id and event), or undefined for
 * any other item or record.
 */
export function deliveryFromImage(
  image: Record<string, { S?: string; N?: string }> | undefined,
): { id: string; entry: PublishEntry; deliveryId?: string; correlationId?: string } | undefined {
  const A = DELIVERY_ATTRIBUTES;
  const source = image?.[A.source]?.S;
  const detailType = image?.[A.detailType]?.S;
  const detail = image?.[A.detail]?.S;
  if (source === undefined || detailType === undefined || detail === undefined) return undefined;
  return {
    id: image?.[A.id]?.S ?? "",
    entry: { Source: source, DetailType: detailType, Detail: detail },
    deliveryId: image?.[A.deliveryId]?.S,
    correlationId: image?.[A.correlationId]?.S,
  };
}
