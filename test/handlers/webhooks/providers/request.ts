// What the provider scheme tests share: a request as the receiver sees it, and the verdicts.
import { SignedDelivery } from "../../../../handlers/webhooks/providers";
import { SignedRequest, Verdict } from "../../../../handlers/webhooks/signature";

export const NOW = 1_800_000_000;
export const DOMAIN = "abcdefghij.lambda-url.eu-west-1.on.aws";

export function req(
  body: string | Buffer,
  headers: Record<string, string>,
  extra: Partial<SignedRequest> = {},
): SignedRequest {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"),
    headers,
    url: "https://example.lambda-url.eu-west-1.on.aws/x",
    nowSeconds: NOW,
    toleranceSeconds: 300,
    ...extra,
  };
}

/** A signed delivery as the receiver sees it: lowercase headers, the URL the sender posted to. */
export function asReceived(d: SignedDelivery, nowSeconds = NOW): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.headers)) headers[k.toLowerCase()] = v;
  return { body: Buffer.from(d.body), headers, url: d.url, nowSeconds, toleranceSeconds: 300 };
}

/** A JSON body with a `type` and a marker. */
export const jsonBody = (marker: string) => JSON.stringify({ type: "thing.happened", marker });

export const OK0: Verdict = { ok: true, secretIndex: 0 };
export const OK1: Verdict = { ok: true, secretIndex: 1 };
export const BAD: Verdict = { ok: false, status: 403, reason: "signature does not match" };
