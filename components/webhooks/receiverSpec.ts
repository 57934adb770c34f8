// The WebhookReceiver's defaults and the replay-window rule it enforces: pure, so the stack's
// config table (config/keys.ts) and its docs state the same values as the component.

export const WEBHOOK_DEFAULTS = {
  toleranceSeconds: 300,
  maxEntryBytes: 262144,
  payloadStorage: true,
  payloadRetentionDays: 30,
  idempotencyTtlSeconds: 259200,
  timeoutSeconds: 8,
  memorySize: 256,
  logRetentionDays: 30,
  protect: false,
};

/**
 * The shortest idempotency TTL that outlives the replay window: a delivery signed `tolerance`
 * seconds in the future verifies until `2 x tolerance` seconds after it first arrives, so its
 * record must live at least that long or the same signed delivery is accepted twice.
 */
export function minimumIdempotencyTtl(toleranceSeconds: number): number {
  return 2 * toleranceSeconds;
}

/**
 * The relay's function timeout and its stream mapping (components/tenants/streamMapping.ts): small
 * batches without a batching window, since a provider's event should reach the bus within a second
 * or so of being accepted. A delivery the bus refuses for good goes to the DLQ from the relay
 * itself; the mapping retries only transient failures, so it retries as long as AWS allows
 * (10,000 attempts, each with the publisher's 4 calls: about an hour of a failing bus) within the
 * stream's 24 hours, before its on-failure destination gets a pointer to the records.
 */
export const RELAY_STREAM_SETTINGS = {
  timeoutSeconds: 60,
  mapping: {
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    maximumRetryAttempts: 10000,
    maximumRecordAgeInSeconds: 86400,
  },
};
