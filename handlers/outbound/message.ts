// The messages of outbound webhooks: what the subscription's queue holds (an EventBridge event, or
// a resend the recovery command queued), the message id every attempt of it carries, and the body
// POSTed (the Standard Webhooks payload shape: type, timestamp, data).

/** The EventBridge event as a rule's SQS target receives it (the whole event). */
export interface BusEvent {
  readonly id: string;
  readonly "detail-type": string;
  readonly source: string;
  readonly time: string;
  readonly account?: string;
  readonly region?: string;
  readonly resources?: string[];
  readonly detail: unknown;
}

/** A message the recovery command queues again: the same id, the same event. */
export interface ResendEnvelope {
  readonly outboundResend: { readonly messageId: string; readonly requestedAt: string };
  readonly event: BusEvent;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly event: BusEvent;
  /** Set when the recovery command queued it. */
  readonly resend?: ResendEnvelope["outboundResend"];
}

/**
 * The message id of an event: stable across every attempt and resend of it, since it is derived
 * from the EventBridge event id (one id per event, the same for every subscription).
 */
export function messageIdOf(eventId: string): string {
  return `msg_${eventId.replace(/[^A-Za-z0-9]/g, "")}`;
}

/** Reads a queue message body; throws with what is wrong (such a message goes to the DLQ). */
export function parseQueued(body: string): QueuedMessage {
  let v: any;
  try {
    v = JSON.parse(body);
  } catch {
    throw new Error("message body is not JSON");
  }
  const event = v && typeof v === "object" && v.outboundResend ? v.event : v;
  if (
    !event ||
    typeof event.id !== "string" ||
    typeof event["detail-type"] !== "string" ||
    typeof event.source !== "string"
  ) {
    throw new Error("message body is not an EventBridge event (id, source, detail-type)");
  }
  if (v.outboundResend) {
    const r = v.outboundResend;
    if (typeof r.messageId !== "string") throw new Error("resend has no messageId");
    return { messageId: r.messageId, event, resend: r };
  }
  return { messageId: messageIdOf(event.id), event };
}

/** The body POSTed: `{"type", "timestamp", "data"}`, the same bytes at every attempt. */
export function payloadOf(event: BusEvent): string {
  return JSON.stringify({
    type: event["detail-type"],
    timestamp: event.time ?? new Date(0).toISOString(),
    data: event.detail ?? null,
  });
}

/** What the recovery command sends to a subscription's queue to deliver a message again. */
export function resendBody(messageId: string, event: BusEvent, requestedAt: Date): string {
  const envelope: ResendEnvelope = {
    outboundResend: { messageId, requestedAt: requestedAt.toISOString() },
    event,
  };
  return JSON.stringify(envelope);
}
