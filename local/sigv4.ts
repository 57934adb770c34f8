// SigV4 pieces shared by the local API Gateway (which verifies signatures) and the demo (which
// signs): @smithy/signature-v4 is the AWS SDK's own signer; it needs a SHA-256 constructor.
import { createHash, createHmac, timingSafeEqual } from "crypto";
import type { SignatureV4 } from "@smithy/signature-v4";

/** Credentials that stand for the jobs API's caller role when signing local requests. */
export const LOCAL_CALLER_CREDENTIALS = {
  accessKeyId: "AKIASWITCHYARDLOCAL",
  secretAccessKey: "switchyard-local-secret",
};

/** The hash interface @smithy/signature-v4 expects, on node:crypto. */
export class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac("sha256", Buffer.from(secret as any)) : createHash("sha256");
  }
  update(d: string | Uint8Array): void {
    this.h.update(typeof d === "string" ? Buffer.from(d, "utf8") : d);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export function executeApiSigner(region: string): SignatureV4 {
  // Loaded on first use, not with the endpoint, which verifies signatures without it.
  const { SignatureV4 } = require("@smithy/signature-v4") as typeof import("@smithy/signature-v4");
  return new SignatureV4({
    credentials: LOCAL_CALLER_CREDENTIALS,
    region,
    service: "execute-api",
    sha256: Sha256 as any,
  });
}

/** A request as it reached the server: the raw target, the raw header list, the body's bytes. */
export interface ReceivedRequest {
  method: string;
  /** req.url as received (path and query, still percent-encoded). */
  url: string;
  /** req.rawHeaders: name, value, name, value, ... in the order received. */
  rawHeaders: string[];
  body: Buffer;
}

export interface VerifyOptions {
  /** The secret key of an access key id, or undefined for a key the server does not know. */
  secretFor(accessKeyId: string): string | undefined;
  /** The signing name the request must be scoped to (events, sqs, s3, lambda, execute-api...). */
  service?: string;
  /** S3's payload rules: x-amz-content-sha256 required, UNSIGNED-PAYLOAD allowed. */
  s3?: boolean;
  now?: Date;
}

/** Why a signature was refused; the endpoint renders each in its protocol's error shape. */
export type SigV4Fault =
  | "IncompleteSignature"
  | "UnknownAccessKey"
  | "SignatureMismatch"
  | "Expired"
  | "WrongService"
  | "PayloadHashMismatch"
  | "MissingPayloadHash"
  | "StreamingPayload";

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | { ok: false; fault: SigV4Fault; message: string };

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires. */
export function uriEncode(s: string, keepSlash = false): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The canonical URI of a received path. Services other than S3 sign the normalized path (empty,
 * "." and ".." segments resolved) encoded once more over what the client sent, which is what
 * botocore and @smithy/signature-v4 both produce; S3 signs the path as sent, once encoded.
 */
export function canonicalUri(rawPath: string, s3: boolean): string {
  if (s3)
    return (
      rawPath
        .split("/")
        .map((seg) => uriEncode(safeDecode(seg)))
        .join("/") || "/"
    );
  const segments: string[] = [];
  for (const seg of rawPath.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return uriEncode(`/${segments.join("/")}${trailing}`, true);
}

/** The canonical query string of a received query: each pair decoded, re-encoded, sorted. */
export function canonicalQuery(rawQuery: string, omit?: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    const k = uriEncode(safeDecode(i < 0 ? part : part.slice(0, i)));
    const v = i < 0 ? "" : uriEncode(safeDecode(part.slice(i + 1)));
    if (k === omit) continue;
    pairs.push([k, v]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Each header's values as received, by lower-case name, trimmed and with spaces collapsed. */
function headerValues(rawHeaders: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const list = out.get(name) ?? [];
    list.push(rawHeaders[i + 1].trim().replace(/\s+/g, " "));
    out.set(name, list);
  }
  return out;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** The signing key of a secret for a date, region and service (kSigning). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

function amzDateOf(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function compact(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/**
 * Verifies a SigV4-signed request the way AWS does: the canonical request is built from the request
 * as received (method, raw path and query, the signed headers' received values) with the hash of
 * the body actually received, so a signed `x-amz-content-sha256` that does not describe the body
 * fails; for S3 that header must be present and match the body, or be UNSIGNED-PAYLOAD. Both
 * header auth (Authorization: AWS4-HMAC-SHA256 ...) and query auth (presigned URLs) are read.
 * Returns undefined for a request that carries no SigV4 signature at all.
 */
export function verifySigV4(req: ReceivedRequest, opts: VerifyOptions): SigV4Result | undefined {
  const q = req.url.indexOf("?");
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? "" : req.url.slice(q + 1);
  const headers = headerValues(req.rawHeaders);
  const header = (n: string) => headers.get(n)?.join(",");
  const query = new URLSearchParams(rawQuery);
  const fail = (fault: SigV4Fault, message: string): SigV4Result => ({ ok: false, fault, message });

  let credential: string, signedHeaders: string, signature: string, amzDate: string | undefined;
  let expires: number | undefined;
  const presigned = query.get("X-Amz-Algorithm") !== null;
  const auth = header("authorization");
  if (auth !== undefined && /^AWS4-HMAC-SHA256\b/.test(auth)) {
    const params = new Map<string, string>();
    for (const part of auth.slice("AWS4-HMAC-SHA256".length).split(",")) {
      const i = part.indexOf("=");
      if (i > 0) params.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
    }
    for (const p of ["Credential", "SignedHeaders", "Signature"]) {
      if (!params.get(p))
        return fail(
          "IncompleteSignature",
          `Authorization header requires '${p}' parameter. Authorization=${auth}`,
        );
    }
    credential = params.get("Credential")!;
    signedHeaders = params.get("SignedHeaders")!;
    signature = params.get("Signature")!;
    amzDate = header("x-amz-date");
    if (amzDate === undefined && header("date") !== undefined) {
      const d = new Date(header("date")!);
      if (!Number.isNaN(d.getTime())) amzDate = compact(d);
    }
    if (amzDate === undefined)
      return fail(
        "IncompleteSignature",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
  } else if (presigned) {
    if (query.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256")
      return fail("IncompleteSignature", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256");
    for (const p of ["X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date"]) {
      if (!query.get(p))
        return fail("IncompleteSignature", `AWS query-string parameters must include '${p}'.`);
    }
    credential = query.get("X-Amz-Credential")!;
    signedHeaders = query.get("X-Amz-SignedHeaders")!;
    signature = query.get("X-Amz-Signature")!;
    amzDate = query.get("X-Amz-Date")!;
    expires = query.get("X-Amz-Expires") ? Number(query.get("X-Amz-Expires")) : undefined;
  } else {
    return undefined;
  }

  const scope = credential.split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request")
    return fail(
      "IncompleteSignature",
      `Credential should be scoped to a valid region. Credential=${credential}`,
    );
  const [accessKeyId, date, region, service] = scope;
  const when = amzDateOf(amzDate);
  if (!when)
    return fail(
      "IncompleteSignature",
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  if (date !== amzDate.slice(0, 8))
    return fail(
      "SignatureMismatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${presigned ? "X-Amz-Date" : "x-amz-date"}'.`,
    );
  if (opts.service && service !== opts.service)
    return fail(
      "WrongService",
      `Credential should be scoped to correct service: '${opts.service}'. `,
    );
  const names = signedHeaders.split(";");
  if (!names.includes("host"))
    return fail(
      "IncompleteSignature",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );

  const now = opts.now ?? new Date();
  const skewMs = opts.s3 ? 15 * 60_000 : 5 * 60_000;
  const ageLimit = expires !== undefined ? expires * 1000 : skewMs;
  if (now.getTime() - when.getTime() > ageLimit)
    return fail(
      "Expired",
      expires !== undefined
        ? "Request has expired"
        : `Signature expired: ${amzDate} is now earlier than ${compact(new Date(now.getTime() - skewMs))} (${compact(now)} - ${skewMs / 60_000} min.)`,
    );
  if (when.getTime() - now.getTime() > skewMs)
    return fail(
      "Expired",
      `Signature not yet current: ${amzDate} is still later than ${compact(new Date(now.getTime() + skewMs))} (${compact(now)} + ${skewMs / 60_000} min.)`,
    );

  const secret = opts.secretFor(accessKeyId);
  if (secret === undefined)
    return fail("UnknownAccessKey", "The security token included in the request is invalid.");

  const bodyHash = req.body.length
    ? createHash("sha256").update(req.body).digest("hex")
    : EMPTY_SHA256;
  let payloadHash = bodyHash;
  if (opts.s3) {
    const claimed = header("x-amz-content-sha256");
    if (presigned && claimed === undefined) payloadHash = "UNSIGNED-PAYLOAD";
    else if (claimed === undefined)
      return fail(
        "MissingPayloadHash",
        "Missing required header for this request: x-amz-content-sha256",
      );
    else if (claimed === "UNSIGNED-PAYLOAD") payloadHash = claimed;
    else if (claimed.startsWith("STREAMING-"))
      return fail(
        "StreamingPayload",
        `The local endpoint does not implement the ${claimed} payload signing mode`,
      );
    else if (claimed !== bodyHash)
      return fail(
        "PayloadHashMismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
  }

  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath, !!opts.s3),
    canonicalQuery(rawQuery, presigned ? "X-Amz-Signature" : undefined),
    ...names.map((n) => `${n}:${header(n) ?? ""}`),
    "",
    signedHeaders,
    payloadHash,
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    `${date}/${region}/${service}/aws4_request`,
    createHash("sha256").update(canonicalRequest, "utf8").digest("hex"),
  ].join("\n");
  const expected = createHmac("sha256", signingKey(secret, date, region, service))
    .update(stringToSign, "utf8")
    .digest("hex");
  if (
    expected.length !== signature.length ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  )
    return fail("SignatureMismatch", SIGNATURE_MISMATCH);
  return { ok: true, accessKeyId, region, service };
}
