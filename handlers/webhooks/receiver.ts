// The webhook receiver behind one provider's Lambda Function URL: checks path and method, verifies
// the signature over the exact body bytes with the current or previous secret, deduplicates the
// delivery in DynamoDB (Powertools idempotency) and publishes one event to the hub's bus (the body
// goes to S3 when it is over the bus entry limit). Only transient failures answer 5xx, so the
// provider redelivers exactly those. Each invocation emits its business metrics (EMF, the contract
// of handlers/lib/telemetry.ts): one of accepted / duplicate / rejected(reason) per 2xx-4xx answer,
// and the publisher's outcome whenever it ran.
import * as crypto from "crypto";
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from "aws-lambda";
import type * as Idempotency from "@aws-lambda-powertools/idempotency";
import type * as IdempotencyDynamoDB from "@aws-lambda-powertools/idempotency/dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  ensureInstalled,
  lazy,
  lazyDynamodb,
  lazyEventBridge,
  lazyS3,
  lazySecretsManager,
  sdkS3,
} from "../lib/lazy";
import {
  entrySize,
  makePublisher,
  PublishEntry,
  PublishResult,
  RETRYABLE_ENTRY_CODES,
} from "../lib/publisher";
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
  recordPublish,
  recordRejected,
  REJECTION_REASONS,
  RejectionReason,
  validCorrelationId,
  WEBHOOK_SERVICE,
} from "../lib/telemetry";
import { HMAC_SIGNED_CONTENTS, HmacSignedContent } from "./providers/hmac";
import { isProvider, MalformedRequest, Provider, providerSpec, PROVIDERS } from "./providers";
import { makeSourceAllowlist } from "./sourceIp";

/** What the receiver is configured with (from its environment in Lambda). */
export interface ReceiverConfig {
  provider: Provider;
  /** ARN of the Secrets Manager secret holding the signing secret(s). */
  secretArn: string;
  /** Name of the idempotency table (partition key `id`, TTL attribute `expiration`). */
  idempotencyTable: string;
  /** Seconds a delivery id is remembered. */
  idempotencyTtlSeconds: number;
  /** Bus name or ARN. */
  eventBusName: string;
  /** Largest event entry published; bigger payloads go to S3 or are answered 413. */
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
    eventBusName: required(ENV.eventBusName),
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
  /** EventBridgeClient. */
  eventBridge: { send(command: any): Promise<any> };
  /** SecretsManagerClient (or a ready reader, e.g. one shared by tests). */
  secretsManager?: { send(command: any): Promise<any> };
  secrets?: SecretReader;
  /**
   * DynamoDBClient for the idempotency table (Powertools requires a real SDK v3 client), or a
   * function that builds it: it is first needed by a verified delivery (handlers/lib/lazy.ts).
   */
  dynamodb: DynamoDBClient | (() => DynamoDBClient);
  /** S3Client, when a payload bucket is configured. */
  s3?: { send(command: any): Promise<any> };
  logger?: ReceiverLogger;
  /**
   * Powertools Metrics (handlers/lib/telemetry.ts `makeMetrics(WEBHOOK_SERVICE)`), flushed at the end
   * of every invocation. Default none: no metrics are emitted (createReceiver always passes one).
   */
  metrics?: Metrics;
  /** Clock in ms. */
  now?: () => number;
  /** Publisher backoff (tests shorten it). */
  publishBaseDelayMs?: number;
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

/** A publish that did not reach the bus; `transient` errors are worth a redelivery. */
class PublishFailed extends HandlerError {
  public readonly code: string;
  constructor(code: string, message: string) {
    super("PublishFailed", message);
    this.code = code;
  }
}

interface Delivery {
  /** The idempotency key: provider and delivery id. */
  key: string;
  /** Unique per request: a stored result with another nonce means this request is a duplicate. */
  nonce: string;
  entry: PublishEntry;
  /** Set when the body must go to S3 (the entry then carries a reference). */
  oversized?: { body: Buffer; contentType: string };
  /** Mutable: `published` once the event is on the bus; `publish` once the publisher answered. */
  state: { published: boolean; publish?: PublishResult };
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
  /** The publisher's result, when it ran in this invocation (not for duplicates). */
  publish?: PublishResult;
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

interface DeliveryResult {
  nonce: string;
  eventId?: string;
  payloadKey?: string;
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
  const publisher = makePublisher({
    client: deps.eventBridge,
    busName: cfg.eventBusName,
    maxEntryBytes: cfg.maxEntryBytes,
    baseDelayMs: deps.publishBaseDelayMs,
  });
  const dynamodb = deps.dynamodb;

  // Built for the first verified delivery: rejected requests never load Powertools idempotency or
  // the DynamoDB client (handlers/lib/lazy.ts).
  const processDelivery = lazy(() => {
    const { IdempotencyConfig, makeIdempotent } =
      require("@aws-lambda-powertools/idempotency") as typeof Idempotency;
    const { DynamoDBPersistenceLayer } =
      require("@aws-lambda-powertools/idempotency/dynamodb") as typeof IdempotencyDynamoDB;
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: cfg.idempotencyTable,
      awsSdkV3Client: typeof dynamodb === "function" ? dynamodb() : dynamodb,
    });
    return makeIdempotent(
      async (delivery: Delivery, _context: Context): Promise<DeliveryResult> => {
        let entry = delivery.entry;
        let payloadKey: string | undefined;
        if (delivery.oversized) {
          if (!deps.s3 || !cfg.payloadBucket) throw new Error("payload bucket is not configured");
          payloadKey = `${cfg.payloadPrefix}${crypto.createHash("sha256").update(delivery.key).digest("hex")}`;
          await deps.s3.send(
            new (sdkS3().PutObjectCommand)({
              Bucket: cfg.payloadBucket,
              Key: payloadKey,
              Body: delivery.oversized.body,
              ContentType: delivery.oversized.contentType,
            }),
          );
          const detail = JSON.parse(entry.Detail);
          delete detail.payload;
          detail.payloadRef = {
            bucket: cfg.payloadBucket,
            key: payloadKey,
            bytes: delivery.oversized.body.length,
            sha256: crypto.createHash("sha256").update(delivery.oversized.body).digest("hex"),
            contentType: delivery.oversized.contentType,
          };
          entry = { ...entry, Detail: JSON.stringify(detail) };
        }
        const result = await publisher.publish([entry]);
        delivery.state.publish = result;
        if (result.failed.length > 0) {
          const f = result.failed[0];
          throw new PublishFailed(f.errorCode, f.errorMessage);
        }
        delivery.state.published = true;
        return { nonce: delivery.nonce, ...(payloadKey ? { payloadKey } : {}) };
      },
      {
        persistenceStore,
        keyPrefix: `switchyard.webhooks.${cfg.provider}`,
        config: new IdempotencyConfig({
          eventKeyJmesPath: "key",
          throwOnNoIdempotencyKey: true,
          expiresAfterSeconds: cfg.idempotencyTtlSeconds,
        }),
      },
    );
  });

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

  async function handle(event: LambdaFunctionURLEvent, context: Context): Promise<Handled> {
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
    const delivery: Delivery = {
      // The signed replay key, not the delivery id: a resent capture under a new id is a duplicate.
      key: `${cfg.provider}:${parsed.replayKey}`,
      nonce: crypto.randomUUID(),
      entry,
      state: { published: false },
    };
    if (entrySize(entry) > cfg.maxEntryBytes) {
      if (!cfg.payloadBucket) {
        logger.warn(OUTCOME_LOG_MESSAGES.webhookRejected, {
          ...log,
          status: 413,
          reason: "payload over the bus entry limit",
        });
        return rejected(
          REJECTION_REASONS.tooLarge,
          respond(413, {
            error: `payload too large: events are limited to ${cfg.maxEntryBytes} bytes`,
          }),
        );
      }
      delivery.oversized = {
        body,
        contentType: headers["content-type"] ?? "application/octet-stream",
      };
    }

    let result: DeliveryResult;
    try {
      result = await processDelivery()(delivery, context);
    } catch (err) {
      const publish = delivery.state.publish;
      if (delivery.state.published) {
        // The event is on the bus; only recording that failed. A redelivery would publish again.
        logger.error("webhook published but its idempotency record was not saved", {
          ...log,
          error: errorSummary(err),
        });
        return {
          response: ok(spec, "accepted", parsed.deliveryId),
          outcome: { kind: "accepted" },
          publish,
        };
      }
      const name = (err as Error)?.name;
      if (name === "IdempotencyAlreadyInProgressError") {
        logger.info("webhook duplicate in progress", log);
        return { response: unavailable("delivery in progress, retry later"), outcome: serverError };
      }
      if (err instanceof PublishFailed && CONTRACT_REFUSALS.has(err.code)) {
        // A verified delivery whose content breaks its event contract (lib/eventSchemas): the
        // sender's input, not a fault of ours, so a redelivery would be refused again.
        logger.warn(OUTCOME_LOG_MESSAGES.webhookContractRefused, {
          ...log,
          errorCode: err.code,
          error: err.message,
        });
        return {
          response: respond(400, {
            error: `the delivery does not fit its event contract: ${err.message}`,
          }),
          outcome: { kind: "rejected", reason: REJECTION_REASONS.malformed },
          publish,
        };
      }
      if (
        err instanceof PublishFailed &&
        !RETRYABLE_ENTRY_CODES.has(err.code) &&
        !/Throttl|Internal|Unavailable|Timeout/.test(err.code)
      ) {
        logger.error("webhook could not be published", {
          ...log,
          errorCode: err.code,
          error: err.message,
        });
        return {
          response: respond(500, { error: "internal error" }),
          outcome: serverError,
          publish,
        };
      }
      logger.error("webhook delivery failed, provider should retry", {
        ...log,
        error: errorSummary(err),
      });
      return { response: unavailable("temporarily unavailable"), outcome: serverError, publish };
    }
    const duplicate = result.nonce !== delivery.nonce;
    logger.info(
      duplicate ? OUTCOME_LOG_MESSAGES.webhookDuplicate : OUTCOME_LOG_MESSAGES.webhookAccepted,
      {
        ...log,
        ...(result.payloadKey ? { payloadKey: result.payloadKey } : {}),
      },
    );
    return {
      response: ok(spec, duplicate ? "duplicate" : "accepted", parsed.deliveryId),
      outcome: { kind: duplicate ? "duplicate" : "accepted" },
      // A duplicate answered from the stored record did not publish.
      publish: duplicate ? undefined : delivery.state.publish,
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
        if (handled.publish) recordPublish(metrics, handled.publish);
        if (o.kind === "accepted" || o.kind === "duplicate" || handled.publish)
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
      handled = await handle(event, context);
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
  // Powertools idempotency requires util-dynamodb from the runtime: checked now, as the clients' are.
  ensureInstalled("@aws-sdk/util-dynamodb");
  return makeHandler({
    config,
    eventBridge: lazyEventBridge(),
    secretsManager: lazySecretsManager(),
    // Powertools idempotency takes the real DynamoDBClient: built once, on first use.
    dynamodb: lazyDynamodb().client,
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
