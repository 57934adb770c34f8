// What a webhook provider module declares: everything about one provider, in one file. The
// receiver runs its `spec` (verify, parse, headers, ok answer); the stack's config takes its secret
// key and, where the signature covers the URL, its public URL key; the local run generates its
// secret; the demo and the tests send what `sign` builds; the docs tables show its rows. Pure (no
// SDK, no Powertools, no Pulumi), so config, components, the local runtime and handlers import it.
import * as crypto from "crypto";
import { HandlerError } from "../../lib/errors";
import { SignedRequest, Verdict } from "../signature";

/** A body that cannot be parsed as the provider sends it: answered with 400. */
export class MalformedRequest extends HandlerError {
  constructor(message: string) {
    super("MalformedRequest", message);
  }
}

export interface ParsedDelivery {
  /** The provider's id of the delivery, as published (a label: some schemes do not sign it). */
  deliveryId: string;
  /**
   * What identifies the delivery among all that verify: a value the signature covers (the
   * idempotency key). Where the scheme signs no id, a digest of the signed content, so a captured
   * delivery resent under a new id is still a duplicate.
   */
  replayKey: string;
  eventType: string;
  payload: unknown;
  /** The caller's correlation id, only where the signature covers it. */
  correlationId?: string;
}

/** What the receiver runs for a provider. */
export interface ProviderSpec {
  verify(req: SignedRequest, secrets: string[]): Verdict;
  /** Parses a verified body; throws MalformedRequest. */
  parse(body: Buffer, headers: Record<string, string | undefined>, url: string): ParsedDelivery;
  /** Headers copied into the event's detail, when present. */
  headers: string[];
  /** 200 response body and content type (Twilio expects TwiML). */
  ok(status: "accepted" | "duplicate", deliveryId: string): { contentType: string; body: string };
}

/** The stack secret that signs a provider's deliveries (`<key>Previous` holds the one rotated out). */
export interface ProviderSecret {
  /** Its `switchyard:` config key. */
  readonly key: string;
  /** What it is, as the missing-secret error says it. */
  readonly what: string;
  /** The value's shape in the docs' command, e.g. `whsec_...`. */
  readonly placeholder: string;
  /** A valid secret of this provider's format, made from `random(n)` bytes (what a local run generates). */
  generate(random: (bytes: number) => Buffer): string;
  /** A fixed valid secret: the value the test stacks set. */
  readonly example: string;
}

/** The config key of the URL a provider signs, when a custom domain fronts its receiver. */
export interface PublicUrlKey {
  readonly key: string;
  readonly example: string;
  readonly doc: string;
}

/**
 * The schemes a provider's receiver can be configured with (what its signature covers), one
 * chosen per stack by a config key.
 */
export interface ProviderSchemes {
  /** The `switchyard:` config key that chooses the scheme. */
  readonly key: string;
  /** The schemes; the first is the default. */
  readonly values: readonly [string, ...string[]];
  readonly doc: string;
  /** What the receiver runs in a scheme (the module's `spec` is the default scheme's). */
  spec(scheme: string): ProviderSpec;
}

/** How a provider's sender carries a record verification request (the workflow it starts). */
export interface VerificationRequests {
  /** Where the request sits in the event the receiver publishes, e.g. `$.detail.payload`. */
  readonly recordPath: string;
  /**
   * A delivery carrying `request` as its sender posts it, with `correlationId` where the scheme
   * signs one (else as the delivery id, which the event's correlation id then is).
   */
  delivery(
    request: Record<string, unknown>,
    o: { eventType: string; correlationId: string; uuid: string; nowSeconds: number },
  ): UnsignedDelivery;
}

/** A delivery as its sender composes it, before signing. */
export interface UnsignedDelivery {
  body: string;
  contentType: string;
  /** The sender's id of the delivery (where the scheme carries one in a header). */
  id: string;
  /** The event type, where the scheme carries it in a header (GitHub, generic HMAC). */
  eventType?: string;
  /** The correlation id, where the scheme signs it (generic HMAC). */
  correlationId?: string;
  /** Other headers the sender adds (unsigned). */
  headers?: Record<string, string>;
}

/** The request a genuine sender sends: where to, with which headers, which body. */
export interface SignedDelivery {
  /** The URL the sender posts to (Twilio adds `bodySHA256` for a JSON body). */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One row of a provider in docs/webhooks.md's tables (a provider with two schemes has two). */
export interface ProviderDocRow {
  /** The provider cell, e.g. `` `hmac` (`body`, opt-in) ``; default the provider's name in code. */
  readonly label?: string;
  readonly signature: string;
  readonly replayWindow: string;
  readonly deliveryId: string;
  readonly deduplicationKey: string;
  readonly detailType: string;
  /** What a captured delivery resent becomes ("...as is, or ..."). */
  readonly resent: string;
  readonly residualRisk: string;
}

export interface ProviderModule<Name extends string = string> {
  /** The provider's name: its path (`/<name>`), its event source and its config value. */
  readonly name: Name;
  readonly secret: ProviderSecret;
  /** Present when the signature covers the URL: the stack can then name the public URL signed. */
  readonly publicUrl?: PublicUrlKey;
  /** What the receiver runs (in the default scheme, when it has several). */
  readonly spec: ProviderSpec;
  /** Present when a receiver can be configured with one of several schemes. */
  readonly schemes?: ProviderSchemes;
  /** Present when its senders can start a record verification (the body is theirs to choose). */
  readonly verificationRequests?: VerificationRequests;
  /** A delivery of this provider carrying `marker` in its body (the demo's and the tests'). */
  sample(marker: string, uuid: string): UnsignedDelivery;
  /** The delivery signed as the provider signs it, posted to `url` at `nowSeconds`. */
  sign(
    secret: string,
    delivery: UnsignedDelivery & { url: string; nowSeconds: number },
  ): SignedDelivery;
  readonly docs: readonly ProviderDocRow[];
}

/**
 * Declares a provider module: its name and config keys keep their literal types (the registry
 * derives the provider union and the config keys from them), its functions take the contract's.
 */
export function defineProvider<const M extends ProviderModule>(
  m: M,
): Omit<M, "spec" | "sample" | "sign"> &
  Pick<ProviderModule<M["name"]>, "spec" | "sample" | "sign"> {
  return m;
}

/** The secret of a scheme that takes any string: random hex. */
export const opaqueSecret = (random: (bytes: number) => Buffer) =>
  `local-${random(16).toString("hex")}`;

export const COMMON_HEADERS = ["content-type", "user-agent"];

export function contentType(headers: Record<string, string | undefined>): string {
  return (headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
}

export function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) throw new MalformedRequest(`${what}: the body is empty`);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new MalformedRequest(`${what}: the body is not valid JSON`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function sha256Hex(...parts: Array<string | Buffer>): string {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

export const jsonOk = (status: string, deliveryId: string) => ({
  contentType: "application/json",
  body: JSON.stringify({ status, deliveryId }),
});

export type FormParams = Record<string, string | string[]>;

/** POST params of a form body, repeated names as arrays. */
export function parseForm(body: Buffer | string): FormParams {
  const out: FormParams = {};
  for (const [k, v] of new URLSearchParams(body.toString())) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The payload's `type`, when it is an object with a string one. */
export function typeOf(payload: unknown): string | undefined {
  return isObject(payload) && typeof payload.type === "string" ? payload.type : undefined;
}
