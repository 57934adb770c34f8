// The local runtime: evaluates the program under mocks and serves what it declares on localhost.
// Every service below is built from the declared resources (tables, functions, rules, targets,
// queues, topics, state machines, connections, destinations, URLs, APIs); nothing is described twice.
import "./polyfills";
import * as http from "http";
import * as fs from "fs";
import * as path from "path";
import { createHash, randomUUID } from "crypto";
import { AddressInfo } from "net";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { arnFor, ACCOUNT, REGION, Recorded } from "./mocks";
import { AwsError, createAwsEndpoint } from "./awsEndpoint";
import { BusEvent, DeliveryError, LocalBus, LocalRule, LocalTarget } from "./bus";
import {
  CLIENT_TIMEOUTS,
  ErrorStyle,
  FUNCTION_URL_MAX_BODY_BYTES,
  functionUrlEvent,
  guardServer,
  readRequestBody,
  REST_API_MAX_BODY_BYTES,
  writeLambdaResponse,
} from "./httpEvents";
import { LocalFunction, LocalLambdas } from "./lambdas";
import { temporaryDir } from "./artifacts";
import { DeclaredProgram, loadProgram, ROOT } from "./program";
import { RecordsStandIn } from "./recordsStandIn";
import { LocalConnection, LocalStepFunctions } from "./stateMachines";
import { compilePattern } from "../lib/eventPattern";
import { LocalStreams, StreamTable } from "./streams";
import { MotoServer, startMotoServer } from "./motoServer";
import { LOCAL_CALLER_CREDENTIALS, LocalRestApi } from "./apigateway";
import { Target } from "./scenarios";
import { WEBHOOK_SECRET_KEYS } from "../config";

export interface LocalOptions {
  stack?: string;
  /** Multiplies waits, retry backoffs and the anchoring window: 1 = real time. Default 0.01. */
  speed?: number;
  /** Use this records API instead of the built-in stand-in. */
  recordsEndpoint?: string;
  /**
   * Keep DynamoDB data in .switchyard/dynamodb/<stack> between runs (moto_server's recording of
   * every request, replayed at start). Default false (in memory).
   */
  persist?: boolean;
  /** Where --persist keeps data (dynamodb/<stack>, s3/<stack>). Default .switchyard in the project. */
  stateDir?: string;
  /** First port to use; 0 = ephemeral ports. Default 0. */
  basePort?: number;
  /** Config values that replace the stack file's. */
  configOverrides?: Record<string, string>;
  /** Overrides the timeouts every local server applies to its clients (CLIENT_TIMEOUTS). */
  clientTimeouts?: Partial<typeof CLIENT_TIMEOUTS>;
  log?: (line: string) => void;
}

/**
 * The largest request body the local AWS endpoint accepts: DynamoDB's largest request
 * (BatchWriteItem, 16 MB); Lambda, EventBridge and S3 objects written by handlers stay below it.
 */
export const AWS_ENDPOINT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The control port and the records stand-in read small JSON bodies. */
const SMALL_BODY_BYTES = 1024 * 1024;

export interface QueueMessage {
  MessageId: string;
  Body: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  SentTimestamp: number;
}

export interface TopicMessage {
  MessageId: string;
  TopicArn: string;
  Message: string;
  Subject?: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
}

/** Pulumi's mocks hand secrets over wrapped in a signature object: take the value out. */
function unsecret<T = any>(v: any): T {
  if (
    v &&
    typeof v === "object" &&
    v["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270"
  ) {
    return unsecret(v.value);
  }
  if (Array.isArray(v)) return v.map(unsecret) as any;
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)])) as any;
  return v;
}

/** Where --persist keeps moto_server's recording of DynamoDB requests, in .switchyard/dynamodb/<stack>. */
export const MOTO_RECORDING_FILE = "moto-recording.jsonl";

function nameOf(r: Recorded): string {
  return r.inputs.name ?? r.name;
}

export class SwitchyardLocal {
  public program!: DeclaredProgram;
  public readonly queues = new Map<string, QueueMessage[]>();
  public readonly topics = new Map<string, TopicMessage[]>();
  public readonly secrets = new Map<string, string>();
  /** S3 objects are files: .switchyard/s3/<stack>/<bucket>/<key> with --persist, else a temp dir. */
  public s3Dir = "";
  public readonly firehose = new Map<string, string[]>();
  public readonly logLines: string[] = [];
  public bus!: LocalBus;
  public lambdas!: LocalLambdas;
  public sfn!: LocalStepFunctions;
  public records?: RecordsStandIn;
  public streams!: LocalStreams;
  public awsUrl = "";
  /** Read-only view of the local state (queues, notifications, executions, records), as JSON. */
  public controlUrl = "";
  public recordsUrl = "";
  public readonly functionUrls: Record<string, string> = {};
  public readonly apiUrls: Record<string, string> = {};
  public readonly restApis: Record<string, LocalRestApi> = {};
  private moto?: MotoServer;
  private dynamoUrl = "";
  private servers: http.Server[] = [];
  private nextPort: number;
  private readonly speed: number;
  private readonly connections = new Map<string, LocalConnection>();
  private readonly destinations = new Map<
    string,
    { endpoint: string; method: string; connectionArn: string; rate: number; next: number }
  >();
  private recordsOrigin?: string;
  private stopping?: Promise<void>;

  private constructor(private readonly opts: LocalOptions) {
    this.speed = opts.speed ?? 0.01;
    this.nextPort = opts.basePort ?? 0;
  }

  static async start(opts: LocalOptions = {}): Promise<SwitchyardLocal> {
    const local = new SwitchyardLocal(opts);
    try {
      await local.boot();
    } catch (e) {
      // What started before the failure (moto_server, servers on their ports) must not outlive it.
      await local.stop().catch(() => undefined);
      throw e;
    }
    return local;
  }

  log(line: string): void {
    this.logLines.push(line);
    (this.opts.log ?? ((l: string) => console.log(l)))(line);
  }

  private get stateDir(): string {
    return this.opts.stateDir ?? path.join(ROOT, ".switchyard");
  }

  private port(): number {
    return this.nextPort === 0 ? 0 : this.nextPort++;
  }

  /**
   * Binds on the next port. From a base port, one that something else holds (a client socket of
   * another program can hold any port of the OS's ephemeral range) is skipped, and said so.
   */
  private async onNextPort<T>(bind: (port: number) => Promise<T>): Promise<T> {
    for (let skipped = 0; ; skipped++) {
      const port = this.port();
      try {
        return await bind(port);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0 || skipped >= 20)
          throw e;
        this.log(`port ${port} is in use: using ${port + 1}`);
      }
    }
  }

  /** Listens on the next port, behind guardServer's limits and error handling. */
  private async listen(
    server: http.Server,
    name: string,
    maxBodyBytes: number,
    errorStyle: ErrorStyle,
  ): Promise<string> {
    guardServer(server, {
      name,
      maxBodyBytes,
      errorStyle,
      timeouts: this.opts.clientTimeouts,
      log: (l) => this.log(l),
    });
    await this.onNextPort(
      (port) =>
        new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => {
            server.removeListener("error", reject);
            resolve();
          });
        }),
    );
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private of(type: string): Recorded[] {
    return this.program.resources.filter((r) => r.type === type);
  }

  private async boot(): Promise<void> {
    const stack = this.opts.stack ?? "dev";
    // DynamoDB: moto_server (transactions included), in memory or replayed from .switchyard/dynamodb.
    // Its Python process starts while the program is evaluated.
    const dynamo = this.startDynamo(stack);
    dynamo.catch(() => undefined);
    this.program = await loadProgram(stack, this.opts.configOverrides);
    const cfg = this.program.config;
    await dynamo;
    await this.createTables();
    this.s3Dir = this.opts.persist
      ? path.join(this.stateDir, "s3", stack)
      : temporaryDir("switchyard-s3-");

    // Records API: the configured endpoint is served by the stand-in unless one is given.
    const apiKey = cfg["switchyard:recordsApiKey"];
    this.recordsOrigin = cfg["switchyard:recordsApiEndpoint"]
      ? new URL(cfg["switchyard:recordsApiEndpoint"]).origin
      : undefined;
    if (this.opts.recordsEndpoint) {
      this.recordsUrl = this.opts.recordsEndpoint;
    } else {
      this.records = new RecordsStandIn({
        apiKey,
        anchorAfterMs: 60_000 * this.speed,
        log: (l) => this.log(`  ${l}`),
        clientTimeouts: this.opts.clientTimeouts,
      });
      this.recordsUrl = await this.onNextPort((port) => this.records!.start(port));
    }

    this.collectSecretsAndConnections();
    for (const q of this.of("aws:sqs/queue:Queue")) this.queues.set(nameOf(q), []);
    for (const t of this.of("aws:sns/topic:Topic"))
      this.topics.set(arnFor(t.type, t.name, t.inputs), []);

    const endpoint = createAwsEndpoint({
      dynamodbUrl: this.dynamoUrl,
      putEvents: async (entries) => this.bus.putEvents(entries),
      startReplay: async (request) =>
        this.bus.startReplay(
          request,
          new Map(
            this.of("aws:cloudwatch/eventArchive:EventArchive").map((a) => [
              nameOf(a),
              String(a.inputs.eventSourceArn).split("/").pop()!,
            ]),
          ),
        ),
      getSecretValue: async (id) => this.getSecretValue(id),
      snsPublish: async (a) => this.snsPublish(a),
      sqsSendMessage: async (a) =>
        this.sqsSend(a.QueueUrl, a.MessageBody, a.MessageAttributes ?? {}),
      startExecution: async (a) => {
        let input: unknown;
        try {
          input = a.input ? JSON.parse(a.input) : {};
        } catch {
          throw new AwsError("InvalidExecutionInput", "Invalid execution input: not JSON");
        }
        if (!this.sfn.definitions.has(a.stateMachineArn))
          throw new AwsError(
            "StateMachineDoesNotExist",
            `State Machine Does Not Exist: '${a.stateMachineArn}'`,
          );
        const ex = this.sfn.startExecution(a.stateMachineArn, input, a.name);
        return { executionArn: ex.executionArn, startDate: Date.now() / 1000 };
      },
      invokeLambda: async (name, payload, type) => {
        let event: unknown;
        try {
          event = payload ? JSON.parse(payload) : {};
        } catch {
          throw new AwsError(
            "InvalidRequestContentException",
            "Could not parse request body into json",
          );
        }
        if (type === "Event") {
          this.lambdas.invokeAsync(name, event);
          return { status: 202, payload: "" };
        }
        if (type === "DryRun") return { status: 204, payload: "" };
        try {
          const out = await this.lambdas.invoke(name, event);
          return { status: 200, payload: JSON.stringify(out ?? null) };
        } catch (e: any) {
          if (e instanceof AwsError) throw e;
          if (e.name === "ResourceNotFoundException") throw new AwsError(e.name, e.message, 404);
          return {
            status: 200,
            payload: JSON.stringify({ errorType: e.name, errorMessage: e.message }),
            functionError: "Unhandled",
          };
        }
      },
      aroundDynamoWrite: (op, request, forward) =>
        this.streams.aroundDynamoWrite(op, request, forward),
      s3Put: async (bucket, key, body, contentType) => this.s3Put(bucket, key, body, contentType),
      s3Get: async (bucket, key) => {
        const file = this.s3File(bucket, key);
        if (!fs.existsSync(file))
          throw new AwsError("NoSuchKey", "The specified key does not exist.", 404);
        const body = fs.readFileSync(file);
        const meta = fs.existsSync(`${file}.meta.json`)
          ? JSON.parse(fs.readFileSync(`${file}.meta.json`, "utf8"))
          : {};
        return {
          body,
          contentType: meta.contentType,
          etag: createHash("md5").update(body).digest("hex"),
        };
      },
    });
    this.awsUrl = await this.listen(endpoint, "AWS endpoint", AWS_ENDPOINT_MAX_BODY_BYTES, "aws");

    this.buildLambdas();
    this.buildBus();
    this.buildStateMachines();
    this.buildStreams();
    await this.serveFunctionUrls();
    await this.serveRestApis();
    this.controlUrl = await this.listen(
      http.createServer((req, res) => this.control(req, res)),
      "control",
      SMALL_BODY_BYTES,
      "plain",
    );
  }

  /** GET /state, /queues/<name>, /topics, /executions, /records, /events; POST /replay?name=. */
  private async control(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body, null, 2));
    };
    const parts = url.pathname.split("/").filter(Boolean);
    if (req.method === "POST" && parts[0] === "drain") {
      await this.drain();
      return send(200, { drained: true });
    }
    if (req.method === "POST" && parts[0] === "replay") {
      const n = this.bus.replay(
        url.searchParams.get("name") ?? `replay-${Date.now()}`,
        new Date(0),
        new Date(),
      );
      return send(200, { replayed: n });
    }
    switch (parts[0]) {
      case "queues":
        if (parts[1])
          return this.queues.has(parts[1])
            ? send(200, this.queues.get(parts[1]))
            : send(404, { message: `no queue ${parts[1]}` });
        return send(200, Object.fromEntries([...this.queues].map(([k, v]) => [k, v.length])));
      case "topics":
        return send(200, Object.fromEntries(this.topics));
      case "executions":
        return send(
          200,
          [...this.sfn.executions.values()].map(({ done: _done, ...e }) => e),
        );
      case "records":
        return send(
          200,
          this.records
            ? { calls: this.records.calls, records: [...this.records.records.values()] }
            : { message: "external records API" },
        );
      case "events":
        return send(200, this.bus.archive);
      case undefined:
      case "state":
        return send(200, {
          stack: this.program.stack,
          aws: this.awsUrl,
          functionUrls: this.functionUrls,
          apis: this.apiUrls,
          queues: Object.fromEntries([...this.queues].map(([k, v]) => [k, v.length])),
          events: this.bus.archive.length,
          executions: this.sfn.executions.size,
        });
      default:
        return send(404, { message: `unknown path ${url.pathname}` });
    }
  }

  /**
   * Starts moto_server. It keeps nothing on disk itself: with --persist it records every request it
   * is sent (its recorder, MOTO_ENABLE_RECORDING) to .switchyard/dynamodb/<stack>/moto-recording.jsonl
   * and replays that recording when the next run starts, so the tables come back as they were.
   */
  private async startDynamo(stack: string): Promise<void> {
    const dataDir = path.join(this.stateDir, "dynamodb", stack);
    const recording = path.join(dataDir, MOTO_RECORDING_FILE);
    if (this.opts.persist) {
      fs.mkdirSync(dataDir, { recursive: true });
      const leftovers = fs.readdirSync(dataDir).filter((f) => f !== MOTO_RECORDING_FILE);
      if (leftovers.length > 0 && !fs.existsSync(recording)) {
        this.log(
          `DynamoDB: ${dataDir} holds data of an earlier local DynamoDB (dynalite), which moto_server cannot read: the tables start empty`,
        );
      }
    }
    this.moto = await startMotoServer(
      this.opts.persist
        ? { env: { MOTO_ENABLE_RECORDING: "True", MOTO_RECORDER_FILEPATH: recording } }
        : {},
    );
    this.dynamoUrl = this.moto.url;
    if (this.opts.persist && fs.existsSync(recording) && fs.statSync(recording).size > 0) {
      const res = await fetch(`${this.dynamoUrl}/moto-api/recorder/replay-recording`, {
        method: "POST",
      });
      await res.text();
      if (!res.ok)
        throw new Error(
          `DynamoDB: replaying ${recording} failed (${res.status}); move the file away to start empty`,
        );
      this.log(`DynamoDB: replayed ${recording}`);
    }
  }

  private async createTables(): Promise<void> {
    const client = new DynamoDBClient({
      endpoint: this.dynamoUrl,
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    for (const t of this.of("aws:dynamodb/table:Table")) {
      const i = t.inputs;
      const keys = [
        { AttributeName: i.hashKey, KeyType: "HASH" as const },
        ...(i.rangeKey ? [{ AttributeName: i.rangeKey, KeyType: "RANGE" as const }] : []),
      ];
      const projection = (g: any) => ({
        ProjectionType: g.projectionType ?? "ALL",
        ...(g.nonKeyAttributes ? { NonKeyAttributes: g.nonKeyAttributes } : {}),
      });
      const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
      try {
        await client.send(
          new CreateTableCommand({
            TableName: nameOf(t),
            KeySchema: keys,
            AttributeDefinitions: (i.attributes ?? []).map((a: any) => ({
              AttributeName: a.name,
              AttributeType: a.type,
            })),
            ProvisionedThroughput: throughput,
            ...(i.globalSecondaryIndexes?.length
              ? {
                  GlobalSecondaryIndexes: i.globalSecondaryIndexes.map((g: any) => ({
                    IndexName: g.name,
                    KeySchema: [
                      { AttributeName: g.hashKey, KeyType: "HASH" },
                      ...(g.rangeKey ? [{ AttributeName: g.rangeKey, KeyType: "RANGE" }] : []),
                    ],
                    Projection: projection(g),
                    ProvisionedThroughput: throughput,
                  })),
                }
              : {}),
            ...(i.localSecondaryIndexes?.length
              ? {
                  LocalSecondaryIndexes: i.localSecondaryIndexes.map((g: any) => ({
                    IndexName: g.name,
                    KeySchema: [
                      { AttributeName: i.hashKey, KeyType: "HASH" },
                      { AttributeName: g.rangeKey, KeyType: "RANGE" },
                    ],
                    Projection: projection(g),
                  })),
                }
              : {}),
          }),
        );
      } catch (e: any) {
        if (e.name !== "ResourceInUseException") throw e;
      }
      if (i.ttl?.enabled && i.ttl.attributeName) {
        // Declared, as on AWS; moto_server does not delete expired items.
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: nameOf(t),
            TimeToLiveSpecification: { AttributeName: i.ttl.attributeName, Enabled: true },
          }),
        );
      }
      this.log(`table ${nameOf(t)} (${keys.map((k) => k.AttributeName).join(", ")})`);
    }
    client.destroy();
  }

  private collectSecretsAndConnections(): void {
    // A secret's id is its ARN in AWS; the mocks give ids of their own, so map them back.
    const secretArns = new Map(
      this.of("aws:secretsmanager/secret:Secret").map((x) => [
        `${x.name}-id`,
        arnFor(x.type, x.name, x.inputs),
      ]),
    );
    for (const v of this.of("aws:secretsmanager/secretVersion:SecretVersion")) {
      const secretString = unsecret(v.inputs.secretString);
      const id = String(v.inputs.secretId);
      if (secretString !== undefined)
        this.secrets.set(secretArns.get(id) ?? id, String(secretString));
    }
    for (const c of this.of("aws:cloudwatch/eventConnection:EventConnection")) {
      const arn = arnFor(c.type, c.name, c.inputs);
      const auth = unsecret(c.inputs.authParameters);
      const apiKey = auth?.apiKey ? { key: auth.apiKey.key, value: auth.apiKey.value } : undefined;
      this.connections.set(arn, { arn, apiKey });
      // EventBridge stores connection credentials in a secret of its own.
      const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:events!connection/${nameOf(c)}/0000-AbCdEf`;
      this.secrets.set(
        secretArn,
        JSON.stringify({ api_key_name: apiKey?.key, api_key_value: apiKey?.value }),
      );
    }
    for (const d of this.of("aws:cloudwatch/eventApiDestination:EventApiDestination")) {
      this.destinations.set(arnFor(d.type, d.name, d.inputs), {
        endpoint: d.inputs.invocationEndpoint,
        method: d.inputs.httpMethod,
        connectionArn: d.inputs.connectionArn,
        rate: d.inputs.invocationRateLimitPerSecond ?? 300,
        next: 0,
      });
    }
  }

  private getSecretValue(id: string): { ARN: string; Name: string; SecretString: string } {
    for (const [arn, value] of this.secrets) {
      const name = arn.split(":secret:")[1]?.replace(/-[A-Za-z0-9]{6}$/, "");
      if (id === arn || id === name) return { ARN: arn, Name: name ?? arn, SecretString: value };
    }
    throw new AwsError(
      "ResourceNotFoundException",
      "Secrets Manager can't find the specified secret.",
    );
  }

  /** Serves an https endpoint of the records API from where it runs locally. */
  rewriteUrl(url: string): string {
    if (this.recordsOrigin && url.startsWith(this.recordsOrigin))
      return this.recordsUrl + url.slice(this.recordsOrigin.length);
    return url;
  }

  /**
   * A function's declared environment value, pointed at what serves it here: SQS queue URLs (the
   * SDK sends to a queue URL's own host) at the local endpoint, the records API at its stand-in.
   */
  private localEnvValue(v: string): string {
    return this.rewriteUrl(v.split(`https://sqs.${REGION}.amazonaws.com/`).join(`${this.awsUrl}/`));
  }

  private queueName(urlOrArn: string): string {
    if (typeof urlOrArn !== "string" || !urlOrArn)
      throw new AwsError("MissingParameter", "The request must contain the parameter QueueUrl.");
    const name = urlOrArn.startsWith("arn:") ? urlOrArn.split(":")[5] : urlOrArn.split("/").pop()!;
    if (!this.queues.has(name))
      throw new AwsError(
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
      );
    return name;
  }

  sqsSend(urlOrArn: string, body: string, attributes: QueueMessage["MessageAttributes"]): string {
    const name = this.queueName(urlOrArn);
    const id = randomUUID();
    this.queues.get(name)!.push({
      MessageId: id,
      Body: body,
      MessageAttributes: attributes,
      SentTimestamp: Date.now(),
    });
    this.log(`  queue ${name}: message ${id.slice(0, 8)}`);
    return id;
  }

  snsPublish(a: {
    TopicArn: string;
    Message: string;
    Subject?: string;
    MessageAttributes: TopicMessage["MessageAttributes"];
  }): string {
    const list = this.topics.get(a.TopicArn);
    if (!list) throw new AwsError("NotFound", "Topic does not exist", 404);
    const id = randomUUID();
    list.push({ MessageId: id, ...a });
    const outcome = a.MessageAttributes?.outcome?.StringValue;
    this.log(
      `  notification on ${a.TopicArn.split(":").pop()}${outcome ? ` (outcome ${outcome})` : ""}: ${a.Subject ?? a.Message.slice(0, 80)}`,
    );
    for (const s of this.of("aws:sns/topicSubscription:TopicSubscription").filter(
      (x) => x.inputs.topic === a.TopicArn,
    )) {
      const policy = s.inputs.filterPolicy ? JSON.parse(s.inputs.filterPolicy) : undefined;
      const attrs = Object.fromEntries(
        Object.entries(a.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
      );
      if (policy && !compilePattern(policy)(attrs)) continue;
      const envelope = {
        Type: "Notification",
        MessageId: id,
        TopicArn: a.TopicArn,
        Subject: a.Subject,
        Message: a.Message,
        Timestamp: new Date().toISOString(),
        MessageAttributes: Object.fromEntries(
          Object.entries(a.MessageAttributes ?? {}).map(([k, v]) => [
            k,
            { Type: v.DataType, Value: v.StringValue },
          ]),
        ),
      };
      if (s.inputs.protocol === "sqs")
        this.sqsSend(s.inputs.endpoint, JSON.stringify(envelope), {});
      if (s.inputs.protocol === "lambda")
        this.lambdas.invokeAsync(s.inputs.endpoint, {
          Records: [
            {
              EventSource: "aws:sns",
              EventVersion: "1.0",
              EventSubscriptionArn: `${a.TopicArn}:${randomUUID()}`,
              Sns: envelope,
            },
          ],
        });
      if (s.inputs.protocol === "email")
        this.log(`  email to ${s.inputs.endpoint}: ${a.Subject ?? a.Message.slice(0, 60)}`);
    }
    return id;
  }

  private s3File(bucket: string, key: string): string {
    const file = path.resolve(this.s3Dir, bucket, key);
    if (!file.startsWith(path.resolve(this.s3Dir, bucket) + path.sep))
      throw new AwsError("InvalidArgument", "Invalid object key", 400);
    return file;
  }

  s3Put(bucket: string, key: string, body: Buffer, contentType?: string): string {
    const etag = createHash("md5").update(body).digest("hex");
    if (
      !this.of("aws:s3/bucketV2:BucketV2")
        .concat(this.of("aws:s3/bucket:Bucket"))
        .some((b) => (b.inputs.bucket ?? b.name) === bucket)
    ) {
      throw new AwsError("NoSuchBucket", "The specified bucket does not exist", 404);
    }
    const file = this.s3File(bucket, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    fs.writeFileSync(`${file}.meta.json`, JSON.stringify({ contentType }));
    this.log(`  s3 ${bucket}/${key} (${body.length} bytes)`);
    // A bucket's id is its name in AWS; the mocks give ids of their own, so accept both.
    const ids = new Set([
      bucket,
      ...this.of("aws:s3/bucketV2:BucketV2")
        .concat(this.of("aws:s3/bucket:Bucket"))
        .filter((b) => (b.inputs.bucket ?? b.name) === bucket)
        .map((b) => `${b.name}-id`),
    ]);
    for (const n of this.of("aws:s3/bucketNotification:BucketNotification").filter((x) =>
      ids.has(x.inputs.bucket),
    )) {
      for (const f of n.inputs.lambdaFunctions ?? []) {
        if (!(f.events ?? []).some((e: string) => e.startsWith("s3:ObjectCreated"))) continue;
        if (f.filterPrefix && !key.startsWith(f.filterPrefix)) continue;
        if (f.filterSuffix && !key.endsWith(f.filterSuffix)) continue;
        this.lambdas.invokeAsync(f.lambdaFunctionArn, {
          Records: [
            {
              eventVersion: "2.1",
              eventSource: "aws:s3",
              awsRegion: REGION,
              eventTime: new Date().toISOString(),
              eventName: "ObjectCreated:Put",
              s3: {
                s3SchemaVersion: "1.0",
                bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
                object: {
                  key: encodeURIComponent(key).replace(/%20/g, "+"),
                  size: body.length,
                  eTag: etag,
                },
              },
            },
          ],
        });
      }
    }
    return etag;
  }

  private buildLambdas(): void {
    const fns = new Map<string, LocalFunction>();
    const invokeConfigs = this.of("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    for (const f of this.of("aws:lambda/function:Function")) {
      const name = nameOf(f);
      const archive = this.program.archives.get(f.name);
      if (!archive) continue;
      const arn = arnFor(f.type, f.name, f.inputs);
      const cfg = invokeConfigs.find(
        (c) => c.inputs.functionName === name || c.inputs.functionName === arn,
      );
      fns.set(name, {
        name,
        arn,
        archive,
        environment: Object.fromEntries(
          Object.entries(unsecret(f.inputs.environment?.variables ?? {})).map(([k, v]) => [
            k,
            this.localEnvValue(String(v)),
          ]),
        ),
        timeoutSeconds: f.inputs.timeout ?? 3,
        reservedConcurrency: f.inputs.reservedConcurrentExecutions,
        asyncConfig: cfg
          ? {
              maximumRetryAttempts: cfg.inputs.maximumRetryAttempts ?? 2,
              onFailure: cfg.inputs.destinationConfig?.onFailure?.destination,
              onSuccess: cfg.inputs.destinationConfig?.onSuccess?.destination,
            }
          : undefined,
      });
    }
    this.lambdas = new LocalLambdas(fns, {
      endpointUrl: this.awsUrl,
      region: REGION,
      log: (l) => this.log(l),
      asyncRetryDelayMs: (attempt) => (attempt === 0 ? 60_000 : 120_000) * this.speed,
      sendToDestination: async (arn, record, success) => {
        const service = arn.split(":")[2];
        if (service === "lambda") this.lambdas.invokeAsync(arn, record);
        else if (service === "sqs") this.sqsSend(arn, JSON.stringify(record), {});
        else if (service === "sns")
          this.snsPublish({
            TopicArn: arn,
            Message: JSON.stringify(record),
            MessageAttributes: {},
          });
        else if (service === "events") {
          this.bus.putEvents([
            {
              EventBusName: arn,
              Source: "lambda",
              DetailType: `Lambda Function Invocation Result - ${success ? "Success" : "Failure"}`,
              Detail: JSON.stringify(record),
              Resources: [
                (record as any).requestContext.functionArn.replace(/:\$LATEST$/, ""),
                arn,
              ],
            },
          ]);
        } else this.log(`  destination ${arn} is not served locally`);
      },
    });
  }

  private buildBus(): void {
    const rules: LocalRule[] = this.of("aws:cloudwatch/eventRule:EventRule").map((r) => ({
      name: nameOf(r),
      arn: arnFor(r.type, r.name, r.inputs),
      busName: r.inputs.eventBusName ?? "default",
      pattern: JSON.parse(r.inputs.eventPattern),
      enabled: (r.inputs.state ?? "ENABLED") === "ENABLED",
    }));
    const targets: LocalTarget[] = this.of("aws:cloudwatch/eventTarget:EventTarget").map((t) => ({
      ruleName: t.inputs.rule,
      busName: t.inputs.eventBusName ?? "default",
      id: t.inputs.targetId ?? t.name,
      arn: t.inputs.arn,
      inputTransformer: t.inputs.inputTransformer,
      input: t.inputs.input,
      retryPolicy: {
        maximumRetryAttempts: 185,
        maximumEventAgeInSeconds: 86400,
        ...(t.inputs.retryPolicy ?? {}),
      },
      deadLetterArn: t.inputs.deadLetterConfig?.arn,
      headerParameters: t.inputs.httpTarget?.headerParameters,
    }));
    const busNames = ["default", ...this.of("aws:cloudwatch/eventBus:EventBus").map(nameOf)];
    this.bus = new LocalBus(
      rules,
      targets,
      {
        account: ACCOUNT,
        region: REGION,
        maxEntryBytes: 262144,
        log: (l) => this.log(l),
        retryDelayMs: (attempt) => Math.min(1000 * 2 ** attempt, 60_000) * this.speed,
        deadLetter: async (queueArn, body, attributes) => {
          this.sqsSend(
            queueArn,
            body,
            Object.fromEntries(
              Object.entries(attributes).map(([k, v]) => [
                k,
                { DataType: "String", StringValue: v },
              ]),
            ),
          );
        },
        deliver: (target, input, event) => this.deliver(target, input, event),
      },
      busNames,
    );
  }

  private async deliver(t: LocalTarget, input: string, event: BusEvent): Promise<void> {
    const service = t.arn.split(":")[2];
    const json = () => {
      try {
        return JSON.parse(input);
      } catch {
        return input;
      }
    };
    try {
      if (service === "lambda") {
        this.lambdas.invokeAsync(t.arn, json());
        return;
      }
      if (service === "sqs") return void this.sqsSend(t.arn, input, {});
      if (service === "sns")
        return void this.snsPublish({ TopicArn: t.arn, Message: input, MessageAttributes: {} });
      if (service === "states") return void this.sfn.startExecution(t.arn, json());
      if (service === "firehose") {
        const list = this.firehose.get(t.arn) ?? [];
        list.push(input);
        this.firehose.set(t.arn, list);
        return;
      }
      if (service === "logs")
        return void this.log(
          `  log ${t.arn.split(":log-group:")[1]}: ${event.source}/${event["detail-type"]} ${event.id}`,
        );
      if (service === "events" && t.arn.includes(":api-destination/"))
        return this.callApiDestination(t, input);
      if (service === "events" && t.arn.includes(":event-bus/")) {
        const out = this.bus.putEvents([
          {
            EventBusName: t.arn,
            Source: event.source,
            DetailType: event["detail-type"],
            Detail: JSON.stringify(event.detail),
          },
        ]);
        if (out.FailedEntryCount)
          throw new DeliveryError(out.Entries[0].ErrorCode, out.Entries[0].ErrorMessage, false);
        return;
      }
    } catch (e) {
      if (e instanceof DeliveryError) throw e;
      const err = e as any;
      throw new DeliveryError(err.code ?? err.name ?? "SDK_CLIENT_ERROR", err.message, false);
    }
    throw new DeliveryError(
      "UnsupportedTarget",
      `the local runtime does not deliver to ${t.arn}`,
      false,
    );
  }

  /** Calls an API destination like EventBridge: connection auth, rate limit, 5 s timeout. */
  private async callApiDestination(t: LocalTarget, input: string): Promise<void> {
    const d = this.destinations.get(t.arn);
    if (!d)
      throw new DeliveryError(
        "ResourceNotFoundException",
        `API destination ${t.arn} is not declared`,
        false,
      );
    const now = Date.now();
    const wait = Math.max(0, d.next - now);
    d.next = Math.max(now, d.next) + 1000 / d.rate;
    if (wait) await new Promise((r) => setTimeout(r, wait));
    const conn = this.connections.get(d.connectionArn);
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      ...(t.headerParameters ?? {}),
    };
    if (conn?.apiKey) headers[conn.apiKey.key] = conn.apiKey.value;
    let res: Response;
    try {
      res = await fetch(this.rewriteUrl(d.endpoint), {
        method: d.method,
        headers,
        body: input,
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new DeliveryError(
        "SDK_CLIENT_ERROR",
        `API destination call failed: ${(e as Error).message}`,
      );
    }
    await res.text();
    if (res.status >= 200 && res.status < 300) return;
    // EventBridge retries 401, 407, 409, 429 and 5xx; other 4xx are not retried.
    const retryable = res.status >= 500 || [401, 407, 409, 429].includes(res.status);
    throw new DeliveryError(`${res.status}`, `API destination answered ${res.status}`, retryable);
  }

  private buildStateMachines(): void {
    const defs = new Map<string, { arn: string; name: string; definition: any }>();
    for (const s of this.of("aws:sfn/stateMachine:StateMachine")) {
      const arn = arnFor(s.type, s.name, s.inputs);
      defs.set(arn, { arn, name: nameOf(s), definition: JSON.parse(s.inputs.definition) });
    }
    this.sfn = new LocalStepFunctions(defs, {
      connections: this.connections,
      rewriteUrl: (u) => this.rewriteUrl(u),
      snsPublish: async (a) => this.snsPublish(a),
      invokeLambda: (n, p) => this.lambdas.invoke(n, p),
      putEvents: async (entries) => this.bus.putEvents(entries),
      log: (l) => this.log(l),
      speed: this.speed,
    });
  }

  private buildStreams(): void {
    const tables = new Map<string, StreamTable>();
    for (const t of this.of("aws:dynamodb/table:Table").filter((x) => x.inputs.streamEnabled)) {
      const arn = arnFor(t.type, t.name, t.inputs);
      tables.set(nameOf(t), {
        name: nameOf(t),
        arn,
        streamArn: `${arn}/stream/2026-01-01T00:00:00.000`,
        keys: [t.inputs.hashKey, t.inputs.rangeKey].filter(Boolean),
        viewType: t.inputs.streamViewType ?? "NEW_AND_OLD_IMAGES",
      });
    }
    const mappings = this.of("aws:lambda/eventSourceMapping:EventSourceMapping")
      .filter((m) => String(m.inputs.eventSourceArn).includes(":dynamodb:"))
      .map((m) => ({
        uuid: m.name,
        streamArn: m.inputs.eventSourceArn,
        functionName: String(m.inputs.functionName),
        batchSize: m.inputs.batchSize ?? 100,
        reportBatchItemFailures: (m.inputs.functionResponseTypes ?? []).includes(
          "ReportBatchItemFailures",
        ),
        bisectOnError: Boolean(m.inputs.bisectBatchOnFunctionError),
        maximumRetryAttempts: m.inputs.maximumRetryAttempts ?? -1,
        onFailure: m.inputs.destinationConfig?.onFailure?.destinationArn,
      }));
    this.streams = new LocalStreams(tables, mappings, {
      dynamo: new DynamoDBClient({
        endpoint: this.dynamoUrl,
        region: REGION,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }),
      region: REGION,
      invoke: (fn, event) => this.lambdas.invoke(fn, event),
      sendToDestination: async (arn, message) => {
        const service = arn.split(":")[2];
        if (service === "sqs") this.sqsSend(arn, JSON.stringify(message), {});
        else if (service === "sns")
          this.snsPublish({
            TopicArn: arn,
            Message: JSON.stringify(message),
            MessageAttributes: {},
          });
        else this.log(`  destination ${arn} is not served locally`);
      },
      log: (l) => this.log(l),
    });
  }

  private async serveRestApis(): Promise<void> {
    for (const api of this.of("aws:apigateway/restApi:RestApi")) {
      const local = new LocalRestApi(api, this.program.resources, {
        invokeLambda: (fn, event) => this.lambdas.invoke(fn, event),
        rewriteUrl: (u) => this.rewriteUrl(u),
        log: (l) => this.log(l),
      });
      this.restApis[api.name] = local;
      const url = await this.listen(
        http.createServer((req, res) => local.handle(req, res)),
        `API ${api.name}`,
        REST_API_MAX_BODY_BYTES,
        "apiGateway",
      );
      this.apiUrls[api.name] = `${url}/${local.stageName}`;
    }
  }

  private async serveFunctionUrls(): Promise<void> {
    for (const u of this.of("aws:lambda/functionUrl:FunctionUrl")) {
      const fn = this.lambdas.resolve(String(u.inputs.functionName));
      const server = http.createServer(async (req, res) => {
        const body = await readRequestBody(req);
        // The domain the program's URL names: senders such as Twilio sign the URL they post to.
        const domain = `${u.name}.lambda-url.${REGION}.on.aws`;
        try {
          const result = await this.lambdas.invoke(fn.name, functionUrlEvent(req, body, domain));
          writeLambdaResponse(res, result);
        } catch (e: any) {
          this.log(`  function ${fn.name} error: ${e.name}: ${e.message}`);
          res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ Message: "Internal Server Error" }));
        }
      });
      this.functionUrls[u.name] =
        `${await this.listen(server, `function URL ${u.name}`, FUNCTION_URL_MAX_BODY_BYTES, "functionUrl")}/`;
    }
  }

  /** Waits until every event, invocation and execution started so far has finished. */
  async drain(): Promise<void> {
    // Work spawns work (a function publishes, a rule starts a workflow): settle until quiet.
    for (let quiet = 0; quiet < 3;) {
      const before = this.logLines.length;
      await this.bus.drain();
      await this.lambdas.drain();
      await this.sfn.drain();
      await this.streams.drain();
      await new Promise((r) => setTimeout(r, 30));
      quiet = this.logLines.length === before ? quiet + 1 : 0;
    }
  }

  /** The local URL that serves a URL the program declares (Function URL or API stage). */
  toLocalUrl(publicUrl: string): string {
    for (const u of this.of("aws:lambda/functionUrl:FunctionUrl")) {
      const prefix = `https://${u.name}.lambda-url.${REGION}.on.aws/`;
      if (publicUrl.startsWith(prefix))
        return this.functionUrls[u.name] + publicUrl.slice(prefix.length);
    }
    for (const [name, local] of Object.entries(this.restApis)) {
      const prefix = `https://${name}-id.execute-api.${REGION}.amazonaws.com/${local.stageName}`;
      if (publicUrl.startsWith(prefix)) return this.apiUrls[name] + publicUrl.slice(prefix.length);
    }
    return publicUrl;
  }

  /** What the demo and the end-to-end test need to drive this instance. */
  async scenarioTarget(): Promise<Target> {
    const out = this.program.outputs as Record<string, any>;
    const resolve = <T>(v: unknown) =>
      new Promise<T>((r) =>
        v && typeof (v as any).apply === "function" ? (v as any).apply((x: T) => r(x)) : r(v as T),
      );
    const urls = await resolve<Record<string, string>>(out.webhookUrls ?? {});
    const webhooks: Target["webhooks"] = {};
    const secrets: Record<string, string> = {};
    for (const [provider, publicUrl] of Object.entries(urls)) {
      webhooks[provider] = { publicUrl, localUrl: this.toLocalUrl(publicUrl) };
      const key = WEBHOOK_SECRET_KEYS[provider as keyof typeof WEBHOOK_SECRET_KEYS]?.key;
      if (key) secrets[provider] = this.program.config[`switchyard:${key}`];
    }
    const jobsUrl = out.jobsApiUrl
      ? this.toLocalUrl(await resolve<string>(out.jobsApiUrl))
      : undefined;
    const verificationWebhooks = JSON.parse(
      this.program.config["switchyard:verificationWebhookProviders"] ?? "[]",
    ) as string[];
    return {
      aws: this.awsUrl,
      control: this.controlUrl,
      webhooks,
      secrets,
      busName: await resolve<string>(out.busName),
      jobsUrl,
      verificationWebhooks,
    };
  }

  /** A short readable list of what is served. */
  summary(): string {
    const lines: string[] = [];
    lines.push(`Switchyard local — stack ${this.program.stack}`);
    lines.push(`  AWS endpoint (AWS_ENDPOINT_URL): ${this.awsUrl}`);
    lines.push(`  state (queues, notifications, executions): ${this.controlUrl}/state`);
    lines.push(
      `  records API: ${this.records ? `${this.recordsUrl} (built-in stand-in)` : this.recordsUrl}`,
    );
    lines.push(
      `  DynamoDB: moto_server ${this.dynamoUrl} (pid ${this.moto?.pid}${this.opts.persist ? `, recording to ${path.join(this.stateDir, "dynamodb", this.program.stack, MOTO_RECORDING_FILE)}` : ", in memory"})`,
    );
    for (const [n, u] of Object.entries(this.functionUrls)) lines.push(`  function URL ${n}: ${u}`);
    for (const [n, u] of Object.entries(this.apiUrls)) {
      lines.push(`  API ${n}: ${u}`);
      for (const [k, v] of Object.entries(this.restApis[n].apiKeys))
        lines.push(`    API key ${k}: ${v}`);
    }
    if (Object.keys(this.apiUrls).length) {
      lines.push(
        `  IAM-signed calls: sign with access key ${LOCAL_CALLER_CREDENTIALS.accessKeyId} / ${LOCAL_CALLER_CREDENTIALS.secretAccessKey} (stands for the caller role)`,
      );
    }
    for (const t of this.of("aws:dynamodb/table:Table")) lines.push(`  table ${nameOf(t)}`);
    for (const b of this.bus.busNames.slice(1)) lines.push(`  bus ${b}`);
    for (const r of this.bus.rules)
      lines.push(
        `  rule ${r.name} -> ${this.bus.targets
          .filter((t) => t.ruleName === r.name)
          .map((t) => t.id)
          .join(", ")}`,
      );
    for (const s of this.sfn.definitions.values()) lines.push(`  state machine ${s.name}`);
    for (const q of this.queues.keys()) lines.push(`  queue ${q}`);
    for (const t of this.topics.keys()) lines.push(`  topic ${t.split(":").pop()}`);
    for (const b of this.of("aws:s3/bucketV2:BucketV2").concat(this.of("aws:s3/bucket:Bucket")))
      lines.push(`  bucket ${b.inputs.bucket ?? b.name} (S3 via the AWS endpoint, path style)`);
    for (const f of this.lambdas.functions.values()) lines.push(`  function ${f.name}`);
    if (this.program.generatedSecrets.length)
      lines.push(`  secrets generated for this run: ${this.program.generatedSecrets.join(", ")}`);
    return lines.join("\n");
  }

  /**
   * Stops everything this instance started, all at once: stops accepting connections, ends the
   * function processes, cuts the connections still open (keep-alive or mid-request), stops
   * moto_server, and removes the S3 folder of a run without --persist. Calling it twice is safe.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const s of this.servers) s.closeIdleConnections();
      await Promise.all([
        this.moto?.stop(),
        (async () => {
          // Requests waiting on a function are answered (502) once its process has ended.
          await this.lambdas?.stop();
          for (const s of this.servers) s.closeAllConnections();
          await Promise.all(closed);
        })(),
        this.records?.stop(),
      ]);
      if (!this.opts.persist && this.s3Dir) fs.rmSync(this.s3Dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}
