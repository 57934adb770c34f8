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
} from "../signature";
import {
  COMMON_HEADERS,
  defineProvider,
  FormParams,
  isObject,
  MalformedRequest,
  opaqueSecret,
  parseForm,
  parseJson,
  sha256Hex,
} from "./module";

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";

export type TwilioParams = FormParams;

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

/** Twilio sends no event-type header: derive one from the well-known params. */
export function twilioEventType(p: Record<string, unknown>): string {
  const s = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  if (s("EventType")) return s("EventType")!;
  if (s("CallStatus")) return `call.${s("CallStatus")}`;
  const message = s("MessageStatus") ?? s("SmsStatus");
  if (message) return `message.${message}`;
  return "webhook";
}

export const twilioProvider = defineProvider({
  name: "twilio",
  secret: {
    key: "twilioAuthToken",
    what: "the Twilio auth token that signs webhooks",
    placeholder: "<auth token>",
    generate: opaqueSecret,
    example: "test-twilio-auth-token",
  },
  // The signature covers the URL: behind a custom domain the receiver must know the URL signed.
  publicUrl: {
    key: "twilioPublicUrl",
    example: "https://hooks.example.com/twilio",
    doc: "`https://...` URL Twilio signs when a custom domain fronts the receiver",
  },
  spec: {
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
  sample: (marker, uuid) => ({
    body: new URLSearchParams({
      MessageSid: `SM${uuid.replace(/-/g, "")}`,
      From: "+15005550006",
      Body: marker,
      MessageStatus: "delivered",
    }).toString(),
    contentType: "application/x-www-form-urlencoded",
    id: uuid,
  }),
  sign(secret, d) {
    // A form body is signed as params; any other body by its SHA-256 in the URL, with no params.
    const form = d.contentType.toLowerCase().startsWith("application/x-www-form-urlencoded");
    let url = d.url;
    if (!form) {
      const u = new URL(d.url);
      u.searchParams.set("bodySHA256", sha256Hex(d.body));
      url = u.href;
    }
    return {
      url,
      body: d.body,
      headers: {
        "content-type": d.contentType,
        ...d.headers,
        "i-twilio-idempotency-token": d.id,
        [TWILIO_SIGNATURE_HEADER]: signTwilio(secret, url, form ? parseForm(d.body) : {}),
      },
    };
  },
  docs: [
    {
      signature:
        "`X-Twilio-Signature: <base64 HMAC-SHA1 of URL + sorted params>`; JSON bodies: `bodySHA256` in the URL",
      replayWindow: "none in the scheme",
      deliveryId: "`I-Twilio-Idempotency-Token`, else the key",
      deduplicationKey:
        "SHA-256 of the signed string (URL without default port + params sorted and deduplicated)",
      detailType:
        "`EventType`, else `call.<CallStatus>` / `message.<MessageStatus>`, else `webhook`",
      resent:
        "...with a new `I-Twilio-Idempotency-Token`, reordered or repeated params: a duplicate for the TTL",
      residualRisk:
        "no timestamp: after the TTL the capture is accepted again; allowlist Twilio's ranges where you can",
    },
  ],
});
