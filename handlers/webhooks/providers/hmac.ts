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
import { CORRELATION_HEADER } from "../../lib/correlation";
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
} from "../signature";
import {
  COMMON_HEADERS,
  contentType,
  defineProvider,
  jsonOk,
  opaqueSecret,
  parseForm,
  parseJson,
  ProviderSpec,
  sha256Hex,
  typeOf,
} from "./module";

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

function hmacPayload(body: Buffer, headers: Record<string, string | undefined>): unknown {
  return contentType(headers) === "application/x-www-form-urlencoded"
    ? parseForm(body)
    : parseJson(body, "webhook body");
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

/** The "headers" scheme (the module's `spec`; HMAC_BODY_ONLY is the other). */
const HMAC_HEADERS_SCHEME: ProviderSpec = {
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
};

/** The receiver's spec in the scheme it is configured with. */
export function hmacSpec(signedContent: HmacSignedContent = "headers"): ProviderSpec {
  return signedContent === "body" ? HMAC_BODY_ONLY : HMAC_HEADERS_SCHEME;
}

/** The request a sender of the "body" scheme sends: the body's signature and the timestamp checked. */
export function signHmacBodyDelivery(
  secret: string,
  d: { url: string; body: string; contentType: string; nowSeconds: number },
): { url: string; headers: Record<string, string>; body: string } {
  return {
    url: d.url,
    body: d.body,
    headers: {
      "content-type": d.contentType,
      [HMAC_HEADERS.timestamp]: String(d.nowSeconds),
      [HMAC_HEADERS.signature]: signHmacBody(secret, d.body),
    },
  };
}

export const hmacProvider = defineProvider({
  name: "hmac",
  secret: {
    key: "hmacWebhookSecret",
    what: "the generic HMAC webhook key",
    placeholder: "<key>",
    generate: opaqueSecret,
    example: "test-hmac-webhook-secret",
  },
  spec: HMAC_HEADERS_SCHEME,
  schemes: {
    key: "hmacWebhookSignedContent",
    values: HMAC_SIGNED_CONTENTS,
    doc: "what the generic HMAC signature covers: `headers` (id, timestamp, event, correlation id and body) or `body` (body only; no header trusted)",
    spec: (scheme) => hmacSpec(scheme as HmacSignedContent),
  },
  // The request is the JSON body; the correlation id is one of the signed headers.
  verificationRequests: {
    recordPath: "$.detail.payload",
    delivery: (request, o) => ({
      body: JSON.stringify(request),
      contentType: "application/json",
      id: o.uuid,
      eventType: o.eventType,
      correlationId: o.correlationId,
    }),
  },
  sample: (marker, uuid) => ({
    body: JSON.stringify({ type: "order.created", marker, total: 42 }),
    contentType: "application/json",
    id: uuid,
    eventType: "order.created",
  }),
  sign: (secret, d) => ({
    url: d.url,
    body: d.body,
    headers: {
      "content-type": d.contentType,
      ...d.headers,
      ...hmacRequestHeaders(
        secret,
        {
          id: d.id,
          timestamp: d.nowSeconds,
          event: d.eventType,
          correlationId: d.correlationId,
        },
        d.body,
      ),
    },
  }),
  docs: [
    {
      label: "`hmac` (`headers`, default)",
      signature:
        '`X-Webhook-Signature: v1=<hex HMAC-SHA256 of "<id>\\n<timestamp>\\n<event>\\n<correlation id>\\n<body>">` from `X-Webhook-Id` (required), `X-Webhook-Timestamp` (required), `X-Webhook-Event` and `X-Correlation-Id` (empty when absent); several `v1=` comma separated',
      replayWindow: "`X-Webhook-Timestamp` (unix s) within ± `webhookToleranceSeconds`",
      deliveryId: "`X-Webhook-Id`",
      deduplicationKey: "`X-Webhook-Id`",
      detailType: "`X-Webhook-Event`, else the payload's `type`, else `webhook`",
      resent:
        "...as is, or under a new id, timestamp, event type or correlation id: refused (403) or a duplicate within the window; refused (403) after it",
      residualRisk: "none beyond the secret's secrecy",
    },
    {
      label: "`hmac` (`body`, opt-in)",
      signature: "`X-Webhook-Signature: <hex HMAC-SHA256 of the body>` (`sha256=` optional)",
      replayWindow: "`X-Webhook-Timestamp` checked, not signed",
      deliveryId: "SHA-256 of the body",
      deduplicationKey: "SHA-256 of the body",
      detailType: "the payload's `type`, else `webhook`",
      resent:
        "...under any id, event or timestamp: a duplicate for the TTL (no header is trusted, so it cannot be relabelled)",
      residualRisk:
        "the timestamp is not signed: after the TTL a capture with a fresh timestamp is accepted again; two genuine deliveries with identical bodies are one. Use `headers` (the default) or `standard` where the sender can sign more",
    },
  ],
});
