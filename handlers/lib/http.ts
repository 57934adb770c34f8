// The HTTP client of handlers that call an API outside AWS (the records API, a JWKS): one request
// over node:http or node:https, answered as the part of fetch's Response they read.
//
// Why not the global fetch: Node's fetch is undici, which Node loads on the first call. That first
// call builds undici's dispatcher and compiles its HTTP parser (llhttp, WebAssembly); node:http's
// parser is native. In a cold process, a first POST to a local server took 39-47 ms with fetch and
// 8-9 ms with node:http (Node 20, four runs each), and record ingestion's first realistic request
// went from 1.66x-1.74x the SDK floor to 1.42x-1.48x at the median (`npm run bench`, cold start).
// Nothing else fits: undici's own request API is the same load, and a client library from npm
// would be bundled into every function that uses it.
//
// What it does differently from fetch, on purpose: a redirect is answered as it is unless the
// caller asks for it to be followed (only a GET that carries no credentials does, never from https
// to http), so the records API key is never sent where a redirect points; and it asks for bodies
// without a content coding. A kept-alive connection the server closed while it was idle is
// retried once on a new one. Connections are kept alive by Node's global agents.
import * as http from "http";
import * as https from "https";

export interface HttpInit {
  method?: string;
  /** Added to the defaults (`DEFAULT_HEADERS`), whose names they replace in any case. */
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request and the reading of its answer (AbortSignal.timeout for a deadline). */
  signal?: AbortSignal;
  /**
   * Redirects a GET follows, at most; default 0 (a 3xx is answered). Never from https to http.
   * Only for requests that carry no credentials (a JWKS), never for the records API's key.
   */
  redirects?: number;
}

/** The part of fetch's Response the handlers read. */
export interface HttpAnswer {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<any>;
}

/** What a handler calls: `httpRequest`, or fetch itself (which has this shape) in a test. */
export type HttpRequest = (url: string, init?: HttpInit) => Promise<HttpAnswer>;

/**
 * Sent unless the caller names them: an identifying User-Agent (WAF managed rules and bot filters
 * block requests without one; fetch sends `node`), any type, and no content coding, so a body
 * comes as it is (with no Accept-Encoding at all a server may pick any coding).
 */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  "user-agent": "switchyard",
  accept: "*/*",
  "accept-encoding": "identity",
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const httpRequest: HttpRequest = async (url, init = {}) => {
  let target = parseTarget(url);
  const method = (init.method ?? "GET").toUpperCase();
  for (let left = init.redirects ?? 0; ; left--) {
    const answer = await requestOnce(target, init);
    const location = answer.headers.get("location");
    if (left <= 0 || method !== "GET" || !REDIRECTS.has(answer.status) || !location) return answer;
    const next = parseTarget(new URL(location, target).toString());
    if (target.protocol === "https:" && next.protocol === "http:") return answer;
    target = next;
  }
};

function parseTarget(url: string): URL {
  const target = new URL(url);
  if (target.protocol !== "https:" && target.protocol !== "http:")
    throw new TypeError(`only http and https URLs can be requested, not ${url}`);
  return target;
}

/** Errors of a kept-alive connection the server had closed while this one was idle. */
const STALE_CONNECTION = new Set(["ECONNRESET", "EPIPE"]);

function requestOnce(target: URL, init: HttpInit, retried = false): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const { signal } = init;
    // An aborted signal rejects with its reason (a TimeoutError from AbortSignal.timeout), as
    // fetch does, rather than with node:http's generic AbortError.
    const fail = (e: unknown) => reject(signal?.aborted ? signal.reason : e);
    if (signal?.aborted) return fail(signal.reason);
    const body = init.body === undefined ? undefined : Buffer.from(init.body, "utf8");
    const headers: Record<string, string> = { ...DEFAULT_HEADERS };
    for (const [name, value] of Object.entries(init.headers ?? {}))
      headers[name.toLowerCase()] = value;
    if (body) headers["content-length"] = String(body.length);
    let answered = false;
    const req = (target.protocol === "https:" ? https : http).request(
      target,
      { method: init.method ?? "GET", headers, signal },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        // A connection closed before the answer's end is an error, not a short body.
        res.once("close", () => {
          if (!res.complete) fail(new Error("the connection closed before the answer ended"));
        });
        res.once("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            headers: {
              get: (name) => {
                const v = res.headers[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
              },
            },
            text: async () => text,
            json: async () => JSON.parse(text),
          });
        });
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => {
      // A kept-alive connection can have been closed by the server while idle (a Lambda
      // environment is frozen between invocations): sent again once on a new connection, as
      // Node's documentation advises. The records API's calls carry an idempotency key.
      if (!answered && !retried && req.reusedSocket && STALE_CONNECTION.has(e.code ?? "")) {
        requestOnce(target, init, true).then(resolve, reject);
        return;
      }
      fail(e);
    });
    req.end(body);
  });
}
