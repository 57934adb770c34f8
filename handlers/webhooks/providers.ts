// Per-provider knowledge of the receiver: how the signature is checked, how the body is parsed,
// which value is the delivery id (a label), which signed value identifies the delivery for
// deduplication (the replay key), which is the event type (the event's detail-type), and which
// headers travel with the event (never signatures).
import * as crypto from "crypto";
import { verifyGithub } from "./github";
import { HMAC_HEADERS, HmacSignedContent, verifyHmac, verifyHmacBody } from "./hmac";
import { SignedRequest, Verdict } from "./signature";
import { STANDARD_HEADERS, verifyStandard } from "./standard";
import { verifyStripe } from "./stripe";
import { parseForm, twilioCanonicalContent, verifyTwilio } from "./twilio";
import { HandlerError } from "../lib/errors";

export const PROVIDERS = ["github", "twilio", "stripe", "standard", "hmac"] as const;
export type Provider = (typeof PROVIDERS)[number];

export function isProvider(p: string): p is Provider {
  return (PROVIDERS as readonly string[]).includes(p);
}

/** A body that cannot be parsed as the provider sends it: answered with 400. */
export class MalformedRequest extends HandlerError {
  constructor(message: string) {
    super("MalformedRequest", message);
  }
}

export interface ParsedDelivery {
  /** The provider's id of the delivery, as published (a label: some schemes do not sign it). */
  deliveryId: string;
  /**
   * What identifies the delivery among all that verify: a value the signature covers (the
   * idempotency key). Where the scheme signs no id, a digest of the signed content, so a captured
   * delivery resent under a new id is still a duplicate.
   */
  replayKey: string;
  eventType: string;
  payload: unknown;
  /** The caller's correlation id, only where the signature covers it. */
  correlationId?: string;
}

export interface ProviderSpec {
  verify(req: SignedRequest, secrets: string[]): Verdict;
  /** Parses a verified body; throws MalformedRequest. */
  parse(body: Buffer, headers: Record<string, string | undefined>, url: string): ParsedDelivery;
  /** Headers copied into the event's detail, when present. */
  headers: string[];
  /** 200 response body and content type (Twilio expects TwiML). */
  ok(status: "accepted" | "duplicate", deliveryId: string): { contentType: string; body: string };
}

const COMMON_HEADERS = ["content-type", "user-agent"];

function contentType(headers: Record<string, string | undefined>): string {
  return (headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
}

function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) throw new MalformedRequest(`${what}: the body is empty`);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new MalformedRequest(`${what}: the body is not valid JSON`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sha256Hex(...parts: Array<string | Buffer>): string {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

const jsonOk = (status: string, deliveryId: string) => ({
  contentType: "application/json",
  body: JSON.stringify({ status, deliveryId }),
});

export const PROVIDER_SPECS: Record<Provider, ProviderSpec> = {
  github: {
    verify: verifyGithub,
    parse(body, headers) {
      const deliveryId = headers["x-github-delivery"];
      if (!deliveryId) throw new MalformedRequest("X-GitHub-Delivery header is missing");
      let payload: unknown;
      if (contentType(headers) === "application/x-www-form-urlencoded") {
        const form = parseForm(body);
        if (typeof form.payload !== "string")
          throw new MalformedRequest("form body has no payload field");
        payload = parseJson(Buffer.from(form.payload), "payload field");
      } else {
        payload = parseJson(body, "GitHub delivery");
      }
      // GitHub signs the body only: X-GitHub-Delivery is a label, the body's digest the key.
      return {
        deliveryId,
        replayKey: `sha256:${sha256Hex(body)}`,
        eventType: headers["x-github-event"] || "unknown",
        payload,
      };
    },
    headers: [
      ...COMMON_HEADERS,
      "x-github-event",
      "x-github-delivery",
      "x-github-hook-id",
      "x-github-hook-installation-target-id",
      "x-github-hook-installation-target-type",
    ],
    ok: jsonOk,
  },
  stripe: {
    verify: verifyStripe,
    parse(body) {
      const payload = parseJson(body, "Stripe event");
      if (
        !isObject(payload) ||
        typeof payload.id !== "string" ||
        typeof payload.type !== "string"
      ) {
        throw new MalformedRequest("Stripe event must be a JSON object with string id and type");
      }
      return { deliveryId: payload.id, replayKey: payload.id, eventType: payload.type, payload };
    },
    headers: [...COMMON_HEADERS],
    ok: jsonOk,
  },
  standard: {
    verify: verifyStandard,
    parse(body, headers) {
      const payload = parseJson(body, "Standard Webhooks message");
      const id = headers[STANDARD_HEADERS.id]!;
      return { deliveryId: id, replayKey: id, eventType: typeOf(payload) ?? "webhook", payload };
    },
    headers: [...COMMON_HEADERS, STANDARD_HEADERS.id, STANDARD_HEADERS.timestamp],
    ok: jsonOk,
  },
  hmac: {
    verify: verifyHmac,
    parse(body, headers) {
      const payload = hmacPayload(body, headers);
      const id = headers[HMAC_HEADERS.id]!;
      return {
        deliveryId: id,
        replayKey: id,
        eventType: headers[HMAC_HEADERS.event] || typeOf(payload) || "webhook",
        payload,
        correlationId: headers[HMAC_HEADERS.correlationId],
      };
    },
    headers: [...COMMON_HEADERS, HMAC_HEADERS.id, HMAC_HEADERS.event, HMAC_HEADERS.timestamp],
    ok: jsonOk,
  },
  twilio: {
    verify: verifyTwilio,
    parse(body, headers, url) {
      let payload: Record<string, unknown>;
      if (new URL(url).searchParams.has("bodySHA256")) {
        const parsed = parseJson(body, "Twilio JSON body");
        if (!isObject(parsed)) throw new MalformedRequest("Twilio JSON body must be an object");
        payload = parsed;
      } else {
        payload = parseForm(body);
      }
      // The token is not signed: the key is the digest of what the signature covers.
      const replayKey = `sha256:${sha256Hex(twilioCanonicalContent({ url, headers, body }))}`;
      return {
        deliveryId: headers["i-twilio-idempotency-token"] || replayKey,
        replayKey,
        eventType: twilioEventType(payload),
        payload,
      };
    },
    headers: [...COMMON_HEADERS, "i-twilio-idempotency-token"],
    // Messaging and voice webhooks expect TwiML: an empty <Response/> means "do nothing".
    ok: () => ({
      contentType: "text/xml",
      body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
    }),
  },
};

function hmacPayload(body: Buffer, headers: Record<string, string | undefined>): unknown {
  return contentType(headers) === "application/x-www-form-urlencoded"
    ? parseForm(body)
    : parseJson(body, "webhook body");
}

function typeOf(payload: unknown): string | undefined {
  return isObject(payload) && typeof payload.type === "string" ? payload.type : undefined;
}

/**
 * The generic HMAC receiver that signs the body only (`signedContent: "body"`): no header is
 * signed, so none is trusted. The body's digest is the delivery id and the key, the event type is
 * the body's `type`, and X-Webhook-Id, X-Webhook-Event and X-Correlation-Id are neither used nor
 * copied into the event.
 */
export const HMAC_BODY_ONLY: ProviderSpec = {
  verify: verifyHmacBody,
  parse(body, headers) {
    const payload = hmacPayload(body, headers);
    const digest = `sha256:${sha256Hex(body)}`;
    return {
      deliveryId: digest,
      replayKey: digest,
      eventType: typeOf(payload) || "webhook",
      payload,
    };
  },
  headers: [...COMMON_HEADERS, HMAC_HEADERS.timestamp],
  ok: jsonOk,
};

/** The spec a receiver runs: the provider's, in the generic HMAC scheme it is configured with. */
export function providerSpec(
  provider: Provider,
  hmacSignedContent: HmacSignedContent = "headers",
): ProviderSpec {
  return provider === "hmac" && hmacSignedContent === "body"
    ? HMAC_BODY_ONLY
    : PROVIDER_SPECS[provider];
}

/** Twilio sends no event-type header: derive one from the well-known params. */
export function twilioEventType(p: Record<string, unknown>): string {
  const s = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  if (s("EventType")) return s("EventType")!;
  if (s("CallStatus")) return `call.${s("CallStatus")}`;
  const message = s("MessageStatus") ?? s("SmsStatus");
  if (message) return `message.${message}`;
  return "webhook";
}
