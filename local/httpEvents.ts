// Turns local HTTP requests into the events Lambda receives and Lambda results into HTTP
// responses: Function URL (payload format 2.0) and API Gateway REST proxy (payload format 1.0).
// guardServer puts every local server behind the limits AWS applies before a handler runs, and
// turns whatever a client sends, or a handler throws, into a response instead of a crash.
import * as http from "http";
import * as net from "net";
import { randomUUID } from "crypto";

export function readRequestBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A failure a handler reports to the client as this status, with the message as the reason. */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly type = "BadRequestException",
  ) {
    super(message);
  }
}

/** A Function URL's request payload limit (Lambda's synchronous invocation payload). */
export const FUNCTION_URL_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** API Gateway REST's payload limit. */
export const REST_API_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Timeouts every local server applies to its clients. */
export const CLIENT_TIMEOUTS = {
  /** The request line and headers must arrive within this (slow clients get 408). */
  headersTimeoutMs: 10_000,
  /** The whole request, body included, must arrive within this (408). */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** How often Node checks the two timeouts above. */
  checkIntervalMs: 1_000,
};

/** How a server writes its errors, as the AWS service it stands for does. */
export type ErrorStyle = "apiGateway" | "functionUrl" | "aws" | "plain";

export interface GuardOptions {
  /** Largest request body; a larger one is answered 413 without reaching the handler. */
  maxBodyBytes: number;
  errorStyle?: ErrorStyle;
  /** Overrides CLIENT_TIMEOUTS (tests use short ones). */
  timeouts?: Partial<typeof CLIENT_TIMEOUTS>;
  /** Where a handler's unexpected error is reported (the response says only 500). */
  log?: (line: string) => void;
  /** Names the server in log lines. */
  name?: string;
}

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestException",
  408: "RequestTimeoutException",
  413: "RequestEntityTooLargeException",
  431: "RequestHeaderFieldsTooLargeException",
  500: "InternalFailure",
};

function errorResponse(
  style: ErrorStyle,
  status: number,
  message: string,
  type = ERROR_TYPES[status] ?? "BadRequestException",
): { headers: Record<string, string>; body: string } {
  const body =
    style === "functionUrl"
      ? { Message: message }
      : style === "aws"
        ? { __type: type, message }
        : { message };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (style !== "plain") headers["x-amzn-errortype"] = type;
  return { headers, body: JSON.stringify(body) };
}

/**
 * Why a request target is not a valid URI (a `%` not followed by two hex digits, or a path that
 * is not UTF-8 once decoded), or undefined. API Gateway and Function URLs answer these 400.
 */
export function malformedTarget(target: string): string | undefined {
  const bad = target.match(/%(?![0-9a-fA-F]{2}).{0,2}/);
  if (bad) return `malformed percent-encoding "${bad[0]}" in the request URL`;
  const pathPart = target.split("?")[0];
  try {
    decodeURIComponent(pathPart);
  } catch {
    return "the request path is not UTF-8 once percent-decoded";
  }
  try {
    new URL(target, "http://localhost");
  } catch {
    return "the request URL cannot be parsed";
  }
  return undefined;
}

function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const [status, text, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "Request Header Fields Too Large",
          `request headers exceed ${http.maxHeaderSize} bytes`,
        ]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request did not arrive in time"]
        : err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
          ? [413, "Payload Too Large", "chunk extensions too large"]
          : [400, "Bad Request", `malformed HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify({ message });
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Puts a server's request handlers behind the limits and error handling of an AWS front door:
 * client timeouts (408), Node's header size limit (431), a body limit (413), malformed HTTP
 * (400), malformed percent-encoding (400), a client that goes away mid-body (nothing to answer),
 * and a handler that throws or rejects (500, logged). Call it after the handlers are attached.
 * Bodies are counted as they flow: a handler must start reading the body before it awaits.
 */
export function guardServer(server: http.Server, o: GuardOptions): http.Server {
  const style = o.errorStyle ?? "plain";
  const t = { ...CLIENT_TIMEOUTS, ...o.timeouts };
  server.headersTimeout = t.headersTimeoutMs;
  server.requestTimeout = t.requestTimeoutMs;
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  // Read when the server starts listening: Node checks the two timeouts above at this interval.
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval =
    t.checkIntervalMs;

  // What Node answers by default, with a reason in the body; never over a response in flight.
  server.removeAllListeners("clientError");
  server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const inFlight = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (err.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
      socket.write(clientErrorResponse(err));
    }
    socket.destroy();
  });

  const handlers = server.listeners("request") as Array<
    (req: http.IncomingMessage, res: http.ServerResponse) => unknown
  >;
  server.removeAllListeners("request");
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const fail = (status: number, message: string, type?: string) => {
      if (res.headersSent || res.destroyed) {
        // Mid-response there is nothing valid left to send: end the connection.
        if (!res.writableEnded) res.destroy();
        return;
      }
      const out = errorResponse(style, status, message, type);
      res.writeHead(status, { ...out.headers, "content-length": Buffer.byteLength(out.body) });
      res.end(out.body);
    };
    // A client that goes away mid-body: the handler's body read fails, and nobody is left to answer.
    req.on("error", () => undefined);
    const reason = malformedTarget(req.url ?? "/");
    if (reason) return fail(400, reason);
    const tooLarge = () => {
      res.setHeader("connection", "close");
      fail(413, `request body exceeds the ${o.maxBodyBytes} byte limit`);
    };
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > o.maxBodyBytes) return tooLarge();
    let seen = 0;
    req.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > o.maxBodyBytes && !res.headersSent) tooLarge();
    });
    const failed = (e: unknown) => {
      // The client went away (mid-body, or while its answer was prepared): nobody to answer.
      if (req.socket.destroyed) return void res.destroy();
      if (e instanceof HttpError) return fail(e.status, e.message, e.type);
      if (e instanceof URIError) return fail(400, `malformed percent-encoding: ${e.message}`);
      o.log?.(`  ${o.name ?? "server"}: ${req.method} ${req.url} failed: ${String(e)}`);
      fail(500, "Internal server error", "InternalFailure");
    };
    for (const handler of handlers) {
      try {
        Promise.resolve(handler.call(server, req, res)).catch(failed);
      } catch (e) {
        failed(e);
      }
    }
  });
  return server;
}

// Function URLs pass text bodies as text and base64-encode the rest (form posts included).
const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript)|application\/[a-z.+-]+\+(json|xml))/i;

function headerMap(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  }
  return out;
}

/** The Function URL event (payload format 2.0) for a request. */
export function functionUrlEvent(
  req: http.IncomingMessage,
  body: Buffer,
  domainName: string,
): Record<string, unknown> {
  const url = new URL(req.url ?? "/", `http://${domainName}`);
  const headers = headerMap(req);
  const text = body.length === 0 || TEXT_TYPES.test(headers["content-type"] ?? "");
  const now = new Date();
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const cookies = headers.cookie ? headers.cookie.split(/;\s*/) : undefined;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: domainName.split(".")[0],
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: {
        method: req.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: text ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !text,
  };
}

/** Writes a Lambda result as Function URLs and API Gateway proxies do. */
export function writeLambdaResponse(
  res: http.ServerResponse,
  result: any,
  headersExtra: Record<string, string> = {},
) {
  if (result && typeof result === "object" && "statusCode" in result) {
    const headers: Record<string, string | string[]> = {
      ...headersExtra,
      ...(result.headers ?? {}),
    };
    for (const [k, v] of Object.entries<string[]>(result.multiValueHeaders ?? {})) headers[k] = v;
    if (result.cookies) headers["set-cookie"] = result.cookies;
    const body =
      result.body === undefined
        ? ""
        : result.isBase64Encoded
          ? Buffer.from(result.body, "base64")
          : String(result.body);
    res.writeHead(Number(result.statusCode), headers);
    res.end(body);
    return;
  }
  // A bare value: Function URLs answer 200 with it as JSON.
  const text = typeof result === "string" ? result : JSON.stringify(result ?? null);
  res.writeHead(200, { "content-type": "application/json", ...headersExtra });
  res.end(text);
}
