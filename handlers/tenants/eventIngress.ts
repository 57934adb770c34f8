// Tenant event ingress: a `switchyard.input` event (detail type `<schema>.<POST|PUT|PATCH|DELETE>`,
// detail { tenant, rootSchema, api_key, payload }) becomes an authorized write to the tenant data
// table, billed to the tenant. Every refusal goes to the rejected-events queue with its status and
// reason and the event without its api_key; nothing is refused in the log only.
import type { EventBridgeEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import { sdk } from "../lib/lazy";
import { Operation, OPERATIONS, SCHEMA_NAME, Tenants } from "../../components/tenants/tenantRules";
import { billingItemPk, billingPeriod, hashApiKey, keyItemPk, verifyKey } from "./apiKeys";
import { ATTR, sortKey } from "./items";
import type { LoggerLike } from "./changePublisher";
import { requireEnv } from "../lib/env";
import { correlate, CorrelatedLogger, correlationIdFrom } from "../lib/correlation";

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
}

/** Tokens billed per applied request. */
export const TOKENS_PER_REQUEST = 10;
/** Largest rejected-queue message body kept whole; larger payloads are replaced by their size. */
const MAX_REJECTION_BYTES = 240 * 1024;
const MAX_ID_LENGTH = 512;

// Not an Error subclass: a class extending a built-in loses its fields once the closure is
// serialized into the function's code.
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

/** Environment: DATA_TABLE, ACCESS_TABLE, REJECTED_QUEUE_URL. */
export function makeHandler(deps: IngressDeps) {
  const dataTable = requireEnv("DATA_TABLE", "the tenant data table name");
  const accessTable = requireEnv("ACCESS_TABLE", "the tenant access table name: API keys and billing");
  const rejectedQueueUrl = requireEnv("REJECTED_QUEUE_URL", "the URL of the rejected-events queue");
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const logger: LoggerLike & CorrelatedLogger = deps.logger ?? { info: () => undefined, error: () => undefined };

  async function reject(event: IngressEvent, result: IngressResult, at: Date): Promise<void> {
    const message: Record<string, unknown> = { ...result, rejectedAt: at.toISOString(), event: redactEvent(event) };
    let body = JSON.stringify(message);
    if (Buffer.byteLength(body) > MAX_REJECTION_BYTES) {
      const ev = message.event as { detail?: Record<string, unknown> };
      if (ev && isObject(ev.detail)) {
        ev.detail = { ...ev.detail, payload: `<omitted: ${Buffer.byteLength(JSON.stringify(ev.detail.payload) ?? "")} bytes>` };
      }
      body = JSON.stringify(message);
    }
    await deps.sqs.send(
      new (sdk.sqs().SendMessageCommand)({
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

  async function apply(event: IngressEvent, now: Date, out: IngressResult): Promise<IngressResult> {
    const detail = event.detail;
    if (!isObject(detail)) throw new Rejection(400, "malformed", "detail must be a JSON object");
    const op = String(event["detail-type"] ?? "").split(".").pop() as Operation;
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
      throw new Rejection(400, "malformed", 'detail.rootSchema must be 1-64 letters, digits, "_", "." or "-"');
    }
    const rootSchema = detail.rootSchema;
    out.rootSchema = rootSchema;

    // 403 before the key is looked at: a tenant without ingress is refused whatever it presents.
    if (deps.tenants[tenant]?.ingressEnabled !== true) {
      throw new Rejection(403, "ingress-disabled", `tenant ${tenant} does not have event ingress enabled`);
    }
    if (typeof detail.api_key !== "string" || detail.api_key === "") {
      throw new Rejection(401, "unknown-key", "detail.api_key must be a non-empty string");
    }
    const presented = hashApiKey(detail.api_key);
    const found = await deps.ddb.send(
      new (sdk.dynamodbDocument().GetCommand)({ TableName: accessTable, Key: { pk: keyItemPk(presented) }, ConsistentRead: true }),
    );
    const verdict = verifyKey(found.Item, presented, tenant);
    if (!verdict.ok) throw new Rejection(401, verdict.code, verdict.reason);

    const payload = detail.payload;
    if (!isObject(payload)) throw new Rejection(400, "malformed", "detail.payload must be a JSON object");
    if (Object.keys(payload).some((k) => k === "")) {
      throw new Rejection(400, "malformed", "detail.payload field names must not be empty");
    }
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

    try {
      switch (op) {
        case "POST":
          await deps.ddb.send(
            new (sdk.dynamodbDocument().PutCommand)({
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
            }),
          );
          break;
        case "PUT":
          // Replace: the whole `data` map is set; creates the item when it does not exist.
          await deps.ddb.send(
            new (sdk.dynamodbDocument().UpdateCommand)({
              TableName: dataTable,
              Key: key,
              UpdateExpression: "SET #rs = :rs, #id = :id, #data = :data, #lo = :op, #ua = :now ADD #v :one",
              ExpressionAttributeNames: {
                "#rs": ATTR.rootSchema,
                "#id": ATTR.id,
                "#data": ATTR.data,
                "#lo": ATTR.lastOperation,
                "#ua": ATTR.updatedAt,
                "#v": ATTR.version,
              },
              ExpressionAttributeValues: { ":rs": rootSchema, ":id": id, ":data": fields, ":op": "PUT", ":now": stamp, ":one": 1 },
            }),
          );
          break;
        case "PATCH": {
          // Merge (top level, as JSON Merge Patch): a field set to null is removed.
          const names: Record<string, string> = {
            "#sk": ATTR.sk,
            "#data": ATTR.data,
            "#lo": ATTR.lastOperation,
            "#ua": ATTR.updatedAt,
            "#v": ATTR.version,
          };
          const values: Record<string, unknown> = { ":op": "PATCH", ":now": stamp, ":one": 1 };
          const sets = ["#lo = :op", "#ua = :now"];
          const removes: string[] = [];
          Object.entries(fields).forEach(([field, value], i) => {
            names[`#f${i}`] = field;
            if (value === null) removes.push(`#data.#f${i}`);
            else {
              values[`:f${i}`] = value;
              sets.push(`#data.#f${i} = :f${i}`);
            }
          });
          await deps.ddb.send(
            new (sdk.dynamodbDocument().UpdateCommand)({
              TableName: dataTable,
              Key: key,
              UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""} ADD #v :one`,
              ConditionExpression: "attribute_exists(#sk)",
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
          );
          break;
        }
        case "DELETE":
          await deps.ddb.send(
            new (sdk.dynamodbDocument().DeleteCommand)({
              TableName: dataTable,
              Key: key,
              ConditionExpression: "attribute_exists(#sk)",
              ExpressionAttributeNames: { "#sk": ATTR.sk },
            }),
          );
          break;
      }
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") {
        if (op === "POST") throw new Rejection(409, "conflict", `${rootSchema} ${id} already exists (use PUT to replace it)`);
        throw new Rejection(404, "not-found", `${rootSchema} ${id} does not exist`);
      }
      throw new Rejection(500, "internal", `write failed: ${(err as Error).name}: ${(err as Error).message}`);
    }

    try {
      // ADD is atomic: concurrent requests never lose a count.
      await deps.ddb.send(
        new (sdk.dynamodbDocument().UpdateCommand)({
          TableName: accessTable,
          Key: { pk: billingItemPk(tenant, billingPeriod(now)) },
          UpdateExpression: "SET #t = :tenant, #p = :period ADD #tokens :tokens, #requests :one",
          ExpressionAttributeNames: { "#t": "tenant", "#p": "period", "#tokens": "tokens", "#requests": "requests" },
          ExpressionAttributeValues: { ":tenant": tenant, ":period": billingPeriod(now), ":tokens": TOKENS_PER_REQUEST, ":one": 1 },
        }),
      );
    } catch (err) {
      throw new Rejection(
        500,
        "internal",
        `the ${op} was applied but billing failed: ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    return { ...out, status: op === "POST" ? 201 : 200 };
  }

  return async (event: IngressEvent, _context: unknown): Promise<IngressResult> => {
    const now = clock();
    // The id the event carries (detail.correlationId, else its event id) on every line of this write.
    correlate(logger, correlationIdFrom(event));
    const out: IngressResult = { status: 0 };
    try {
      const result = await apply(event, now, out);
      logger.info("ingress applied", { ...result, eventId: event?.id });
      return result;
    } catch (err) {
      const r =
        err instanceof Rejection
          ? { ...out, status: err.status, code: err.code, reason: err.reason }
          : { ...out, status: 500, code: "internal" as const, reason: `${(err as Error).name}: ${(err as Error).message}` };
      // If this send fails the invocation fails: Lambda retries it, then its on-failure destination.
      await reject(event, r, now);
      logger.info("ingress rejected", { ...r, eventId: event?.id });
      return r;
    }
  };
}
