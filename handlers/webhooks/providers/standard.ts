// Standard Webhooks (standardwebhooks.com): webhook-id, webhook-timestamp and webhook-signature
// ("v1,<base64>" entries separated by spaces) over "<id>.<timestamp>.<raw body>", keyed with the
// base64-decoded secret after its "whsec_" prefix.
import {
  base64Equal,
  checkTimestamp,
  firstMatch,
  forbidden,
  hmac,
  missing,
  SignedRequest,
  taggedSignatures,
  Verdict,
} from "../signature";
import { COMMON_HEADERS, defineProvider, jsonOk, parseJson, typeOf } from "./module";

export const STANDARD_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

/** The HMAC key of a Standard Webhooks secret ("whsec_" + base64, the prefix optional). */
export function standardKey(secret: string): Buffer {
  const b64 = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new Error('a Standard Webhooks secret must be "whsec_" followed by base64');
  }
  return Buffer.from(b64, "base64");
}

export function signStandard(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  return `v1,${hmac("sha256", standardKey(secret), `${id}.${timestamp}.`, body).toString("base64")}`;
}

export function verifyStandard(req: SignedRequest, secrets: string[]): Verdict {
  const id = req.headers[STANDARD_HEADERS.id];
  const ts = req.headers[STANDARD_HEADERS.timestamp];
  const header = req.headers[STANDARD_HEADERS.signature];
  if (!header) return missing(`${STANDARD_HEADERS.signature} header is missing`);
  if (!id || !ts)
    return missing(`${STANDARD_HEADERS.id} and ${STANDARD_HEADERS.timestamp} headers are required`);
  const stale = checkTimestamp(ts, req, STANDARD_HEADERS.timestamp);
  if (stale) return stale;
  const signatures = taggedSignatures(header, " ", "v1,");
  if (signatures.length === 0)
    return forbidden(`${STANDARD_HEADERS.signature} has no v1 signature`);
  return firstMatch(secrets, (s) => {
    const expected = hmac("sha256", standardKey(s), `${id}.${ts.trim()}.`, req.body);
    return signatures.some((sig) => base64Equal(expected, sig));
  });
}

export const standardProvider = defineProvider({
  name: "standard",
  secret: {
    key: "standardWebhookSecret",
    what: "the Standard Webhooks secret, whsec_<base64>",
    placeholder: "whsec_<base64>",
    // The key is base64 behind the whsec_ prefix: any other string is refused.
    generate: (random) => `whsec_${random(24).toString("base64")}`,
    example: "whsec_dGVzdC1zdGFuZGFyZC13ZWJob29rLXNlY3JldA==",
  },
  spec: {
    verify: verifyStandard,
    parse(body, headers) {
      const payload = parseJson(body, "Standard Webhooks message");
      const id = headers[STANDARD_HEADERS.id]!;
      return { deliveryId: id, replayKey: id, eventType: typeOf(payload) ?? "webhook", payload };
    },
    headers: [...COMMON_HEADERS, STANDARD_HEADERS.id, STANDARD_HEADERS.timestamp],
    ok: jsonOk,
  },
  // The spec's payload envelope `{ type, timestamp, data }`, the request as its `data`. The scheme
  // signs no correlation header, so the signed message id is the correlation id.
  verificationRequests: {
    recordPath: "$.detail.payload.data",
    delivery: (request, o) => ({
      body: JSON.stringify({
        type: o.eventType,
        timestamp: new Date(o.nowSeconds * 1000).toISOString(),
        data: request,
      }),
      contentType: "application/json",
      id: o.correlationId,
    }),
  },
  sample: (marker, uuid) => ({
    body: JSON.stringify({ type: "user.created", marker, data: { id: "u_1" } }),
    contentType: "application/json",
    id: `msg_${uuid.replace(/-/g, "")}`,
  }),
  sign: (secret, d) => ({
    url: d.url,
    body: d.body,
    headers: {
      "content-type": d.contentType,
      ...d.headers,
      [STANDARD_HEADERS.id]: d.id,
      [STANDARD_HEADERS.timestamp]: String(d.nowSeconds),
      [STANDARD_HEADERS.signature]: signStandard(secret, d.id, d.nowSeconds, d.body),
    },
  }),
  docs: [
    {
      signature:
        '`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` (key: base64 after `whsec_`)',
      replayWindow: "`webhook-timestamp` within ± `webhookToleranceSeconds`",
      deliveryId: "`webhook-id`",
      deduplicationKey: "`webhook-id`",
      detailType: "the payload's `type`, else `webhook`",
      resent:
        "...as is, or under a new id, timestamp, event type or correlation id: refused (403) or a duplicate within the window; refused (403) after it",
      residualRisk: "none beyond the secret's secrecy",
    },
  ],
});
