// What every provider's signature scheme shares: the request as the receiver sees it (raw body
// bytes, lowercase headers), the verdict (which maps to a status code), and constant-time
// comparison helpers.
import * as crypto from "crypto";

export interface SignedRequest {
  /** The exact body bytes (base64 bodies already decoded). */
  body: Buffer;
  /** Header names in lowercase, as Function URL events (payload 2.0) carry them. */
  headers: Record<string, string | undefined>;
  /** The URL the sender signed (Twilio), rebuilt from the request or the configured public URL. */
  url: string;
  /** Unix seconds now. */
  nowSeconds: number;
  /** Largest accepted distance between a signed timestamp and now, in seconds. */
  toleranceSeconds: number;
}

export type Verdict =
  | { ok: true; secretIndex: number }
  /** 401: the signature header (or a header it needs) is missing. */
  | { ok: false; status: 401; reason: string }
  /** 403: the signature does not match, or the signed timestamp is out of the window. */
  | { ok: false; status: 403; reason: string };

export const missing = (reason: string): Verdict => ({ ok: false, status: 401, reason });
export const forbidden = (reason: string): Verdict => ({ ok: false, status: 403, reason });

/** Constant-time equality of two byte strings (length is not secret). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Constant-time equality of a hex digest and a received hex string (case-insensitive). */
export function hexEqual(expected: Buffer, receivedHex: string): boolean {
  if (!/^[0-9a-fA-F]*$/.test(receivedHex) || receivedHex.length !== expected.length * 2)
    return false;
  return safeEqual(expected, Buffer.from(receivedHex, "hex"));
}

/** Constant-time equality of a digest and a received base64 string. */
export function base64Equal(expected: Buffer, receivedB64: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(receivedB64)) return false;
  return safeEqual(expected, Buffer.from(receivedB64, "base64"));
}

export function hmac(
  algorithm: "sha1" | "sha256",
  key: string | Buffer,
  ...parts: Array<string | Buffer>
): Buffer {
  const h = crypto.createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Checks a unix-seconds timestamp header against the window, in both directions. */
export function checkTimestamp(raw: string, req: SignedRequest, what: string): Verdict | undefined {
  if (!/^\d{1,12}$/.test(raw.trim())) return forbidden(`${what} is not a unix timestamp`);
  const ts = Number(raw.trim());
  if (ts < req.nowSeconds - req.toleranceSeconds)
    return forbidden(`${what} is older than ${req.toleranceSeconds} s`);
  if (ts > req.nowSeconds + req.toleranceSeconds)
    return forbidden(`${what} is more than ${req.toleranceSeconds} s in the future`);
  return undefined;
}

/** Tries each secret (current first); the index says which one matched. */
export function firstMatch(secrets: string[], matches: (secret: string) => boolean): Verdict {
  for (let i = 0; i < secrets.length; i++) {
    if (matches(secrets[i])) return { ok: true, secretIndex: i };
  }
  return forbidden("signature does not match");
}

/**
 * The signatures of one version in a header that may carry several (during a rotation the sender
 * signs with each secret): entries split on `separator`, those starting with `tag`, tag removed.
 */
export function taggedSignatures(header: string, separator: string, tag: string): string[] {
  return header
    .split(separator)
    .map((p) => p.trim())
    .filter((p) => p.startsWith(tag))
    .map((p) => p.slice(tag.length));
}
