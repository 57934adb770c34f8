// Twilio: X-Twilio-Signature = base64 HMAC-SHA1(auth token, URL + each POST param name+value,
// params sorted by name; repeated names contribute each distinct value, sorted). A JSON body is
// signed with no params and the URL carries bodySHA256 = hex SHA-256 of the raw body. Like
// twilio-node, the URL is tried with and without the default port.
import * as crypto from "crypto";
import {
  firstMatch,
  base64Equal,
  forbidden,
  hexEqual,
  hmac,
  missing,
  SignedRequest,
  Verdict,
} from "./signature";

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
  return hmac("sha1", authToken, Buffer.from(twilioSignedString(url, params), "utf8")).toString(
    "base64",
  );
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
  return (headers["content-type"] ?? "")
    .toLowerCase()
    .startsWith("application/x-www-form-urlencoded");
}

/** The params Twilio signs: none for a JSON body (its hash is in the URL), else the form's. */
function signedParams(
  req: Pick<SignedRequest, "url" | "headers" | "body">,
): { params: TwilioParams } | { refused: Verdict } {
  const bodyHash = new URL(req.url).searchParams.get("bodySHA256");
  if (bodyHash !== null) {
    const actual = crypto.createHash("sha256").update(req.body).digest();
    return hexEqual(actual, bodyHash)
      ? { params: {} }
      : { refused: forbidden("bodySHA256 does not match the body") };
  }
  if (isForm(req.headers)) return { params: parseForm(req.body) };
  if (req.body.length > 0)
    return { refused: forbidden("a non-form body must be signed with bodySHA256 in the URL") };
  return { params: {} };
}

/**
 * What a verified delivery's signature covers, in one canonical form: the URL without a default
 * port and the params sorted and deduplicated as Twilio signs them. Two requests that verify with
 * the same signature have the same content, however their params are ordered or repeated, so a
 * digest of it identifies the delivery whatever I-Twilio-Idempotency-Token (unsigned) says.
 */
export function twilioCanonicalContent(
  req: Pick<SignedRequest, "url" | "headers" | "body">,
): string {
  const signed = signedParams(req);
  if ("refused" in signed) throw new Error("twilioCanonicalContent: the request does not verify");
  return twilioSignedString(new URL(req.url).href, signed.params);
}

export function verifyTwilio(req: SignedRequest, secrets: string[]): Verdict {
  const signature = req.headers[TWILIO_SIGNATURE_HEADER];
  if (!signature) return missing(`${TWILIO_SIGNATURE_HEADER} header is missing`);
  const signed = signedParams(req);
  if ("refused" in signed) return signed.refused;
  const params = signed.params;
  const candidates = urlVariants(req.url);
  return firstMatch(secrets, (token) =>
    candidates.some((url) =>
      base64Equal(
        hmac("sha1", token, Buffer.from(twilioSignedString(url, params), "utf8")),
        signature.trim(),
      ),
    ),
  );
}
