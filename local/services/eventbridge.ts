// EventBridge: the declared buses, rules and targets (local/bus.ts), archives and replays, the
// connections and API destinations a target calls, and the delivery to each kind of target.
import { ACCOUNT, arnFor, connectionSecretArn, REGION, Recorded } from "../mocks";
import type { LocalServices } from "../awsEndpoint";
import {
  BusDeps,
  BusEvent,
  busNameOf,
  DeliveryError,
  LocalBus,
  LocalRule,
  LocalTarget,
} from "../bus";
import { AwsError } from "../awsEndpoint";
import { EventJournal } from "../journal";
import type { LocalConnection } from "../stateMachines";
import { nameOf, Runtime, unsecret } from "./context";

/** The bus EventBridge limits entries to (256 KB). */
const MAX_ENTRY_BYTES = 262144;

/**
 * The buses, rules and targets a program declares, as the local bus holds them: the twin's bus and
 * `npm run ops -- match` (which evaluates the program without serving it) are built from this.
 */
export function declaredBus(
  resources: Recorded[],
  deps: Omit<BusDeps, "account" | "region" | "maxEntryBytes">,
): LocalBus {
  const of = (type: string) => resources.filter((r) => r.type === type);
  const rules: LocalRule[] = of("aws:cloudwatch/eventRule:EventRule").map((r) => ({
    name: nameOf(r),
    arn: arnFor(r.type, r.name, r.inputs),
    busName: r.inputs.eventBusName ?? "default",
    pattern: JSON.parse(r.inputs.eventPattern),
    enabled: (r.inputs.state ?? "ENABLED") === "ENABLED",
  }));
  const targets: LocalTarget[] = of("aws:cloudwatch/eventTarget:EventTarget").map((t) => ({
    ruleName: t.inputs.rule,
    busName: t.inputs.eventBusName ?? "default",
    id: t.inputs.targetId ?? t.name,
    arn: t.inputs.arn,
    inputTransformer: t.inputs.inputTransformer,
    input: t.inputs.input,
    inputPath: t.inputs.inputPath,
    retryPolicy: {
      maximumRetryAttempts: 185,
      maximumEventAgeInSeconds: 86400,
      ...(t.inputs.retryPolicy ?? {}),
    },
    deadLetterArn: t.inputs.deadLetterConfig?.arn,
    headerParameters: t.inputs.httpTarget?.headerParameters,
  }));
  const busNames = ["default", ...of("aws:cloudwatch/eventBus:EventBus").map(nameOf)];
  return new LocalBus(
    rules,
    targets,
    { account: ACCOUNT, region: REGION, maxEntryBytes: MAX_ENTRY_BYTES, ...deps },
    busNames,
  );
}

export class EventBridgeService {
  public bus!: LocalBus;
  /** Each event put on a bus and each target's outcome (the control port's /journal). */
  public readonly journal = new EventJournal();
  public readonly connections = new Map<string, LocalConnection>();
  /** What Firehose delivery streams received, by ARN (kept in memory). */
  public readonly firehose = new Map<string, string[]>();
  private readonly destinations = new Map<
    string,
    { endpoint: string; method: string; connectionArn: string; rate: number; next: number }
  >();

  constructor(private readonly rt: Runtime) {}

  /** Connections and API destinations, read before the functions and workflows that use them. */
  collectConnections(): void {
    for (const c of this.rt.of("aws:cloudwatch/eventConnection:EventConnection")) {
      const arn = arnFor(c.type, c.name, c.inputs);
      const auth = unsecret(c.inputs.authParameters);
      const apiKey = auth?.apiKey ? { key: auth.apiKey.key, value: auth.apiKey.value } : undefined;
      this.connections.set(arn, { arn, apiKey });
    }
    for (const d of this.rt.of("aws:cloudwatch/eventApiDestination:EventApiDestination")) {
      this.destinations.set(arnFor(d.type, d.name, d.inputs), {
        endpoint: d.inputs.invocationEndpoint,
        method: d.inputs.httpMethod,
        connectionArn: d.inputs.connectionArn,
        rate: d.inputs.invocationRateLimitPerSecond ?? 300,
        next: 0,
      });
    }
  }

  build(): void {
    const rt = this.rt;
    this.bus = declaredBus(rt.program.resources, {
      journal: this.journal,
      log: (l) => rt.log(l),
      retryDelayMs: (attempt) => Math.min(1000 * 2 ** attempt, 60_000) * rt.speed,
      deadLetter: async (queueArn, body, attributes) => {
        rt.services.sqs.send(
          queueArn,
          body,
          Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
          ),
        );
      },
      deliver: (target, input, event) => this.deliver(target, input, event),
    });
  }

  private async deliver(t: LocalTarget, input: string, event: BusEvent): Promise<void> {
    const { sqs, sns, lambda, stepFunctions } = this.rt.services;
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
        lambda.lambdas.invokeAsync(t.arn, json());
        return;
      }
      if (service === "sqs") return void sqs.send(t.arn, input, {});
      if (service === "sns")
        return void sns.publish({ TopicArn: t.arn, Message: input, MessageAttributes: {} });
      if (service === "states") return void stepFunctions.sfn.startExecution(t.arn, json());
      if (service === "firehose") {
        const list = this.firehose.get(t.arn) ?? [];
        list.push(input);
        this.firehose.set(t.arn, list);
        return;
      }
      if (service === "logs")
        return void this.rt.log(
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
      res = await fetch(this.rt.services.records.rewriteUrl(d.endpoint), {
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

  /** The archives a replay may name, by archive name: the bus each one records. */
  private archives(): Map<string, string> {
    return new Map(
      this.rt
        .of("aws:cloudwatch/eventArchive:EventArchive")
        .map((a) => [nameOf(a), String(a.inputs.eventSourceArn).split("/").pop()!]),
    );
  }

  /** ListTargetsByRule: a rule's targets as EventBridge describes them. */
  listTargetsByRule(request: Record<string, unknown>) {
    const bus = busNameOf(request.EventBusName);
    const name = String(request.Rule ?? "");
    const rule = this.bus.rules.find((r) => r.name === name && busNameOf(r.busName) === bus);
    if (!rule)
      throw new AwsError(
        "ResourceNotFoundException",
        `Rule ${name} does not exist on EventBus ${bus}.`,
      );
    return {
      Targets: this.bus.targets
        .filter((t) => t.ruleName === rule.name && busNameOf(t.busName) === bus)
        .map((t) => ({
          Id: t.id,
          Arn: t.arn,
          ...(t.input !== undefined ? { Input: t.input } : {}),
          ...(t.inputPath !== undefined ? { InputPath: t.inputPath } : {}),
          ...(t.inputTransformer
            ? {
                InputTransformer: {
                  ...(t.inputTransformer.inputPaths
                    ? { InputPathsMap: t.inputTransformer.inputPaths }
                    : {}),
                  InputTemplate: t.inputTransformer.inputTemplate,
                },
              }
            : {}),
          RetryPolicy: {
            MaximumRetryAttempts: t.retryPolicy.maximumRetryAttempts,
            MaximumEventAgeInSeconds: t.retryPolicy.maximumEventAgeInSeconds,
          },
          ...(t.deadLetterArn ? { DeadLetterConfig: { Arn: t.deadLetterArn } } : {}),
          ...(t.headerParameters
            ? { HttpParameters: { HeaderParameters: t.headerParameters } }
            : {}),
        })),
    };
  }

  /**
   * DescribeApiDestination. InvocationEndpoint is where the endpoint is served locally (the records
   * API's stand-in, or --records-endpoint), so a caller on this machine can call it.
   */
  describeApiDestination(request: Record<string, unknown>) {
    const name = String(request.Name ?? "");
    // Named as EventBridge names it: the name between `api-destination/` and the id.
    const found = [...this.destinations].find(([arn]) => arn.split("/")[1] === name);
    if (!found)
      throw new AwsError(
        "ResourceNotFoundException",
        `Failed to describe the api-destination(s). An api-destination '${name}' does not exist.`,
      );
    const [arn, d] = found;
    return {
      ApiDestinationArn: arn,
      Name: name,
      ApiDestinationState: "ACTIVE",
      ConnectionArn: d.connectionArn,
      InvocationEndpoint: this.rt.services.records.rewriteUrl(d.endpoint),
      HttpMethod: d.method,
      InvocationRateLimitPerSecond: d.rate,
    };
  }

  /** DescribeConnection: its authorization type, API key name and the secret EventBridge keeps. */
  describeConnection(request: Record<string, unknown>) {
    const name = String(request.Name ?? "");
    const found = [...this.connections.values()].find((c) => c.arn.split("/")[1] === name);
    if (!found)
      throw new AwsError(
        "ResourceNotFoundException",
        `Failed to describe the connection(s). Connection '${name}' does not exist.`,
      );
    return {
      ConnectionArn: found.arn,
      Name: name,
      ConnectionState: "AUTHORIZED",
      SecretArn: connectionSecretArn(name),
      ...(found.apiKey
        ? {
            AuthorizationType: "API_KEY",
            AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: found.apiKey.key } },
          }
        : {}),
    };
  }

  endpoint(): Pick<
    LocalServices,
    | "putEvents"
    | "startReplay"
    | "describeReplay"
    | "listTargetsByRule"
    | "describeApiDestination"
    | "describeConnection"
  > {
    return {
      putEvents: async (entries) => this.bus.putEvents(entries),
      startReplay: async (request) => this.bus.startReplay(request, this.archives()),
      describeReplay: async (request) => this.bus.describeReplay(request),
      listTargetsByRule: async (request) => this.listTargetsByRule(request),
      describeApiDestination: async (request) => this.describeApiDestination(request),
      describeConnection: async (request) => this.describeConnection(request),
    };
  }
}
