// What the outbound webhook dispatcher is told at deploy time (its factory's JSON arguments) and at
// run time (its environment), and the defaults both sides state. Pure: the component, the config
// table, the recovery command and the handler read it without loading each other's packages.

/** Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (delay before each attempt). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  0, 5, 300, 1800, 7200, 18000, 36000, 36000,
];

/**
 * Longest delay one attempt may wait. A retry waits as the message's visibility timeout, which SQS
 * caps at 12 hours from the receive that set it (43200 s); a little is kept for the receive itself.
 */
export const MAX_RETRY_DELAY_SECONDS = 43000;

export const OUTBOUND_DEFAULTS = {
  retryScheduleSeconds: DEFAULT_RETRY_SCHEDULE_SECONDS,
  /** A 2xx must arrive within this many ms (Svix: 15 s). */
  requestTimeoutMs: 15000,
  /** A response body longer than this fails the attempt (and is not read further). */
  maxResponseBytes: 65536,
  /** Bytes of each response kept in the attempt log. */
  responseSnippetBytes: 1024,
  /** An endpoint failing every attempt for this long is disabled (Svix: 5 days). */
  disableAfterSeconds: 432000,
  /** Days attempt log items live (DynamoDB TTL). */
  attemptLogTtlDays: 30,
  /** While an endpoint is disabled, its messages are parked (kept invisible) this long at a time. */
  parkSeconds: 3600,
  /** Seconds a subscription's queues keep messages (the SQS maximum: 14 days). */
  messageRetentionSeconds: 1209600,
} as const;

/** One subscription as the dispatcher knows it (no secret: that is read from Secrets Manager). */
export interface SubscriptionSettings {
  readonly name: string;
  readonly url: string;
  /** Extra request headers (never the signature's, content type, host or length). */
  readonly headers?: Record<string, string>;
  /** Deliveries per second to this endpoint, across every concurrent dispatcher. Default unlimited. */
  readonly rateLimitPerSecond?: number;
}

/** The dispatcher factory's argument. */
export interface DispatcherSettings {
  readonly subscriptions: SubscriptionSettings[];
  readonly retryScheduleSeconds: number[];
  readonly requestTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly disableAfterSeconds: number;
  readonly attemptLogTtlDays: number;
  readonly parkSeconds: number;
  /** The local run only: http:// endpoints and loopback addresses (subscribers on this machine). */
  readonly allowHttp: boolean;
  /**
   * The local run only: its SQS emulation scales the visibility timeouts the dispatcher sets by
   * this factor (its --speed), so the next attempt is due at now + delay x timeScale. Default 1.
   */
  readonly timeScale?: number;
}

/** Where each subscription's messages live, by subscription name (resource attributes). */
export interface SubscriptionResources {
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly secretArn: string;
}

/** The dispatcher's environment variables. */
export const OUTBOUND_ENV = {
  /** The attempt log table. */
  table: "OUTBOUND_ATTEMPT_TABLE",
  /** JSON: subscription name to SubscriptionResources. */
  resources: "OUTBOUND_SUBSCRIPTIONS",
  /** The bus that receives the operational events. */
  busName: "OUTBOUND_EVENT_BUS",
} as const;

/** The attempt log's secondary index: items by subscription and time. */
export const BY_SUBSCRIPTION_INDEX = "bySubscription";

/** Request headers Switchyard sets itself; a subscription's extra headers may not name them. */
export const RESERVED_HEADERS = [
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "content-type",
  "content-length",
  "host",
  "user-agent",
  "transfer-encoding",
  "connection",
];

export const USER_AGENT = "Switchyard-Webhooks/1.0";

/** The attempt log table's keys, index and TTL attribute (handlers/outbound/attemptLog.ts). */
export const ATTEMPT_TABLE = {
  hashKey: "pk",
  rangeKey: "sk",
  index: { name: BY_SUBSCRIPTION_INDEX, hashKey: "subscription", rangeKey: "at" },
  ttlAttribute: "expiresAt",
} as const;
