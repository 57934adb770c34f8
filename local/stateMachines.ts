// Local Step Functions: declared state machine definitions executed with aws-local-stepfunctions.
// Task states are performed for real: HTTP Tasks call the endpoint with the declared connection's
// API key (as Step Functions does), sns:publish, lambda:invoke and events:putEvents reach the local
// services. Wait states and retry intervals are scaled by the runtime's speed factor.
import "./polyfills";
import { randomUUID } from "crypto";

export interface LocalConnection {
  arn: string;
  apiKey?: { key: string; value: string };
}

export interface SfnDeps {
  connections: Map<string, LocalConnection>;
  /** Rewrites an HTTPS endpoint to where it is served locally (e.g. the records stand-in). */
  rewriteUrl(url: string): string;
  snsPublish(args: {
    TopicArn: string;
    Message: string;
    Subject?: string;
    MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  }): Promise<string>;
  invokeLambda(nameOrArn: string, payload: unknown): Promise<unknown>;
  putEvents(entries: any[]): Promise<unknown>;
  log(line: string): void;
  /** Told when an execution starts, enters a state, and ends. */
  onExecution?(exec: Execution, step: "started" | "state" | "ended", state?: string): void;
  /** Multiplies every wait and retry interval (1 = real time). */
  speed: number;
}

export interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  /** Epoch seconds, as the JSON protocol carries timestamps. */
  startDate: number;
  stopDate?: number;
  input: unknown;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  output?: unknown;
  error?: string;
  cause?: string;
  /** State names entered, in order. */
  path: string[];
  done: Promise<void>;
}

type States = Record<string, any>;

/** Every state of a definition, nested Parallel branches and Map processors included. */
export function allStates(def: { States: States }): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  for (const [name, s] of Object.entries(def.States)) {
    out.push([name, s]);
    for (const b of s.Branches ?? []) out.push(...allStates(b));
    if (s.ItemProcessor) out.push(...allStates(s.ItemProcessor));
    if (s.Iterator) out.push(...allStates(s.Iterator));
  }
  return out;
}

function statesError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Performs an HTTP Task as Step Functions does; non-2xx becomes States.Http.StatusCode.<code>. */
async function httpInvoke(p: any, deps: SfnDeps): Promise<unknown> {
  const conn = deps.connections.get(p.Authentication?.ConnectionArn);
  if (!conn)
    throw statesError(
      "States.Runtime",
      `HTTP Task: unknown connection ${p.Authentication?.ConnectionArn}`,
    );
  const url = new URL(deps.rewriteUrl(p.ApiEndpoint));
  for (const [k, v] of Object.entries<string>(p.QueryParameters ?? {}))
    url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...(p.Headers ?? {}),
  };
  if (conn.apiKey) headers[conn.apiKey.key] = conn.apiKey.value;
  let res: Response;
  try {
    res = await fetch(url, {
      method: p.Method,
      headers,
      body:
        p.RequestBody === undefined
          ? undefined
          : typeof p.RequestBody === "string"
            ? p.RequestBody
            : JSON.stringify(p.RequestBody),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    throw statesError("States.Http.Socket", (e as Error).message);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: kept as text, as Step Functions does */
  }
  const out = {
    StatusCode: res.status,
    StatusText: res.statusText,
    Headers: Object.fromEntries([...res.headers.entries()].map(([k, v]) => [k, [v]])),
    ResponseBody: body,
  };
  if (res.status < 200 || res.status > 299) {
    throw statesError(`States.Http.StatusCode.${res.status}`, JSON.stringify(out));
  }
  return out;
}

/** Definitions (with their validation options) validated in this process, as JSON. */
const validated = new Set<string>();

/** How many definitions this process has validated: once each, whatever its executions. */
export function definitionsValidated(): number {
  return validated.size;
}

/**
 * An aws-local-stepfunctions StateMachine of `definition`, validated the first time this process
 * runs it. Its constructor validates with asl-validator, which compiles its JSON schemas anew on
 * every call: 80-100 ms of CPU for each execution started, where the definition cannot have changed.
 * An invalid definition fails its first execution as before (and is validated again next time).
 */
export function localStateMachine(
  definition: unknown,
  validationOptions: { checkPaths?: boolean; checkArn?: boolean } = {},
): any {
  const { StateMachine } = require("aws-local-stepfunctions");
  const key = JSON.stringify([definition, validationOptions]);
  const machine = new StateMachine(definition, {
    validationOptions: { ...validationOptions, noValidate: validated.has(key) },
  });
  validated.add(key);
  return machine;
}

export class LocalStepFunctions {
  public readonly executions = new Map<string, Execution>();

  constructor(
    public readonly definitions: Map<string, { arn: string; name: string; definition: any }>,
    private readonly deps: SfnDeps,
  ) {}

  startExecution(stateMachineArn: string, input: unknown, name: string = randomUUID()): Execution {
    const sm = this.definitions.get(stateMachineArn);
    if (!sm)
      throw statesError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const handlers: Record<string, (input: any) => Promise<unknown>> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number | number[]> = {};
    for (const [stateName, s] of allStates(sm.definition)) {
      if (s.Type === "Wait") {
        const seconds = typeof s.Seconds === "number" ? s.Seconds : 1;
        waits[stateName] = Math.round(seconds * 1000 * this.deps.speed);
      }
      if (s.Retry) {
        retries[stateName] = s.Retry.map((r: any) =>
          Math.round((r.IntervalSeconds ?? 1) * 1000 * this.deps.speed),
        );
      }
      if (s.Type !== "Task") continue;
      handlers[stateName] = async (taskInput: any) => {
        const resource: string = s.Resource;
        this.deps.log(
          `  workflow ${sm.name} ${executionArn.split(":").pop()!.slice(0, 8)}: ${stateName}`,
        );
        if (resource === "arn:aws:states:::http:invoke") return httpInvoke(taskInput, this.deps);
        if (resource === "arn:aws:states:::sns:publish") {
          const attrs: Record<string, { DataType: string; StringValue?: string }> = {};
          for (const [k, v] of Object.entries<any>(taskInput.MessageAttributes ?? {}))
            attrs[k] = { DataType: v.DataType, StringValue: v.StringValue };
          const message =
            typeof taskInput.Message === "string"
              ? taskInput.Message
              : JSON.stringify(taskInput.Message);
          const id = await this.deps.snsPublish({
            TopicArn: taskInput.TopicArn,
            Message: message,
            Subject: taskInput.Subject,
            MessageAttributes: attrs,
          });
          return { MessageId: id };
        }
        if (resource === "arn:aws:states:::lambda:invoke") {
          const payload = await this.deps.invokeLambda(taskInput.FunctionName, taskInput.Payload);
          return { StatusCode: 200, Payload: payload };
        }
        if (resource.startsWith("arn:aws:lambda:"))
          return this.deps.invokeLambda(resource, taskInput);
        if (resource === "arn:aws:states:::events:putEvents")
          return this.deps.putEvents(taskInput.Entries);
        throw statesError(
          "States.Runtime",
          `The local runtime does not implement Task resource ${resource} (state ${stateName})`,
        );
      };
    }
    const machine = localStateMachine(sm.definition, { checkPaths: false, checkArn: false });
    const exec: Execution = {
      executionArn,
      stateMachineArn,
      name,
      startDate: Date.now() / 1000,
      input,
      status: "RUNNING",
      path: [],
      done: Promise.resolve(),
    };
    this.executions.set(executionArn, exec);
    this.deps.log(`  workflow ${sm.name} started execution ${name.slice(0, 8)}`);
    this.deps.onExecution?.(exec, "started");
    const run = machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: waits,
        retryIntervalOverrides: retries,
      },
      context: {
        Execution: {
          Id: executionArn,
          Input: input,
          Name: name,
          StartTime: new Date().toISOString(),
        },
        StateMachine: { Id: stateMachineArn, Name: sm.name },
      },
    });
    const logs = (async () => {
      for await (const ev of run.eventLogs as AsyncGenerator<any>) {
        if (ev.type === "StateEntered" && ev.state?.name) {
          exec.path.push(ev.state.name);
          this.deps.onExecution?.(exec, "state", ev.state.name);
        }
      }
    })().catch(() => undefined);
    exec.done = run.result.then(
      async (out: unknown) => {
        await logs;
        exec.status = "SUCCEEDED";
        exec.stopDate = Date.now() / 1000;
        exec.output = out;
        this.deps.log(
          `  workflow ${sm.name} ${name.slice(0, 8)} SUCCEEDED via ${exec.path.join(" > ")}`,
        );
        this.deps.onExecution?.(exec, "ended");
      },
      async (e: any) => {
        await logs;
        exec.status = "FAILED";
        exec.stopDate = Date.now() / 1000;
        exec.error = e?.name;
        exec.cause = e?.message;
        this.deps.log(`  workflow ${sm.name} ${name.slice(0, 8)} FAILED: ${e?.message}`);
        this.deps.onExecution?.(exec, "ended");
      },
    );
    return exec;
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.executions.values()].map((e) => e.done));
  }
}
