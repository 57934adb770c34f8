// One HTTP POST of a signed message to a subscriber: to the address the SSRF guard checked (the
// socket's lookup answers with it, so TLS still verifies the certificate for the host name), no
// redirect followed, the whole exchange bounded by a timeout, the response read up to a limit.
import * as http from "http";
import * as https from "https";
import type { LookupFunction } from "net";
import { BlockedAddressError, resolvePublicAddress, Resolver } from "./address";

export type FailureKind =
  "status" | "timeout" | "connection" | "response-too-large" | "blocked-address" | "invalid-url";

export interface DeliveryResult {
  readonly ok: boolean;
  /** The HTTP status, when one was received. */
  readonly statusCode?: number;
  /** Why a failed attempt failed. */
  readonly failure?: FailureKind;
  /** The error's text, for a failure without a status (or a too large one). */
  readonly error?: string;
  /** Milliseconds from the request's start to its end. */
  readonly latencyMs: number;
  /** The response's first bytes, as text. */
  readonly responseSnippet: string;
  /** The address connected to. */
  readonly address?: string;
}

export interface PostOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly snippetBytes: number;
  readonly resolve: Resolver;
  /** The local run: http:// and loopback addresses allowed. */
  readonly allowHttp: boolean;
  /** Certificates to trust instead of Node's bundled CAs (tests' self-signed subscribers). */
  readonly ca?: string;
}

export async function postMessage(o: PostOptions): Promise<DeliveryResult> {
  const started = Date.now();
  const took = () => Date.now() - started;
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return {
      ok: false,
      failure: "invalid-url",
      error: `not a URL: ${o.url}`,
      latencyMs: 0,
      responseSnippet: "",
    };
  }
  if (url.protocol !== "https:" && !(o.allowHttp && url.protocol === "http:")) {
    return {
      ok: false,
      failure: "invalid-url",
      error: `only https:// endpoints are delivered to, got ${url.protocol}`,
      latencyMs: 0,
      responseSnippet: "",
    };
  }
  let pinned;
  try {
    pinned = await resolvePublicAddress(url.hostname, o.resolve, o.allowHttp);
  } catch (e) {
    const blocked = e instanceof BlockedAddressError;
    return {
      ok: false,
      failure: blocked ? "blocked-address" : "connection",
      error: (e as Error).message,
      latencyMs: took(),
      responseSnippet: "",
    };
  }
  // The socket connects to the checked address, whatever the resolver would answer now.
  const lookup: LookupFunction = (_host, options, callback) => {
    const cb = callback as (...args: unknown[]) => void;
    if ((options as { all?: boolean }).all)
      cb(null, [{ address: pinned.address, family: pinned.family }]);
    else cb(null, pinned.address, pinned.family);
  };
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<DeliveryResult, "latencyMs" | "address">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...r, latencyMs: took(), address: pinned.address });
    };
    const req = transport.request(
      url,
      {
        method: "POST",
        headers: { ...o.headers, "content-length": String(Buffer.byteLength(o.body)) },
        lookup,
        agent: false,
        ...(o.ca ? { ca: o.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        const statusCode = res.statusCode ?? 0;
        const snippet = () => Buffer.concat(chunks).subarray(0, o.snippetBytes).toString("utf8");
        res.on("data", (c: Buffer) => {
          bytes += c.length;
          if (bytes > o.maxResponseBytes) {
            chunks.push(c);
            finish({
              ok: false,
              statusCode,
              failure: "response-too-large",
              error: `response body exceeds ${o.maxResponseBytes} bytes`,
              responseSnippet: snippet(),
            });
            return;
          }
          if (Buffer.concat(chunks).length < o.snippetBytes) chunks.push(c);
        });
        res.on("end", () => {
          const ok = statusCode >= 200 && statusCode < 300;
          finish({
            ok,
            statusCode,
            ...(ok ? {} : { failure: "status" as const }),
            responseSnippet: snippet(),
          });
        });
        res.on("error", (e) =>
          finish({
            ok: false,
            statusCode,
            failure: "connection",
            error: e.message,
            responseSnippet: snippet(),
          }),
        );
      },
    );
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          failure: "timeout",
          error: `no complete response within ${o.timeoutMs} ms`,
          responseSnippet: "",
        }),
      o.timeoutMs,
    );
    req.on("error", (e) =>
      finish({ ok: false, failure: "connection", error: e.message, responseSnippet: "" }),
    );
    req.end(o.body);
  });
}
