// Stripe: Stripe-Signature = "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>", possibly
// with several v1 entries (Stripe signs with every active secret while one is rolled) and other
// schemes (v0) that are ignored.
import {
  checkTimestamp,
  firstMatch,
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
  isObject,
  jsonOk,
  MalformedRequest,
  opaqueSecret,
  parseJson,
} from "./module";

export const STRIPE_SIGNATURE_HEADER = "stripe-signature";

/** A header as Stripe builds it (and as stripe-node's generateTestHeaderString does). */
export function signStripe(secret: string, timestamp: number, body: string | Buffer): string {
  return `t=${timestamp},v1=${hmac("sha256", secret, `${timestamp}.`, body).toString("hex")}`;
}

export function verifyStripe(req: SignedRequest, secrets: string[]): Verdict {
  const header = req.headers[STRIPE_SIGNATURE_HEADER];
  if (!header) return missing(`${STRIPE_SIGNATURE_HEADER} header is missing`);
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === "t") t = v;
    else if (k === "v1") v1.push(v);
  }
  if (t === undefined || v1.length === 0)
    return forbidden(`${STRIPE_SIGNATURE_HEADER} has no t= or no v1= signature`);
  const stale = checkTimestamp(t, req, "Stripe-Signature timestamp");
  if (stale) return stale;
  return firstMatch(secrets, (s) => {
    const expected = hmac("sha256", s, `${t}.`, req.body);
    return v1.some((sig) => hexEqual(expected, sig));
  });
}

export const stripeProvider = defineProvider({
  name: "stripe",
  secret: {
    key: "stripeWebhookSecret",
    what: "the Stripe endpoint signing secret, whsec_...",
    placeholder: "whsec_...",
    generate: opaqueSecret,
    example: "whsec_test_stripe_webhook_secret",
  },
  spec: {
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
  // The event's id and type travel in the body.
  sample: (marker, uuid) => ({
    body: JSON.stringify({
      id: `evt_${uuid.replace(/-/g, "")}`,
      type: "invoice.paid",
      marker,
      data: { object: { amount_paid: 1200 } },
    }),
    contentType: "application/json",
    id: `evt_${uuid.replace(/-/g, "")}`,
  }),
  sign: (secret, d) => ({
    url: d.url,
    body: d.body,
    headers: {
      "content-type": d.contentType,
      ...d.headers,
      [STRIPE_SIGNATURE_HEADER]: signStripe(secret, d.nowSeconds, d.body),
    },
  }),
  docs: [
    {
      signature:
        '`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (any v1 may match)',
      replayWindow: "`t` within ± `webhookToleranceSeconds`",
      deliveryId: "the event's `id` (`evt_...`)",
      deduplicationKey: "the event's `id`",
      detailType: "the event's `type`",
      resent:
        "...as is, or under a new id, timestamp, event type or correlation id: refused (403) or a duplicate within the window; refused (403) after it",
      residualRisk: "none beyond the secret's secrecy",
    },
  ],
});
