// Stripe: Stripe-Signature = "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>", possibly
// with several v1 entries (Stripe signs with every active secret while one is rolled) and other
// schemes (v0) that are ignored.
import {
  checkTimestamp,
  forbidden,
  hexEqual,
  hmac,
  missing,
  SignedRequest,
  Verdict,
} from "./signature";

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
  for (let i = 0; i < secrets.length; i++) {
    const expected = hmac("sha256", secrets[i], `${t}.`, req.body);
    if (v1.some((sig) => hexEqual(expected, sig))) return { ok: true, secretIndex: i };
  }
  return forbidden("signature does not match");
}
