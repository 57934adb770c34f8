// The webhook receiver behind one provider's Lambda Function URL: checks path and method, verifies
// the signature over the exact body bytes with the current or previous secret, checks the event
// against its contract, and accepts the delivery with one conditional DynamoDB write: the item is
// both the delivery's idempotency record and its event (handlers/webhooks/outbox.ts), which the
// relay (./relay.ts) publishes to the hub's bus from the table's stream. A body over the bus entry
// limit goes to S3 first and the event carries a reference. Only transient failures answer 5xx, so
// the provider redelivers exactly those. Each invocation emits its business metrics (EMF, the
// contract of handlers/lib/telemetry.ts): one of accepted / duplicate / rejected(reason) per
// 2xx-4xx answer; the relay counts the publishing.
import * as crypto from "crypto";
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import {
  lazyDynamodb,
  lazyS3,
  lazySecretsManager,
  sdkDynamodb,
  sdkS3,
  SendClient,
} from "../lib/lazy";
import { checkSwitchyardContract, entrySize, PublishEntry } from "../lib/publisher";
import { eventSource, OUTCOME_LOG_MESSAGES, RECEIVER_ENV } from "../../lib/contracts";
import { HandlerError } from "../lib/errors";
import { makeSecretReader, SecretReader } from "../lib/secrets";
import {
  correlate,
  CorrelatedLogger,
  correlationIdFrom,
  emitInvocationMetrics,
  makeMetrics,
  recordAccepted,
  recordDuplicate,
  recordRejected,
  REJECTION_REASONS,
  RejectionReason,
  validCorrelationId,
  WEBHOOK_SERVICE,
} from "../lib/telemetry";
import { HMAC_SIGNED_CONTENTS, HmacSignedContent } from "./providers/hmac";
import { isProvider, MalformedRequest, Provider, providerSpec, PROVIDERS } from "./providers";
import { makeSourceAllowlist } from "./sourceIp";
import { deliveryItemId, MAX_STORED_ENTRY_BYTES, storeDeliveryInput } from "./outbox";

/** What the receiver is configured with (from its environment in Lambda). */
export interface ReceiverConfig {
  provider: Provider;
  /** ARN of the Secrets Manager secret holding the signing secret(s). */
  secretArn: string;
  /** Name of the deliveries table (partition key `id`, TTL attribute `expiration`, stream to the relay). */
  idempotencyTable: string;
  /** Seconds a delivery id is remembered. */
  idempotencyTtlSeconds: number;
  /** Largest event entry published (the relay's bus limit); bigger payloads go to S3 or are answered 413. */
  maxEntryBytes: number;
  /** Accepted distance of a signed timestamp from now, in seconds. */
  toleranceSeconds: number;
  /** Bucket for oversized bodies; undefined = answer 413. */
  payloadBucket?: string;
  /** Key prefix inside the bucket (the function may only write below it). */
  payloadPrefix: string;
  /** The URL the sender signs when it differs from the Function URL (Twilio behind a custom domain). */
  publicUrl?: string;
  /** CIDR blocks a delivery must come from; undefined = any address. */
  allowedCidrs?: string[];
  /** What the generic HMAC signature covers (hmac only): every trusted header (default), or the body only. */
  hmacSignedContent?: HmacSignedContent;
}

/** The environment variables a receiver reads, which its component sets (lib/contracts.ts). */
const ENV = RECEIVER_ENV;

/** Reads the configuration from environment variables; throws naming a missing or bad one. */
export function readReceiverConfig(
  env: Record<string, string | undefined> = process.env,
): ReceiverConfig {
  const required = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  const int = (k: string, min: number) => {
    const raw = required(k);
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min)
      throw new Error(`${k} must be an integer >= ${min}, got "${raw}"`);
    return v;
  };
  const provider = required(ENV.provider);
  if (!isProvider(provider))
    throw new Error(`${ENV.provider} must be one of ${PROVIDERS.join(", ")}, got "${provider}"`);
  return {
    provider,
    secretArn: required(ENV.secretArn),
    idempotencyTable: required(ENV.idempotencyTable),
    idempotencyTtlSeconds: int(ENV.idempotencyTtlSeconds, 1),
    maxEntryBytes: int(ENV.maxEntryBytes, 1),
    toleranceSeconds: int(ENV.toleranceSeconds, 1),
    payloadBucket: env[ENV.payloadBucket] || undefined,
    payloadPrefix: env[ENV.payloadPrefix] ?? `${provider}/`,
    publicUrl: env[ENV.publicUrl] || undefined,
    allowedCidrs: env[ENV.allowedCidrs]
      ? env[ENV.allowedCidrs]!.split(",").map((c) => c.trim())
      : undefined,
    hmacSignedContent: oneOf(env, ENV.hmacSignedContent, HMAC_SIGNED_CONTENTS, "headers"),
  };
}

function oneOf<T extends string>(
  env: Record<string, string | undefined>,
  key: string,
  allowed: readonly T[],
  def: T,
): T {
  const v = env[key] || def;
  if (!(allowed as readonly string[]).includes(v))
    throw new Error(`${key} must be one of ${allowed.join(", ")}, got "${v}"`);
  return v as T;
}

/** The logging calls the receiver makes (Powertools Logger has them). */
export interface ReceiverLogger extends CorrelatedLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
  addContext?(context: Context): void;
}

export interface ReceiverDeps {
  config: ReceiverConfig;
  /** SecretsManagerClient (or a ready reader, e.g. one shared by tests). */
  secretsManager?: SendClient;
  secrets?: SecretReader;
  /** DynamoDBClient for the deliveries table: first used by a verified delivery (handlers/lib/lazy.ts). */
  dynamodb: SendClient;
  /** S3Client, when a payload bucket is configured. */
  s3?: SendClient;
  logger?: ReceiverLogger;
  /**
   * Powertools Metrics (handlers/lib/telemetry.ts `makeMetrics(WEBHOOK_SERVICE)`), flushed at the end
   * of every invocation. Default none: no metrics are emitted (createReceiver always passes one).
   */
  metrics?: Metrics;
  /** Clock in ms. */
  now?: () => number;
}

/** Source of every event the receiver publishes. */
export { eventSource };
/** EventBridge limits DetailType to 128 characters. */
const MAX_DETAIL_TYPE = 128;
/** A signature mismatch re-reads the secret at most this often (a rotation may just have landed). */
const SECRET_REFRESH_MS = 5_000;
/** Seconds a provider is asked to wait before redelivering after a 503. */
export const RETRY_AFTER_SECONDS = 5;

type Response = LambdaFunctionURLResult & {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
};

function respond(
  statusCode: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): Response {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extraHeaders },
    body: JSON.stringify(body),
  };
}

const unavailable = (message: string) =>
  respond(503, { error: message }, { "retry-after": String(RETRY_AFTER_SECONDS) });

/** The publisher's refusals of an entry that breaks its event contract (handlers/lib/publisher.ts). */
const CONTRACT_REFUSALS = new Set(["SchemaViolation", "MalformedDetail"]);

/** DynamoDB errors of a write that a later redelivery may not meet: throttling and its own faults. */
const TRANSIENT_STORE_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "ThrottlingException",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionConflictException",
]);

/** A verified delivery's event could not be stored for a reason a redelivery would meet again. */
class StoreRefused extends HandlerError {
  constructor(message: string) {
    super("StoreRefused", message);
  }
}

interface Delivery {
  /** The idempotency key: provider and the signed replay key. */
  key: string;
  entry: PublishEntry;
  deliveryId: string;
  correlationId: string;
  /** Set when the body goes to S3 (the entry then carries a reference to this object). */
  oversized?: { bucket: string; key: string; body: Buffer; contentType: string };
}

/** What an answer counts as: the delivery metric it records (5xx answers record none). */
type Outcome =
  | { kind: "accepted" }
  | { kind: "duplicate" }
  | { kind: "rejected"; reason: RejectionReason }
  | { kind: "server-error" };

interface Handled {
  response: Response;
  outcome: Outcome;
}

/**
 * The `reason` dimension of a failed signature check. A 403 whose signed timestamp is out of the
 * window or unreadable (the wording of checkTimestamp in ./signature.ts) is `timestamp`; any other
 * 401 (signature or a header it needs missing) or 403 (mismatch) is `signature`.
 */
export function signatureRejectionReason(verdict: {
  status: 401 | 403;
  reason: string;
}): RejectionReason {
  if (
    verdict.status === 403 &&
    /timestamp is (older than|more than \d+ s in the future|not a unix timestamp)/.test(
      verdict.reason,
    )
  ) {
    return REJECTION_REASONS.timestamp;
  }
  return REJECTION_REASONS.signature;
}

function lowerHeaders(
  h: Record<string, string | undefined> | undefined,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** Builds the handler of one provider's Function URL. */
export function makeHandler(deps: ReceiverDeps) {
  const cfg = deps.config;
  const spec = providerSpec(cfg.provider, cfg.hmacSignedContent);
  // Built at cold start: a bad block fails init naming it (readReceiverConfig's values are checked at preview too).
  const allowedSource = cfg.allowedCidrs ? makeSourceAllowlist(cfg.allowedCidrs) : undefined;
  const expectedPath = `/${cfg.provider}`;
  const now = deps.now ?? Date.now;
  const logger: ReceiverLogger = deps.logger ?? { info() {}, warn() {}, error() {} };
  if (!deps.secrets && !deps.secretsManager)
    throw new Error("makeHandler: secretsManager (or secrets) is required");
  const secrets = deps.secrets ?? makeSecretReader({ client: deps.secretsManager!, now });
  const dynamodb = deps.dynamodb;
  // What an entry may weigh on the bus, and in the item that holds it until the relay publishes it.
  const maxStoredEntryBytes = Math.min(cfg.maxEntryBytes, MAX_STORED_ENTRY_BYTES);

  /** Stores the delivery's event, its body first when oversized; false when its id is already held. */
  async function store(delivery: Delivery): Promise<boolean> {
    if (delivery.oversized) {
      const o = delivery.oversized;
      await deps.s3!.send(
        new (sdkS3().PutObjectCommand)({
          Bucket: o.bucket,
          Key: o.key,
          Body: o.body,
          ContentType: o.contentType,
        }),
      );
    }
    const nowSeconds = Math.floor(now() / 1000);
    try {
      await dynamodb.send(
        new (sdkDynamodb().PutItemCommand)(
          storeDeliveryInput(
            cfg.idempotencyTable,
            {
              id: deliveryItemId(cfg.provider, delivery.key),
              expiresAt: nowSeconds + cfg.idempotencyTtlSeconds,
              entry: delivery.entry,
              deliveryId: delivery.deliveryId,
              correlationId: delivery.correlationId,
            },
            nowSeconds,
          ),
        ),
      );
    } catch (err) {
      const name = (err as Error)?.name;
      if (name === "ConditionalCheckFailedException") return false;
      // A 4xx that is not throttling is DynamoDB refusing this write (access, validation): a
      // redelivery meets it again. Anything else (5xx, throttling, no answer) may pass next time.
      const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata
        ?.httpStatusCode;
      if (!TRANSIENT_STORE_ERRORS.has(name) && status !== undefined && status < 500) {
        throw new StoreRefused(`${name}: ${(err as Error).message}`);
      }
      throw err;
    }
    return true;
  }

  async function verified(req: Parameters<typeof spec.verify>[0]) {
    let list = await secrets.getSigningSecrets(cfg.secretArn);
    let verdict = spec.verify(req, list);
    const age = secrets.ageMs(cfg.secretArn);
    if (!verdict.ok && verdict.status === 403 && age !== undefined && age >= SECRET_REFRESH_MS) {
      // The secret may have been rotated since it was cached: look once more with a fresh read.
      list = await secrets.getSigningSecrets(cfg.secretArn, { maxAgeMs: SECRET_REFRESH_MS });
      verdict = spec.verify(req, list);
    }
    return verdict;
  }

  const rejected = (reason: RejectionReason, response: Response): Handled => ({
    response,
    outcome: { kind: "rejected", reason },
  });
  const serverError: Outcome = { kind: "server-error" };

  async function handle(event: LambdaFunctionURLEvent): Promise<Handled> {
    // Before any other work: a sender outside the provider's published ranges learns nothing more.
    const sourceIp = event.requestContext?.http?.sourceIp;
    if (allowedSource && !allowedSource(sourceIp)) {
      logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
        status: 403,
        reason: "source address not allowed",
        sourceIp,
      });
      return rejected(
        REJECTION_REASONS.ip,
        respond(403, { error: `source address ${sourceIp ?? "(none)"} is not allowed` }),
      );
    }
    const method = event.requestContext?.http?.method ?? "";
    const path = event.rawPath ?? "";
    if (path !== expectedPath)
      return rejected(REJECTION_REASONS.unknownProvider, respond(404, { error: "not found" }));
    if (method !== "POST") {
      return rejected(
        REJECTION_REASONS.method,
        respond(405, { error: "method not allowed" }, { allow: "POST" }),
      );
    }

    const headers = lowerHeaders(event.headers);
    const body =
      event.body === undefined || event.body === null
        ? Buffer.alloc(0)
        : Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
    const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
    const url = cfg.publicUrl
      ? `${cfg.publicUrl}${query}`
      : `https://${event.requestContext.domainName}${path}${query}`;

    let verdict;
    try {
      verdict = await verified({
        body,
        headers,
        url,
        nowSeconds: Math.floor(now() / 1000),
        toleranceSeconds: cfg.toleranceSeconds,
      });
    } catch (err) {
      logger.error("signing secret unavailable", { error: errorSummary(err) });
      return { response: unavailable("temporarily unavailable"), outcome: serverError };
    }
    if (!verdict.ok) {
      logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
        status: verdict.status,
        reason: verdict.reason,
        bytes: body.length,
      });
      return rejected(
        signatureRejectionReason(verdict),
        respond(verdict.status, {
          error: verdict.status === 401 ? "missing signature" : "invalid signature",
        }),
      );
    }
    if (verdict.secretIndex > 0)
      logger.info("webhook signed with the previous secret", { secretIndex: verdict.secretIndex });

    let parsed;
    try {
      parsed = spec.parse(body, headers, url);
    } catch (err) {
      if (err instanceof MalformedRequest) {
        logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
          status: 400,
          reason: err.message,
          bytes: body.length,
        });
        return rejected(REJECTION_REASONS.malformed, respond(400, { error: err.message }));
      }
      throw err;
    }
    if (parsed.deliveryId.length > 256 || !/^[\x21-\x7e]+$/.test(parsed.deliveryId)) {
      logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
        status: 400,
        reason: "delivery id is not 1-256 printable characters",
      });
      return rejected(
        REJECTION_REASONS.malformed,
        respond(400, { error: "delivery id must be 1-256 printable ASCII characters" }),
      );
    }
    // Ids safe inside an input transformer's JSON (CORRELATION_ID_PATTERN): the caller's where the
    // signature covers it, else the delivery id, else one derived from the delivery id (the same on
    // every redelivery). An unsigned X-Correlation-Id is never trusted.
    const correlationId =
      validCorrelationId(parsed.correlationId) ??
      validCorrelationId(parsed.deliveryId) ??
      `delivery-${crypto.createHash("sha256").update(`${cfg.provider}:${parsed.deliveryId}`).digest("hex").slice(0, 40)}`;
    // From here on the log lines carry the id the event is published with.
    logger.setCorrelationId?.(correlationId);
    const selected: Record<string, string> = {};
    for (const h of spec.headers) if (headers[h] !== undefined) selected[h] = headers[h]!;

    const detail = {
      provider: cfg.provider,
      deliveryId: parsed.deliveryId,
      correlationId,
      eventType: parsed.eventType,
      receivedAt: new Date(now()).toISOString(),
      headers: selected,
      payload: parsed.payload,
    };
    const entry: PublishEntry = {
      Source: eventSource(cfg.provider),
      // EventBridge refuses an empty detail-type.
      DetailType: (parsed.eventType || "webhook").slice(0, MAX_DETAIL_TYPE),
      Detail: JSON.stringify(detail),
    };
    const log = {
      deliveryId: parsed.deliveryId,
      correlationId,
      eventType: parsed.eventType,
      bytes: body.length,
    };
    // The signed replay key, not the delivery id: a resent capture under a new id is a duplicate.
    const key = `${cfg.provider}:${parsed.replayKey}`;
    const delivery: Delivery = {
      key,
      entry,
      deliveryId: parsed.deliveryId,
      correlationId,
    };
    if (entrySize(entry) > maxStoredEntryBytes) {
      if (!cfg.payloadBucket || !deps.s3) {
        logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
          ...log,
          status: 413,
          reason: "payload over the bus entry limit",
        });
        return rejected(
          REJECTION_REASONS.tooLarge,
          respond(413, {
            error: `payload too large: events are limited to ${maxStoredEntryBytes} bytes`,
          }),
        );
      }
      // The body goes to S3 under a name of the idempotency key (a redelivery writes the same
      // bytes to the same key), and the event carries a reference to it.
      const payloadKey = `${cfg.payloadPrefix}${crypto.createHash("sha256").update(key).digest("hex")}`;
      const contentType = headers["content-type"] ?? "application/octet-stream";
      const { payload: _inline, ...rest } = detail;
      delivery.entry = {
        ...entry,
        Detail: JSON.stringify({
          ...rest,
          payloadRef: {
            bucket: cfg.payloadBucket,
            key: payloadKey,
            bytes: body.length,
            sha256: crypto.createHash("sha256").update(body).digest("hex"),
            contentType,
          },
        }),
      };
      delivery.oversized = { bucket: cfg.payloadBucket, key: payloadKey, body, contentType };
    }

    // The event is checked against its contract before it is stored: the relay publishes what the
    // receiver accepted, so a refusal is answered to the sender now.
    const contract = checkSwitchyardContract(delivery.entry);
    if (contract.refused) {
      const { errorCode, errorMessage } = contract.refused;
      if (CONTRACT_REFUSALS.has(errorCode)) {
        // A verified delivery whose content breaks its event contract (lib/eventSchemas): the
        // sender's input, not a fault of ours, so a redelivery would be refused again.
        logger.warn(OUTCOME_LOG_MESSAGES.webhookContractRefused, {
          ...log,
          errorCode,
          error: errorMessage,
        });
        return rejected(
          REJECTION_REASONS.malformed,
          respond(400, {
            error: `the delivery does not fit its event contract: ${errorMessage}`,
          }),
        );
      }
      // No contract names this provider's events: a fault of this deployment, not of the sender.
      logger.error("webhook has no event contract", { ...log, errorCode, error: errorMessage });
      return { response: respond(500, { error: "internal error" }), outcome: serverError };
    }

    let stored: boolean;
    try {
      stored = await store(delivery);
    } catch (err) {
      if (err instanceof StoreRefused) {
        logger.error("webhook could not be stored", { ...log, error: errorSummary(err) });
        return { response: respond(500, { error: "internal error" }), outcome: serverError };
      }
      logger.error("webhook delivery failed, provider should retry", {
        ...log,
        error: errorSummary(err),
      });
      return { response: unavailable("temporarily unavailable"), outcome: serverError };
    }
    logger.info(
      stored ? OUTCOME_LOG_MESSAGES.webhookAccepted : OUTCOME_LOG_MESSAGES.webhookDuplicate,
      {
        ...log,
        ...(stored && delivery.oversized ? { payloadKey: delivery.oversized.key } : {}),
      },
    );
    return {
      response: ok(spec, stored ? "accepted" : "duplicate", parsed.deliveryId),
      outcome: { kind: stored ? "accepted" : "duplicate" },
    };
  }

  /**
   * Records the invocation's metrics and flushes them (one EMF blob; a rejection is its own blob,
   * emitted by recordRejected). Runs synchronously after the answer is known, so concurrent
   * invocations in one process never mix their metrics. A metrics fault is logged, never thrown.
   */
  function emitMetrics(handled: Handled): void {
    emitInvocationMetrics(
      deps.metrics,
      (metrics) => {
        const o = handled.outcome;
        if (o.kind === "rejected") recordRejected(metrics, o.reason, cfg.provider);
        else if (o.kind === "accepted") recordAccepted(metrics);
        else if (o.kind === "duplicate") recordDuplicate(metrics);
        if (o.kind === "accepted" || o.kind === "duplicate")
          metrics.addMetadata("provider", cfg.provider);
      },
      (what, err) => logger.error(`webhook metrics not ${what}`, { error: errorSummary(err) }),
    );
  }

  return async (event: LambdaFunctionURLEvent, context: Context): Promise<Response> => {
    logger.addContext?.(context);
    // Until the delivery is parsed: the caller's x-correlation-id (or x-request-id), else the request id.
    correlate(logger, correlationIdFrom(event));
    let handled: Handled;
    try {
      handled = await handle(event);
    } catch (err) {
      logger.error("webhook handler failed", { error: errorSummary(err) });
      handled = { response: respond(500, { error: "internal error" }), outcome: serverError };
    }
    emitMetrics(handled);
    return handled.response;
  };
}

function ok(
  spec: ReturnType<typeof providerSpec>,
  status: "accepted" | "duplicate",
  deliveryId: string,
): Response {
  const r = spec.ok(status, deliveryId);
  return {
    statusCode: 200,
    headers: { "content-type": r.contentType, "cache-control": "no-store" },
    body: r.body,
  };
}

/** Name and message of an error, never a payload (SDK errors carry no request data). */
function errorSummary(err: unknown): { name: string; message: string; cause?: string } {
  const e = err as Error & { cause?: Error };
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(err),
    ...(e?.cause ? { cause: `${e.cause.name}: ${e.cause.message}` } : {}),
  };
}

/**
 * The handler as Lambda runs it: configuration from the environment, SDK clients built inside
 * Lambda on their first use (the `callbackFactory` of the component calls this at cold start).
 */
export function createReceiver() {
  const config = readReceiverConfig();
  return makeHandler({
    config,
    secretsManager: lazySecretsManager(),
    dynamodb: lazyDynamodb(),
    // Only oversized payloads use S3: not built at init even where the other clients are.
    s3: config.payloadBucket ? lazyS3({ rarelyUsed: true }) : undefined,
    logger: new Logger({
      serviceName: WEBHOOK_SERVICE,
      persistentKeys: { provider: config.provider },
    }),
    // Namespace Switchyard, dimension service=switchyard-webhooks: what the Monitoring alarm watches.
    metrics: makeMetrics(WEBHOOK_SERVICE),
  });
}
