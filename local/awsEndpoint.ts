// The local AWS endpoint: one HTTP server that Lambda code reaches through AWS_ENDPOINT_URL, and
// the one router of the local run. It speaks each service's wire protocol as the AWS SDK v3 sends
// it (JSON with X-Amz-Target, the query protocol, Lambda's and S3's REST paths) and answers with
// AWS's response and error shapes. Each operation goes where SERVED_OPERATIONS says: to the engine
// (what executes), or to moto_server, where the program was applied at start (reads and
// inspection; held until that apply has finished). DynamoDB is forwarded to moto_server, one
// request at a time. An operation of a service the program does not use gets an explicit error
// naming what is served, never a silent success. A signed request is verified as AWS verifies it
// (local/sigv4.ts); an unsigned one is served, as a local convenience.
import * as http from "http";
import { createHash, randomUUID } from "crypto";
import { LOCAL_CALLER_CREDENTIALS, SigV4Fault, verifySigV4 } from "./sigv4";
import { LOCAL_CREDENTIALS } from "./credentials";
import {
  motoServices,
  SERVED_OPERATIONS,
  servedOperationNames,
  servedTargets,
} from "./services/operations";

export class AwsError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status = 400,
    /** Further members of the error body (Lambda's Type and Reason, for example). */
    public readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** Access keys the endpoint knows: the functions' (local/local) and the jobs API caller's. */
export const LOCAL_ENDPOINT_CREDENTIALS: Record<string, string> = {
  [LOCAL_CREDENTIALS.accessKeyId]: LOCAL_CREDENTIALS.secretAccessKey,
  [LOCAL_CALLER_CREDENTIALS.accessKeyId]: LOCAL_CALLER_CREDENTIALS.secretAccessKey,
};

/** The services the endpoint serves; each is implemented by the local runtime. */
export interface LocalServices {
  /** Base URL of the local DynamoDB (moto_server), for DynamoDB requests. */
  dynamodbUrl: string;
  /**
   * Settles once the tables exist (the run serves before they do): DynamoDB requests wait for it,
   * in the order they arrived; a rejection answers 503 with its reason.
   */
  dynamodbReady?: Promise<unknown>;
  /**
   * moto_server, for the operations SERVED_OPERATIONS sends to moto; `ready` settles once the
   * program is applied to it (requests wait for it; a rejection answers 503 with its reason).
   * Without it those operations are unknown.
   */
  moto?: { url: string; ready: Promise<unknown> };
  /** How long moto may take to answer one proxied request. Default MOTO_TIMEOUT_MS. */
  motoTimeoutMs?: number;
  /**
   * How long moto_server may take to answer one request before the endpoint answers 500
   * InternalServerError (which the SDKs retry) and serves the next one. Default DYNAMODB_TIMEOUT_MS.
   */
  dynamodbTimeoutMs?: number;
  /** Access key id to secret key of the signers the endpoint accepts; default LOCAL_ENDPOINT_CREDENTIALS. */
  credentials?: Record<string, string>;
  /** PutEvents' Entries as received; throws AwsError for a request EventBridge rejects whole. */
  putEvents(entries: unknown): Promise<{ FailedEntryCount: number; Entries: any[] }>;
  /** EventBridge StartReplay, where the runtime serves archives, and DescribeReplay. */
  startReplay?(request: any): Promise<unknown>;
  describeReplay?(request: Record<string, unknown>): Promise<unknown>;
  /** EventBridge ListTargetsByRule, DescribeApiDestination and DescribeConnection. */
  listTargetsByRule?(request: Record<string, unknown>): Promise<unknown>;
  describeApiDestination?(request: Record<string, unknown>): Promise<unknown>;
  describeConnection?(request: Record<string, unknown>): Promise<unknown>;
  getSecretValue(secretId: string): Promise<{ ARN: string; Name: string; SecretString: string }>;
  snsPublish(args: {
    TopicArn: string;
    Message: string;
    Subject?: string;
    MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  }): Promise<string>;
  sqsSendMessage(args: {
    QueueUrl: string;
    MessageBody: string;
    MessageAttributes?: any;
    DelaySeconds?: number;
  }): Promise<string>;
  startExecution(args: {
    stateMachineArn: string;
    input?: string;
    name?: string;
  }): Promise<{ executionArn: string; startDate: number }>;
  /** SQS ReceiveMessage and DeleteMessage (JSON protocol), for inspecting queues such as the DLQ. */
  sqsReceiveMessage?(request: Record<string, unknown>): Promise<unknown>;
  sqsDeleteMessage?(request: Record<string, unknown>): Promise<unknown>;
  /** SQS ChangeMessageVisibility (JSON 1.0 and query): a received message visible again, or later (the outbound dispatcher's retry waits). */
  sqsChangeMessageVisibility?(request: Record<string, unknown>): Promise<unknown>;
  /** A queue's message counts (the engine holds the messages; moto, the queue's attributes). */
  sqsMessageCounts?(queueUrl: string): Record<string, string> | undefined;
  /** Step Functions ListExecutions. */
  listExecutions?(request: Record<string, unknown>): Promise<unknown>;
  /** Step Functions DescribeExecution and GetExecutionHistory: the engine's executions. */
  describeExecution?(request: Record<string, unknown>): Promise<unknown>;
  getExecutionHistory?(request: Record<string, unknown>): Promise<unknown>;
  invokeLambda(
    functionName: string,
    payload: string,
    invocationType: string,
  ): Promise<{ status: number; payload: string; functionError?: string }>;
  s3Put(bucket: string, key: string, body: Buffer, contentType?: string): Promise<string>;
  /** GetObject and HeadObject, where moto does not serve them. */
  s3Get?(
    bucket: string,
    key: string,
  ): Promise<{ body: Buffer; contentType?: string; etag: string }>;
  /**
   * Wraps each DynamoDB write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems)
   * so that the runtime can read the items before and after it and emit the stream records
   * DynamoDB would.
   */
  aroundDynamoWrite?(
    operation: string,
    request: any,
    forward: () => Promise<number>,
  ): Promise<void>;
}

const DYNAMO_WRITES = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
]);

/** moto_server did not answer in time: a 500 the caller retries. */
class DynamoTimeout extends Error {}

/** How long moto_server may take to answer one DynamoDB request (see dynamodbTimeoutMs). */
export const DYNAMODB_TIMEOUT_MS = 15_000;
/** How long moto_server may take to answer one proxied request (once the apply has finished). */
export const MOTO_TIMEOUT_MS = 30_000;

/** A JSON request body as the JSON protocols' deserializers read it: an object, else 400. */
function parseJsonObject(body: Buffer): Record<string, unknown> {
  let parsed: unknown = {};
  if (body.length) {
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AwsError("SerializationException", "Unable to parse the request body as JSON.");
    }
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new AwsError("SerializationException", "Expected a JSON object as the request body.");
  return parsed as Record<string, unknown>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  contentType = "application/x-amz-json-1.1",
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": contentType,
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendJsonError(
  res: http.ServerResponse,
  err: AwsError,
  contentType = "application/x-amz-json-1.1",
  extraHeaders: Record<string, string> = {},
) {
  const text = JSON.stringify({ __type: err.code, message: err.message, ...err.fields });
  res.writeHead(err.status, {
    "content-type": contentType,
    "x-amzn-errortype": err.code,
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
}

function xmlEscape(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );
}

/** The query protocol's error (SNS, SQS): ErrorResponse with the fault, code and message. */
function sendXmlError(res: http.ServerResponse, err: AwsError) {
  const fault = err.status >= 500 ? "Receiver" : "Sender";
  const body = `<ErrorResponse><Error><Type>${fault}</Type><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  res.writeHead(err.status, { "content-type": "text/xml" });
  res.end(body);
}

/**
 * S3's error: an XML document with Code, Message, the resource it concerns (Key, BucketName: the
 * error's fields), RequestId and HostId, the request id in x-amz-request-id too; a HEAD gets the
 * status and headers only.
 */
function sendS3Error(res: http.ServerResponse, err: AwsError, head: boolean) {
  const requestId = randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase();
  const hostId = Buffer.from(randomUUID()).toString("base64");
  const fields = Object.entries(err.fields)
    .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
    .join("");
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${fields}<RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`;
  res.writeHead(err.status, {
    "content-type": "application/xml",
    "x-amz-request-id": requestId,
    "x-amz-id-2": hostId,
    ...(head ? {} : { "content-length": Buffer.byteLength(body) }),
  });
  res.end(head ? undefined : body);
}

/**
 * SQS's JSON protocol (awsQueryCompatible): the error's shape name in `__type`, namespaced
 * com.amazonaws.sqs, and the query protocol's code and fault in `x-amzn-query-error`, from which
 * the SDKs fill in the error's Code.
 */
const SQS_JSON_ERROR_SHAPES: Record<string, string> = {
  "AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
  "AWS.SimpleQueueService.EmptyBatchRequest": "EmptyBatchRequest",
  "AWS.SimpleQueueService.TooManyEntriesInBatchRequest": "TooManyEntriesInBatchRequest",
  "AWS.SimpleQueueService.BatchEntryIdsNotDistinct": "BatchEntryIdsNotDistinct",
  "AWS.SimpleQueueService.InvalidBatchEntryId": "InvalidBatchEntryId",
  "AWS.SimpleQueueService.BatchRequestTooLong": "BatchRequestTooLong",
  InvalidMessageContents: "InvalidMessageContents",
};

function sendSqsJsonError(res: http.ServerResponse, err: AwsError) {
  const shape = SQS_JSON_ERROR_SHAPES[err.code] ?? err.code;
  const fault = err.status >= 500 ? "Receiver" : "Sender";
  sendJsonError(
    res,
    new AwsError(`com.amazonaws.sqs#${shape}`, err.message, err.status),
    "application/x-amz-json-1.0",
    { "x-amzn-query-error": `${err.code};${fault}` },
  );
}

/** How a protocol names each SigV4 refusal (code, HTTP status, message override). */
function signatureError(
  fault: SigV4Fault,
  message: string,
  protocol: "json" | "query" | "s3",
): AwsError {
  const table: Record<SigV4Fault, Record<typeof protocol, [string, number, string?]>> = {
    IncompleteSignature: {
      json: ["IncompleteSignatureException", 400],
      query: ["IncompleteSignature", 400],
      s3: ["AuthorizationHeaderMalformed", 400],
    },
    UnknownAccessKey: {
      json: ["UnrecognizedClientException", 403],
      query: ["InvalidClientTokenId", 403],
      s3: [
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
      ],
    },
    SignatureMismatch: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: [
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      ],
    },
    WrongService: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: ["AuthorizationHeaderMalformed", 400],
    },
    Expired: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: [
        message === "Request has expired" ? "AccessDenied" : "RequestTimeTooSkewed",
        403,
        message === "Request has expired"
          ? message
          : "The difference between the request time and the current time is too large.",
      ],
    },
    PayloadHashMismatch: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: ["XAmzContentSHA256Mismatch", 400],
    },
    MissingPayloadHash: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: ["InvalidRequest", 400],
    },
    StreamingPayload: {
      json: ["InvalidSignatureException", 403],
      query: ["SignatureDoesNotMatch", 403],
      s3: ["NotImplemented", 501],
    },
  };
  const [code, status, text] = table[fault][protocol];
  return new AwsError(code, text ?? message, status);
}

/** Parses SNS's query-protocol MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}. */
function snsAttributes(
  form: URLSearchParams,
): Record<string, { DataType: string; StringValue?: string }> {
  const out: Record<string, { DataType: string; StringValue?: string }> = {};
  for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
    out[form.get(`MessageAttributes.entry.${i}.Name`)!] = {
      DataType: form.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? "String",
      StringValue: form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? undefined,
    };
  }
  return out;
}

/** An SQS message attribute as the JSON protocol carries it. */
interface SqsAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** One message to send: SendMessage's parameters, or one SendMessageBatch entry. */
interface SqsMessage {
  Id?: string;
  MessageBody?: unknown;
  MessageAttributes?: Record<string, SqsAttribute>;
  DelaySeconds?: unknown;
}

/** SQS' largest message, and largest batch (the sum of its messages). */
const SQS_MAX_BYTES = 262144;

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

/**
 * MD5OfMessageAttributes as SQS computes it: per attribute, sorted by name, the lengths (4 bytes,
 * big-endian) and bytes of name and data type, a transport byte (1 string, 2 binary), the value.
 */
export function md5OfAttributes(attrs: Record<string, SqsAttribute>): string {
  const parts: Buffer[] = [];
  const withLength = (b: Buffer) => {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(b.length);
    parts.push(n, b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    withLength(Buffer.from(name, "utf8"));
    withLength(Buffer.from(a.DataType, "utf8"));
    const binary = a.DataType.startsWith("Binary");
    parts.push(Buffer.from([binary ? 2 : 1]));
    withLength(
      binary ? Buffer.from(a.BinaryValue!, "base64") : Buffer.from(a.StringValue ?? "", "utf8"),
    );
  }
  return md5(Buffer.concat(parts));
}

function attributesSize(attrs: Record<string, SqsAttribute> | undefined): number {
  let n = 0;
  for (const [name, a] of Object.entries(attrs ?? {}))
    n +=
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType ?? "") +
      Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? "");
  return n;
}

/** Characters SQS accepts in a message: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
const SQS_INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A message SQS refuses on its own: the code and message it answers (per batch entry too). */
function messageFault(m: SqsMessage): AwsError | undefined {
  if (m.MessageBody === undefined || m.MessageBody === null || m.MessageBody === "")
    return new AwsError("MissingParameter", "The request must contain the parameter MessageBody.");
  if (typeof m.MessageBody !== "string")
    return new AwsError("InvalidParameterValue", "Value for parameter MessageBody is invalid.");
  if (SQS_INVALID_CHARACTER.test(m.MessageBody))
    return new AwsError(
      "InvalidMessageContents",
      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    );
  const size = Buffer.byteLength(m.MessageBody) + attributesSize(m.MessageAttributes);
  if (size > SQS_MAX_BYTES)
    return new AwsError(
      "InvalidParameterValue",
      `One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MAX_BYTES} bytes.`,
    );
  const delay = m.DelaySeconds === undefined ? 0 : Number(m.DelaySeconds);
  if (!Number.isInteger(delay) || delay < 0 || delay > 900)
    return new AwsError(
      "InvalidParameterValue",
      `Value ${String(m.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
    );
  return undefined;
}

/** SendMessageBatch's whole-request checks, before any entry is sent. */
function validateBatch(entries: unknown): SqsMessage[] {
  if (entries !== undefined && !Array.isArray(entries))
    throw new AwsError("SerializationException", "Expected list for Entries");
  const list = (entries ?? []) as SqsMessage[];
  if (list.length === 0)
    throw new AwsError(
      "AWS.SimpleQueueService.EmptyBatchRequest",
      "There should be at least one SendMessageBatchRequestEntry in the request.",
    );
  if (list.length > 10)
    throw new AwsError(
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are 10. You have sent ${list.length}.`,
    );
  const seen = new Set<string>();
  for (const e of list) {
    if (!e || typeof e !== "object" || typeof e.Id !== "string" || !/^[\w-]{1,80}$/.test(e.Id))
      throw new AwsError(
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
      );
    if (seen.has(e.Id))
      throw new AwsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", `Id ${e.Id} repeated.`);
    seen.add(e.Id);
  }
  const total = list.reduce(
    (n, e) =>
      n +
      (typeof e.MessageBody === "string" ? Buffer.byteLength(e.MessageBody) : 0) +
      attributesSize(e.MessageAttributes),
    0,
  );
  if (total > SQS_MAX_BYTES)
    throw new AwsError(
      "AWS.SimpleQueueService.BatchRequestTooLong",
      `Batch requests cannot be longer than ${SQS_MAX_BYTES} bytes. You have sent ${total} bytes.`,
    );
  return list;
}

/** The query protocol's MessageAttribute.N.{Name,Value.DataType,Value.StringValue,Value.BinaryValue}. */
function queryAttributes(form: URLSearchParams, prefix: string): Record<string, SqsAttribute> {
  const out: Record<string, SqsAttribute> = {};
  for (let i = 1; form.has(`${prefix}MessageAttribute.${i}.Name`); i++) {
    const at = `${prefix}MessageAttribute.${i}.Value`;
    out[form.get(`${prefix}MessageAttribute.${i}.Name`)!] = {
      DataType: form.get(`${at}.DataType`) ?? "String",
      ...(form.has(`${at}.StringValue`) ? { StringValue: form.get(`${at}.StringValue`)! } : {}),
      ...(form.has(`${at}.BinaryValue`) ? { BinaryValue: form.get(`${at}.BinaryValue`)! } : {}),
    };
  }
  return out;
}

function queryMessage(form: URLSearchParams, prefix = ""): SqsMessage {
  const attrs = queryAttributes(form, prefix);
  return {
    ...(form.has(`${prefix}Id`) ? { Id: form.get(`${prefix}Id`)! } : {}),
    MessageBody: form.get(`${prefix}MessageBody`) ?? undefined,
    ...(Object.keys(attrs).length ? { MessageAttributes: attrs } : {}),
    ...(form.has(`${prefix}DelaySeconds`)
      ? { DelaySeconds: form.get(`${prefix}DelaySeconds`) }
      : {}),
  };
}

/**
 * A JSON request's string members: a required one absent is Coral's ValidationException, a member
 * of another JSON type the deserializer's SerializationException (both 400).
 */
function requireStrings(body: Record<string, unknown>, required: string[], optional: string[]) {
  for (const m of [...required, ...optional]) {
    const v = body[m];
    if (v === undefined || v === null) {
      if (required.includes(m))
        throw new AwsError(
          "ValidationException",
          `1 validation error detected: Value null at '${m[0].toLowerCase()}${m.slice(1)}' failed to satisfy constraint: Member must not be null`,
        );
    } else if (typeof v !== "string") {
      throw new AwsError("SerializationException", `Expected string for ${m}`);
    }
  }
}

/** Operations served, by X-Amz-Target (from SERVED_OPERATIONS, local/services/operations.ts). */
export const JSON_OPERATIONS = servedTargets();

/** The signing name of each X-Amz-Target prefix the endpoint serves. */
const SIGNING_NAMES: Record<string, string> = {
  DynamoDB_20120810: "dynamodb",
  ...Object.fromEntries(
    motoServices().flatMap((o) => (o.targetPrefix ? [[o.targetPrefix, o.signingName!]] : [])),
  ),
};

/** The X-Amz-Target prefixes of the services whose other operations go to moto. */
const MOTO_TARGET_PREFIXES = new Set(motoServices().flatMap((o) => o.targetPrefix ?? []));

/** The signing names of the services whose other operations go to moto. */
const MOTO_SIGNING_NAMES = new Set(motoServices().map((o) => o.signingName!));

/** The query protocol's API version of each service, for an unsigned request. */
const QUERY_VERSIONS: Record<string, string> = {
  "2010-03-31": "sns",
  "2012-11-05": "sqs",
  "2010-08-01": "monitoring",
  "2010-05-08": "iam",
};

/** The service a signed request's credential scope names (header or presigned query). */
function scopedService(req: http.IncomingMessage, url: URL): string | undefined {
  const auth = String(req.headers.authorization ?? "");
  const credential =
    auth.match(/Credential=([^,\s]+)/)?.[1] ?? url.searchParams.get("X-Amz-Credential") ?? "";
  return credential.split("/")[3] || undefined;
}

const url = (req: http.IncomingMessage) => new URL(req.url ?? "/", "http://local");

/**
 * Query-protocol actions the engine serves, by signing name (SQS and SNS, the query services the
 * engine serves, sign as their lower-cased names), from SERVED_OPERATIONS.
 */
const ENGINE_QUERY_ACTIONS: Record<string, string[]> = SERVED_OPERATIONS.filter(
  (o) => o.engine !== "moto" && o.protocol.includes("query"),
).reduce<Record<string, string[]>>((byService, o) => {
  (byService[o.service.toLowerCase()] ??= []).push(o.operation);
  return byService;
}, {});

export function createAwsEndpoint(svc: LocalServices): http.Server {
  const dynamo = new URL(svc.dynamodbUrl);
  const motoTimeoutMs = svc.motoTimeoutMs ?? MOTO_TIMEOUT_MS;
  const credentials = svc.credentials ?? LOCAL_ENDPOINT_CREDENTIALS;
  const dynamoTimeoutMs = svc.dynamodbTimeoutMs ?? DYNAMODB_TIMEOUT_MS;
  // DynamoDB applies each request atomically; moto_server answers on threads that do not isolate
  // requests from each other (a cancelled transaction restores tables copied before a concurrent
  // write). One request at a time, with the reads around a write, gives DynamoDB's isolation and
  // exact stream images. Functions still interleave their requests, as on AWS.
  let dynamoTurn: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = dynamoTurn.then(work, work);
    dynamoTurn = run.catch(() => undefined);
    return run;
  };

  /** Sends each message of a request in order; every check has already passed. */
  async function sendMessages(queueUrl: string, messages: SqsMessage[]) {
    const successful: Record<string, string>[] = [];
    const failed: Record<string, unknown>[] = [];
    for (const m of messages) {
      const fault = messageFault(m);
      if (fault) {
        failed.push({ Id: m.Id, SenderFault: true, Code: fault.code, Message: fault.message });
        continue;
      }
      const body = m.MessageBody as string;
      const id = await svc.sqsSendMessage({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: m.MessageAttributes,
        DelaySeconds: m.DelaySeconds === undefined ? undefined : Number(m.DelaySeconds),
      });
      successful.push({
        ...(m.Id !== undefined ? { Id: m.Id } : {}),
        MessageId: id,
        MD5OfMessageBody: md5(body),
        ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length
          ? { MD5OfMessageAttributes: md5OfAttributes(m.MessageAttributes) }
          : {}),
      });
    }
    return { successful, failed };
  }

  /** SendMessage or SendMessageBatch, whichever protocol carried it. */
  async function sqs(
    action: string,
    queueUrl: unknown,
    message: () => SqsMessage,
    batch: () => unknown,
  ): Promise<{ single?: Record<string, string>; successful?: any[]; failed?: any[] }> {
    if (typeof queueUrl !== "string" || !queueUrl)
      throw new AwsError("MissingParameter", "The request must contain the parameter QueueUrl.");
    if (action === "SendMessage") {
      const m = message();
      const fault = messageFault(m);
      if (fault) throw fault;
      const out = await sendMessages(queueUrl, [m]);
      return { single: out.successful[0] };
    }
    const entries = validateBatch(batch());
    const out = await sendMessages(queueUrl, entries);
    return out;
  }

  async function handleJson(
    target: string,
    body: any,
    res: http.ServerResponse,
    contentType: string,
  ) {
    switch (target) {
      case "AWSEvents.PutEvents":
        return sendJson(res, 200, await svc.putEvents(body.Entries), contentType);
      case "AWSEvents.StartReplay":
        if (svc.startReplay) return sendJson(res, 200, await svc.startReplay(body), contentType);
        break;
      case "AWSEvents.DescribeReplay":
        requireStrings(body, ["ReplayName"], []);
        if (svc.describeReplay)
          return sendJson(res, 200, await svc.describeReplay(body), contentType);
        break;
      case "AWSStepFunctions.DescribeExecution":
        requireStrings(body, ["executionArn"], ["includedData"]);
        if (svc.describeExecution)
          return sendJson(res, 200, await svc.describeExecution(body), contentType);
        break;
      case "AWSStepFunctions.GetExecutionHistory":
        requireStrings(body, ["executionArn"], ["nextToken"]);
        if (svc.getExecutionHistory)
          return sendJson(res, 200, await svc.getExecutionHistory(body), contentType);
        break;
      case "secretsmanager.GetSecretValue":
        requireStrings(body, ["SecretId"], ["VersionId", "VersionStage"]);
        return sendJson(res, 200, await svc.getSecretValue(body.SecretId), contentType);
      case "AmazonSQS.SendMessage":
      case "AmazonSQS.SendMessageBatch": {
        const out = await sqs(
          target.slice("AmazonSQS.".length),
          body.QueueUrl,
          () => body,
          () => body.Entries,
        );
        return sendJson(
          res,
          200,
          out.single ?? { Successful: out.successful, Failed: out.failed },
          "application/x-amz-json-1.0",
        );
      }
      case "AWSStepFunctions.StartExecution":
        requireStrings(body, ["stateMachineArn"], ["input", "name", "traceHeader"]);
        return sendJson(res, 200, await svc.startExecution(body), contentType);
      case "AWSEvents.ListTargetsByRule":
        requireStrings(body, ["Rule"], ["EventBusName", "NextToken"]);
        if (svc.listTargetsByRule)
          return sendJson(res, 200, await svc.listTargetsByRule(body), contentType);
        break;
      case "AWSEvents.DescribeApiDestination":
        requireStrings(body, ["Name"], []);
        if (svc.describeApiDestination)
          return sendJson(res, 200, await svc.describeApiDestination(body), contentType);
        break;
      case "AWSEvents.DescribeConnection":
        requireStrings(body, ["Name"], []);
        if (svc.describeConnection)
          return sendJson(res, 200, await svc.describeConnection(body), contentType);
        break;
      case "AmazonSQS.ReceiveMessage":
        if (svc.sqsReceiveMessage)
          return sendJson(
            res,
            200,
            await svc.sqsReceiveMessage(body),
            "application/x-amz-json-1.0",
          );
        break;
      case "AmazonSQS.DeleteMessage":
        if (svc.sqsDeleteMessage)
          return sendJson(res, 200, await svc.sqsDeleteMessage(body), "application/x-amz-json-1.0");
        break;
      case "AmazonSQS.ChangeMessageVisibility":
        if (svc.sqsChangeMessageVisibility)
          return sendJson(
            res,
            200,
            await svc.sqsChangeMessageVisibility(body),
            "application/x-amz-json-1.0",
          );
        break;
      case "AWSStepFunctions.ListExecutions":
        requireStrings(body, [], ["stateMachineArn", "statusFilter", "nextToken"]);
        if (svc.listExecutions)
          return sendJson(res, 200, await svc.listExecutions(body), contentType);
        break;
    }
    throw new AwsError(
      "UnknownOperationException",
      `The Switchyard local endpoint does not implement ${target}. Implemented: ${servedOperationNames()}.`,
    );
  }

  function forwardToDynamo(req: http.IncomingMessage, body: Buffer, operation: string) {
    return forward(
      dynamo,
      req,
      body,
      dynamoTimeoutMs,
      () =>
        new DynamoTimeout(
          `local DynamoDB (moto_server) did not answer ${operation} within ${dynamoTimeoutMs} ms; retry`,
        ),
    );
  }

  /** Sends the request as received (its signature included) to `to`, and reads the answer. */
  function forward(
    to: URL,
    req: http.IncomingMessage,
    body: Buffer,
    timeoutMs: number,
    timeout: () => Error,
    keepHost = false,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const fwd = http.request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: keepHost ? req.headers : { ...req.headers, host: to.host },
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on("data", (c) => chunks.push(c));
          up.on("end", () =>
            resolve({
              status: up.statusCode ?? 500,
              headers: up.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      fwd.on("error", reject);
      // A hung moto_server must not hold every later request behind this one.
      fwd.setTimeout(timeoutMs, () => fwd.destroy(timeout()));
      fwd.end(body);
    });
  }

  async function proxyToDynamo(
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    operation: string,
  ) {
    // DynamoDB's deserializer refuses a body that is not a JSON object before anything runs.
    const request = parseJsonObject(body);
    try {
      let out!: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
      const forward = async () => {
        out = await forwardToDynamo(req, body, operation);
        return out.status;
      };
      await oneAtATime(async () => {
        try {
          await svc.dynamodbReady;
        } catch (e) {
          throw new AwsError(
            "ServiceUnavailable",
            `the tables could not be created in moto: ${(e as Error).message}`,
            503,
          );
        }
        if (svc.aroundDynamoWrite && DYNAMO_WRITES.has(operation)) {
          await svc.aroundDynamoWrite(operation, request, forward);
        } else {
          await forward();
        }
      });
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    } catch (e) {
      sendJsonError(
        res,
        e instanceof AwsError
          ? e
          : e instanceof DynamoTimeout
            ? new AwsError("InternalServerError", e.message, 500)
            : new AwsError("InternalFailure", `local DynamoDB: ${(e as Error).message}`, 500),
        "application/x-amz-json-1.0",
      );
    }
  }

  /**
   * An operation SERVED_OPERATIONS sends to moto: held until the program is applied to moto, then
   * forwarded as received and answered with moto's answer.
   */
  // GetQueueAttributes is moto's (the queue's declared attributes), but the messages are the
  // engine's: the counts moto reports (none) are replaced by the engine's, only for the attributes
  // the answer holds (the ones asked for).
  function withMessageCountsJson(answer: Buffer, queueUrl: unknown): Buffer {
    const counts = svc.sqsMessageCounts?.(String(queueUrl));
    const parsed = JSON.parse(answer.toString("utf8"));
    if (!counts || !parsed.Attributes) return answer;
    for (const [k, v] of Object.entries(counts))
      if (k in parsed.Attributes) parsed.Attributes[k] = v;
    return Buffer.from(JSON.stringify(parsed));
  }

  function withMessageCountsXml(answer: Buffer, queueUrl: string | null): Buffer {
    const counts = svc.sqsMessageCounts?.(String(queueUrl));
    if (!counts) return answer;
    let xml = answer.toString("utf8");
    for (const [k, v] of Object.entries(counts))
      xml = xml.replace(new RegExp(`(<Name>${k}</Name>\\s*<Value>)[^<]*(</Value>)`), `$1${v}$2`);
    return Buffer.from(xml);
  }

  async function proxyToMoto(
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    what: string,
    service: string,
    rewrite?: (answer: Buffer) => Buffer,
  ) {
    if (!svc.moto)
      throw new AwsError(
        "UnknownOperationException",
        `The Switchyard local endpoint does not implement ${what}. Implemented: ${servedOperationNames()}.`,
      );
    try {
      await svc.moto.ready;
    } catch (e) {
      throw new AwsError(
        "ServiceUnavailable",
        `the program could not be applied to moto, which serves ${what}: ${(e as Error).message}`,
        503,
      );
    }
    const to = new URL(svc.moto.url);
    // moto tells services apart by the credential scope: an unsigned request (served here as a
    // local convenience) is given one naming its service.
    if (!req.headers.authorization && !url(req).searchParams.has("X-Amz-Credential"))
      req.headers.authorization = `AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
    const out = await forward(
      to,
      req,
      body,
      motoTimeoutMs,
      () => new Error(`moto_server did not answer ${what} within ${motoTimeoutMs} ms`),
      // moto builds the URLs it answers (a queue's) from the Host: they name this endpoint.
      true,
    );
    if (rewrite && out.status === 200) out.body = rewrite(out.body);
    const headers = { ...out.headers };
    // The body is sent whole (moto's chunking, if any, is undone by reading it).
    delete headers["transfer-encoding"];
    delete headers.connection;
    if (req.method !== "HEAD") headers["content-length"] = String(out.body.length);
    res.writeHead(out.status, headers);
    res.end(req.method === "HEAD" ? undefined : out.body);
  }

  async function serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    url: URL,
    target: string,
    contentType: string,
    form: URLSearchParams | undefined,
    service: string,
  ) {
    if (target.startsWith("DynamoDB_20120810."))
      return await proxyToDynamo(req, body, res, target.slice("DynamoDB_20120810.".length));
    if (target) {
      if (JSON_OPERATIONS.includes(target))
        return await handleJson(target, parseJsonObject(body), res, contentType);
      if (MOTO_TARGET_PREFIXES.has(target.split(".")[0]))
        return await proxyToMoto(
          req,
          body,
          res,
          target,
          service,
          target === "AmazonSQS.GetQueueAttributes"
            ? (answer) => withMessageCountsJson(answer, parseJsonObject(body).QueueUrl)
            : undefined,
        );
      return await handleJson(target, parseJsonObject(body), res, contentType);
    }

    // Lambda Invoke: POST /2015-03-31/functions/{name}/invocations; Lambda's other operations
    // (ListFunctions, GetFunction, GetFunctionUrlConfig...) are moto's.
    const lambda = url.pathname.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/);
    if (!(lambda && req.method === "POST") && service === "lambda")
      return await proxyToMoto(req, body, res, `Lambda ${req.method} ${url.pathname}`, service);
    if (lambda && req.method === "POST") {
      const name = decodeURIComponent(lambda[1]);
      const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
      const out = await svc.invokeLambda(name, body.toString("utf8"), type);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-amzn-requestid": randomUUID(),
      };
      if (out.functionError) headers["x-amz-function-error"] = out.functionError;
      res.writeHead(out.status, headers);
      return res.end(out.payload);
    }

    if (form) {
      const action = form.get("Action");
      if (!ENGINE_QUERY_ACTIONS[service]?.includes(action ?? "") && MOTO_SIGNING_NAMES.has(service))
        return await proxyToMoto(
          req,
          body,
          res,
          `${service} ${action}`,
          service,
          service === "sqs" && action === "GetQueueAttributes"
            ? (answer) => withMessageCountsXml(answer, form.get("QueueUrl"))
            : undefined,
        );
      // SNS Publish (query protocol).
      if (action === "Publish") {
        const topicArn = form.get("TopicArn");
        const message = form.get("Message");
        if (!topicArn || message === null)
          throw new AwsError(
            "InvalidParameter",
            "Invalid parameter: TopicArn and Message are required",
          );
        const id = await svc.snsPublish({
          TopicArn: topicArn,
          Message: message,
          Subject: form.get("Subject") ?? undefined,
          MessageAttributes: snsAttributes(form),
        });
        res.writeHead(200, { "content-type": "text/xml" });
        return res.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
      }
      // SQS SendMessage / SendMessageBatch (query protocol); the queue URL may be the path.
      if (action === "SendMessage" || action === "SendMessageBatch") {
        const queueUrl =
          form.get("QueueUrl") ?? (url.pathname.length > 1 ? `http://local${url.pathname}` : "");
        const out = await sqs(
          action,
          queueUrl,
          () => queryMessage(form),
          () => {
            const entries: SqsMessage[] = [];
            for (let i = 1; form.has(`SendMessageBatchRequestEntry.${i}.Id`); i++)
              entries.push(queryMessage(form, `SendMessageBatchRequestEntry.${i}.`));
            return entries;
          },
        );
        const tags = (o: Record<string, unknown>) =>
          Object.entries(o)
            .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
            .join("");
        const result = out.single
          ? tags(out.single)
          : [
              ...out.successful!.map(
                (e) => `<SendMessageBatchResultEntry>${tags(e)}</SendMessageBatchResultEntry>`,
              ),
              ...out.failed!.map(
                (e) => `<BatchResultErrorEntry>${tags(e)}</BatchResultErrorEntry>`,
              ),
            ].join("");
        res.writeHead(200, { "content-type": "text/xml" });
        return res.end(
          `<?xml version="1.0"?><${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
        );
      }
      // SQS ReceiveMessage / DeleteMessage (query protocol: what aws-cli v2 before 2.13 sends).
      if (
        (action === "ReceiveMessage" && svc.sqsReceiveMessage) ||
        (action === "DeleteMessage" && svc.sqsDeleteMessage) ||
        (action === "ChangeMessageVisibility" && svc.sqsChangeMessageVisibility)
      ) {
        const list = (name: string) => {
          const out: string[] = [];
          for (let i = 1; form.has(`${name}.${i}`); i++) out.push(form.get(`${name}.${i}`)!);
          return out;
        };
        const request: Record<string, unknown> = {
          QueueUrl:
            form.get("QueueUrl") ?? (url.pathname.length > 1 ? `http://local${url.pathname}` : ""),
          ...(form.has("MaxNumberOfMessages")
            ? { MaxNumberOfMessages: form.get("MaxNumberOfMessages") }
            : {}),
          ...(form.has("VisibilityTimeout")
            ? { VisibilityTimeout: form.get("VisibilityTimeout") }
            : {}),
          AttributeNames: list("AttributeName"),
          MessageSystemAttributeNames: list("MessageSystemAttributeName"),
          MessageAttributeNames: list("MessageAttributeName"),
          ...(form.has("ReceiptHandle") ? { ReceiptHandle: form.get("ReceiptHandle") } : {}),
        };
        const x = (v: unknown) => xmlEscape(String(v));
        let result = "";
        if (action === "ReceiveMessage") {
          const out = (await svc.sqsReceiveMessage!(request)) as {
            Messages?: Array<Record<string, any>>;
          };
          result = `<ReceiveMessageResult>${(out.Messages ?? [])
            .map(
              (m) =>
                `<Message><MessageId>${x(m.MessageId)}</MessageId><ReceiptHandle>${x(m.ReceiptHandle)}</ReceiptHandle><MD5OfBody>${x(m.MD5OfBody)}</MD5OfBody><Body>${x(m.Body)}</Body>` +
                Object.entries(m.Attributes ?? {})
                  .map(
                    ([k, v]) => `<Attribute><Name>${x(k)}</Name><Value>${x(v)}</Value></Attribute>`,
                  )
                  .join("") +
                (m.MD5OfMessageAttributes
                  ? `<MD5OfMessageAttributes>${x(m.MD5OfMessageAttributes)}</MD5OfMessageAttributes>`
                  : "") +
                Object.entries<SqsAttribute>(m.MessageAttributes ?? {})
                  .map(
                    ([k, v]) =>
                      `<MessageAttribute><Name>${x(k)}</Name><Value>${
                        v.StringValue !== undefined
                          ? `<StringValue>${x(v.StringValue)}</StringValue>`
                          : `<BinaryValue>${x(v.BinaryValue)}</BinaryValue>`
                      }<DataType>${x(v.DataType)}</DataType></Value></MessageAttribute>`,
                  )
                  .join("") +
                `</Message>`,
            )
            .join("")}</ReceiveMessageResult>`;
        } else if (action === "ChangeMessageVisibility")
          await svc.sqsChangeMessageVisibility!(request);
        else await svc.sqsDeleteMessage!(request);
        res.writeHead(200, { "content-type": "text/xml" });
        return res.end(
          `<?xml version="1.0"?><${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
        );
      }
      throw new AwsError(
        "InvalidAction",
        `The Switchyard local endpoint does not implement the ${action} action`,
      );
    }

    // A REST API of a service moto holds (API Gateway's /restapis, ...).
    if (service !== "s3" && MOTO_SIGNING_NAMES.has(service))
      return await proxyToMoto(req, body, res, `${service} ${req.method} ${url.pathname}`, service);

    // S3, path style: /bucket/key. PutObject is the engine's (written through to moto, then the
    // bucket's notifications); every other S3 operation is moto's.
    const s3 = url.pathname.match(/^\/([a-z0-9][a-z0-9.-]{1,62})\/(.+)$/);
    const putObject =
      s3 &&
      req.method === "PUT" &&
      [...url.searchParams.keys()].every((k) => k === "x-id") &&
      req.headers["x-amz-copy-source"] === undefined;
    if (svc.moto && !putObject)
      return await proxyToMoto(req, body, res, `S3 ${req.method} ${url.pathname}`, "s3");
    if (
      s3 &&
      (req.method === "PUT" || ((req.method === "GET" || req.method === "HEAD") && svc.s3Get))
    ) {
      const [bucket, key] = [s3[1], decodeURIComponent(s3[2])];
      if (req.method === "PUT") {
        const etag = await svc.s3Put(bucket, key, body, req.headers["content-type"]);
        res.writeHead(200, { etag: `"${etag}"` });
        return res.end();
      }
      const obj = await svc.s3Get!(bucket, key);
      res.writeHead(200, {
        "content-type": obj.contentType ?? "application/octet-stream",
        etag: `"${obj.etag}"`,
        "content-length": obj.body.length,
      });
      // HeadObject: GetObject's headers, no body.
      return res.end(req.method === "HEAD" ? undefined : obj.body);
    }
    throw new AwsError(
      "UnknownOperationException",
      `The Switchyard local endpoint does not implement ${req.method} ${url.pathname}`,
    );
  }

  return http.createServer(async (req, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const contentType = String(req.headers["content-type"] ?? "application/x-amz-json-1.1");
    const url = new URL(req.url ?? "/", "http://local");
    const isForm =
      !target &&
      req.method === "POST" &&
      contentType.startsWith("application/x-www-form-urlencoded");
    const lambda = !target && url.pathname.startsWith("/2015-03-31/functions/");
    const sqsJson = target.startsWith("AmazonSQS.");
    // Each protocol's error shape: JSON with __type (SQS's query-compatible variant), query XML,
    // S3's XML, Lambda's REST JSON.
    const scoped = scopedService(req, url);
    // A REST JSON API other than S3 and Lambda's Invoke (API Gateway's, Lambda's others): moto's.
    const restJson =
      !target && !isForm && !!scoped && scoped !== "s3" && MOTO_SIGNING_NAMES.has(scoped);
    const protocol: "json" | "query" | "s3" =
      target || lambda || restJson ? "json" : isForm ? "query" : "s3";
    const fail = (err: AwsError) => {
      if (sqsJson) return sendSqsJsonError(res, err);
      if (protocol === "query") return sendXmlError(res, err);
      if (protocol === "s3") return sendS3Error(res, err, req.method === "HEAD");
      return sendJsonError(res, err, target ? contentType : "application/json");
    };
    try {
      const body = await readBody(req);
      const form = isForm ? new URLSearchParams(body.toString("utf8")) : undefined;
      const service = target
        ? SIGNING_NAMES[target.split(".")[0]]
        : lambda
          ? "lambda"
          : form
            ? form.get("Action") === "Publish"
              ? "sns"
              : (QUERY_VERSIONS[form.get("Version") ?? ""] ??
                (scoped && MOTO_SIGNING_NAMES.has(scoped) ? scoped : "sqs"))
            : restJson
              ? scoped!
              : "s3";
      const verdict = verifySigV4(
        { method: req.method ?? "GET", url: req.url ?? "/", rawHeaders: req.rawHeaders, body },
        { secretFor: (id) => credentials[id], service, s3: protocol === "s3" },
      );
      if (verdict && !verdict.ok)
        return fail(signatureError(verdict.fault, verdict.message, protocol));
      await serve(req, res, body, url, target, contentType, form, service);
    } catch (e) {
      const err =
        e instanceof AwsError
          ? e
          : lambda
            ? new AwsError("ServiceException", String((e as Error).message), 500)
            : protocol === "s3"
              ? new AwsError(
                  "InternalError",
                  "We encountered an internal error. Please try again.",
                  500,
                )
              : new AwsError("InternalFailure", (e as Error).message, 500);
      if (res.headersSent) return void res.destroy();
      return fail(err);
    }
  });
}
