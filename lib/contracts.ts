// The names Switchyard's deploy-time code (components, config, index.ts), its Lambda handlers and
// its local runtime must agree on: Powertools service names, the business metrics' namespace,
// names and dimensions, and the event sources it publishes under. Imports nothing, so every side
// can import it without loading the other side's packages (Powertools into the Pulumi process,
// @pulumi/* into a function's bundle).

/** Powertools `serviceName` of each function: its logs' `service` key and its metrics' dimension. */
export const SERVICES = {
  /** Every webhook receiver and their relay: the `service` dimension the webhook alarms watch. */
  webhooks: "switchyard-webhooks",
  changePublisher: "change-publisher",
  tenantIngress: "tenant-ingress",
  jobsSubmit: "jobs-submit",
  jobsProcess: "jobs-process",
  jobsFailed: "jobs-failed",
  jobsJwt: "jobs-jwt",
  recordIngestionS3: "record-ingestion-s3",
  recordIngestionStream: "record-ingestion-stream",
  recordsGatewayAuthorizer: "records-gateway-authorizer",
} as const;

/** CloudWatch namespace of every Switchyard business metric. */
export const METRICS_NAMESPACE = "Switchyard";

/**
 * Business metric names (EMF, unit Count). Every metric carries the dimension `service` (Powertools
 * adds it from `serviceName`); `WebhookRejected` also carries `reason` (one of REJECTION_REASONS).
 * The Monitoring component alarms on exactly these names and dimensions.
 */
export const METRIC = {
  /** A webhook delivery verified and accepted: stored, for the relay to publish. */
  deliveryAccepted: "WebhookAccepted",
  /** A webhook delivery refused; dimension `reason`. */
  deliveryRejected: "WebhookRejected",
  /** A webhook delivery already seen (idempotency hit); answered without storing it again. */
  deliveryDuplicate: "WebhookDuplicate",
  /** Events EventBridge accepted from this handler's PutEvents calls. */
  eventsPublished: "EventsPublished",
  /** PutEvents calls that were retries (of a whole batch or of its failed entries). */
  publishRetries: "PublishRetries",
  /** Events that could not be published after all retries. */
  publishFailed: "EventsPublishFailed",
} as const;

/** Dimension names of the business metrics. */
export const DIMENSION = { service: "service", reason: "reason" } as const;

/**
 * Values of the `reason` dimension of `WebhookRejected`. Keep the set small and fixed: each value is
 * a separate CloudWatch metric (billed), and the provider goes to EMF metadata, not a dimension.
 */
export const REJECTION_REASONS = {
  /** Signature missing or wrong: an attack, or a secret rotated on one side only. Alarmed. */
  signature: "signature",
  /** Signed timestamp outside the tolerance (replay or clock skew). */
  timestamp: "timestamp",
  /** Body or headers not of the provider's format. */
  malformed: "malformed",
  /** Path names no configured provider. */
  unknownProvider: "unknown-provider",
  /** Method other than the provider's (POST). */
  method: "method",
  /** Body larger than the receiver accepts. */
  tooLarge: "too-large",
  /** Source address outside the provider's allowlist (switchyard:webhookAllowedCidrs). */
  ip: "ip",
} as const;
export type RejectionReason = (typeof REJECTION_REASONS)[keyof typeof REJECTION_REASONS];

/** The event source a webhook receiver publishes a provider's deliveries under. */
export const eventSource = (provider: string) => `switchyard.webhooks.${provider}`;

/**
 * The environment variable that makes every handler build its SDK clients during Lambda's init
 * (`at-init`) instead of on first use (handlers/lib/lazy.ts; `switchyard:lambdaClientInit`).
 */
export const CLIENT_INIT_ENV = "SWITCHYARD_CLIENT_INIT";

/** The records gateway authorizer's context key that carries the upstream API key to the integration. */
export const UPSTREAM_KEY_CONTEXT = "upstreamKey";

/** The jobs table's TTL attribute (epoch seconds), set on every job item. */
export const JOB_TTL_ATTRIBUTE = "expiresAt";

// --- outbound webhooks (components/webhooks/outboundWebhooks.ts, handlers/outbound/) ---

/** Powertools `serviceName` of the outbound webhook dispatcher. */
export const OUTBOUND_SERVICE = "outbound-dispatcher";

/** The source of the outbound webhooks' operational events on the hub's bus. */
export const OUTBOUND_SOURCE = "switchyard.outbound";

/** Detail types of the outbound webhooks' operational events. */
export const OUTBOUND_DETAIL_TYPES = {
  /** A message failed its last scheduled attempt and went to its subscription's DLQ. */
  attemptExhausted: "Switchyard.Outbound.AttemptExhausted",
  /** An endpoint failed every attempt for `disableAfterSeconds` and was disabled. */
  endpointDisabled: "Switchyard.Outbound.EndpointDisabled",
} as const;

/**
 * The dispatcher's business metrics (EMF, namespace METRICS_NAMESPACE, unit Count), each with the
 * dimensions `service` (OUTBOUND_SERVICE) and `subscription`: the outbound alarms watch them.
 */
export const OUTBOUND_METRIC = {
  delivered: "OutboundDelivered",
  failed: "OutboundAttemptFailed",
  exhausted: "OutboundExhausted",
  endpointDisabled: "OutboundEndpointDisabled",
  parked: "OutboundParked",
} as const;

/** The dimension of the outbound metrics that names the subscription. */
export const OUTBOUND_SUBSCRIPTION_DIMENSION = "subscription";

/**
 * The environment variables a webhook receiver function reads (handlers/webhooks/receiver.ts
 * `readReceiverConfig`), set by its component (components/webhooks/webhookReceiver.ts).
 */
export const RECEIVER_ENV = {
  provider: "WEBHOOK_PROVIDER",
  secretArn: "WEBHOOK_SECRET_ARN",
  idempotencyTable: "IDEMPOTENCY_TABLE",
  idempotencyTtlSeconds: "IDEMPOTENCY_TTL_SECONDS",
  maxEntryBytes: "MAX_ENTRY_BYTES",
  toleranceSeconds: "TOLERANCE_SECONDS",
  payloadBucket: "PAYLOAD_BUCKET",
  payloadPrefix: "PAYLOAD_PREFIX",
  publicUrl: "PUBLIC_URL",
  allowedCidrs: "ALLOWED_SOURCE_CIDRS",
  hmacSignedContent: "HMAC_SIGNED_CONTENT",
} as const;

/**
 * The environment variables the webhook relay reads (handlers/webhooks/relay.ts `readRelayConfig`),
 * set by the WebhookReceiver component.
 */
export const RELAY_ENV = {
  /** The hub's bus ARN: where the relay publishes, and the TARGET_ARN of its dead letters. */
  eventBusArn: "EVENT_BUS_ARN",
  maxEntryBytes: "MAX_ENTRY_BYTES",
  /** The hub's DLQ: a delivery the bus refuses for good goes there, whole. */
  deadLetterQueueUrl: "DEAD_LETTER_QUEUE_URL",
} as const;

/**
 * The hub's redrive ledger (components/events/eventHub.ts declares it, `npm run ops -- dlq redrive`
 * writes it): one item per dead-lettered event and target, keyed `<event id>|<target ARN>`, kept
 * past the longest time SQS keeps a message (14 days).
 */
export const REDRIVE_LEDGER = { key: "pk", ttlAttribute: "expiresAt", ttlDays: 15 } as const;

/**
 * The messages of the log records that state an outcome the twin's journal carries (local/
 * journalFacts.ts reads them from the functions' Powertools records; the console shows them): a
 * webhook delivery's verdict, an outbound webhook attempt's outcome, a tenant ingress refusal.
 */
export const OUTCOME_LOG_MESSAGES = {
  webhookAccepted: "webhook accepted",
  webhookDuplicate: "webhook duplicate",
  /** Fields `status`, `reason`. */
  webhookRejected: "webhook rejected",
  /** Fields `errorCode`, `error`. */
  webhookContractRefused: "webhook refused by its event contract",
  /** Fields `subscription`, `messageId`, `eventId`, `attempt`, `statusCode`. */
  outboundDelivered: "delivered",
  /** Fields as outboundDelivered, with `failure` and `error`. */
  outboundAttemptFailed: "attempt failed",
  /** Fields `subscription`, `messageId`, `eventId`, `attempts`. */
  outboundExhausted: "attempts exhausted: message sent to the DLQ",
  /** Fields `status`, `code`, `reason`, `tenant`, `eventId`. */
  ingressRejected: "ingress rejected",
} as const;
