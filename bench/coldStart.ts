// Cold load: a fresh Node process loads a function's __index.js and serves its first invocation,
// as a Lambda cold start does (without the runtime's own init overhead).
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { LambdaHost } from "../local/artifacts";
import { nowMs } from "./stats";

/**
 * An invocation every Switchyard handler answers or rejects quickly without side effects: an HTTP
 * request for an unknown path with no body, which is also invalid input for non-HTTP handlers.
 */
export const HARMLESS_EVENT = {
  version: "2.0",
  rawPath: "/__bench/unknown",
  rawQueryString: "",
  path: "/__bench/unknown",
  httpMethod: "GET",
  resource: "/__bench/unknown",
  headers: {},
  requestContext: {
    http: { method: "GET", path: "/__bench/unknown" },
    requestId: "bench",
    domainName: "bench.local",
  },
  body: null,
  isBase64Encoded: false,
};

/**
 * A local endpoint for every AWS call a handler might make while serving the harmless event: it
 * answers 400 at once, so nothing leaves this machine and no call waits.
 */
export async function startStubEndpoint(): Promise<{
  url: string;
  calls: () => number;
  close: () => Promise<void>;
}> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on("end", () => {
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({
          __type: "ValidationException",
          message: "switchyard bench stub endpoint",
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ColdSample {
  /** Spawn to the first invocation's answer, ms. */
  totalMs: number;
  /** Loading __index.js, measured inside the process, ms. */
  loadMs: number;
  /** How the first invocation ended: "result" or the error type. */
  outcome: string;
  /** What the first invocation returned, or the error's message. */
  result?: unknown;
  /** The end of what the process wrote (its logs), for a run that went wrong. */
  output?: string;
  /** AWS calls that reached the local stub from start to answer (set by the caller that owns the stub). */
  awsCalls?: number;
}

/** One cold start: a new process, the first invocation, then the process is stopped. */
export async function coldStartOnce(
  dir: string,
  env: Record<string, string>,
  event: unknown = HARMLESS_EVENT,
  functionName?: string,
  /** The function's declared timeout: the handler sees it in getRemainingTimeInMillis. */
  timeoutSeconds = 10,
): Promise<ColdSample> {
  const t0 = nowMs();
  const host = await LambdaHost.start(dir, { env, timeoutSeconds, functionName });
  let outcome = "result";
  let result: unknown;
  try {
    result = await host.invoke(event, "bench-cold");
  } catch (e) {
    outcome = (e as Error).name || "Error";
    result = (e as Error).message;
  }
  const totalMs = nowMs() - t0;
  const loadMs = host.loadMs;
  await host.stop();
  return { totalMs, loadMs, outcome, result, output: (host.stdout + host.stderr).slice(-1500) };
}

/**
 * A function directory holding only this `__index.js` (exporting `handler`): the bench's reference
 * functions, written as Lambda would load them, independent of how the program packages its own.
 */
export function referenceFunction(name: string, source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  fs.writeFileSync(path.join(dir, "__index.js"), source);
  return dir;
}

/** The floor of every cold start: a handler that does nothing. */
export const EMPTY_HANDLER = "exports.handler = async () => ({ ok: true });\n";

/**
 * The SDK floor: the least a first request that calls AWS can cost. One client of the runtime's
 * SDK (SQS, the smallest this program uses), built on first use, and one call that succeeds:
 * SendMessage to the queue BENCH_QUEUE_URL names.
 */
export const ONE_SDK_CALL_HANDLER = `exports.handler = async () => {
  const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
  const out = await new SQSClient({}).send(
    new SendMessageCommand({ QueueUrl: process.env.BENCH_QUEUE_URL, MessageBody: "{}" }),
  );
  return { messageId: out.MessageId };
};
`;
