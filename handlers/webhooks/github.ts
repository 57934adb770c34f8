// GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret, raw body). No timestamp:
// replays are stopped by X-GitHub-Delivery deduplication.
import { firstMatch, hexEqual, hmac, missing, SignedRequest, Verdict } from "./signature";

export const GITHUB_SIGNATURE_HEADER = "x-hub-signature-256";

export function signGithub(secret: string, body: string | Buffer): string {
  return `sha256=${hmac("sha256", secret, body).toString("hex")}`;
}

export function verifyGithub(req: SignedRequest, secrets: string[]): Verdict {
  const header = req.headers[GITHUB_SIGNATURE_HEADER];
  if (!header) return missing(`${GITHUB_SIGNATURE_HEADER} header is missing`);
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  return firstMatch(secrets, (s) => !!m && hexEqual(hmac("sha256", s, req.body), m[1]));
}
