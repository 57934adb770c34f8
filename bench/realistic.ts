// A function's first *realistic* request, for the cold-start bench: one that exercises the AWS calls
// the function makes in production, against a local endpoint that answers them successfully.
// moto_server serves the AWS APIs, holding the tables, queues, secrets, buses and buckets the program
// declares (created here from the declared resources, secret values included); a small proxy in
// front of it answers Lambda's asynchronous Invoke (moto needs Docker to run a function) and counts
// every call and every error answer. The records API is the local runtime's stand-in.
import * as http from "http";
import { AddressInfo } from "net";
import { randomUUID } from "crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ACCOUNT, arnFor, REGION, Recorded } from "../local/mocks";
import { MOTO_GC_PERIOD_ENV, MotoServer, startMotoServer } from "../local/motoServer";
import { RecordsStandIn } from "../local/recordsStandIn";
import { objectCreatedEvent } from "../local/s3Notifications";
import { LOCAL_CREDENTIALS } from "../local/credentials";
import { signedDelivery } from "../local/scenarios";
import { hashApiKey } from "../handlers/tenants/apiKeys";
import { JobStore } from "../handlers/jobs/jobStore";
import { deliveryItemId, storeDeliveryInput } from "../handlers/webhooks/outbox";
import { eventSource, RELAY_ENV } from "../lib/contracts";

/** One call a function made to the local AWS endpoint. */
export interface AwsCall {
  /** The operation: X-Amz-Target, or the method and path. */
  operation: string;
  status: number;
}

/** moto_server behind a counting proxy that also answers Lambda Invoke. */
export interface AwsStandIn {
  /** What functions get as AWS_ENDPOINT_URL. */
  url: string;
  moto: MotoServer;
  calls: AwsCall[];
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations$/;

/** The operation a request names, for the call log. */
export function operationOf(method: string, url: string, target?: string): string {
  if (target) return target;
  const path = url.split("?")[0];
  if (INVOKE_PATH.test(path)) return "Lambda.Invoke";
  // S3 (path style): the bucket names the call, the object key only this run.
  const [bucket, ...key] = path.split("/").filter(Boolean);
  return `S3 ${method} /${bucket ?? ""}${key.length ? "/*" : ""}`;
}

/**
 * The stand-in's moto_server never runs Python's cycle collector: with automatic collection, a
 * full (generation 2) collection of moto's heap paused the server for about 50 ms at a point fixed
 * by how many objects it had allocated, in every run the same round's TransactWriteItems (timed
 * with Python's `gc.callbacks`), and added that pause to one function's cold start (ingress: 1.3x
 * the SDK floor in every round, 1.7x-1.8x in that one); a scheduled collection (the local run's,
 * local/motoLauncher.py) could land in a timed request as well. AWS answers have no such pause.
 * (Where moto_server is no Python script the launcher can run, local/motoServer.ts starts it as it
 * is, with Python's own collector: the bench's machines run pip's script.)
 * Reference counting still frees moto's garbage; only the cycle collector is off, for the few
 * minutes the bench runs.
 */
export const STAND_IN_MOTO_ENV: Readonly<Record<string, string>> = { [MOTO_GC_PERIOD_ENV]: "0" };

export async function startAwsStandIn(): Promise<AwsStandIn> {
  const moto = await startMotoServer({ env: STAND_IN_MOTO_ENV });
  const calls: AwsCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const op = operationOf(req.method ?? "GET", url, req.headers["x-amz-target"] as string);
      // Lambda's asynchronous Invoke: accepted, as Lambda answers it (the function is not run).
      if (req.method === "POST" && INVOKE_PATH.test(url.split("?")[0])) {
        const event = req.headers["x-amz-invocation-type"] === "Event";
        calls.push({ operation: op, status: event ? 202 : 400 });
        res.writeHead(event ? 202 : 400, { "content-type": "application/json" });
        res.end(
          event
            ? ""
            : JSON.stringify({
                Type: "User",
                message: "the bench answers only InvocationType Event",
              }),
        );
        return;
      }
      const target = new URL(moto.url);
      const forward = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          calls.push({ operation: op, status: answer.statusCode ?? 0 });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.once("error", (e) => {
        calls.push({ operation: op, status: 502 });
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`bench proxy could not reach moto_server: ${e.message}`);
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    moto,
    calls,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await moto.stop();
    },
  };
}

/** Pulumi's mocks hand secrets over wrapped in a signature object: take the value out. */
function unsecret(v: any): any {
  if (v && typeof v === "object" && v["4dabf18193072939515e22adb298388d"] !== undefined)
    return unsecret(v.value);
  return v;
}

const nameOf = (r: Recorded) => String(r.inputs.name ?? r.name);

/** What the declared resources became on moto, and how a function's environment maps onto them. */
export interface Provisioned {
  /** Declared secret ARN -> the ARN moto gave it. */
  secretArns: Map<string, string>;
  /** Declared secret ARN -> its value (SecretVersion's secretString). */
  secretValues: Map<string, string>;
  /** Declared queue URL (https://sqs...) -> moto's queue URL. */
  queueUrls: Map<string, string>;
  /** Buckets by declared resource id (what a BucketNotification names). */
  buckets: Map<string, string>;
  records: RecordsStandIn;
  recordsUrl: string;
  tables: string[];
  buses: string[];
}

/**
 * Creates on moto every table, queue, secret (with its declared value), custom bus and bucket the
 * program declares, and starts the records API stand-in with the declared records API key.
 */
export async function provisionDeclared(
  resources: Recorded[],
  awsUrl: string,
  recordsApiKey: string,
): Promise<Provisioned> {
  const cfg = { endpoint: awsUrl, region: REGION, credentials: LOCAL_CREDENTIALS };
  const of = (type: string) => resources.filter((r) => r.type === type);
  const dynamo = new DynamoDBClient(cfg);
  const tables: string[] = [];
  for (const t of of("aws:dynamodb/table:Table")) {
    const i = t.inputs;
    await dynamo.send(
      new CreateTableCommand({
        TableName: nameOf(t),
        KeySchema: [
          { AttributeName: i.hashKey, KeyType: "HASH" },
          ...(i.rangeKey ? [{ AttributeName: i.rangeKey, KeyType: "RANGE" as const }] : []),
        ],
        AttributeDefinitions: (i.attributes ?? []).map((a: any) => ({
          AttributeName: a.name,
          AttributeType: a.type,
        })),
        BillingMode: "PAY_PER_REQUEST",
        ...((i.globalSecondaryIndexes ?? []).length
          ? {
              GlobalSecondaryIndexes: i.globalSecondaryIndexes.map((g: any) => ({
                IndexName: g.name,
                KeySchema: [
                  { AttributeName: g.hashKey, KeyType: "HASH" },
                  ...(g.rangeKey ? [{ AttributeName: g.rangeKey, KeyType: "RANGE" as const }] : []),
                ],
                Projection: { ProjectionType: g.projectionType ?? "ALL" },
              })),
            }
          : {}),
      }),
    );
    tables.push(nameOf(t));
  }
  const sqs = new SQSClient(cfg);
  const queueUrls = new Map<string, string>();
  for (const q of of("aws:sqs/queue:Queue")) {
    const out = await sqs.send(
      new CreateQueueCommand({
        QueueName: nameOf(q),
        ...(q.inputs.fifoQueue ? { Attributes: { FifoQueue: "true" } } : {}),
      }),
    );
    // The SQS client sends to the queue URL's own host: moto's queue behind the counting proxy.
    queueUrls.set(
      `https://sqs.${REGION}.amazonaws.com/123456789012/${nameOf(q)}`,
      out.QueueUrl!.replace(/^http:\/\/[^/]+/, awsUrl),
    );
  }
  const sm = new SecretsManagerClient(cfg);
  const secretArns = new Map<string, string>();
  const secretValues = new Map<string, string>();
  const versions = of("aws:secretsmanager/secretVersion:SecretVersion");
  for (const s of of("aws:secretsmanager/secret:Secret")) {
    const declaredArn = arnFor(s.type, s.name, s.inputs);
    const version = versions.find(
      (v) => v.inputs.secretId === declaredArn || v.inputs.secretId === `${s.name}-id`,
    );
    const value = String(unsecret(version?.inputs.secretString) ?? "");
    const out = await sm.send(new CreateSecretCommand({ Name: nameOf(s), SecretString: value }));
    secretArns.set(declaredArn, out.ARN!);
    secretValues.set(declaredArn, value);
  }
  const events = new EventBridgeClient(cfg);
  const buses: string[] = [];
  for (const b of of("aws:cloudwatch/eventBus:EventBus")) {
    await events.send(new CreateEventBusCommand({ Name: nameOf(b) }));
    buses.push(nameOf(b));
  }
  const s3 = new S3Client({ ...cfg, forcePathStyle: true });
  const buckets = new Map<string, string>();
  for (const b of [...of("aws:s3/bucketV2:BucketV2"), ...of("aws:s3/bucket:Bucket")]) {
    const bucket = String(b.inputs.bucket ?? b.name);
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    buckets.set(`${b.name}-id`, bucket);
  }
  const records = new RecordsStandIn({ apiKey: recordsApiKey, anchorAfterMs: 60_000 });
  const recordsUrl = await records.start(0);
  return { secretArns, secretValues, queueUrls, buckets, records, recordsUrl, tables, buses };
}

/**
 * A function's declared environment pointed at the local services: secret ARNs at moto's, queue
 * URLs at moto's, any other https URL (the records API) at the stand-in, so nothing leaves this
 * machine.
 */
export function localEnvironment(
  declared: Record<string, string>,
  p: Provisioned,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(declared)) {
    if (typeof v !== "string") continue;
    out[k] =
      p.secretArns.get(v) ??
      p.queueUrls.get(v) ??
      v.replace(/^https:\/\/[^/]+/, p.recordsUrl.replace(/\/$/, ""));
  }
  return out;
}

/** A request to send a function, and how to tell that it was served as in production. */
export interface RealisticRequest {
  /** What the request is, in a few words. */
  what: string;
  event: unknown;
  /** Undefined when the answer is the production one, else what is wrong with it. */
  check(result: unknown): string | undefined;
}

/** What building a request may read of the program. */
export interface RequestContext {
  fn: Recorded;
  resources: Recorded[];
  config: Record<string, string>;
  provisioned: Provisioned;
  /** Where the state a request needs is put beforehand (moto itself: not counted as the function's). */
  seedUrl: string;
  /** Run number: requests that create something use it to stay distinct. */
  run: number;
}

const status = (r: unknown) => (r as { statusCode?: number } | undefined)?.statusCode;
const expectStatus =
  (...ok: number[]) =>
  (r: unknown) =>
    ok.includes(status(r) ?? 0)
      ? undefined
      : `answered ${status(r)}: ${String((r as any)?.body ?? JSON.stringify(r)).slice(0, 160)}`;

function apiEvent(method: string, path: string, body?: unknown, pathParameters?: object) {
  return {
    resource: path.replace(/\/[0-9a-f-]{36}$/, "/{jobId}"),
    path,
    httpMethod: method,
    headers: { "content-type": "application/json", "x-correlation-id": `bench-${randomUUID()}` },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: ACCOUNT,
      apiId: "bench",
      httpMethod: method,
      path: `/v1${path}`,
      stage: "v1",
      requestId: randomUUID(),
      resourcePath: path,
      identity: { sourceIp: "127.0.0.1" },
    },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const doc = (awsUrl: string) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: awsUrl, region: REGION, credentials: LOCAL_CREDENTIALS }),
  );

async function seedJob(c: RequestContext, table: string): Promise<string> {
  const store = new JobStore(
    new DynamoDBClient({ endpoint: c.seedUrl, region: REGION, credentials: LOCAL_CREDENTIALS }),
    table,
  );
  const jobId = randomUUID();
  await store.createPending(
    {
      jobId,
      type: "checksum",
      input: { text: `bench ${c.run}` },
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    },
    new Date(),
  );
  return jobId;
}

/** The first tenant of the stack whose ingress is enabled, and a key issued to it. */
async function tenantWithKey(c: RequestContext, accessTable: string) {
  const tenants = JSON.parse(c.config["switchyard:tenants"] ?? "{}") as Record<string, any>;
  const tenant = Object.keys(tenants).find((t) => tenants[t]?.ingressEnabled) ?? "no-tenant";
  const key = `bench-key-${tenant}`;
  await doc(c.seedUrl).send(
    new PutCommand({
      TableName: accessTable,
      Item: {
        pk: `apikey#${hashApiKey(key)}`,
        keyHash: hashApiKey(key),
        tenant,
        permissions: ["backend_calls"],
        revoked: false,
      },
    }),
  );
  return { tenant, key, enabled: tenant !== "no-tenant" };
}

/** A DynamoDB stream batch of one INSERT of `image` into `table`, as a mapping hands it over. */
function insertEvent(
  table: string,
  keys: Record<string, unknown>,
  image: Record<string, unknown>,
  run: number,
  viewType: "NEW_IMAGE" | "NEW_AND_OLD_IMAGES",
  sizeBytes: number,
) {
  return {
    Records: [
      {
        eventID: randomUUID(),
        eventName: "INSERT",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: REGION,
        eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
          Keys: keys,
          NewImage: image,
          SequenceNumber: String(1000 + run).padStart(21, "0"),
          SizeBytes: sizeBytes,
          StreamViewType: viewType,
        },
      },
    ],
  };
}

/**
 * The realistic first request of a declared function, with whatever it needs put in place first
 * (an existing job, an issued tenant key, an object in the ingestion bucket). Undefined for a
 * function this bench has no request for.
 */
export async function realisticRequest(c: RequestContext): Promise<RealisticRequest | undefined> {
  const env = (c.fn.inputs.environment?.variables ?? {}) as Record<string, string>;
  const name = nameOf(c.fn);
  if (env.WEBHOOK_PROVIDER) {
    const provider = env.WEBHOOK_PROVIDER;
    const raw = c.provisioned.secretValues.get(env.WEBHOOK_SECRET_ARN) ?? "";
    let secret = raw;
    try {
      secret = JSON.parse(raw).current ?? raw;
    } catch {
      // a plain-text secret
    }
    const url = c.resources.find(
      (r) =>
        r.type === "aws:lambda/functionUrl:FunctionUrl" &&
        String(r.inputs.functionName) === String(c.fn.inputs.name ?? c.fn.name),
    );
    const domain = `${url?.name ?? name}.lambda-url.${REGION}.on.aws`;
    // The receiver serves its provider's path (what the program's webhookUrls output names).
    const rawPath = `/${provider}`;
    const d = signedDelivery(provider, secret, `https://${domain}${rawPath}`, `bench-${c.run}`);
    return {
      what: `a signed ${provider} delivery`,
      event: {
        version: "2.0",
        routeKey: "$default",
        rawPath,
        rawQueryString: "",
        headers: { ...d.headers, "user-agent": "switchyard-bench" },
        requestContext: {
          accountId: "anonymous",
          apiId: domain.split(".")[0],
          domainName: domain,
          domainPrefix: domain.split(".")[0],
          http: {
            method: "POST",
            path: rawPath,
            protocol: "HTTP/1.1",
            sourceIp: "127.0.0.1",
            userAgent: "switchyard-bench",
          },
          requestId: randomUUID(),
          routeKey: "$default",
          stage: "$default",
          time: new Date().toUTCString(),
          timeEpoch: Date.now(),
        },
        body: d.body,
        isBase64Encoded: false,
      },
      check: expectStatus(200, 202),
    };
  }
  if (env.UPSTREAM_KEY_SECRET_ARN) {
    return {
      what: "a records gateway request to authorize",
      event: {
        type: "REQUEST",
        methodArn: "arn:aws:execute-api:eu-west-1:123456789012:bench/v1/POST/records",
        resource: "/records",
        path: "/records",
        httpMethod: "POST",
        headers: { "x-api-key": "consumer-key" },
        requestContext: { requestId: randomUUID(), stage: "v1" },
      },
      check: (r: any) =>
        r?.policyDocument?.Statement?.[0]?.Effect === "Allow" && r?.context?.upstreamKey
          ? undefined
          : `no Allow with the upstream key: ${JSON.stringify(r).slice(0, 160)}`,
    };
  }
  if (env.PROCESSOR_FUNCTION) {
    return {
      what: "a valid job submission",
      event: apiEvent("POST", "/jobs", { type: "checksum", input: { text: `bench ${c.run}` } }),
      check: expectStatus(202),
    };
  }
  if (env.JOBS_TABLE && /-get$/.test(name)) {
    const jobId = await seedJob(c, env.JOBS_TABLE);
    return {
      what: "GET of an existing job",
      event: apiEvent("GET", `/jobs/${jobId}`, undefined, { jobId }),
      check: expectStatus(200),
    };
  }
  if (env.JOBS_TABLE && /-process$/.test(name)) {
    const jobId = await seedJob(c, env.JOBS_TABLE);
    return {
      what: "processing a submitted job",
      event: { jobId, type: "checksum", input: { text: `bench ${c.run}` } },
      check: (r: any) => (r?.status === "SUCCEEDED" ? undefined : `ended ${JSON.stringify(r)}`),
    };
  }
  if (env.JOBS_TABLE && /-failed$/.test(name)) {
    const jobId = await seedJob(c, env.JOBS_TABLE);
    return {
      what: "the failure record of a job",
      event: {
        version: "1.0",
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: randomUUID(),
          functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jobs-process:$LATEST",
          condition: "RetriesExhausted",
          approximateInvokeCount: 3,
        },
        requestPayload: { jobId, type: "checksum", input: { text: `bench ${c.run}` } },
        responseContext: {
          statusCode: 200,
          executedVersion: "$LATEST",
          functionError: "Unhandled",
        },
        responsePayload: { errorType: "Error", errorMessage: "bench failure" },
      },
      check: (r: any) => (r?.recorded === true ? undefined : `ended ${JSON.stringify(r)}`),
    };
  }
  if (env.ACCESS_TABLE) {
    const { tenant, key, enabled } = await tenantWithKey(c, env.ACCESS_TABLE);
    return {
      what: enabled
        ? `a tenant ingress POST with ${tenant}'s key`
        : "a tenant ingress event (no tenant of this stack has ingress: refused and queued)",
      event: {
        version: "0",
        id: randomUUID(),
        "detail-type": "doc.POST",
        source: "switchyard.input",
        account: ACCOUNT,
        time: new Date().toISOString(),
        region: REGION,
        resources: [],
        detail: {
          tenant,
          rootSchema: "doc",
          api_key: key,
          payload: { id: `bench-${c.run}-${randomUUID()}`, title: "bench", total: 42 },
        },
      },
      check: (r: any) =>
        !enabled || r?.status === 201 ? undefined : `answered ${JSON.stringify(r).slice(0, 160)}`,
    };
  }
  if (env.DEFAULT_BUS_ARN) {
    const tenants = JSON.parse(c.config["switchyard:tenants"] ?? "{}") as Record<string, any>;
    const tenant =
      Object.keys(tenants).find((t) => (tenants[t]?.rules ?? []).length > 0) ?? "no-tenant";
    const id = `bench-${c.run}`;
    const image = {
      tenant: { S: tenant },
      sk: { S: `doc#${id}` },
      rootSchema: { S: "doc" },
      id: { S: id },
      data: { M: { title: { S: "bench" }, total: { N: "42" } } },
      version: { N: "1" },
      lastOperation: { S: "POST" },
      updatedAt: { S: new Date().toISOString() },
    };
    return {
      what: `an INSERT stream record of ${tenant}`,
      event: insertEvent(
        "data",
        { tenant: image.tenant, sk: image.sk },
        image,
        c.run,
        "NEW_AND_OLD_IMAGES",
        200,
      ),
      check: (r: any) =>
        (r?.batchItemFailures ?? []).length === 0
          ? undefined
          : `failed items ${JSON.stringify(r).slice(0, 160)}`,
    };
  }
  if (env[RELAY_ENV.eventBusArn] && !env.WEBHOOK_PROVIDER) {
    // The webhook relay: the stream record of a delivery a receiver stored, as its mapping sends it.
    const table = c.resources.find(
      (r) =>
        r.type === "aws:dynamodb/table:Table" &&
        r.inputs.streamViewType === "NEW_IMAGE" &&
        r.inputs.hashKey === "id",
    );
    const id = `bench-${c.run}`;
    const detail = {
      provider: "hmac",
      deliveryId: id,
      correlationId: id,
      eventType: "record.noted",
      receivedAt: new Date().toISOString(),
      headers: { "content-type": "application/json" },
      payload: { tenantId: "bench", recordId: id, recordVersion: 1 },
    };
    const tableName = String(table?.name ?? "deliveries");
    const nowSeconds = Math.floor(Date.now() / 1000);
    const stored = storeDeliveryInput(
      tableName,
      {
        id: deliveryItemId("hmac", `hmac:${id}`),
        expiresAt: nowSeconds + 3600,
        entry: {
          Source: eventSource("hmac"),
          DetailType: detail.eventType,
          Detail: JSON.stringify(detail),
        },
        deliveryId: id,
        correlationId: id,
      },
      nowSeconds,
    );
    return {
      what: "the stream record of a stored webhook delivery",
      event: insertEvent(tableName, { id: stored.Item.id }, stored.Item, c.run, "NEW_IMAGE", 400),
      check: (r: any) =>
        r && Array.isArray(r.batchItemFailures) && r.batchItemFailures.length === 0
          ? undefined
          : `failed items ${JSON.stringify(r).slice(0, 160)}`,
    };
  }
  if (env.RECORDS_API_URL && env.FAILURE_QUEUE_URL) {
    const notification = c.resources.find(
      (r) => r.type === "aws:s3/bucketNotification:BucketNotification",
    );
    const bucket = c.provisioned.buckets.get(String(notification?.inputs.bucket)) ?? "";
    const prefix = notification?.inputs.lambdaFunctions?.[0]?.filterPrefix ?? "";
    const key = `${prefix}bench-${c.run}-${randomUUID()}.json`;
    await new S3Client({
      endpoint: c.seedUrl,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    }).send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentType: "application/json",
        Body: JSON.stringify({
          tenantId: "bench",
          recordId: `bench-${c.run}`,
          recordVersion: 1,
          payload: { total: 42 },
        }),
      }),
    );
    return {
      what: "an object of one record created in the ingestion bucket",
      event: objectCreatedEvent({
        region: REGION,
        bucket,
        key,
        size: 100,
        eTag: "e",
        configurationId: String(notification?.inputs.lambdaFunctions?.[0]?.id ?? "ingest-records"),
        sequencer: "1",
      }),
      check: (r: any) =>
        r?.sent === 1 && r?.failed === 0 ? undefined : `ended ${JSON.stringify(r)}`,
    };
  }
  return undefined;
}
