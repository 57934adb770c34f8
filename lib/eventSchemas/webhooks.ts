// Webhook deliveries: each verified delivery a receiver accepts, published under
// `switchyard.webhooks.<provider>` with the provider's event type as detail-type. One contract per
// provider: the envelope is common, the payload is the provider's.
import { eventSource } from "../contracts";
import type { JsonSchema } from "../jsonSchema";
import type { EventContract } from "./contract";

/**
 * The payload each provider's receiver publishes (its parsed body), by provider: every provider
 * handlers/webhooks/providers.ts serves has one (a test holds the two lists equal).
 */
export const WEBHOOK_PAYLOADS = {
  /** The JSON body (or a form body's `payload` field, parsed). */
  github: { type: "object" },
  /** The form parameters, or the JSON body when the URL carries `bodySHA256`. */
  twilio: { type: "object" },
  /** The event object: its `id` is the delivery id, its `type` the detail-type. */
  stripe: {
    type: "object",
    required: ["id", "type"],
    properties: { id: { type: "string" }, type: { type: "string" } },
  },
  /** The message, whatever JSON the sender signed (the spec's `{ type, timestamp, data }`). */
  standard: {},
  /** The JSON body, or the form parameters. */
  hmac: {},
} satisfies Record<string, JsonSchema>;

export type WebhookProvider = keyof typeof WEBHOOK_PAYLOADS;
export const WEBHOOK_PROVIDERS = Object.keys(WEBHOOK_PAYLOADS) as WebhookProvider[];

/** Where a delivery too large for the bus was stored instead of `payload`. */
const PAYLOAD_REF: JsonSchema = {
  type: "object",
  required: ["bucket", "key", "bytes", "sha256", "contentType"],
  additionalProperties: false,
  properties: {
    bucket: { type: "string", minLength: 1 },
    key: { type: "string", minLength: 1 },
    bytes: { type: "integer", minimum: 0 },
    sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
    contentType: { type: "string" },
  },
};

export function webhookContract(provider: WebhookProvider): EventContract {
  return {
    source: eventSource(provider),
    typeName: "WebhookDelivery",
    description: `A ${provider} webhook delivery, signature verified and seen once; detail-type is its event type.`,
    publishedBy: `the ${provider} webhook receiver`,
    detail: {
      type: "object",
      required: ["provider", "deliveryId", "correlationId", "eventType", "receivedAt", "headers"],
      additionalProperties: false,
      properties: {
        provider: { type: "string", enum: [provider] },
        deliveryId: { type: "string", minLength: 1, maxLength: 256 },
        correlationId: { type: "string", minLength: 1 },
        eventType: { type: "string" },
        receivedAt: { type: "string", format: "date-time" },
        /** The provider's headers the receiver keeps (never a signature), lower-case names. */
        headers: { type: "object", additionalProperties: { type: "string" } },
        payload: WEBHOOK_PAYLOADS[provider],
        payloadRef: PAYLOAD_REF,
      },
      // The body itself, or where it was stored when it was too large for the bus.
      oneOf: [{ required: ["payload"] }, { required: ["payloadRef"] }],
    },
  };
}
