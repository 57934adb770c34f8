// Twilio: X-Twilio-Signature = base64 HMAC-SHA1(auth token, URL + each POST param name+value,
// params sorted by name; repeated names contribute each distinct value, sorted). A JSON body is
// signed with no params and the URL carries bodySHA256 = hex SHA-256 of the raw body. Like
// twilio-node, the URL is tried with and without the default port.
import * as crypto from "crypto";
import { firstMatch, base64Equal, forbidden, hexEqual, hmac, missing, SignedRequest, Verdict } from "./signature";

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";

export type TwilioParams = Record<string, string | string[]>;

/** POST params of a form body, repeated names as arrays. */
export function parseForm(body: Buffer | string): TwilioParams {
  const out: TwilioParams = {};
  for (const [k, v] of new URLSearchParams(body.toString())) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The string Twilio signs: the URL followed by the sorted params. */
export function twilioSignedString(url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const v = params[key];
    const values = Array.isArray(v) ? Array.from(new Set(v)).sort() : [v];
    for (const value of values) data += key + value;
  }
  return data;
}

export function signTwilio(authToken: string, url: string, params: TwilioParams): string {
  return hmac("sha1", authToken, Buffer.from(twilioSignedString(url, params), "utf8")).toString("base64");
}

/** The URL as signed with the default port added and removed (Twilio may sign either). */
export function urlVariants(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "";
  const hostPart = /^[a-z]+:\/\/[^/?#]*/i.exec(url)?.[0] ?? "";
  const rest = url.slice(hostPart.length);
  const base = `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ""}@` : ""}${u.hostname}`;
  const variants = new Set<string>([url, `${base}${rest}`]);
  if (defaultPort) variants.add(`${base}:${defaultPort}${rest}`);
  return [...variants];
}

function isForm(headers: Record<string, string | undefined>): boolean {
  return (headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
}

export function verifyTwilio(req: SignedRequest, secrets: string[]): Verdict {
  const signature = req.headers[TWILIO_SIGNATURE_HEADER];
  if (!signature) return missing(`${TWILIO_SIGNATURE_HEADER} header is missing`);
  const query = new URL(req.url).searchParams;
  const bodyHash = query.get("bodySHA256");
  let params: TwilioParams = {};
  if (bodyHash !== null) {
    const actual = crypto.createHash("sha256").update(req.body).digest();
    if (!hexEqual(actual, bodyHash)) return forbidden("bodySHA256 does not match the body");
  } else if (isForm(req.headers)) {
    params = parseForm(req.body);
  } else if (req.body.length > 0) {
    return forbidden("a non-form body must be signed with bodySHA256 in the URL");
  }
  const candidates = urlVariants(req.url);
  return firstMatch(secrets, (token) =>
    candidates.some((url) => base64Equal(hmac("sha1", token, Buffer.from(twilioSignedString(url, params), "utf8")), signature.trim())),
  );
}
