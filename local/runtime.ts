// The local runtime: evaluates the program under mocks, applies it to moto_server (the deploy
// rehearsal: the account the AWS endpoint's reads go to) and serves what it declares on localhost.
// Each AWS service is a module under local/services/, built from the declared resources (tables,
// functions, rules, targets, queues, topics, state machines, connections, destinations, URLs,
// APIs); this class composes them, owns the ports, and starts and stops the run.
import "./polyfills";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { Recorded } from "./mocks";
import { archiveEntries } from "./artifacts";
import type { LocalBus } from "./bus";
import { CLIENT_TIMEOUTS, ErrorStyle, guardServer } from "./httpEvents";
import type { LocalLambdas } from "./lambdas";
import { DeclaredProgram, loadProgram, readStackConfig, ROOT } from "./program";
import type { RecordsStandIn } from "./recordsStandIn";
import type { LocalStepFunctions } from "./stateMachines";
import type { LocalStreams } from "./streams";
import type { LocalRestApi } from "./apigateway";
import type { Target } from "./scenarios";
import { WEBHOOK_SECRET_KEYS } from "../config";
import { NAMESPACE } from "../config/kinds";
import { ACCOUNT } from "./mocks";
import { LOCAL_SUBSCRIPTIONS, localSubscriptionUrl } from "./sampleSubscriber";
import { outboundSecretKey } from "../components/webhooks/outboundSpec";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../handlers/outbound/settings";
import { nameOf, Runtime, Services, unsecret } from "./services/context";
import { MOTO_RECORDING_FILE, MotoService, type MotoScope } from "./services/moto";
import type { QueueMessage } from "./services/sqs";
import type { TopicMessage } from "./services/sns";
import { SubscriberService } from "./services/subscriber";
import type { DemoTenant, InspectTargets, OutboundInfo, WebhookReceiver } from "./firstRun";
import type * as ServingModules from "./serving";

export { MOTO_RECORDING_FILE };
export type { QueueMessage, TopicMessage };

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
  /** How much of the program is applied to moto (MotoScope); default "all". */
  moto?: MotoScope;
  /**
   * When the apply to moto begins (the CLI: once it has printed Ready). Default as soon as start()
   * has resolved.
   */
  applyAfter?: Promise<unknown>;
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

/** The value of a program output (an Output or a plain value). */
function resolveOutput<T>(v: unknown): Promise<T> {
  return new Promise<T>((r) =>
    v && typeof (v as any).apply === "function" ? (v as any).apply((x: T) => r(x)) : r(v as T),
  );
}

/** A value with the Outputs inside it (at any depth) resolved, secrets unwrapped. */
async function resolveDeep(v: unknown): Promise<unknown> {
  const x = await resolveOutput(v);
  if (Array.isArray(x)) return Promise.all(x.map(resolveDeep));
  if (x && typeof x === "object") {
    // A secret the mocks wrapped holds plain values; any other object may hold Outputs.
    const plain = unsecret(x);
    if (plain !== x && !Object.values(x).some((y) => typeof y?.apply === "function")) return plain;
    return Object.fromEntries(
      await Promise.all(Object.entries(x).map(async ([k, y]) => [k, await resolveDeep(y)])),
    );
  }
  return x;
}

export class SwitchyardLocal implements Runtime {
  public program!: DeclaredProgram;
  public readonly services: Services;
  public readonly logLines: string[] = [];
  public awsUrl = "";
  /** Read-only view of the local state (queues, notifications, executions, records), as JSON. */
  public controlUrl = "";
  /** The console: a live web page of the journal, with a redrive button per dead letter. */
  public consoleUrl = "";
  public readonly speed: number;
  private servers: http.Server[] = [];
  private nextPort: number;
  private stopping?: Promise<void>;
  /** The webhook receivers with their secrets' sources, read at start. */
  public receivers: WebhookReceiver[] = [];
  /** The demo tenant issued at start, when the stack has a tenant with ingress. */
  public demoTenant?: DemoTenant;
  /** What the printed AWS CLI commands inspect. */
  public inspect?: InspectTargets;
  /** The sample subscriber and the outbound subscriptions, when the program declares them. */
  public outbound?: OutboundInfo;
  /** Opens DynamoDB (see dynamoReady) once what it needs first is in moto. */
  private openDynamo!: (ready: Promise<void>) => void;
  /**
   * Settles once the tables exist in moto and the demo tenant's key is written: the endpoint
   * holds DynamoDB requests until then (in the order they arrive), so no function reads a table
   * before it exists, nor the demo key before it is there.
   */
  private readonly dynamoReady = new Promise<void>((resolve, reject) => {
    this.openDynamo = (ready) => ready.then(resolve, reject);
  });

  private constructor(private readonly opts: LocalOptions) {
    this.speed = opts.speed ?? 0.01;
    this.nextPort = opts.basePort ?? 0;
    // moto_server and the sample subscriber start before the program is evaluated; every other
    // service is built from the declared program, by loadServing, once their modules are loaded:
    // until then `services` holds only these two (stop() copes with that).
    this.services = {
      moto: new MotoService({
        persist: opts.persist,
        scope: opts.moto,
        stateDir: this.stateDir,
        log: (l) => this.log(l),
      }),
      subscriber: new SubscriberService(this),
    } as Services;
  }

  /** The modules of what the run serves (local/serving.ts), loaded by loadServing. */
  private modules!: typeof ServingModules;

  /**
   * Loads local/serving.ts and builds the services from it. Called while the program's functions
   * are bundled (loadProgram's `meanwhile`, once esbuild holds every entry): esbuild works in its
   * own process then, and this one would otherwise wait for it.
   */
  private loadServing(): void {
    const m = (this.modules = require("./serving") as typeof ServingModules);
    const opts = this.opts;
    Object.assign(this.services, {
      dynamodb: new m.DynamoDbService(this),
      sqs: new m.SqsService(this),
      sns: new m.SnsService(this),
      s3: new m.S3Service(this),
      secretsManager: new m.SecretsManagerService(this),
      eventBridge: new m.EventBridgeService(this),
      stepFunctions: new m.StepFunctionsService(this),
      lambda: new m.LambdaService(this),
      functionUrls: new m.FunctionUrlsService(this),
      restApis: new m.RestApisService(this),
      records: new m.RecordsApiService(this, {
        recordsEndpoint: opts.recordsEndpoint,
        clientTimeouts: opts.clientTimeouts,
      }),
    } satisfies Omit<Services, "moto" | "subscriber">);
  }

  static async start(opts: LocalOptions = {}): Promise<SwitchyardLocal> {
    const local = new SwitchyardLocal(opts);
    try {
      await local.boot();
    } catch (e) {
      // What started before the failure (moto_server, servers on their ports) must not outlive it.
      local.serving();
      await local.stop().catch(() => undefined);
      throw e;
    }
    // The apply to moto starts once the caller says so, else now that the run serves.
    (opts.applyAfter ?? Promise.resolve()).then(local.serving, local.serving);
    return local;
  }

  /** Lets the apply to moto begin (see boot). */
  private serving!: () => void;
  private readonly served = new Promise<void>((resolve) => (this.serving = resolve));

  // What tests, the demo and the bench read, by the names they have always had.
  get queues(): Map<string, QueueMessage[]> {
    return this.services.sqs.queues;
  }
  get topics(): Map<string, TopicMessage[]> {
    return this.services.sns.topics;
  }
  get secrets(): Map<string, string> {
    return this.services.secretsManager.secrets;
  }
  /**
   * Settles once the whole program is applied to moto (the tables exist before start resolves);
   * rejects with the RehearsalError naming the resource and the value moto rejected.
   */
  get applied(): Promise<unknown> {
    return this.services.moto.applied;
  }
  get firehose(): Map<string, string[]> {
    return this.services.eventBridge.firehose;
  }
  get bus(): LocalBus {
    return this.services.eventBridge.bus;
  }
  get lambdas(): LocalLambdas {
    return this.services.lambda.lambdas;
  }
  get sfn(): LocalStepFunctions {
    return this.services.stepFunctions.sfn;
  }
  get records(): RecordsStandIn | undefined {
    return this.services.records.standIn;
  }
  get streams(): LocalStreams {
    return this.services.dynamodb.streams;
  }
  get recordsUrl(): string {
    return this.services.records.url;
  }
  get functionUrls(): Record<string, string> {
    return this.services.functionUrls.urls;
  }
  get apiUrls(): Record<string, string> {
    return this.services.restApis.urls;
  }
  get restApis(): Record<string, LocalRestApi> {
    return this.services.restApis.apis;
  }

  log(line: string): void {
    this.logLines.push(line);
    this.print(line);
  }

  print(line: string): void {
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
  async onNextPort<T>(bind: (port: number) => Promise<T>): Promise<T> {
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
  async listen(
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

  of(type: string): Recorded[] {
    return this.program.resources.filter((r) => r.type === type);
  }

  private async boot(): Promise<void> {
    const stack = this.opts.stack ?? "dev";
    const s = this.services;
    // moto_server, the account the program is applied to; its Python process starts while the
    // program is evaluated.
    const moto = s.moto.start(stack);
    moto.catch(() => undefined);
    // The sample subscriber first: the local subscriptions to it are part of the program's config.
    await s.subscriber.start();
    const given = this.opts.configOverrides ?? {};
    const overrides = {
      ...given,
      ...s.subscriber.configOverrides({ ...readStackConfig(stack), ...given }),
    };
    this.program = await loadProgram(stack, overrides, { speed: this.speed }, () =>
      this.loadServing(),
    );
    s.subscriber.useProgramSecrets();
    // Each function's archive is read once, now (a few ms): its sandboxes and the apply to moto,
    // which zips it, then share what was read.
    await Promise.all([...this.program.archives.values()].map((a) => archiveEntries(a)));
    await moto;
    // The apply runs in the background once the run serves (its work, a few seconds of moto's and
    // some of this process's, must not delay the start): DynamoDB requests wait for the tables
    // (created first) and the demo tenant's key, what goes to moto for all of it. With --persist
    // the run waits for all of it (the recording is replayed after it).
    s.moto.apply(this, this.opts.persist ? Promise.resolve() : this.served);
    // Once stopping, moto is gone and the apply's failure says nothing.
    s.moto.applied.catch((e: Error) => this.stopping || this.log(`moto: ${e.message}`));
    s.moto.tables.then(
      () => {
        for (const t of this.of("aws:dynamodb/table:Table"))
          this.log(
            `table ${nameOf(t)} (${[t.inputs.hashKey, t.inputs.rangeKey].filter(Boolean).join(", ")})`,
          );
      },
      () => undefined,
    );
    this.dynamoReady.catch(() => undefined);
    if (this.opts.persist) await s.moto.applied;

    // Records API: the configured endpoint is served by the stand-in unless one is given.
    await s.records.start();

    s.secretsManager.build();
    s.eventBridge.collectConnections();
    s.sqs.build();
    s.sns.build();

    const endpoint = this.modules.createAwsEndpoint({
      moto: { url: s.moto.url, ready: s.moto.applied },
      dynamodbReady: this.dynamoReady,
      ...s.dynamodb.endpoint(),
      ...s.eventBridge.endpoint(),
      ...s.secretsManager.endpoint(),
      ...s.sns.endpoint(),
      ...s.sqs.endpoint(),
      ...s.stepFunctions.endpoint(),
      ...s.lambda.endpoint(),
      ...s.s3.endpoint(),
    });
    this.awsUrl = await this.listen(endpoint, "AWS endpoint", AWS_ENDPOINT_MAX_BODY_BYTES, "aws");

    s.lambda.build();
    s.sqs.buildPollers();
    s.eventBridge.build();
    s.stepFunctions.build();
    s.dynamodb.buildStreams(this);
    await s.functionUrls.serve();
    await s.restApis.serve();
    const control = new this.modules.ControlService(this, () => this.drain());
    this.controlUrl = await this.listen(
      http.createServer((req, res) => control.handle(req, res)),
      "control",
      SMALL_BODY_BYTES,
      "plain",
    );
    const consoleServer = new this.modules.ConsoleServer({
      stack,
      journal: s.eventBridge.journal,
      queues: [...s.sqs.queues.keys()],
      opsContext: async (print) =>
        (await import("../scripts/ops/context")).localOpsContext(
          stack,
          await this.stackOutputs(),
          this.awsUrl,
          this.controlUrl,
          print,
        ),
    });
    this.consoleUrl = await this.listen(
      http.createServer((req, res) => consoleServer.handle(req, res)),
      "console",
      this.modules.CONSOLE_MAX_BODY_BYTES,
      "plain",
    );
    await this.prepareFirstRun();
  }

  /** Reads the webhook receivers' secret sources and issues the demo tenant's key. */
  private async prepareFirstRun(): Promise<void> {
    const out = this.program.outputs as Record<string, unknown>;
    const target = await this.scenarioTarget();
    this.receivers = this.modules.webhookReceivers(
      target.webhooks,
      this.program.config,
      this.opts.configOverrides ?? {},
      this.program.generatedSecrets,
    );
    const tenant = this.modules.ingressTenant(this.program.config);
    const accessTable = out.tenantAccessTableName
      ? await resolveOutput<string>(out.tenantAccessTableName)
      : undefined;
    if (tenant && accessTable)
      this.demoTenant = this.modules.demoTenant(tenant, accessTable, target.busName);
    // The key item goes straight to moto, before DynamoDB opens (no stream reads the access table).
    const demo = this.demoTenant;
    const moto = this.services.moto;
    const keyWritten = moto.tables.then(() =>
      demo && !this.stopping ? this.modules.issueDemoTenantKey(moto.url, demo) : undefined,
    );
    moto.track(keyWritten);
    this.openDynamo(keyWritten);
    const dlqUrl = out.dlqUrl ? await resolveOutput<string>(out.dlqUrl) : undefined;
    this.inspect = {
      awsUrl: this.awsUrl,
      busName: target.busName,
      dlqName: dlqUrl?.split("/").pop(),
      tables: this.of("aws:dynamodb/table:Table").map(nameOf),
      stateMachineArns: [...this.sfn.definitions.keys()],
      demoTenant: this.demoTenant,
    };
    this.outbound = await this.outboundInfo(target.busName);
  }

  /** The sample subscriber and every outbound subscription the program declares. */
  private async outboundInfo(busName: string): Promise<OutboundInfo | undefined> {
    const out = this.program.outputs as Record<string, unknown>;
    if (!out.outboundAttemptTableName) return undefined;
    const cfg = this.program.config;
    const specs = JSON.parse(cfg[`${NAMESPACE}:outboundSubscriptions`] ?? "[]") as Array<{
      name: string;
      url: string;
    }>;
    const queueUrls = await resolveOutput<Record<string, string>>(out.outboundQueueUrls);
    const dlqUrls = await resolveOutput<Record<string, string>>(out.outboundDlqUrls);
    const schedule = cfg[`${NAMESPACE}:outboundRetrySchedule`];
    return {
      subscriberUrl: this.services.subscriber.url,
      awsUrl: this.awsUrl,
      controlUrl: this.controlUrl,
      busName,
      table: await resolveOutput<string>(out.outboundAttemptTableName),
      speed: this.speed,
      retryScheduleSeconds: schedule
        ? (JSON.parse(schedule) as number[])
        : [...DEFAULT_RETRY_SCHEDULE_SECONDS],
      subscriptions: specs.map((spec) => {
        const local = LOCAL_SUBSCRIPTIONS.find(
          (l) =>
            l.name === spec.name &&
            localSubscriptionUrl(l, this.services.subscriber.url) === spec.url,
        );
        const key = outboundSecretKey(spec.name);
        return {
          name: spec.name,
          url: spec.url,
          ...(local ? { about: local.about, detailType: local.detailType } : {}),
          secretKey: key,
          secretSource: cfg[`${NAMESPACE}:${key}`]
            ? this.modules.secretSource(
                key,
                this.opts.configOverrides ?? {},
                this.services.subscriber.generatedSecrets,
              )
            : "generated in the local Secrets Manager",
          queueUrl: this.toLocalQueueUrl(queueUrls[spec.name]),
          dlqName: String(dlqUrls[spec.name]).split("/").pop()!,
        };
      }),
    };
  }

  /** A queue URL the program declares, at the local endpoint (where the SDK must send). */
  toLocalQueueUrl(url: string): string {
    return `${this.awsUrl}/${ACCOUNT}/${url.split("/").pop()}`;
  }

  /** Serves an https endpoint of the records API from where it runs locally. */
  rewriteUrl(url: string): string {
    return this.services.records.rewriteUrl(url);
  }

  sqsSend(urlOrArn: string, body: string, attributes: QueueMessage["MessageAttributes"]): string {
    return this.services.sqs.send(urlOrArn, body, attributes);
  }

  snsPublish(a: Omit<TopicMessage, "MessageId">): string {
    return this.services.sns.publish(a);
  }

  s3Put(bucket: string, key: string, body: Buffer, contentType?: string): Promise<string> {
    return this.services.s3.put(bucket, key, body, contentType);
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
      await this.services.sqs.drain();
      await new Promise((r) => setTimeout(r, 30));
      quiet = this.logLines.length === before ? quiet + 1 : 0;
    }
  }

  /**
   * The stack's outputs as `pulumi stack output --json --show-secrets` prints them (the program's
   * exported values; the component objects it also exports are left out): what `npm run ops --
   * --local` reads from the endpoints file.
   */
  async stackOutputs(): Promise<Record<string, unknown>> {
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.program.outputs)) {
      if (pulumi.Resource.isInstance(v) || v === undefined) continue;
      out[k] = await resolveDeep(v);
    }
    return out;
  }

  /** The local URL that serves a URL the program declares (Function URL or API stage). */
  toLocalUrl(publicUrl: string): string {
    return (
      this.services.functionUrls.toLocalUrl(publicUrl) ??
      this.services.restApis.toLocalUrl(publicUrl) ??
      publicUrl
    );
  }

  /** What the demo and the end-to-end test need to drive this instance. */
  async scenarioTarget(): Promise<Target> {
    const out = this.program.outputs as Record<string, any>;
    const resolve = resolveOutput;
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
      pipeline: await this.modules.pipelineTarget(this),
      ...(this.outbound
        ? {
            outbound: {
              ...this.outbound,
              secrets: Object.fromEntries(
                this.outbound.subscriptions.map((s) => [
                  s.name,
                  this.program.config[`${NAMESPACE}:${s.secretKey}`],
                ]),
              ),
            },
          }
        : {}),
    };
  }

  /** A short readable list of what is served. */
  summary(): string {
    const s = this.services;
    const lines: string[] = [];
    lines.push(`Switchyard local — stack ${this.program.stack}`);
    lines.push(`  AWS endpoint (AWS_ENDPOINT_URL): ${this.awsUrl}`);
    lines.push(`  state (queues, notifications, executions): ${this.controlUrl}/state`);
    lines.push(...this.modules.consoleLines(this.consoleUrl));
    lines.push(
      `  records API: ${this.records ? `${this.recordsUrl} (built-in stand-in)` : this.recordsUrl}`,
    );
    lines.push(
      `  moto_server ${this.services.moto.url} (pid ${this.services.moto.server?.pid}${this.opts.persist ? `, recording to ${this.services.moto.recordingFile(this.program.stack)}` : ", in memory"}): the program applied by the deploy rehearsal${this.services.moto.report ? "" : " (in the background: reads wait for it)"}; DynamoDB tables, S3 objects, function log groups`,
    );
    for (const [n, u] of Object.entries(this.functionUrls)) lines.push(`  function URL ${n}: ${u}`);
    lines.push(...this.modules.webhookLines(this.receivers));
    if (this.outbound) lines.push(...this.modules.outboundLines(this.outbound));
    for (const [n, u] of Object.entries(this.apiUrls)) {
      lines.push(`  API ${n}: ${u}`);
      for (const [k, v] of Object.entries(this.restApis[n].apiKeys))
        lines.push(`    API key ${k}: ${v}`);
    }
    if (Object.keys(this.apiUrls).length) {
      lines.push(
        `  IAM-signed calls: sign with access key ${this.modules.LOCAL_CALLER_CREDENTIALS.accessKeyId} / ${this.modules.LOCAL_CALLER_CREDENTIALS.secretAccessKey} (stands for the caller role)`,
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
    for (const b of this.services.s3.bucketNames())
      lines.push(`  bucket ${b} (S3 in moto, via the AWS endpoint, path style)`);
    for (const f of this.lambdas.functions.values()) lines.push(`  function ${f.name}`);
    const generated = [...this.program.generatedSecrets, ...s.subscriber.generatedSecrets];
    if (generated.length) lines.push(`  secrets generated for this run: ${generated.join(", ")}`);
    lines.push(
      `  function logs: printed as [function request] lines; the latest per function at ${this.controlUrl}/logs/<function>`,
    );
    if (this.inspect) lines.push(...this.modules.inspectLines(this.inspect));
    return lines.join("\n");
  }

  /**
   * Stops everything this instance started, all at once: stops accepting connections, ends the
   * function processes, cuts the connections still open (keep-alive or mid-request), stops
   * moto_server. Calling it twice is safe.
   */
  stop(): Promise<void> {
    // A start that failed before the program was declared built only moto and the subscriber
    // (loadServing did not run).
    const built: Partial<Services> = this.services;
    this.stopping ??= (async () => {
      built.sqs?.stop();
      const closed = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const s of this.servers) s.closeIdleConnections();
      await Promise.all([
        this.services.moto.stop(),
        (async () => {
          // Requests waiting on a function are answered (502) once its process has ended.
          await built.lambda?.stop();
          for (const server of this.servers) server.closeAllConnections();
          await Promise.all(closed);
        })(),
        built.records?.stop(),
      ]);
      built.s3?.stop();
    })();
    return this.stopping;
  }
}
