// Local Lambda: each declared function runs its own serialized __index.js in its own Node process
// (LambdaHost), with its declared environment and timeout, and AWS SDK calls sent to the local
// endpoint. Asynchronous invocations follow Lambda's rules ("Asynchronous invocation", Lambda
// developer guide): retried (maximumRetryAttempts of the function's event invoke config, default 2;
// 1 minute before the first retry, 2 before the second, scaled by --speed) while younger than
// maximumEventAgeInSeconds (default 6 hours), then their invocation record is sent to the
// on-failure destination and the event itself to the function's dead-letter queue, with Lambda's
// RequestID, ErrorCode and ErrorMessage attributes; a success goes to the on-success destination.
// Concurrency follows Lambda's execution environments: a sandbox (one process) runs one invocation
// at a time; concurrent invocations get sandboxes of their own, up to the function's reserved
// concurrency (a synchronous invoke past it is throttled with 429 TooManyRequestsException, an
// asynchronous one waits, as Lambda's internal queue does); an idle sandbox is reused, and stopped
// after a minute idle unless it is the last; a timeout or a crash discards only the sandbox that
// had it.
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import { FunctionLogRecord, LambdaHost, LambdaInvokeError, materialize } from "./artifacts";
import { AwsError } from "./awsEndpoint";
import * as pulumi from "@pulumi/pulumi";
import { LOCAL_CREDENTIALS } from "./credentials";

export interface LocalFunction {
  name: string;
  arn: string;
  archive: pulumi.Input<pulumi.asset.AssetArchive>;
  environment: Record<string, string>;
  timeoutSeconds: number;
  /** The function's reservedConcurrentExecutions, if declared: its most sandboxes at once. */
  reservedConcurrency?: number;
  /** From aws.lambda.FunctionEventInvokeConfig, if declared. */
  asyncConfig?: {
    maximumRetryAttempts: number;
    /** Default 21600 (6 hours), Lambda's. */
    maximumEventAgeInSeconds?: number;
    onFailure?: string;
    onSuccess?: string;
  };
  /** The function's deadLetterConfig.targetArn (an SQS queue or SNS topic), if declared. */
  deadLetterTarget?: string;
}

/** Lambda's defaults for asynchronous invocation without an event invoke config. */
export const ASYNC_DEFAULTS = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 };

/** Why an invocation record was sent: Lambda's `requestContext.condition`. */
export type AsyncCondition = "Success" | "RetriesExhausted" | "EventAgeExceeded";

/** The attributes Lambda puts on an event it sends to a function's dead-letter queue. */
export function deadLetterAttributes(
  requestId: string,
  error: { message: string },
): Record<string, { DataType: string; StringValue: string }> {
  return {
    RequestID: { DataType: "String", StringValue: requestId },
    // The HTTP status of the invoke: 200 for a function error, as Lambda reports it.
    ErrorCode: { DataType: "Number", StringValue: "200" },
    // The first 1 KB of the error message.
    ErrorMessage: {
      DataType: "String",
      StringValue: Buffer.from(error.message).subarray(0, 1024).toString("utf8"),
    },
  };
}

export interface LambdaDeps {
  endpointUrl: string;
  region: string;
  log(line: string): void;
  /** Sends an async invocation record to a destination ARN (function, queue, topic or bus). */
  sendToDestination(arn: string, record: unknown, success: boolean): Promise<void>;
  /** Sends a discarded event to a function's dead-letter queue (SQS queue or SNS topic). */
  sendToDeadLetter?(
    arn: string,
    event: unknown,
    attributes: ReturnType<typeof deadLetterAttributes>,
  ): Promise<void>;
  /** Scales Lambda's async retry delays (1 min, then 2 min). */
  asyncRetryDelayMs(attempt: number): number;
  /** An event's maximum age, in ms of this run (scaled like the retry delays). Default: unscaled. */
  eventAgeMs?(seconds: number): number;
  /**
   * Most sandboxes of a function without reserved concurrency (this machine's stand-in for the
   * account's concurrency); invocations past it wait for one. Default 32.
   */
  maxSandboxes?: number;
  /**
   * How long a sandbox may sit idle before it is stopped, as Lambda reclaims idle execution
   * environments; the last one of a function stays warm. Default 60000.
   */
  sandboxIdleMs?: number;
  /**
   * Each line a function's process writes, with the invocation it belongs to and the sandbox
   * (one id per process, as Lambda's log stream names an execution environment).
   */
  onLog?(functionName: string, record: FunctionLogRecord, sandbox: string): void;
}

/** The sandboxes of one function: idle ones to reuse, how many live, who waits for one. */
interface Pool {
  dir?: Promise<string>;
  idle: LambdaHost[];
  live: number;
  waiting: ((host: LambdaHost | undefined) => void)[];
}

const DEFAULT_MAX_SANDBOXES = 32;

/** An invocation that arrived after stop(): no sandbox serves it. */
export class LambdaStopped extends Error {
  /** Read by the stream and queue pollers, which stop retrying. */
  public readonly stopping = true;
  constructor(functionName: string) {
    super(`the local runtime is stopping: ${functionName} starts no new sandbox`);
    this.name = "ServiceException";
  }
}

/** The response payload of a failed invocation, as the Node.js runtime reports an error. */
export function errorPayload(e: LambdaInvokeError): {
  errorType: string;
  errorMessage: string;
  trace: string[];
} {
  return {
    errorType: e.name,
    errorMessage: e.message,
    trace: e.remoteStack ? e.remoteStack.split("\n") : [],
  };
}

export class LocalLambdas {
  private readonly pools = new Map<string, Pool>();
  private readonly hosts = new Set<LambdaHost>();
  private readonly idleTimers = new Map<LambdaHost, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Set by stop(): no sandbox starts after it. */
  private stopped = false;

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

  /** Live sandboxes (processes) of a function, idle or busy. */
  sandboxes(name: string): { live: number; idle: number } {
    const pool = this.pools.get(name);
    return { live: pool?.live ?? 0, idle: pool?.idle.length ?? 0 };
  }

  /** The folder a function's archive was materialized to, once a sandbox of it has started. */
  async folder(name: string): Promise<string | undefined> {
    return this.pools.get(name)?.dir?.catch(() => undefined);
  }

  private pool(fn: LocalFunction): Pool {
    let pool = this.pools.get(fn.name);
    if (!pool) {
      pool = { idle: [], live: 0, waiting: [] };
      this.pools.set(fn.name, pool);
    }
    return pool;
  }

  private limit(fn: LocalFunction): number {
    return fn.reservedConcurrency ?? this.deps.maxSandboxes ?? DEFAULT_MAX_SANDBOXES;
  }

  /** A new sandbox: the function's archive (written once) in a fresh process. */
  private async spawn(fn: LocalFunction, pool: Pool): Promise<LambdaHost> {
    if (this.stopped) throw new LambdaStopped(fn.name);
    if (!pool.dir) {
      pool.dir = materialize(fn.archive);
      pool.dir.catch(() => (pool.dir = undefined));
    }
    const sandbox = randomBytes(16).toString("hex");
    const host = await LambdaHost.start(await pool.dir, {
      functionName: fn.name,
      timeoutSeconds: fn.timeoutSeconds,
      ...(this.deps.onLog ? { onLog: (r) => this.deps.onLog!(fn.name, r, sandbox) } : {}),
      env: {
        ...fn.environment,
        AWS_ENDPOINT_URL: this.deps.endpointUrl,
        AWS_REGION: this.deps.region,
        AWS_DEFAULT_REGION: this.deps.region,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        SWITCHYARD_FUNCTION_ARN: fn.arn,
        POWERTOOLS_DEV: "false",
      },
    });
    if (this.stopped) {
      // stop() ran while this sandbox was starting: it must not outlive the run.
      await host.stop().catch(() => undefined);
      throw new LambdaStopped(fn.name);
    }
    this.hosts.add(host);
    return host;
  }

  /**
   * A sandbox for one invocation: an idle one, else a new one while the function is under its
   * limit, else (`throttle`) 429 as Lambda answers a synchronous invoke past reserved concurrency,
   * or a wait for the next sandbox to come free.
   */
  private async acquire(fn: LocalFunction, throttle: boolean): Promise<LambdaHost> {
    const pool = this.pool(fn);
    for (;;) {
      if (this.stopped) throw new LambdaStopped(fn.name);
      const idle = pool.idle.pop();
      if (idle) {
        clearTimeout(this.idleTimers.get(idle));
        this.idleTimers.delete(idle);
        if (idle.alive) return idle;
        // Its process died while idle (killed, crashed): discard it and look again.
        pool.live--;
        this.hosts.delete(idle);
        void idle.stop().catch(() => undefined);
        continue;
      }
      if (pool.live < this.limit(fn)) {
        pool.live++;
        try {
          return await this.spawn(fn, pool);
        } catch (e) {
          pool.live--;
          this.wakeOne(pool, undefined);
          throw e;
        }
      }
      if (throttle && fn.reservedConcurrency !== undefined)
        throw new AwsError("TooManyRequestsException", "Rate Exceeded.", 429, {
          Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
          Type: "User",
        });
      const handed = await new Promise<LambdaHost | undefined>((r) => pool.waiting.push(r));
      if (handed) return handed;
    }
  }

  /** Hands a sandbox to the next waiter, or (undefined: a place freed) lets it start one. */
  private wakeOne(pool: Pool, host: LambdaHost | undefined): boolean {
    const next = pool.waiting.shift();
    if (!next) return false;
    next(host);
    return true;
  }

  /** Returns a sandbox after an invocation; one that timed out or died is discarded. */
  private release(fn: LocalFunction, host: LambdaHost, broken: boolean): void {
    const pool = this.pool(fn);
    if (broken) {
      pool.live--;
      this.hosts.delete(host);
      void host.stop().catch(() => undefined);
      this.wakeOne(pool, undefined);
      return;
    }
    if (this.wakeOne(pool, host)) return;
    pool.idle.push(host);
    const timer = setTimeout(() => {
      this.idleTimers.delete(host);
      const i = pool.idle.indexOf(host);
      if (i < 0 || pool.live <= 1) return;
      pool.idle.splice(i, 1);
      pool.live--;
      this.hosts.delete(host);
      void host.stop().catch(() => undefined);
    }, this.deps.sandboxIdleMs ?? 60_000);
    timer.unref();
    this.idleTimers.set(host, timer);
  }

  /** One invocation in a sandbox of its own. */
  private async run(
    fn: LocalFunction,
    event: unknown,
    requestId: string,
    throttle: boolean,
  ): Promise<unknown> {
    const host = await this.acquire(fn, throttle);
    let broken = false;
    try {
      return await host.invoke(event, requestId);
    } catch (e) {
      // A timed-out sandbox is replaced, as Lambda does; so is one whose process died.
      broken = !(e instanceof LambdaInvokeError) || e.name === "Sandbox.Timedout";
      throw e;
    } finally {
      this.release(fn, host, broken);
    }
  }

  /**
   * Synchronous (RequestResponse) invocation: resolves with the result or rejects with the error;
   * past the function's reserved concurrency it rejects with a 429 TooManyRequestsException.
   */
  async invoke(nameOrArn: string, event: unknown, requestId = randomUUID()): Promise<unknown> {
    const fn = this.resolve(nameOrArn);
    return this.run(fn, event, requestId, true);
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
    const retries = fn.asyncConfig?.maximumRetryAttempts ?? ASYNC_DEFAULTS.maximumRetryAttempts;
    const maxAgeSeconds =
      fn.asyncConfig?.maximumEventAgeInSeconds ?? ASYNC_DEFAULTS.maximumEventAgeInSeconds;
    const maxAgeMs = this.deps.eventAgeMs?.(maxAgeSeconds) ?? maxAgeSeconds * 1000;
    const queued = Date.now();
    let lastError: LambdaInvokeError | undefined;
    let attempts = 0;
    let condition: AsyncCondition = "RetriesExhausted";
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        await new Promise((r) => setTimeout(r, this.deps.asyncRetryDelayMs(attempt - 1)));
        // An event older than the maximum age is discarded instead of retried.
        if (Date.now() - queued > maxAgeMs) {
          condition = "EventAgeExceeded";
          break;
        }
      }
      let result: unknown;
      attempts++;
      try {
        result = await this.run(fn, event, requestId, false);
      } catch (e) {
        if (e instanceof LambdaStopped) return;
        lastError =
          e instanceof LambdaInvokeError
            ? e
            : new LambdaInvokeError("Error", String((e as Error).message));
        this.deps.log(
          `  function ${fn.name} failed (async, attempt ${attempt + 1}/${retries + 1}): ${lastError.name}: ${lastError.message}`,
        );
        continue;
      }
      this.deps.log(`  function ${fn.name} ran (async, request ${requestId.slice(0, 8)})`);
      if (fn.asyncConfig?.onSuccess) {
        await this.destination(
          fn.asyncConfig.onSuccess,
          this.record(fn, event, requestId, attempts, "Success", result),
          true,
        );
      }
      return;
    }
    const record = this.record(fn, event, requestId, attempts, condition, errorPayload(lastError!));
    const why =
      condition === "EventAgeExceeded"
        ? `older than ${maxAgeSeconds} s after ${attempts} attempts`
        : `after ${attempts} attempts`;
    if (fn.asyncConfig?.onFailure) {
      this.deps.log(
        `  function ${fn.name} -> on-failure destination ${fn.asyncConfig.onFailure.split(":").slice(-1)[0]} (${why})`,
      );
      await this.destination(fn.asyncConfig.onFailure, record, false);
    }
    if (fn.deadLetterTarget && this.deps.sendToDeadLetter) {
      this.deps.log(
        `  function ${fn.name} -> dead-letter queue ${fn.deadLetterTarget.split(":").slice(-1)[0]} (${why})`,
      );
      try {
        await this.deps.sendToDeadLetter(
          fn.deadLetterTarget,
          event,
          deadLetterAttributes(requestId, lastError!),
        );
      } catch (e) {
        this.deps.log(
          `  dead-letter queue ${fn.deadLetterTarget} refused the event: ${(e as Error).message}`,
        );
      }
    }
    if (!fn.asyncConfig?.onFailure && !fn.deadLetterTarget) {
      this.deps.log(
        `  function ${fn.name} dropped async event ${why} (no on-failure destination or dead-letter queue)`,
      );
    }
  }

  /** Sends an invocation record; a destination that refuses it is logged, never retried as the function. */
  private async destination(arn: string, record: unknown, success: boolean): Promise<void> {
    try {
      await this.deps.sendToDestination(arn, record, success);
    } catch (e) {
      this.deps.log(`  destination ${arn} refused the invocation record: ${(e as Error).message}`);
    }
  }

  /** The invocation record Lambda sends to destinations ("Capturing records of Lambda asynchronous invocations"). */
  private record(
    fn: LocalFunction,
    event: unknown,
    requestId: string,
    count: number,
    condition: AsyncCondition,
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

  /**
   * Ends every sandbox, refuses new ones (an invocation after this rejects) and deletes each
   * function's materialized archive folder.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.hosts];
    const dirs = [...this.pools.values()].flatMap((p) => (p.dir ? [p.dir] : []));
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    this.hosts.clear();
    for (const pool of this.pools.values()) for (const w of pool.waiting.splice(0)) w(undefined);
    this.pools.clear();
    await Promise.all(all.map((h) => h.stop().catch(() => undefined)));
    for (const dir of await Promise.all(dirs.map((d) => d.catch(() => undefined))))
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
