// Local Lambda: each declared function runs its own serialized __index.js in its own Node process
// (LambdaHost), with its declared environment and timeout, and AWS SDK calls sent to the local
// endpoint. Asynchronous invocations follow Lambda's rules: retried (maximumRetryAttempts of the
// function's event invoke config, default 2) and then sent to the on-failure destination.
import { randomUUID } from "crypto";
import { LambdaHost, LambdaInvokeError, materialize } from "./artifacts";
import * as pulumi from "@pulumi/pulumi";

export interface LocalFunction {
  name: string;
  arn: string;
  archive: pulumi.Input<pulumi.asset.AssetArchive>;
  environment: Record<string, string>;
  timeoutSeconds: number;
  /** From aws.lambda.FunctionEventInvokeConfig, if declared. */
  asyncConfig?: { maximumRetryAttempts: number; onFailure?: string; onSuccess?: string };
}

export interface LambdaDeps {
  endpointUrl: string;
  region: string;
  log(line: string): void;
  /** Sends an async invocation record to a destination ARN (function, queue, topic or bus). */
  sendToDestination(arn: string, record: unknown, success: boolean): Promise<void>;
  /** Scales Lambda's async retry delays (1 min, then 2 min). */
  asyncRetryDelayMs(attempt: number): number;
}

export class LocalLambdas {
  private readonly hosts = new Map<string, Promise<LambdaHost>>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    public readonly functions: Map<string, LocalFunction>,
    private readonly deps: LambdaDeps,
  ) {}

  /** Finds a function by name or ARN (with or without qualifier). */
  resolve(nameOrArn: string): LocalFunction {
    const name = nameOrArn.startsWith("arn:") ? nameOrArn.split(":")[6] : nameOrArn.split(":")[0];
    const fn = this.functions.get(name);
    if (!fn) {
      const err = new LambdaInvokeError(
        "ResourceNotFoundException",
        `Function not found: ${nameOrArn}`,
      );
      throw err;
    }
    return fn;
  }

  private host(fn: LocalFunction): Promise<LambdaHost> {
    let h = this.hosts.get(fn.name);
    if (!h) {
      h = (async () => {
        const dir = await materialize(fn.archive);
        return LambdaHost.start(dir, {
          functionName: fn.name,
          timeoutSeconds: fn.timeoutSeconds,
          env: {
            ...fn.environment,
            AWS_ENDPOINT_URL: this.deps.endpointUrl,
            AWS_REGION: this.deps.region,
            AWS_DEFAULT_REGION: this.deps.region,
            AWS_ACCESS_KEY_ID: "local",
            AWS_SECRET_ACCESS_KEY: "local",
            SWITCHYARD_FUNCTION_ARN: fn.arn,
            POWERTOOLS_DEV: "false",
          },
        });
      })();
      h.catch(() => this.hosts.delete(fn.name));
      this.hosts.set(fn.name, h);
    }
    return h;
  }

  /** Synchronous (RequestResponse) invocation: resolves with the result or rejects with the error. */
  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const fn = this.resolve(nameOrArn);
    const host = await this.host(fn);
    return host.invoke(event, randomUUID());
  }

  /** Asynchronous (Event) invocation: accepted at once, retried and routed like Lambda does. */
  invokeAsync(nameOrArn: string, event: unknown): string {
    const fn = this.resolve(nameOrArn);
    const requestId = randomUUID();
    const p = this.runAsync(fn, event, requestId).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return requestId;
  }

  private async runAsync(fn: LocalFunction, event: unknown, requestId: string): Promise<void> {
    const retries = fn.asyncConfig?.maximumRetryAttempts ?? 2;
    let lastError: LambdaInvokeError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const host = await this.host(fn);
        const result = await host.invoke(event, requestId);
        this.deps.log(`  function ${fn.name} ran (async, request ${requestId.slice(0, 8)})`);
        if (fn.asyncConfig?.onSuccess) {
          await this.deps.sendToDestination(
            fn.asyncConfig.onSuccess,
            this.record(fn, event, requestId, attempt + 1, "Success", result),
            true,
          );
        }
        return;
      } catch (e) {
        lastError =
          e instanceof LambdaInvokeError
            ? e
            : new LambdaInvokeError("Error", String((e as Error).message));
        this.deps.log(
          `  function ${fn.name} failed (async, attempt ${attempt + 1}/${retries + 1}): ${lastError.name}: ${lastError.message}`,
        );
        if (attempt < retries)
          await new Promise((r) => setTimeout(r, this.deps.asyncRetryDelayMs(attempt)));
      }
    }
    const record = this.record(fn, event, requestId, retries + 1, "RetriesExhausted", {
      errorType: lastError!.name,
      errorMessage: lastError!.message,
    });
    if (fn.asyncConfig?.onFailure) {
      this.deps.log(
        `  function ${fn.name} -> on-failure destination ${fn.asyncConfig.onFailure.split(":").slice(-1)[0]}`,
      );
      await this.deps.sendToDestination(fn.asyncConfig.onFailure, record, false);
    } else {
      this.deps.log(
        `  function ${fn.name} dropped async event after ${retries + 1} attempts (no on-failure destination)`,
      );
    }
  }

  /** The invocation record Lambda sends to destinations. */
  private record(
    fn: LocalFunction,
    event: unknown,
    requestId: string,
    count: number,
    condition: string,
    response: unknown,
  ) {
    const failed = condition !== "Success";
    return {
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: `${fn.arn}:$LATEST`,
        condition,
        approximateInvokeCount: count,
      },
      requestPayload: event,
      responseContext: {
        statusCode: 200,
        executedVersion: "$LATEST",
        ...(failed ? { functionError: "Unhandled" } : {}),
      },
      responsePayload: response,
    };
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  async stop(): Promise<void> {
    for (const h of this.hosts.values()) await h.then((x) => x.stop()).catch(() => undefined);
    this.hosts.clear();
  }
}
