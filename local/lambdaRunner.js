// Hosts one Lambda artifact in this Node process, as the Lambda runtime does: loads __index.js from
// the directory given as argv[2], then answers invocations sent by the parent over IPC.
// Plain JavaScript so that it starts without ts-node, like the real runtime.
"use strict";
const path = require("path");
const { randomUUID } = require("crypto");

const dir = process.argv[2];
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME || path.basename(dir);
const timeoutMs = Number(process.env.SWITCHYARD_TIMEOUT_MS || 10000);
const started = process.hrtime.bigint();

// One console call is one log record, as in Lambda, whose Node runtime writes a message's line
// breaks as carriage returns: the parent reads one line per record.
const util = require("util");
for (const [level, stream] of [
  ["log", process.stdout],
  ["info", process.stdout],
  ["debug", process.stdout],
  ["warn", process.stderr],
  ["error", process.stderr],
]) {
  console[level] = (...args) => {
    stream.write(`${util.format(...args).replace(/\r?\n/g, "\r")}\n`);
  };
}

// The sandbox's hosts file (SWITCHYARD_SANDBOX_HOSTS, JSON name -> address): those names resolve
// without DNS, as /etc/hosts entries would; every other name goes to the system's resolver.
if (process.env.SWITCHYARD_SANDBOX_HOSTS) {
  const dns = require("dns");
  const net = require("net");
  const hosts = JSON.parse(process.env.SWITCHYARD_SANDBOX_HOSTS);
  const entry = (hostname) => {
    const address = Object.prototype.hasOwnProperty.call(hosts, hostname)
      ? hosts[hostname]
      : undefined;
    return address && { address, family: net.isIPv6(address) ? 6 : 4 };
  };
  const lookup = dns.lookup;
  dns.lookup = function (hostname, options, callback) {
    const cb = typeof options === "function" ? options : callback;
    const e = entry(hostname);
    if (!e) return lookup.apply(this, arguments);
    const all = typeof options === "object" && options !== null && options.all;
    process.nextTick(() => (all ? cb(null, [e]) : cb(null, e.address, e.family)));
    return {};
  };
  const lookupPromise = dns.promises.lookup;
  dns.promises.lookup = async function (hostname, options) {
    const e = entry(hostname);
    if (!e) return lookupPromise.apply(this, arguments);
    return typeof options === "object" && options !== null && options.all ? [e] : e;
  };
}

let handler;
try {
  handler = require(path.join(dir, "__index.js")).handler;
  if (typeof handler !== "function") throw new Error(`${dir}/__index.js exports no handler`);
} catch (err) {
  process.send({
    type: "init-error",
    error: { name: err.name, message: err.message, stack: err.stack },
  });
  process.exit(1);
}
process.send({ type: "ready", loadMs: Number(process.hrtime.bigint() - started) / 1e6 });

// How the Lambda Node.js runtime reports a thrown value (aws-lambda-nodejs-runtime-interface-client,
// Errors.js): a native Error, or an object with string name, message and stack, keeps its name and
// message; anything else becomes errorType typeof and errorMessage String(value). An error class
// that lost its message in serialization therefore reaches API Gateway as "[object Object]".
function toRapidResponse(error) {
  const isError = (o) =>
    o &&
    o.name &&
    o.message &&
    o.stack &&
    typeof o.name === "string" &&
    typeof o.message === "string" &&
    typeof o.stack === "string";
  if (require("util").types.isNativeError(error) || isError(error)) {
    return { errorType: error.name, errorMessage: error.message, stack: error.stack };
  }
  let text;
  try {
    text = String(error);
  } catch {
    text = "[object]";
  }
  return { errorType: typeof error, errorMessage: text, stack: undefined };
}

process.on("message", async (msg) => {
  if (!msg || msg.type !== "invoke") return;
  const deadline = Date.now() + timeoutMs;
  const requestId = msg.requestId || randomUUID();
  const context = {
    awsRequestId: requestId,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn:
      process.env.SWITCHYARD_FUNCTION_ARN ||
      `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || "256",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const t0 = process.hrtime.bigint();
  try {
    const result = await handler(msg.event, context);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // Flush what the handler logged before answering, so the parent has every log line of it.
    await new Promise((r) => process.stdout.write("", r));
    process.send({ type: "result", id: msg.id, result: result === undefined ? null : result, ms });
  } catch (err) {
    await new Promise((r) => process.stdout.write("", r));
    process.send({ type: "error", id: msg.id, error: toRapidResponse(err) });
  }
});
