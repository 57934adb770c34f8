// Turns the DynamoDB JSON of a stream record's image (as Lambda delivers it) into plain JSON values,
// and picks the image a change stands for (the new one, or the old one of a removal).
// Written here rather than taken from @aws-sdk/util-dynamodb because stream events carry binary
// values as base64 strings and numbers that may not fit a JS number: both need a defined answer.

import type { DynamoDBRecord } from "aws-lambda";

/** An attribute value in DynamoDB JSON. */
export type StreamAttribute = {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Record<string, StreamAttribute>;
  L?: StreamAttribute[];
  SS?: string[];
  NS?: string[];
  BS?: string[];
};

/** A number when it converts without loss, else its decimal string. */
function toNumber(n: string): number | string {
  const v = Number(n);
  if (!Number.isFinite(v)) return n;
  if (Number.isInteger(v) && !Number.isSafeInteger(v)) return n;
  return v;
}

/** One attribute as JSON: sets become arrays, binaries stay base64 strings. */
export function fromAttribute(a: StreamAttribute): unknown {
  if (a === null || typeof a !== "object")
    throw new Error(`not a DynamoDB attribute value: ${JSON.stringify(a)}`);
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) return toNumber(a.N);
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL !== undefined) return null;
  if (a.B !== undefined) return a.B;
  if (a.M !== undefined) return fromImage(a.M);
  if (a.L !== undefined) return a.L.map(fromAttribute);
  if (a.SS !== undefined) return [...a.SS];
  if (a.NS !== undefined) return a.NS.map(toNumber);
  if (a.BS !== undefined) return [...a.BS];
  throw new Error(`unknown DynamoDB attribute type: ${JSON.stringify(Object.keys(a))}`);
}

/** A whole image (NewImage, OldImage or Keys) as a JSON object. */
export function fromImage(image: Record<string, StreamAttribute>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) out[k] = fromAttribute(v);
  return out;
}

/** The image a stream record's change stands for, as plain JSON, and the change's kind. */
export function changedItem(
  record: DynamoDBRecord,
  /** What the table's stream must carry for the missing image, for the error. */
  streamNeeds: (image: "NewImage" | "OldImage") => string,
): { eventName: "INSERT" | "MODIFY" | "REMOVE"; item: Record<string, unknown> } {
  const name = record.eventName;
  if (name !== "INSERT" && name !== "MODIFY" && name !== "REMOVE") {
    throw new Error(`stream record ${record.eventID}: unknown eventName ${JSON.stringify(name)}`);
  }
  const image = name === "REMOVE" ? "OldImage" : "NewImage";
  const raw = record.dynamodb?.[image];
  if (!raw) throw new Error(`stream record ${record.eventID}: no ${image} (${streamNeeds(image)})`);
  return { eventName: name, item: fromImage(raw as Record<string, StreamAttribute>) };
}
