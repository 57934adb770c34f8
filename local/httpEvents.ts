// Turns local HTTP requests into the events Lambda receives and Lambda results into HTTP
// responses: Function URL (payload format 2.0) and API Gateway REST proxy (payload format 1.0).
import * as http from "http";
import { randomUUID } from "crypto";

export function readRequestBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
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
