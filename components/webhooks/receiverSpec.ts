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
