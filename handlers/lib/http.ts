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
// What it does differently from fetch, on purpose: redirects are answered as they are (a 3xx is
// not followed, so an API key is never sent to where a redirect points), and no Accept-Encoding is
// sent, so bodies come uncompressed. Connections are kept alive by Node's global agents.
import * as http from "http";
import * as https from "https";

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request and the reading of its answer (AbortSignal.timeout for a deadline). */
  signal?: AbortSignal;
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

export const httpRequest: HttpRequest = (url, init = {}) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const { signal } = init;
    // An aborted signal rejects with its reason (a TimeoutError from AbortSignal.timeout), as
    // fetch does, rather than with node:http's generic AbortError.
    const fail = (e: unknown) => reject(signal?.aborted ? signal.reason : e);
    if (signal?.aborted) return fail(signal.reason);
    let target: URL;
    try {
      target = new URL(url);
    } catch (e) {
      return reject(e);
    }
    if (target.protocol !== "https:" && target.protocol !== "http:")
      return reject(new TypeError(`only http and https URLs can be requested, not ${url}`));
    const body = init.body === undefined ? undefined : Buffer.from(init.body, "utf8");
    const req = (target.protocol === "https:" ? https : http).request(
      target,
      {
        method: init.method ?? "GET",
        headers: {
          ...init.headers,
          ...(body ? { "content-length": String(body.length) } : {}),
        },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("error", fail);
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
    req.once("error", fail);
    req.end(body);
  });
