// The outbound webhook dispatcher: an SQS event source mapping per subscription feeds it batches of
// that subscription's queue; each message is POSTed, signed per Standard Webhooks, to the
// subscription's endpoint. Retries never sleep in the function: a failed message is left on its
// queue (reported in batchItemFailures) with its visibility timeout set to the schedule's next delay.
// After the last attempt the message goes to the subscription's DLQ and an AttemptExhausted event is
// published. A lease in the attempt log (a conditional write before each POST, success recorded
// before the message is deleted) keeps at-least-once SQS delivery from POSTing a message twice.
import { randomUUID } from "crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { signStandard, STANDARD_HEADERS } from "../webhooks/providers/standard";
import {
  OUTBOUND_DETAIL_TYPES,
  OUTBOUND_METRIC,
  OUTBOUND_SERVICE,
  OUTBOUND_SOURCE,
  OUTBOUND_SUBSCRIPTION_DIMENSION,
  OUTCOME_LOG_MESSAGES,
} from "../../lib/contracts";
import { requireEnv } from "../lib/env";
import {
  lazyDynamodbDocument,
  lazyEventBridge,
  lazySecretsManager,
  lazySqs,
  sdkSqs,
  SendClient,
} from "../lib/lazy";
import { LoggerLike, SILENT } from "../lib/logger";
import { makePublisher, PublishEntry } from "../lib/publisher";
import { makeSecretReader } from "../lib/secrets";
import { makeMetrics } from "../lib/telemetry";
import { Resolver, systemResolver } from "./address";
import { makeAttemptLog, EndpointItem } from "./attemptLog";
import { postMessage } from "./deliver";
import { parseQueued, payloadOf, QueuedMessage } from "./message";
import {
  DispatcherSettings,
  OUTBOUND_DEFAULTS,
  OUTBOUND_ENV,
  SubscriptionResources,
  SubscriptionSettings,
  USER_AGENT,
} from "./settings";

export interface OutboundMetrics {
  count(metric: string, subscription: string): void;
}

export interface DispatcherDeps {
  settings: DispatcherSettings;
  /** Queues and secret of each subscription, by name. */
  resources: Record<string, SubscriptionResources>;
  table: string;
  busName: string;
  sqs: SendClient;
  /** A DynamoDB document client. */
  doc: SendClient;
  /** An EventBridge client. */
  events: SendClient;
  secrets: { getSigningSecrets(arn: string): Promise<string[]> };
  /** Default: the system's resolver (dns.lookup). */
  resolve?: Resolver;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  logger?: LoggerLike;
  metrics?: OutboundMetrics;
  /** Certificates to trust instead of Node's bundled CAs (tests' self-signed subscribers only). */
  tlsCa?: string;
}

/** Seconds SQS accepts as a visibility timeout (0 to 12 h). */
const visibility = (seconds: number) => Math.max(0, Math.min(43200, Math.ceil(seconds)));

export function makeDispatcher(deps: DispatcherDeps) {
  const s = deps.settings;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? SILENT;
  const metrics = deps.metrics ?? { count: () => undefined };
  const resolve = deps.resolve ?? systemResolver;
  const log = makeAttemptLog({ doc: deps.doc, table: deps.table, ttlDays: s.attemptLogTtlDays });
  const publisher = makePublisher({ client: deps.events, busName: deps.busName });
  const subscriptions = new Map<string, SubscriptionSettings>(
    s.subscriptions.map((x) => [x.name, x]),
  );
  const byQueueArn = new Map<string, string>(
    Object.entries(deps.resources).map(([name, r]) => [r.queueArn, name]),
  );
  // A lease outlives the invocation that took it (its timeout: the request + 30 s of bookkeeping).
  const leaseMs = s.requestTimeoutMs + 40000;

  const changeVisibility = (r: SQSRecord, queueUrl: string, seconds: number) =>
    deps.sqs.send(
      new (sdkSqs().ChangeMessageVisibilityCommand)({
        QueueUrl: queueUrl,
        ReceiptHandle: r.receiptHandle,
        VisibilityTimeout: visibility(seconds),
      }),
    );

  const publish = async (entry: Omit<PublishEntry, "Source">) => {
    const out = await publisher.publish([{ Source: OUTBOUND_SOURCE, ...entry }]);
    if (out.failed.length > 0)
      logger.error("operational event not published", {
        detailType: entry.DetailType,
        error: out.failed[0].errorCode,
      });
  };

  /** What one record came to: delivered/dropped (deleted from the queue) or left for later. */
  type Outcome = "done" | "retry";

  async function processRecord(
    r: SQSRecord,
    endpoints: Map<string, Promise<EndpointItem | undefined>>,
  ): Promise<Outcome> {
    const name = byQueueArn.get(r.eventSourceARN);
    const sub = name ? subscriptions.get(name) : undefined;
    if (!name || !sub) {
      logger.error("message from a queue of no subscription", { queueArn: r.eventSourceARN });
      return "retry";
    }
    const res = deps.resources[name];

    let msg: QueuedMessage;
    try {
      msg = parseQueued(r.body);
    } catch (e) {
      // Nothing to deliver: kept in the DLQ for inspection.
      await deps.sqs.send(
        new (sdkSqs().SendMessageCommand)({
          QueueUrl: res.dlqUrl,
          MessageBody: JSON.stringify({
            subscription: name,
            error: (e as Error).message,
            body: r.body,
          }),
        }),
      );
      logger.error("unreadable message sent to the DLQ", {
        subscription: name,
        error: (e as Error).message,
      });
      return "done";
    }
    const { messageId, event } = msg;
    const context = { subscription: name, messageId, eventId: event.id };

    // The subscription's own operational events would loop back to a failing endpoint.
    if (
      event.source === OUTBOUND_SOURCE &&
      (event.detail as { subscription?: string } | null)?.subscription === name
    ) {
      logger.info("own operational event not delivered", context);
      return "done";
    }

    if (!endpoints.has(name)) endpoints.set(name, log.getEndpoint(name));
    const endpoint = await endpoints.get(name)!;
    if (endpoint?.disabledAt !== undefined) {
      await changeVisibility(r, res.queueUrl, s.parkSeconds);
      metrics.count(OUTBOUND_METRIC.parked, name);
      logger.info("endpoint disabled: message parked", { ...context, parkSeconds: s.parkSeconds });
      return "retry";
    }

    if (sub.rateLimitPerSecond !== undefined) {
      if (!(await log.takeRate(name, sub.rateLimitPerSecond, now()))) {
        await changeVisibility(r, res.queueUrl, 1 + Math.floor(Math.random() * 3));
        return "retry";
      }
    }

    const owner = randomUUID();
    const acquired = await log.acquire({
      messageId,
      subscription: name,
      owner,
      nowMs: now(),
      leaseMs,
      event: JSON.stringify(event),
    });
    if (!acquired.acquired) {
      if (acquired.status === "succeeded" || acquired.status === "exhausted") {
        logger.info("message already delivered or exhausted: duplicate dropped", {
          ...context,
          status: acquired.status,
        });
        return "done";
      }
      // Another dispatcher is delivering it now, or a copy of it waits for its next attempt: look
      // again once the lease has run out, or at that attempt's time.
      const until = Math.max(acquired.leaseUntil ?? 0, acquired.nextAttemptAtMs ?? 0, now());
      const wait = (until - now()) / 1000 + 1;
      await changeVisibility(r, res.queueUrl, wait);
      return "retry";
    }
    const attempt = acquired.attempts;

    const body = payloadOf(event);
    const startedAt = now();
    const timestamp = Math.floor(startedAt / 1000);
    const secrets = await deps.secrets.getSigningSecrets(res.secretArn);
    // During a rotation both the current and the previous secret sign (space separated).
    const signature = secrets.map((k) => signStandard(k, messageId, timestamp, body)).join(" ");
    const result = await postMessage({
      url: sub.url,
      headers: {
        ...sub.headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [STANDARD_HEADERS.id]: messageId,
        [STANDARD_HEADERS.timestamp]: String(timestamp),
        [STANDARD_HEADERS.signature]: signature,
      },
      body,
      timeoutMs: s.requestTimeoutMs,
      maxResponseBytes: s.maxResponseBytes,
      snippetBytes: OUTBOUND_DEFAULTS.responseSnippetBytes,
      resolve,
      allowHttp: s.allowHttp,
      ...(deps.tlsCa ? { ca: deps.tlsCa } : {}),
    });
    const at = new Date(startedAt).toISOString();
    await log.logAttempt({
      messageId,
      subscription: name,
      at,
      attempt,
      outcome: result.ok ? "success" : "failure",
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
      ...(result.failure ? { failure: result.failure } : {}),
      ...(result.error ? { error: result.error } : {}),
      latencyMs: result.latencyMs,
      response: result.responseSnippet,
      nowMs: now(),
    });

    if (result.ok) {
      // Recorded before the message is deleted: a duplicate of it finds `succeeded` and is dropped.
      await log.finish({
        messageId,
        subscription: name,
        owner,
        nowMs: now(),
        status: "succeeded",
        statusCode: result.statusCode,
      });
      if (endpoint?.failingSince !== undefined) await log.endpointSucceeded(name, now());
      metrics.count(OUTBOUND_METRIC.delivered, name);
      logger.info(OUTCOME_LOG_MESSAGES.outboundDelivered, {
        ...context,
        attempt,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
      });
      return "done";
    }

    metrics.count(OUTBOUND_METRIC.failed, name);
    logger.warn(OUTCOME_LOG_MESSAGES.outboundAttemptFailed, {
      ...context,
      attempt,
      statusCode: result.statusCode,
      failure: result.failure,
      error: result.error,
    });
    const health = await log.endpointFailed(name, now());
    if (
      health.disabledAt === undefined &&
      health.failingSince !== undefined &&
      now() - health.failingSince >= s.disableAfterSeconds * 1000 &&
      (await log.disableEndpoint(name, now()))
    ) {
      metrics.count(OUTBOUND_METRIC.endpointDisabled, name);
      logger.error("endpoint disabled: it failed every attempt", {
        subscription: name,
        failingSinceMs: health.failingSince,
      });
      await publish({
        DetailType: OUTBOUND_DETAIL_TYPES.endpointDisabled,
        Detail: JSON.stringify({
          subscription: name,
          url: sub.url,
          failingSince: new Date(health.failingSince).toISOString(),
          disabledAt: new Date(now()).toISOString(),
        }),
      });
    }

    const schedule = s.retryScheduleSeconds;
    if (attempt < schedule.length) {
      const delay = schedule[attempt];
      await log.finish({
        messageId,
        subscription: name,
        owner,
        nowMs: now(),
        status: "retrying",
        statusCode: result.statusCode,
        error: result.error ?? `HTTP ${result.statusCode}`,
        nextAttemptAt: now() + delay * 1000 * (s.timeScale ?? 1),
      });
      await changeVisibility(r, res.queueUrl, delay);
      return "retry";
    }

    // The last attempt failed: to the subscription's DLQ, announced on the bus.
    const detail = {
      subscription: name,
      messageId,
      eventId: event.id,
      eventSource: event.source,
      eventDetailType: event["detail-type"],
      attempts: attempt,
      lastStatusCode: result.statusCode ?? null,
      lastError: result.error ?? `HTTP ${result.statusCode}`,
      dlqUrl: res.dlqUrl,
    };
    await deps.sqs.send(
      new (sdkSqs().SendMessageCommand)({
        QueueUrl: res.dlqUrl,
        MessageBody: JSON.stringify({ ...detail, event }),
      }),
    );
    await publish({
      DetailType: OUTBOUND_DETAIL_TYPES.attemptExhausted,
      Detail: JSON.stringify(detail),
    });
    await log.finish({
      messageId,
      subscription: name,
      owner,
      nowMs: now(),
      status: "exhausted",
      statusCode: result.statusCode,
      error: detail.lastError,
    });
    metrics.count(OUTBOUND_METRIC.exhausted, name);
    logger.error(OUTCOME_LOG_MESSAGES.outboundExhausted, { ...context, attempts: attempt });
    return "done";
  }

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const endpoints = new Map<string, Promise<EndpointItem | undefined>>();
    const outcomes = await Promise.all(
      event.Records.map(async (r) => {
        try {
          return await processRecord(r, endpoints);
        } catch (e) {
          logger.error("message not processed", {
            sqsMessageId: r.messageId,
            error: (e as Error).message,
          });
          return "retry" as const;
        }
      }),
    );
    return {
      batchItemFailures: event.Records.filter((_, i) => outcomes[i] === "retry").map((r) => ({
        itemIdentifier: r.messageId,
      })),
    };
  };
}

/** The deployed dispatcher: clients built on first use, settings from the component. */
export function createDispatcher(settings: DispatcherSettings) {
  const table = requireEnv(OUTBOUND_ENV.table, "the attempt log table");
  const busName = requireEnv(OUTBOUND_ENV.busName, "the hub's bus");
  const resources = JSON.parse(
    requireEnv(OUTBOUND_ENV.resources, "JSON: subscription to its queues and secret"),
  ) as Record<string, SubscriptionResources>;
  const emf = makeMetrics(OUTBOUND_SERVICE);
  return makeDispatcher({
    settings,
    resources,
    table,
    busName,
    sqs: lazySqs(),
    doc: lazyDynamodbDocument({ marshallOptions: { removeUndefinedValues: true } }),
    events: lazyEventBridge(),
    secrets: makeSecretReader({ client: lazySecretsManager(), ttlMs: 60000 }),
    logger: new Logger({ serviceName: OUTBOUND_SERVICE }),
    metrics: {
      count: (metric, subscription) => {
        const one = emf.singleMetric();
        one.addDimension(OUTBOUND_SUBSCRIPTION_DIMENSION, subscription);
        one.addMetric(metric, "Count", 1);
      },
    },
  });
}
