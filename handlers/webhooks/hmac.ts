// A generic sender: X-Webhook-Signature = hex HMAC-SHA256(secret, raw body) (an optional
// "sha256=" prefix is accepted), X-Webhook-Timestamp = unix seconds, checked against the window.
// The timestamp is not part of the signed content in this scheme: replays of a captured request
// are stopped by deduplication (X-Webhook-Id, or the body hash) for the idempotency TTL.
import { checkTimestamp, firstMatch, hexEqual, hmac, missing, SignedRequest, Verdict } from "./signature";

export const HMAC_HEADERS = {
  signature: "x-webhook-signature",
  timestamp: "x-webhook-timestamp",
  id: "x-webhook-id",
  event: "x-webhook-event",
} as const;

export function signHmac(secret: string, body: string | Buffer): string {
  return hmac("sha256", secret, body).toString("hex");
}

export function verifyHmac(req: SignedRequest, secrets: string[]): Verdict {
  const header = req.headers[HMAC_HEADERS.signature];
  if (!header) return missing(`${HMAC_HEADERS.signature} header is missing`);
  const ts = req.headers[HMAC_HEADERS.timestamp];
  if (!ts) return missing(`${HMAC_HEADERS.timestamp} header is missing`);
  const stale = checkTimestamp(ts, req, HMAC_HEADERS.timestamp);
  if (stale) return stale;
  const hex = header.trim().replace(/^sha256=/, "");
  return firstMatch(secrets, (s) => hexEqual(hmac("sha256", s, req.body), hex));
}
