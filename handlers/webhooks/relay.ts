// The webhook relay: publishes the deliveries the receivers stored (handlers/webhooks/outbox.ts) to
// the hub's bus, fed by the deliveries table's DynamoDB stream through an event source mapping
// (components/webhooks/webhookReceiver.ts, RELAY_STREAM_SETTINGS): partial batch responses,
// bisection, bounded retries and the hub's DLQ as on-failure destination.
//
// Every accepted delivery ends on the bus or, whole, in the hub's DLQ:
// - published: done. Deliveries go in stream order, at most ten per PutEvents call.
// - refused for good (PERMANENT_CODES: the bus is not ours to write, the entry breaks its contract
//   or the bus limit): the relay sends the event itself to the hub's DLQ, as EventBridge writes a
//   dead letter (the event as the body, TARGET_ARN the bus, ERROR_CODE, ERROR_MESSAGE), where
//   `npm run ops -- dlq redrive` publishes it once the cause is fixed; the record counts as
//   handled, so it holds up no other delivery.
// - anything else (throttling, the bus unavailable, a network fault): the record and every later
//   one of the batch are reported failed, so Lambda resumes the shard from it and nothing behind
//   it is skipped. Events of a call that succeeded after the failed one are published again on
//   that retry: consumers deduplicate on `detail.deliveryId`, as they must for EventBridge's
//   at-least-once delivery anyway. Past the mapping's retries the on-failure destination gets a
//   pointer to the records, and the item still holds the event until its TTL.
// Each invocation emits the publishing metrics (EventsPublished, PublishRetries,
// EventsPublishFailed) under the receivers' service, which the webhook alarms and dashboard watch.
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { lazyEventBridge, lazySqs, sdkSqs, SendClient } from "../lib/lazy";
import type { LoggerLike } from "../lib/logger";
import {
  CONTRACT_ERRORS,
  FailedEntry,
  MAX_ENTRIES_PER_CALL,
  makePublisher,
  PublishEntry,
  PublisherOptions,
} from "../lib/publisher";
import {
  emitInvocationMetrics,
  makeMetrics,
  recordPublish,
  WEBHOOK_SERVICE,
} from "../lib/telemetry";
import { RELAY_ENV } from "../../lib/contracts";
import { deliveryFromImage } from "./outbox";

export interface RelayConfig {
  /** The hub's bus ARN. */
  eventBusArn: string;
  /** Largest event entry the bus accepts, bytes. */
  maxEntryBytes: number;
  /** The hub's DLQ. */
  deadLetterQueueUrl: string;
}

/** Reads the configuration from environment variables; throws naming a missing or bad one. */
export function readRelayConfig(
  env: Record<string, string | undefined> = process.env,
): RelayConfig {
  const required = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  const raw = required(RELAY_ENV.maxEntryBytes);
  const maxEntryBytes = Number(raw);
  if (!Number.isInteger(maxEntryBytes) || maxEntryBytes < 1)
    throw new Error(`${RELAY_ENV.maxEntryBytes} must be an integer >= 1, got "${raw}"`);
  return {
    eventBusArn: required(RELAY_ENV.eventBusArn),
    maxEntryBytes,
    deadLetterQueueUrl: required(RELAY_ENV.deadLetterQueueUrl),
  };
}

/**
 * Per-entry refusals a retry cannot change: the role may not publish to the bus, the bus does not
 * exist, the request is invalid, or the entry breaks its contract or the size limit (the
 * publisher's own codes). Any other code is treated as transient and retried.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  "AccessDeniedException",
  "NotAuthorized",
  "ResourceNotFoundException",
  "ValidationException",
  "InvalidArgument",
  "EntryTooLarge",
  ...Object.values(CONTRACT_ERRORS),
]);

/** SQS limits a message attribute's value only by the message size: keep error text readable. */
const MAX_ERROR_MESSAGE = 1000;

/**
 * Stream records this execution environment has published or dead-lettered, remembered so that a
 * batch Lambda retries from a failed record (on the same shard, so usually in the same warm
 * environment) does not publish again the records that succeeded after it in the same call.
 */
const HANDLED_MEMORY = 10_000;

/**
 * The first `max` characters of `s`, never half of a surrogate pair, and only characters SQS
 * accepts in a message attribute (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF).
 */
export function sqsText(s: string, max: number): string {
  const chars = Array.from(s).filter((c) => {
    const cp = c.codePointAt(0)!;
    return (
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000
    );
  });
  return chars.slice(0, max).join("");
}

export interface RelayDeps {
  config: RelayConfig;
  /** An EventBridgeClient (anything with its `send`). */
  eventBridge: SendClient;
  /** An SQSClient, for dead letters. */
  sqs: SendClient;
  logger?: Pick<LoggerLike, "info" | "error">;
  /** Publisher tuning (tests pass `sleep`). */
  publisher?: Pick<PublisherOptions, "maxAttempts" | "baseDelayMs" | "sleep">;
  /** Powertools Metrics (`makeMetrics(WEBHOOK_SERVICE)`), flushed at the end of every invocation. */
  metrics?: Metrics;
}

interface Pending {
  record: DynamoDBRecord;
  /** The stored item's id: the dead letter's event id, so a redrive delivers it once. */
  id: string;
  entry: PublishEntry;
  deliveryId?: string;
  correlationId?: string;
}

const silent = { info: () => undefined, error: () => undefined };

/**
 * The SendMessage input of a stored delivery the bus refused for good: the event as EventBridge
 * would have delivered it as the body (its id the delivery's item id, its time the receipt), and
 * the attributes EventBridge sets on a dead letter that a relay knows (no RULE_ARN: no rule was
 * involved). `npm run ops -- dlq redrive` puts such a message's event back onto TARGET_ARN.
 */
export function deadLetterMessage(
  cfg: Pick<RelayConfig, "eventBusArn" | "deadLetterQueueUrl">,
  d: { id: string; entry: PublishEntry },
  f: Pick<FailedEntry, "errorCode" | "errorMessage">,
) {
  let detail: unknown;
  try {
    detail = JSON.parse(d.entry.Detail);
  } catch {
    detail = d.entry.Detail;
  }
  const receivedAt = (detail as { receivedAt?: unknown })?.receivedAt;
  const event = {
    version: "0",
    id: d.id,
    "detail-type": d.entry.DetailType,
    source: d.entry.Source,
    time: typeof receivedAt === "string" ? receivedAt : new Date().toISOString(),
    resources: [],
    detail,
  };
  const attr = (v: string) => ({ DataType: "String", StringValue: v });
  return {
    QueueUrl: cfg.deadLetterQueueUrl,
    MessageBody: JSON.stringify(event),
    MessageAttributes: {
      TARGET_ARN: attr(cfg.eventBusArn),
      ERROR_CODE: attr(f.errorCode),
      ERROR_MESSAGE: attr(sqsText(f.errorMessage || f.errorCode, MAX_ERROR_MESSAGE)),
      RETRY_ATTEMPTS: { DataType: "Number", StringValue: "0" },
    },
  };
}

/** Builds the relay's handler. */
export function makeRelay(deps: RelayDeps) {
  const logger = deps.logger ?? silent;
  const cfg = deps.config;
  const publisher = makePublisher({
    client: deps.eventBridge,
    busName: cfg.eventBusArn,
    maxEntryBytes: cfg.maxEntryBytes,
    ...deps.publisher,
  });

  /** The refused delivery, whole, in the hub's DLQ as EventBridge writes a dead letter. */
  const deadLetter = (p: Pending, f: FailedEntry) =>
    deps.sqs.send(new (sdkSqs().SendMessageCommand)(deadLetterMessage(cfg, p, f)));

  // Insertion-ordered: the oldest is forgotten first.
  const handled = new Set<string>();
  const recordKey = (r: DynamoDBRecord) => `${r.eventSourceARN}|${r.dynamodb?.SequenceNumber}`;
  const remember = (r: DynamoDBRecord) => {
    handled.add(recordKey(r));
    if (handled.size > HANDLED_MEMORY) handled.delete(handled.values().next().value!);
  };

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    // Per invocation, so the counts of one batch never mix with another's.
    const tally = { delivered: 0, retries: 0, failed: [] as FailedEntry[] };
    try {
      const pending: Pending[] = [];
      for (const record of event.Records ?? []) {
        // Every INSERT or MODIFY the receivers write is an accepted delivery (a MODIFY re-accepts an
        // expired id); a REMOVE is the TTL forgetting one.
        if (record.eventName !== "INSERT" && record.eventName !== "MODIFY") continue;
        // Published (or dead-lettered) by an earlier try of this batch in this environment.
        if (handled.has(recordKey(record))) continue;
        const d = deliveryFromImage(
          record.dynamodb?.NewImage as Parameters<typeof deliveryFromImage>[0],
        );
        if (!d) {
          // Not a stored delivery: an idempotency record an earlier deployment wrote.
          logger.info("stream record is not a stored delivery", {
            eventName: record.eventName,
            sequenceNumber: record.dynamodb?.SequenceNumber,
          });
          continue;
        }
        pending.push({ record, ...d });
      }
      for (let i = 0; i < pending.length; i += MAX_ENTRIES_PER_CALL) {
        const chunk = pending.slice(i, i + MAX_ENTRIES_PER_CALL);
        const result = await publisher.publish(chunk.map((p) => p.entry));
        tally.delivered += result.delivered;
        tally.retries += result.retries;
        tally.failed.push(...result.failed);
        // The publisher reports each failure with the entry it was given.
        const failures = new Map(result.failed.map((f) => [f.entry, f]));
        let firstRetryable = -1;
        for (const [k, p] of chunk.entries()) {
          const f = failures.get(p.entry);
          const ids = { deliveryId: p.deliveryId, correlationId: p.correlationId };
          if (!f) {
            remember(p.record);
            logger.info("webhook published", { ...ids, eventType: p.entry.DetailType });
            continue;
          }
          const failure = { errorCode: f.errorCode, error: f.errorMessage };
          if (PERMANENT_CODES.has(f.errorCode)) {
            try {
              await deadLetter(p, f);
              remember(p.record);
              logger.error("webhook not published: sent to the DLQ", { ...ids, ...failure });
              continue;
            } catch (err) {
              logger.error("webhook not published, and not sent to the DLQ", {
                ...ids,
                ...failure,
                dlqError: `${(err as Error)?.name}: ${(err as Error)?.message}`,
              });
            }
          } else {
            logger.error("webhook not published", {
              ...ids,
              ...failure,
              sequenceNumber: p.record.dynamodb?.SequenceNumber,
            });
          }
          if (firstRetryable < 0) firstRetryable = k;
        }
        if (firstRetryable >= 0) {
          // Lambda resumes the shard from the lowest sequence number reported.
          return {
            batchItemFailures: pending.slice(i + firstRetryable).map((p) => ({
              itemIdentifier: p.record.dynamodb!.SequenceNumber!,
            })),
          };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      emitInvocationMetrics(
        deps.metrics,
        (metrics) => recordPublish(metrics, tally),
        (what, err) =>
          logger.error(`webhook relay metrics not ${what}`, { error: (err as Error)?.message }),
      );
    }
  };
}

/** The deployed relay: configuration from the environment, its clients built on first use. */
export function createRelay() {
  return makeRelay({
    config: readRelayConfig(),
    eventBridge: lazyEventBridge(),
    // Only a delivery the bus refuses for good uses SQS: not built at init even where others are.
    sqs: lazySqs({ rarelyUsed: true }),
    logger: new Logger({ serviceName: WEBHOOK_SERVICE, persistentKeys: { role: "relay" } }),
    // Namespace Switchyard, dimension service=switchyard-webhooks: what the webhook alarms watch.
    metrics: makeMetrics(WEBHOOK_SERVICE),
  });
}
