// Tenant event ingress: a `switchyard.input` event (detail type `<rootSchema>.<POST|PUT|PATCH|DELETE>`,
// detail { tenant, rootSchema, api_key, payload }) becomes an authorized write to the tenant data
// table, billed to the tenant. The write, its billing and a marker of the event id are one DynamoDB
// transaction: a write is never left unbilled, and a redelivered event (Lambda's retries carry the
// same id) is neither written nor billed twice. Every accepted write fits a change event the bus
// accepts. Every refusal goes to the rejected-events queue with its status and reason and the event
// without its api_key; nothing is refused in the log only.
import type { EventBridgeEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import { lazyDynamodbDocument, lazySqs, sdkDynamodbDocument, sdkSqs } from "../lib/lazy";
import { Operation, OPERATIONS, SCHEMA_NAME, Tenants } from "../../lib/tenantRules";
import {
  billingItemPk,
  billingPeriod,
  EVENT_MARKER_TTL_ATTRIBUTE,
  EVENT_MARKER_TTL_SECONDS,
  eventMarkerPk,
  hashApiKey,
  keyItemPk,
  verifyKey,
} from "./apiKeys";
import {
  ATTR,
  changePayloadBytes,
  maxChangePayloadBytes,
  maxEventBytesFromEnv,
  sortKey,
} from "./items";
import type { LoggerLike } from "./changePublisher";
import { requireEnv } from "../lib/env";
import { correlate, CorrelatedLogger, correlationIdFrom } from "../lib/correlation";
import { Logger } from "@aws-lambda-powertools/logger";
import { OUTCOME_LOG_MESSAGES, SERVICES } from "../../lib/contracts";

export interface IngressDetail {
  tenant?: unknown;
  rootSchema?: unknown;
  api_key?: unknown;
  payload?: unknown;
  [k: string]: unknown;
}

export type IngressEvent = EventBridgeEvent<string, IngressDetail>;

export type RejectionCode =
  | "malformed"
  | "ingress-disabled"
  | "unknown-key"
  | "revoked-key"
  | "other-tenant-key"
  | "missing-permission"
  | "missing-id"
  | "too-large"
  | "conflict"
  | "not-found"
  | "internal";

export interface IngressResult {
  /** HTTP-like status: 201 created, 200 applied, 4xx/500 rejected (and queued). */
  status: number;
  code?: RejectionCode;
  reason?: string;
  tenant?: string;
  rootSchema?: string;
  operation?: Operation;
  id?: string;
  /** Set when the event was applied before (a redelivery): the answer is the first one's, nothing was written. */
  duplicate?: true;
}

export interface IngressDeps {
  /** A DynamoDBDocumentClient (anything with its `send`). */
  ddb: { send(command: any): Promise<any> };
  /** An SQSClient (anything with its `send`). */
  sqs: { send(command: any): Promise<any> };
  /** Tenant settings (the `switchyard:tenants` config): which tenants have ingress enabled. */
  tenants: Tenants;
  clock?: () => Date;
  /** Ids of POSTed items that name none. */
  newId?: () => string;
  logger?: LoggerLike & CorrelatedLogger;
  /** Wait before the n-th retry (1, 2, ...) of a transaction DynamoDB cancelled; tests pass 0. */
  retryDelayMs?: (attempt: number) => number;
}

/** Tokens billed per applied request. */
export const TOKENS_PER_REQUEST = 10;
/** Largest rejected-queue message body kept whole; larger payloads are replaced by their size. */
const MAX_REJECTION_BYTES = 240 * 1024;
const MAX_ID_LENGTH = 512;
const MAX_EVENT_ID_LENGTH = 256;
/** Payload keys refused at any depth: they name JavaScript's prototype machinery. */
export const FORBIDDEN_PAYLOAD_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];
/** Transactions per event: the first, then retries after a conflict or a concurrent change of the item. */
const MAX_TRANSACTION_ATTEMPTS = 5;
/** Cancellation reasons that are worth retrying the same transaction for. */
const RETRYABLE_CANCELLATIONS: readonly string[] = [
  "TransactionConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
];
/** Positions in the transaction, which DynamoDB's CancellationReasons follow. */
const TX_ITEM = 0;
const TX_MARKER = 2;

// Not an Error: a refusal is answered (queued with its reason), never thrown to the runtime.
class Rejection {
  constructor(
    public readonly status: number,
    public readonly code: RejectionCode,
    public readonly reason: string,
  ) {}
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The event as it may be kept: everything but the API key. */
export function redactEvent(event: unknown): unknown {
  if (!isObject(event)) return event;
  const copy = { ...event };
  if (isObject(copy.detail)) {
    const { api_key: _omitted, ...detail } = copy.detail as Record<string, unknown>;
    copy.detail = detail;
  }
  return copy;
}

function itemId(payload: Record<string, unknown>): string | undefined {
  const id = payload.id;
  if (typeof id === "string" && id !== "" && id.length <= MAX_ID_LENGTH) return id;
  if (typeof id === "number" && Number.isSafeInteger(id)) return String(id);
  return undefined;
}

/**
 * Why a payload cannot be stored as it was sent, or undefined. Walks every value (without recursion,
 * so no nesting overflows the stack): keys that name prototype machinery, at any depth, and numbers
 * the DynamoDB document client refuses to store exactly (beyond +-(2^53 - 1)) or DynamoDB refuses
 * (a magnitude under 1e-130).
 */
export function payloadProblem(payload: Record<string, unknown>): string | undefined {
  const pending: Array<[unknown, string]> = [[payload, "payload"]];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === "number") {
      if (Math.abs(value) > Number.MAX_SAFE_INTEGER || (value !== 0 && Math.abs(value) < 1e-130)) {
        return `detail.payload numbers must be 0 or of a magnitude from 1e-130 to ${Number.MAX_SAFE_INTEGER} (found ${value} at ${path}); send others as strings`;
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => pending.push([v, `${path}[${i}]`]));
    } else if (isObject(value)) {
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_PAYLOAD_KEYS.includes(key)) {
          return `detail.payload must not contain the key "${key}" (found at ${path}.${key}): it is refused at any depth`;
        }
        // An own "__proto__" was refused above, so reading by key only ever reads own data.
        pending.push([value[key], `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/** The marker's fields, from a CancellationReason's Item (DynamoDB JSON: strings and numbers). */
function markerFields(
  item: Record<string, { S?: string; N?: string }> | undefined,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(item ?? {})) {
    if (v && typeof v.S === "string") out[k] = v.S;
    else if (v && typeof v.N === "string") out[k] = Number(v.N);
  }
  return out;
}

function isItemTooLarge(err: { name?: string; message?: string }): boolean {
  return /item size (has exceeded|to update has exceeded)/i.test(err.message ?? "");
}

/** Environment: DATA_TABLE, ACCESS_TABLE, REJECTED_QUEUE_URL, MAX_CHANGE_EVENT_BYTES (optional, default 262144). */
export function makeHandler(deps: IngressDeps) {
  const dataTable = requireEnv("DATA_TABLE", "the tenant data table name");
  const accessTable = requireEnv(
    "ACCESS_TABLE",
    "the tenant access table name: API keys and billing",
  );
  const rejectedQueueUrl = requireEnv("REJECTED_QUEUE_URL", "the URL of the rejected-events queue");
  // The bus's entry limit the change publisher works with: every item ingress writes must fit it.
  const maxEventBytes = maxEventBytesFromEnv("MAX_CHANGE_EVENT_BYTES");
  const maxPayloadBytes = maxChangePayloadBytes(maxEventBytes);
  if (maxPayloadBytes < 1) {
    throw new Error(
      `MAX_CHANGE_EVENT_BYTES (${maxEventBytes}) leaves no room for a payload beside a change event's envelope`,
    );
  }
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const logger: LoggerLike & CorrelatedLogger = deps.logger ?? {
    info: () => undefined,
    error: () => undefined,
  };
  // Full jitter, 20 ms doubling per retry: conflicting transactions rarely meet twice.
  const retryDelayMs =
    deps.retryDelayMs ?? ((attempt: number) => Math.floor(Math.random() * 20 * 2 ** (attempt - 1)));
  const doc = () => sdkDynamodbDocument();

  async function reject(event: IngressEvent, result: IngressResult, at: Date): Promise<void> {
    const message: Record<string, unknown> = {
      ...result,
      rejectedAt: at.toISOString(),
      event: redactEvent(event),
    };
    let body = JSON.stringify(message);
    if (Buffer.byteLength(body) > MAX_REJECTION_BYTES) {
      const ev = message.event as { detail?: Record<string, unknown> };
      if (ev && isObject(ev.detail)) {
        ev.detail = {
          ...ev.detail,
          payload: `<omitted: ${Buffer.byteLength(JSON.stringify(ev.detail.payload) ?? "")} bytes>`,
        };
      }
      body = JSON.stringify(message);
    }
    await deps.sqs.send(
      new (sdkSqs().SendMessageCommand)({
        QueueUrl: rejectedQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          status: { DataType: "Number", StringValue: String(result.status) },
          code: { DataType: "String", StringValue: result.code ?? "internal" },
          ...(result.tenant ? { tenant: { DataType: "String", StringValue: result.tenant } } : {}),
        },
      }),
    );
  }

  /** Refuses an item whose change event would not fit the bus. */
  function checkSize(payload: Record<string, unknown>): void {
    const bytes = changePayloadBytes(payload);
    if (bytes > maxPayloadBytes) {
      throw new Rejection(
        413,
        "too-large",
        `the item would be ${bytes} bytes as a change event's payload; at most ${maxPayloadBytes} fit the bus's ${maxEventBytes}-byte event limit`,
      );
    }
  }

  async function apply(event: IngressEvent, now: Date, out: IngressResult): Promise<IngressResult> {
    const detail = event.detail;
    if (!isObject(detail)) throw new Rejection(400, "malformed", "detail must be a JSON object");
    const detailType = String(event["detail-type"] ?? "");
    const op = detailType.split(".").pop() as Operation;
    if (!OPERATIONS.includes(op)) {
      throw new Rejection(400, "malformed", `detail-type must end in .${OPERATIONS.join(", .")}`);
    }
    out.operation = op;
    if (typeof detail.tenant !== "string" || detail.tenant === "") {
      throw new Rejection(400, "malformed", "detail.tenant must be a non-empty string");
    }
    const tenant = detail.tenant;
    out.tenant = tenant;
    if (typeof detail.rootSchema !== "string" || !SCHEMA_NAME.test(detail.rootSchema)) {
      throw new Rejection(
        400,
        "malformed",
        'detail.rootSchema must be 1-64 letters, digits, "_", "." or "-"',
      );
    }
    const rootSchema = detail.rootSchema;
    out.rootSchema = rootSchema;
    // The schema a write goes to is named twice; both must agree, or a rule matching the one could
    // let the event write to the other.
    const expected = `${rootSchema}.${op}`;
    if (detailType !== expected) {
      throw new Rejection(
        400,
        "malformed",
        `detail-type must be "${expected}" (detail.rootSchema, a dot, the operation), got "${detailType}"`,
      );
    }
    const eventId = event.id;
    if (typeof eventId !== "string" || eventId === "" || eventId.length > MAX_EVENT_ID_LENGTH) {
      throw new Rejection(
        400,
        "malformed",
        `the event needs an id of 1-${MAX_EVENT_ID_LENGTH} characters: ingress applies each event id once`,
      );
    }

    // 403 before the key is looked at: a tenant without ingress is refused whatever it presents.
    if (deps.tenants[tenant]?.ingressEnabled !== true) {
      throw new Rejection(
        403,
        "ingress-disabled",
        `tenant ${tenant} does not have event ingress enabled`,
      );
    }
    if (typeof detail.api_key !== "string" || detail.api_key === "") {
      throw new Rejection(401, "unknown-key", "detail.api_key must be a non-empty string");
    }
    const presented = hashApiKey(detail.api_key);
    const found = await deps.ddb.send(
      new (doc().GetCommand)({
        TableName: accessTable,
        Key: { pk: keyItemPk(presented) },
        ConsistentRead: true,
      }),
    );
    const verdict = verifyKey(found.Item, presented, tenant);
    if (!verdict.ok) throw new Rejection(401, verdict.code, verdict.reason);

    const payload = detail.payload;
    if (!isObject(payload))
      throw new Rejection(400, "malformed", "detail.payload must be a JSON object");
    if (Object.keys(payload).some((k) => k === "")) {
      throw new Rejection(400, "malformed", "detail.payload field names must not be empty");
    }
    const problem = payloadProblem(payload);
    if (problem) throw new Rejection(400, "malformed", problem);
    let id = itemId(payload);
    if (id === undefined) {
      if (op !== "POST" || payload.id !== undefined) {
        throw new Rejection(
          400,
          "missing-id",
          `${op} needs payload.id: a non-empty string of at most ${MAX_ID_LENGTH} characters or a whole number`,
        );
      }
      id = newId();
    }
    out.id = id;
    const { id: _id, ...fields } = payload;
    const key = { [ATTR.tenant]: tenant, [ATTR.sk]: sortKey(rootSchema, id) };
    const stamp = now.toISOString();
    const status = op === "POST" ? 201 : 200;
    const applied: IngressResult = { ...out, status };

    // The write itself: PATCH merges onto the item as read, on condition that it is still that
    // version, so the size checked is the size written.
    const itemWrite = async (): Promise<Record<string, unknown>> => {
      switch (op) {
        case "POST":
          checkSize({ ...fields, id });
          return {
            Put: {
              TableName: dataTable,
              Item: {
                ...key,
                [ATTR.rootSchema]: rootSchema,
                [ATTR.id]: id,
                [ATTR.data]: fields,
                [ATTR.version]: 1,
                [ATTR.lastOperation]: "POST",
                [ATTR.updatedAt]: stamp,
              },
              ConditionExpression: "attribute_not_exists(#sk)",
              ExpressionAttributeNames: { "#sk": ATTR.sk },
            },
          };
        case "PUT":
          checkSize({ ...fields, id });
          // Replace: the whole `data` map is set; creates the item when it does not exist.
          return {
            Update: {
              TableName: dataTable,
              Key: key,
              UpdateExpression:
                "SET #rs = :rs, #id = :id, #data = :data, #lo = :op, #ua = :now ADD #v :one",
              ExpressionAttributeNames: {
                "#rs": ATTR.rootSchema,
                "#id": ATTR.id,
                "#data": ATTR.data,
                "#lo": ATTR.lastOperation,
                "#ua": ATTR.updatedAt,
                "#v": ATTR.version,
              },
              ExpressionAttributeValues: {
                ":rs": rootSchema,
                ":id": id,
                ":data": fields,
                ":op": "PUT",
                ":now": stamp,
                ":one": 1,
              },
            },
          };
        case "PATCH": {
          const current = (
            await deps.ddb.send(
              new (doc().GetCommand)({ TableName: dataTable, Key: key, ConsistentRead: true }),
            )
          ).Item as Record<string, unknown> | undefined;
          if (!current) throw new Rejection(404, "not-found", `${rootSchema} ${id} does not exist`);
          // Merge (top level, as JSON Merge Patch): a field set to null is removed.
          const merged: Record<string, unknown> = {
            ...(isObject(current[ATTR.data])
              ? (current[ATTR.data] as Record<string, unknown>)
              : {}),
          };
          for (const [field, value] of Object.entries(fields)) {
            if (value === null) delete merged[field];
            else merged[field] = value;
          }
          checkSize({ ...merged, id });
          const version = current[ATTR.version];
          return {
            Update: {
              TableName: dataTable,
              Key: key,
              UpdateExpression: "SET #data = :data, #lo = :op, #ua = :now ADD #v :one",
              ConditionExpression:
                version === undefined
                  ? "attribute_exists(#sk) AND attribute_not_exists(#v)"
                  : "#v = :seen",
              ExpressionAttributeNames: {
                ...(version === undefined ? { "#sk": ATTR.sk } : {}),
                "#data": ATTR.data,
                "#lo": ATTR.lastOperation,
                "#ua": ATTR.updatedAt,
                "#v": ATTR.version,
              },
              ExpressionAttributeValues: {
                ":data": merged,
                ":op": "PATCH",
                ":now": stamp,
                ":one": 1,
                ...(version === undefined ? {} : { ":seen": version }),
              },
            },
          };
        }
        case "DELETE":
          return {
            Delete: {
              TableName: dataTable,
              Key: key,
              ConditionExpression: "attribute_exists(#sk)",
              ExpressionAttributeNames: { "#sk": ATTR.sk },
            },
          };
      }
    };

    // ADD is atomic: concurrent requests never lose a count.
    const billing = {
      Update: {
        TableName: accessTable,
        Key: { pk: billingItemPk(tenant, billingPeriod(now)) },
        UpdateExpression: "SET #t = :tenant, #p = :period ADD #tokens :tokens, #requests :one",
        ExpressionAttributeNames: {
          "#t": "tenant",
          "#p": "period",
          "#tokens": "tokens",
          "#requests": "requests",
        },
        ExpressionAttributeValues: {
          ":tenant": tenant,
          ":period": billingPeriod(now),
          ":tokens": TOKENS_PER_REQUEST,
          ":one": 1,
        },
      },
    };
    // This event applied: a redelivery finds it and answers as the first did.
    const marker = {
      Put: {
        TableName: accessTable,
        Item: {
          pk: eventMarkerPk(eventId),
          tenant,
          rootSchema,
          operation: op,
          id,
          status,
          appliedAt: stamp,
          [EVENT_MARKER_TTL_ATTRIBUTE]: Math.floor(now.getTime() / 1000) + EVENT_MARKER_TTL_SECONDS,
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": "pk" },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    };

    for (let attempt = 1; ; attempt++) {
      const write = await itemWrite();
      try {
        await deps.ddb.send(
          new (doc().TransactWriteCommand)({ TransactItems: [write, billing, marker] }),
        );
        return applied;
      } catch (err) {
        const e = err as {
          name?: string;
          message?: string;
          CancellationReasons?: Array<{ Code?: string; Message?: string; Item?: any }>;
        };
        if (e.name === "TransactionCanceledException") {
          const reasons = e.CancellationReasons ?? [];
          const code = (i: number) => reasons[i]?.Code;
          if (code(TX_MARKER) === "ConditionalCheckFailed") {
            const first = markerFields(reasons[TX_MARKER]?.Item);
            return {
              status: typeof first.status === "number" ? first.status : status,
              tenant,
              rootSchema,
              operation: OPERATIONS.includes(first.operation as Operation)
                ? (first.operation as Operation)
                : op,
              id: typeof first.id === "string" ? first.id : id,
              duplicate: true,
            };
          }
          if (code(TX_ITEM) === "ConditionalCheckFailed") {
            if (op === "POST")
              throw new Rejection(
                409,
                "conflict",
                `${rootSchema} ${id} already exists (use PUT to replace it)`,
              );
            if (op === "DELETE")
              throw new Rejection(404, "not-found", `${rootSchema} ${id} does not exist`);
            // PATCH: the item changed since it was read (or is gone): read it again.
            if (attempt < MAX_TRANSACTION_ATTEMPTS) continue;
            throw new Rejection(
              409,
              "conflict",
              `${rootSchema} ${id} kept changing while this PATCH was applied; send it again`,
            );
          }
          if (
            reasons.some(
              (r) => r.Code === "ValidationError" && isItemTooLarge({ message: r.Message }),
            )
          ) {
            throw new Rejection(
              413,
              "too-large",
              "the item would be larger than DynamoDB's 400 KB item limit",
            );
          }
          if (
            reasons.some((r) => RETRYABLE_CANCELLATIONS.includes(r.Code ?? "")) &&
            attempt < MAX_TRANSACTION_ATTEMPTS
          ) {
            await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
            continue;
          }
          const why = reasons.map((r) => r.Code ?? "None").join(", ");
          throw new Rejection(
            500,
            "internal",
            `write failed: TransactionCanceledException: ${e.message} [${why}]`,
          );
        }
        if (e.name === "ValidationException" && isItemTooLarge(e)) {
          throw new Rejection(
            413,
            "too-large",
            "the item would be larger than DynamoDB's 400 KB item limit",
          );
        }
        throw new Rejection(500, "internal", `write failed: ${e.name}: ${e.message}`);
      }
    }
  }

  return async (event: IngressEvent, _context: unknown): Promise<IngressResult> => {
    const now = clock();
    // The id the event carries (detail.correlationId, else its event id) on every line of this write.
    correlate(logger, correlationIdFrom(event));
    const out: IngressResult = { status: 0 };
    try {
      const result = await apply(event, now, out);
      logger.info(result.duplicate ? "ingress duplicate" : "ingress applied", {
        ...result,
        eventId: event?.id,
      });
      return result;
    } catch (err) {
      const r =
        err instanceof Rejection
          ? { ...out, status: err.status, code: err.code, reason: err.reason }
          : {
              ...out,
              status: 500,
              code: "internal" as const,
              reason: `${(err as Error).name}: ${(err as Error).message}`,
            };
      // If this send fails the invocation fails: Lambda retries it, then its on-failure destination.
      await reject(event, r, now);
      logger.info(OUTCOME_LOG_MESSAGES.ingressRejected, { ...r, eventId: event?.id });
      return r;
    }
  };
}

/**
 * The deployed function (components/tenants/eventIngress.ts) for the stack's tenants: its clients
 * and logger, built once per cold start.
 */
export function createEventIngress(tenants: Tenants) {
  return makeHandler({
    ddb: lazyDynamodbDocument({ marshallOptions: { removeUndefinedValues: true } }),
    sqs: lazySqs(),
    tenants,
    logger: new Logger({ serviceName: SERVICES.tenantIngress }),
  });
}
