// The outbound webhook dispatcher's operational events (lib/contracts.ts names them).
import { OUTBOUND_DETAIL_TYPES, OUTBOUND_SOURCE } from "../contracts";
import type { EventContract } from "./contract";
import { typeNameOf } from "./contract";

const publishedBy = "the outbound webhook dispatcher";

export const OUTBOUND_ATTEMPT_EXHAUSTED: EventContract = {
  source: OUTBOUND_SOURCE,
  detailType: OUTBOUND_DETAIL_TYPES.attemptExhausted,
  typeName: typeNameOf(OUTBOUND_DETAIL_TYPES.attemptExhausted),
  description:
    "A message failed its last scheduled attempt and went to its subscription's dead-letter queue.",
  publishedBy,
  detail: {
    type: "object",
    required: [
      "subscription",
      "messageId",
      "eventId",
      "eventSource",
      "eventDetailType",
      "attempts",
      "lastStatusCode",
      "lastError",
      "dlqUrl",
    ],
    additionalProperties: false,
    properties: {
      subscription: { type: "string", minLength: 1 },
      messageId: { type: "string", minLength: 1 },
      /** The hub event's id, source and detail-type. */
      eventId: { type: "string" },
      eventSource: { type: "string" },
      eventDetailType: { type: "string" },
      attempts: { type: "integer", minimum: 1 },
      /** null when no response came (timeout, refused address, TLS). */
      lastStatusCode: { type: ["integer", "null"] },
      lastError: { type: "string" },
      dlqUrl: { type: "string", minLength: 1 },
    },
  },
};

export const OUTBOUND_ENDPOINT_DISABLED: EventContract = {
  source: OUTBOUND_SOURCE,
  detailType: OUTBOUND_DETAIL_TYPES.endpointDisabled,
  typeName: typeNameOf(OUTBOUND_DETAIL_TYPES.endpointDisabled),
  description: "A subscription's endpoint failed every attempt for too long and was disabled.",
  publishedBy,
  detail: {
    type: "object",
    required: ["subscription", "url", "failingSince", "disabledAt"],
    additionalProperties: false,
    properties: {
      subscription: { type: "string", minLength: 1 },
      url: { type: "string", minLength: 1 },
      failingSince: { type: "string", format: "date-time" },
      disabledAt: { type: "string", format: "date-time" },
    },
  },
};
