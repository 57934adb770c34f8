// The local AWS endpoint: one HTTP server that Lambda code reaches through AWS_ENDPOINT_URL.
// It speaks each service's wire protocol as the AWS SDK v3 sends it (JSON with X-Amz-Target,
// SNS's query protocol, Lambda's and S3's REST paths) and answers with AWS's response and error
// shapes. DynamoDB is forwarded to moto_server, one request at a time. An operation it does not
// implement gets an explicit error naming it, never a silent success.
import * as http from "http";
import { randomUUID } from "crypto";

export class AwsError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** The services the endpoint serves; each is implemented by the local runtime. */
export interface LocalServices {
  /** Base URL of the local DynamoDB (moto_server), for DynamoDB requests. */
  dynamodbUrl: string;
  putEvents(entries: any[]): Promise<{ FailedEntryCount: number; Entries: any[] }>;
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
  invokeLambda(
    functionName: string,
    payload: string,
    invocationType: string,
  ): Promise<{ status: number; payload: string; functionError?: string }>;
  s3Put(bucket: string, key: string, body: Buffer, contentType?: string): Promise<string>;
  s3Get(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string; etag: string }>;
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
) {
  const text = JSON.stringify({ __type: err.code, message: err.message });
  res.writeHead(err.status, {
    "content-type": contentType,
    "x-amzn-errortype": err.code,
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function xmlEscape(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );
}

function sendXmlError(res: http.ServerResponse, err: AwsError, query = true) {
  const body = query
    ? `<ErrorResponse><Error><Type>Sender</Type><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
    : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message><RequestId>${randomUUID()}</RequestId></Error>`;
  res.writeHead(err.status, { "content-type": "text/xml" });
  res.end(body);
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

/** Operations served, by X-Amz-Target; listed so that the unknown-operation error can name them. */
export const JSON_OPERATIONS = [
  "AWSEvents.PutEvents",
  "secretsmanager.GetSecretValue",
  "AmazonSQS.SendMessage",
  "AWSStepFunctions.StartExecution",
  "DynamoDB_20120810.*",
];

export function createAwsEndpoint(svc: LocalServices): http.Server {
  const dynamo = new URL(svc.dynamodbUrl);
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

  async function handleJson(
    target: string,
    body: any,
    res: http.ServerResponse,
    contentType: string,
  ) {
    switch (target) {
      case "AWSEvents.PutEvents": {
        const entries = body.Entries ?? [];
        if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
          throw new AwsError(
            "ValidationException",
            `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`,
          );
        }
        return sendJson(res, 200, await svc.putEvents(entries), contentType);
      }
      case "secretsmanager.GetSecretValue":
        return sendJson(res, 200, await svc.getSecretValue(body.SecretId), contentType);
      case "AmazonSQS.SendMessage": {
        const id = await svc.sqsSendMessage(body);
        return sendJson(
          res,
          200,
          {
            MessageId: id,
            MD5OfMessageBody: require("crypto")
              .createHash("md5")
              .update(body.MessageBody ?? "")
              .digest("hex"),
          },
          contentType,
        );
      }
      case "AWSStepFunctions.StartExecution":
        return sendJson(res, 200, await svc.startExecution(body), contentType);
      default:
        throw new AwsError(
          "UnknownOperationException",
          `The Switchyard local endpoint does not implement ${target}. Implemented: ${JSON_OPERATIONS.join(", ")}, SNS Publish, Lambda Invoke, S3 PutObject/GetObject.`,
        );
    }
  }

  function forwardToDynamo(
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const fwd = http.request(
        {
          host: dynamo.hostname,
          port: dynamo.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: dynamo.host },
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
      fwd.end(body);
    });
  }

  async function proxyToDynamo(
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    operation: string,
  ) {
    try {
      let out!: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
      const forward = async () => {
        out = await forwardToDynamo(req, body);
        return out.status;
      };
      await oneAtATime(async () => {
        if (svc.aroundDynamoWrite && DYNAMO_WRITES.has(operation)) {
          await svc.aroundDynamoWrite(operation, JSON.parse(body.toString("utf8")), forward);
        } else {
          await forward();
        }
      });
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    } catch (e) {
      sendJsonError(
        res,
        new AwsError("InternalFailure", `local DynamoDB: ${(e as Error).message}`, 500),
        "application/x-amz-json-1.0",
      );
    }
  }

  return http.createServer(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const contentType = String(req.headers["content-type"] ?? "application/x-amz-json-1.1");
    const url = new URL(req.url ?? "/", "http://local");
    try {
      if (target.startsWith("DynamoDB_20120810."))
        return await proxyToDynamo(req, body, res, target.slice("DynamoDB_20120810.".length));
      if (target)
        return await handleJson(
          target,
          body.length ? JSON.parse(body.toString("utf8")) : {},
          res,
          contentType,
        );

      // Lambda Invoke: POST /2015-03-31/functions/{name}/invocations
      const lambda = url.pathname.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/);
      if (lambda && req.method === "POST") {
        const name = decodeURIComponent(lambda[1]);
        const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
        try {
          const out = await svc.invokeLambda(name, body.toString("utf8"), type);
          const headers: Record<string, string> = {
            "content-type": "application/json",
            "x-amzn-requestid": randomUUID(),
          };
          if (out.functionError) headers["x-amz-function-error"] = out.functionError;
          res.writeHead(out.status, headers);
          return res.end(out.payload);
        } catch (e) {
          const err =
            e instanceof AwsError
              ? e
              : new AwsError("ServiceException", String((e as Error).message), 500);
          return sendJsonError(res, err, "application/json");
        }
      }

      // SNS (query protocol): POST / with Action=Publish
      if (req.method === "POST" && contentType.startsWith("application/x-www-form-urlencoded")) {
        const form = new URLSearchParams(body.toString("utf8"));
        const action = form.get("Action");
        if (action === "Publish") {
          const topicArn = form.get("TopicArn");
          const message = form.get("Message");
          if (!topicArn || message === null) {
            return sendXmlError(
              res,
              new AwsError(
                "InvalidParameter",
                "Invalid parameter: TopicArn and Message are required",
              ),
            );
          }
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
        return sendXmlError(
          res,
          new AwsError(
            "InvalidAction",
            `The Switchyard local endpoint does not implement the ${action} action`,
          ),
        );
      }

      // S3, path style: /bucket/key
      const s3 = url.pathname.match(/^\/([a-z0-9][a-z0-9.-]{1,62})\/(.+)$/);
      if (s3 && (req.method === "PUT" || req.method === "GET")) {
        const [bucket, key] = [s3[1], decodeURIComponent(s3[2])];
        if (req.method === "PUT") {
          const etag = await svc.s3Put(bucket, key, body, req.headers["content-type"]);
          res.writeHead(200, { etag: `"${etag}"` });
          return res.end();
        }
        try {
          const obj = await svc.s3Get(bucket, key);
          res.writeHead(200, {
            "content-type": obj.contentType ?? "application/octet-stream",
            etag: `"${obj.etag}"`,
            "content-length": obj.body.length,
          });
          return res.end(obj.body);
        } catch (e) {
          return sendXmlError(
            res,
            e instanceof AwsError ? e : new AwsError("InternalError", String(e), 500),
            false,
          );
        }
      }
      throw new AwsError(
        "UnknownOperationException",
        `The Switchyard local endpoint does not implement ${req.method} ${url.pathname}`,
      );
    } catch (e) {
      const err =
        e instanceof AwsError ? e : new AwsError("InternalFailure", (e as Error).message, 500);
      if (contentType.startsWith("application/x-www-form-urlencoded"))
        return sendXmlError(res, err);
      return sendJsonError(res, err, target ? contentType : "application/json");
    }
  });
}
