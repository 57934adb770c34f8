// Runs the verification workflow's definition with aws-local-stepfunctions. The HTTP Tasks are
// answered by a scripted records API that behaves as Step Functions' HTTP Task does (2xx gives
// {StatusCode, StatusText, Headers, ResponseBody}; any other status fails the task with
// States.Http.StatusCode.<code> and the status text as cause), and sns:publish by a topic that
// checks what SNS checks. Waits and retry pauses are overridden to zero.
import { localStateMachine } from "../../local/stateMachines";
import { renderToJson } from "../../lib/inputTransformer";
import { matchesPattern } from "../../lib/eventPattern";
import { StateMachineDefinition } from "../../components/records/verificationDefinition";
import { InputTransformer } from "../../components/events/route";

export const API = "https://records.example.com";
export const CONNECTION_ARN =
  "arn:aws:events:eu-west-1:123456789012:connection/test-records-api/0000";
export const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:test-verify-outcomes";
/** Every execution has a name (StartExecution's `name`, else a UUID); its ARN ends with it. */
export const EXECUTION_NAME = "run-1";
export const EXECUTION_ID = `arn:aws:states:eu-west-1:123456789012:execution:test-verify:${EXECUTION_NAME}`;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  202: "Accepted",
  400: "Bad Request",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export interface Reply {
  status: number;
  body?: unknown;
}

export interface HttpCall {
  state: string;
  endpoint: string;
  method: string;
  connectionArn: string;
  headers: Record<string, string>;
  body: any;
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const accepted: Reply = { status: 202, body: { status: "accepted" } };
export const notYet: Reply = ok({ verified: false, anchoredOnChain: false });
export const anchored = (
  recordHash = "9f2c",
  proofUrl = "https://explorer.example/tx/0xabc",
): Reply => ok({ verified: true, anchoredOnChain: true, recordHash, proofUrl });

/** A records API rooted at `root` that answers each path from a script, then with its last entry. */
export class ScriptedRecordsApi {
  public readonly calls: HttpCall[] = [];
  constructor(
    private readonly script: Record<string, Reply[]>,
    private readonly root: string = API,
  ) {}

  handler(state: string) {
    return async (input: any) => {
      const call: HttpCall = {
        state,
        endpoint: input.ApiEndpoint,
        method: input.Method,
        connectionArn: input.Authentication?.ConnectionArn,
        headers: input.Headers,
        body: input.RequestBody,
      };
      this.calls.push(call);
      const endpoint = String(input.ApiEndpoint);
      const path = endpoint.startsWith(`${this.root}/`)
        ? endpoint.slice(this.root.length)
        : endpoint;
      const replies = this.script[path];
      if (!replies || replies.length === 0) {
        throw httpError(404, `no route ${path}`);
      }
      const reply = replies.length > 1 ? replies.shift()! : replies[0];
      const text = STATUS_TEXT[reply.status] ?? "Unknown";
      if (reply.status < 200 || reply.status > 299) throw httpError(reply.status, text);
      return {
        StatusCode: reply.status,
        StatusText: text,
        Headers: { "content-type": ["application/json"] },
        ResponseBody: reply.body ?? null,
      } as any;
    };
  }

  to(path: string): HttpCall[] {
    return this.calls.filter((c) => c.endpoint === `${this.root}${path}`);
  }
}

function httpError(status: number, cause: string): Error {
  const e = new Error(cause);
  e.name = `States.Http.StatusCode.${status}`;
  return e;
}

export interface Published {
  TopicArn: string;
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
}

/** An SNS topic that rejects what SNS rejects (InvalidParameter) and keeps what it accepts. */
export class RecordingTopic {
  public readonly published: Published[] = [];
  async publish(input: any): Promise<any> {
    const fail = (m: string) => {
      const e = new Error(m);
      e.name = "SNS.InvalidParameterException";
      return e;
    };
    if (typeof input.Message !== "string" || input.Message.length === 0)
      throw fail("Message must be a non-empty string");
    if (Buffer.byteLength(input.Message, "utf8") > 262144) throw fail("Message too long");
    if (
      input.Subject !== undefined &&
      (typeof input.Subject !== "string" ||
        input.Subject.length > 100 ||
        /[\r\n]/.test(input.Subject) ||
        !/^[\x20-\x7e]+$/.test(input.Subject))
    ) {
      throw fail("Subject must be ASCII text of at most 100 characters without line breaks");
    }
    for (const [k, v] of Object.entries<any>(input.MessageAttributes ?? {})) {
      if (v.DataType !== "String" || typeof v.StringValue !== "string" || v.StringValue === "") {
        throw fail(
          `The message attribute '${k}' must contain non-empty message attribute value for message attribute type 'String'`,
        );
      }
    }
    this.published.push(input);
    return { MessageId: `msg-${this.published.length}`, SdkHttpMetadata: { HttpStatusCode: 200 } };
  }
}

export interface Run {
  /** The output when the execution succeeded. */
  output?: any;
  /** Error and cause when it failed. */
  error?: { name: string; cause: string };
  /** Every state entered, in order. */
  path: string[];
  /** State name and attempt of each retry. */
  retries: Array<{ state: string; attempt: number }>;
  api: ScriptedRecordsApi;
  topic: RecordingTopic;
}

/** Executes `definition` with `input`, HTTP Tasks answered by `script` (paths under `apiRoot`). */
export async function execute(
  definition: StateMachineDefinition,
  input: unknown,
  script: Record<string, Reply[]>,
  apiRoot: string = API,
): Promise<Run> {
  const api = new ScriptedRecordsApi(script, apiRoot);
  const topic = new RecordingTopic();
  // Fully validated (paths and ARNs included) the first time this process runs the definition.
  const machine = localStateMachine(JSON.parse(JSON.stringify(definition)));
  const execution = machine.run(input as any, {
    overrides: {
      taskResourceLocalHandlers: {
        Ingest: api.handler("Ingest"),
        Verify: api.handler("Verify"),
        Notify: (i: any) => topic.publish(i),
      },
      waitTimeOverrides: { WaitForAnchoring: 0, WaitBeforeNextVerify: 0 },
      retryIntervalOverrides: { Ingest: 0, Verify: 0, Notify: 0 },
    },
    context: { Execution: { Id: EXECUTION_ID, Name: EXECUTION_NAME } },
  });
  const run: Run = { path: [], retries: [], api, topic };
  try {
    run.output = await execution.result;
  } catch (e: any) {
    // ExecutionError wraps the state's error as its cause.
    const inner = e.cause ?? e;
    run.error = { name: inner.name, cause: inner.message };
  }
  for await (const ev of execution.eventLogs) {
    if (ev.type === "StateEntered") run.path.push(ev.state.name);
    if (ev.type === "StateRetried")
      run.retries.push({ state: ev.state.name, attempt: ev.retry.attempt });
  }
  return run;
}

/** A record event as a publisher sends it to the hub. */
export function sampleEvent(detail: Record<string, unknown> = {}): Record<string, any> {
  return {
    version: "0",
    id: "0d0c5d7e-8f6b-4a3e-9d1c-3b1f2e4a5b6c",
    "detail-type": "RecordVerificationRequested",
    source: "switchyard.records",
    account: "123456789012",
    time: "2026-11-21T10:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail: {
      tenantId: "acme",
      database: "billing",
      collection: "invoices",
      recordId: "inv-42",
      recordVersion: 3,
      // Under 56 bytes as JSON: aws-local-stepfunctions 3.0.0 computes States.Hash's SHA-256 wrongly
      // from 56 bytes on (a padding bug), so exact idempotency keys are asserted on short payloads.
      payload: { total: 120, currency: "EUR" },
      ...detail,
    },
  };
}

/** The execution input EventBridge starts the workflow with: the route must match the event. */
export function routedInput(
  pattern: Record<string, unknown>,
  transformer: InputTransformer,
  event: object,
): any {
  if (!matchesPattern(pattern, event))
    throw new Error("the route's pattern does not match the event");
  return renderToJson(
    { inputPathsMap: transformer.inputPaths, inputTemplate: transformer.inputTemplate },
    event,
  );
}
