// A generic sender, in one of two schemes (the receiver's `signedContent`):
//
// - "headers" (the default): X-Webhook-Signature = "v1=" + hex HMAC-SHA256(secret, content), where
//   content = id LF timestamp LF event LF correlation-id LF raw body, from the headers X-Webhook-Id
//   (required), X-Webhook-Timestamp (unix seconds, required), X-Webhook-Event and X-Correlation-Id
//   (each the empty string when absent). Everything the receiver trusts is signed: a captured
//   delivery resent with another id, timestamp, event type or correlation id no longer verifies,
//   and the signed timestamp bounds how long it can be replayed at all. Header values cannot hold
//   LF, so no two header sets sign the same content. Several "v1=" entries (comma separated) may
//   be sent while a secret is rotated.
// - "body" (explicit opt-in, for senders that can only sign the body): X-Webhook-Signature = hex
//   HMAC-SHA256(secret, raw body), "sha256=" prefix optional. The timestamp is checked against the
//   window but is not signed, so the receiver trusts no header: the delivery id is the body's
//   SHA-256, the event type comes from the body's `type` field, and X-Correlation-Id is ignored.
//   Identical bodies are one delivery for the idempotency TTL; after it, a captured body can be
//   replayed with a fresh timestamp.
import { CORRELATION_HEADER } from "../lib/correlation";
import {
  checkTimestamp,
  firstMatch,
  forbidden,
  hexEqual,
  hmac,
  missing,
  SignedRequest,
  taggedSignatures,
  Verdict,
} from "./signature";

export const HMAC_HEADERS = {
  signature: "x-webhook-signature",
  timestamp: "x-webhook-timestamp",
  id: "x-webhook-id",
  event: "x-webhook-event",
  correlationId: CORRELATION_HEADER,
} as const;

/** What a generic HMAC signature covers: every header the receiver trusts, or only the body. */
export const HMAC_SIGNED_CONTENTS = ["headers", "body"] as const;
export type HmacSignedContent = (typeof HMAC_SIGNED_CONTENTS)[number];

/** The headers of a delivery whose values are signed in the "headers" scheme. */
export interface HmacDeliveryHeaders {
  id: string;
  timestamp: number | string;
  event?: string;
  correlationId?: string;
}

/** The content signed in the "headers" scheme. */
export function hmacSignedContent(h: HmacDeliveryHeaders, body: string | Buffer): Buffer {
  const head = `${h.id}\n${String(h.timestamp).trim()}\n${h.event ?? ""}\n${h.correlationId ?? ""}\n`;
  return Buffer.concat([
    Buffer.from(head, "utf8"),
    Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"),
  ]);
}

/** The X-Webhook-Signature value of the "headers" scheme. */
export function signHmac(secret: string, h: HmacDeliveryHeaders, body: string | Buffer): string {
  return `v1=${hmac("sha256", secret, hmacSignedContent(h, body)).toString("hex")}`;
}

/** Every header a sender of the "headers" scheme sends (signature included). */
export function hmacRequestHeaders(
  secret: string,
  h: HmacDeliveryHeaders,
  body: string | Buffer,
): Record<string, string> {
  return {
    [HMAC_HEADERS.id]: h.id,
    [HMAC_HEADERS.timestamp]: String(h.timestamp),
    ...(h.event !== undefined ? { [HMAC_HEADERS.event]: h.event } : {}),
    ...(h.correlationId !== undefined ? { [HMAC_HEADERS.correlationId]: h.correlationId } : {}),
    [HMAC_HEADERS.signature]: signHmac(secret, h, body),
  };
}

/** The X-Webhook-Signature value of the "body" scheme. */
export function signHmacBody(secret: string, body: string | Buffer): string {
  return hmac("sha256", secret, body).toString("hex");
}

function timestampOf(req: SignedRequest): { ts?: string; verdict?: Verdict } {
  const ts = req.headers[HMAC_HEADERS.timestamp];
  if (!ts) return { verdict: missing(`${HMAC_HEADERS.timestamp} header is missing`) };
  const stale = checkTimestamp(ts, req, HMAC_HEADERS.timestamp);
  return stale ? { verdict: stale } : { ts };
}

/** The "headers" scheme: id, timestamp, event type, correlation id and body under one signature. */
export function verifyHmac(req: SignedRequest, secrets: string[]): Verdict {
  const header = req.headers[HMAC_HEADERS.signature];
  if (!header) return missing(`${HMAC_HEADERS.signature} header is missing`);
  const id = req.headers[HMAC_HEADERS.id];
  if (!id) return missing(`${HMAC_HEADERS.id} header is missing (the signature covers it)`);
  const { ts, verdict } = timestampOf(req);
  if (verdict) return verdict;
  const signatures = taggedSignatures(header, ",", "v1=");
  if (signatures.length === 0) {
    return forbidden(
      `${HMAC_HEADERS.signature} has no v1= signature (this receiver verifies id, timestamp, event and body together)`,
    );
  }
  const content = hmacSignedContent(
    {
      id,
      timestamp: ts!,
      event: req.headers[HMAC_HEADERS.event],
      correlationId: req.headers[HMAC_HEADERS.correlationId],
    },
    req.body,
  );
  return firstMatch(secrets, (s) => {
    const expected = hmac("sha256", s, content);
    return signatures.some((sig) => hexEqual(expected, sig));
  });
}

/** The "body" scheme: the body alone is signed; the timestamp is checked, not signed. */
export function verifyHmacBody(req: SignedRequest, secrets: string[]): Verdict {
  const header = req.headers[HMAC_HEADERS.signature];
  if (!header) return missing(`${HMAC_HEADERS.signature} header is missing`);
  const { verdict } = timestampOf(req);
  if (verdict) return verdict;
  const hex = header.trim().replace(/^sha256=/, "");
  return firstMatch(secrets, (s) => hexEqual(hmac("sha256", s, req.body), hex));
}
