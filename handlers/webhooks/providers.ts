// Per-provider knowledge of the receiver: how the signature is checked, how the body is parsed,
// which value is the delivery id (the idempotency key), which is the event type (the event's
// detail-type), and which headers travel with the event (never signatures).
import * as crypto from "crypto";
import { verifyGithub } from "./github";
import { HMAC_HEADERS, verifyHmac } from "./hmac";
import { SignedRequest, Verdict } from "./signature";
import { STANDARD_HEADERS, verifyStandard } from "./standard";
import { verifyStripe } from "./stripe";
import { parseForm, verifyTwilio } from "./twilio";

export const PROVIDERS = ["github", "twilio", "stripe", "standard", "hmac"] as const;
export type Provider = (typeof PROVIDERS)[number];

export function isProvider(p: string): p is Provider {
  return (PROVIDERS as readonly string[]).includes(p);
}

/** A body that cannot be parsed as the provider sends it: answered with 400. */
export class MalformedRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedRequest";
  }
}

export interface ParsedDelivery {
  deliveryId: string;
  eventType: string;
  payload: unknown;
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
        if (typeof form.payload !== "string") throw new MalformedRequest("form body has no payload field");
        payload = parseJson(Buffer.from(form.payload), "payload field");
      } else {
        payload = parseJson(body, "GitHub delivery");
      }
      return { deliveryId, eventType: headers["x-github-event"] || "unknown", payload };
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
      if (!isObject(payload) || typeof payload.id !== "string" || typeof payload.type !== "string") {
        throw new MalformedRequest("Stripe event must be a JSON object with string id and type");
      }
      return { deliveryId: payload.id, eventType: payload.type, payload };
    },
    headers: [...COMMON_HEADERS],
    ok: jsonOk,
  },
  standard: {
    verify: verifyStandard,
    parse(body, headers) {
      const payload = parseJson(body, "Standard Webhooks message");
      const type = isObject(payload) && typeof payload.type === "string" ? payload.type : "webhook";
      return { deliveryId: headers[STANDARD_HEADERS.id]!, eventType: type, payload };
    },
    headers: [...COMMON_HEADERS, STANDARD_HEADERS.id, STANDARD_HEADERS.timestamp],
    ok: jsonOk,
  },
  hmac: {
    verify: verifyHmac,
    parse(body, headers) {
      const payload =
        contentType(headers) === "application/x-www-form-urlencoded" ? parseForm(body) : parseJson(body, "webhook body");
      const typed = isObject(payload) && typeof payload.type === "string" ? payload.type : undefined;
      return {
        // Without an id header, identical bodies are one delivery (within the idempotency TTL).
        deliveryId: headers[HMAC_HEADERS.id] || `sha256:${sha256Hex(body)}`,
        eventType: headers[HMAC_HEADERS.event] || typed || "webhook",
        payload,
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
      return {
        deliveryId: headers["i-twilio-idempotency-token"] || `sha256:${sha256Hex(url, "\n", body)}`,
        eventType: twilioEventType(payload),
        payload,
      };
    },
    headers: [...COMMON_HEADERS, "i-twilio-idempotency-token"],
    // Messaging and voice webhooks expect TwiML: an empty <Response/> means "do nothing".
    ok: () => ({ contentType: "text/xml", body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' }),
  },
};

/** Twilio sends no event-type header: derive one from the well-known params. */
export function twilioEventType(p: Record<string, unknown>): string {
  const s = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  if (s("EventType")) return s("EventType")!;
  if (s("CallStatus")) return `call.${s("CallStatus")}`;
  const message = s("MessageStatus") ?? s("SmsStatus");
  if (message) return `message.${message}`;
  return "webhook";
}
