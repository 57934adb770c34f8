// Lambda: each declared function's bundled archive in sandboxes of its own (local/lambdas.ts), with
// its declared environment pointed at what serves it here, its async invoke config and
// destinations; the endpoint's Invoke lands here.
import { arnFor, REGION } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { LocalFunction, LocalLambdas } from "../lambdas";
import type { FunctionLogRecord } from "../artifacts";
import { factOfLogRecord } from "../journalFacts";
import { FunctionLogs } from "../functionLogs";
import { nameOf, Runtime, unsecret } from "./context";
import { SANDBOX_HOSTS } from "../sampleSubscriber";

/** How many of a function's latest log lines are kept for the control port. */
export const KEPT_LOG_RECORDS = 500;

/** A function's log line as the terminal shows it: the function, the request, the line. */
export function formatLogRecord(functionName: string, r: FunctionLogRecord): string {
  // A record's own line breaks arrive as carriage returns (one line per record): shown as \n.
  const message = r.message.replace(/\r/g, "\\n");
  return `  [${functionName} ${r.requestId ? r.requestId.slice(0, 8) : "init"}] ${message}`;
}

export class LambdaService {
  public lambdas!: LocalLambdas;
  /** The functions' log streams in moto. */
  public cloudWatchLogs?: FunctionLogs;
  /** Each function's latest log lines (KEPT_LOG_RECORDS), by function name. */
  public readonly logs = new Map<string, FunctionLogRecord[]>();

  constructor(private readonly rt: Runtime) {}

  /**
   * A function's declared environment value, pointed at what serves it here: SQS queue URLs (the
   * SDK sends to a queue URL's own host) at the local endpoint, the records API at its stand-in.
   */
  private localEnvValue(v: string): string {
    return this.rt.services.records.rewriteUrl(
      v.split(`https://sqs.${REGION}.amazonaws.com/`).join(`${this.rt.awsUrl}/`),
    );
  }

  build(): void {
    const rt = this.rt;
    const fns = new Map<string, LocalFunction>();
    const invokeConfigs = rt.of("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    const logGroups = new Map<string, string>();
    for (const f of rt.of("aws:lambda/function:Function")) {
      const name = nameOf(f);
      const archive = rt.program.archives.get(f.name);
      if (!archive) continue;
      const arn = arnFor(f.type, f.name, f.inputs);
      logGroups.set(name, f.inputs.loggingConfig?.logGroup ?? `/aws/lambda/${name}`);
      const cfg = invokeConfigs.find(
        (c) => c.inputs.functionName === name || c.inputs.functionName === arn,
      );
      fns.set(name, {
        name,
        arn,
        archive,
        environment: {
          ...Object.fromEntries(
            Object.entries(unsecret(f.inputs.environment?.variables ?? {})).map(([k, v]) => [
              k,
              this.localEnvValue(String(v)),
            ]),
          ),
          // The sandboxes' hosts file (local/lambdaRunner.js), for the outbound address check.
          SWITCHYARD_SANDBOX_HOSTS: JSON.stringify(SANDBOX_HOSTS),
        },
        timeoutSeconds: f.inputs.timeout ?? 3,
        reservedConcurrency: f.inputs.reservedConcurrentExecutions,
        asyncConfig: cfg
          ? {
              maximumRetryAttempts: cfg.inputs.maximumRetryAttempts ?? 2,
              maximumEventAgeInSeconds: cfg.inputs.maximumEventAgeInSeconds,
              onFailure: cfg.inputs.destinationConfig?.onFailure?.destination,
              onSuccess: cfg.inputs.destinationConfig?.onSuccess?.destination,
            }
          : undefined,
        deadLetterTarget: f.inputs.deadLetterConfig?.targetArn,
      });
    }
    const cloudWatchLogs = new FunctionLogs({
      endpoint: rt.services.moto.url,
      region: REGION,
      ready: rt.services.moto.applied,
      groupOf: (fn) => logGroups.get(fn) ?? `/aws/lambda/${fn}`,
      warn: (l) => rt.log(l),
    });
    this.cloudWatchLogs = cloudWatchLogs;
    this.lambdas = new LocalLambdas(fns, {
      endpointUrl: rt.awsUrl,
      region: REGION,
      log: (l) => rt.log(l),
      asyncRetryDelayMs: (attempt) => (attempt === 0 ? 60_000 : 120_000) * rt.speed,
      eventAgeMs: (seconds) => seconds * 1000 * rt.speed,
      sendToDeadLetter: async (arn, event, attributes) => {
        const body = JSON.stringify(event);
        if (arn.split(":")[2] === "sns")
          rt.services.sns.publish({ TopicArn: arn, Message: body, MessageAttributes: attributes });
        else rt.services.sqs.send(arn, body, attributes);
      },
      onLog: (name, record, sandbox) => {
        cloudWatchLogs.add(name, record, sandbox);
        const kept = this.logs.get(name) ?? [];
        kept.push(record);
        if (kept.length > KEPT_LOG_RECORDS) kept.splice(0, kept.length - KEPT_LOG_RECORDS);
        this.logs.set(name, kept);
        rt.print(formatLogRecord(name, record));
        // An outbound attempt's outcome or an ingress refusal, as the function logged it.
        const fact = factOfLogRecord(record.message);
        if (fact) rt.services.eventBridge.journal.note(fact);
      },
      sendToDestination: async (arn, record, success) => {
        const service = arn.split(":")[2];
        if (service === "lambda") this.lambdas.invokeAsync(arn, record);
        else if (service === "sqs") rt.services.sqs.send(arn, JSON.stringify(record), {});
        else if (service === "sns")
          rt.services.sns.publish({
            TopicArn: arn,
            Message: JSON.stringify(record),
            MessageAttributes: {},
          });
        else if (service === "events") {
          rt.services.eventBridge.bus.putEvents([
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
        } else rt.log(`  destination ${arn} is not served locally`);
      },
    });
  }

  endpoint(): Pick<LocalServices, "invokeLambda"> {
    return {
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
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.cloudWatchLogs?.stop(), this.lambdas?.stop()]);
  }
}
