// Function logs in CloudWatch Logs (moto): each line a function's process writes goes to the
// function's log group (its declared loggingConfig.logGroup, else /aws/lambda/<function>), in one
// stream per sandbox named as Lambda names it (`YYYY/MM/DD/[$LATEST]<sandbox id>`), so that
// `aws logs tail <group>` through the AWS endpoint shows them. Lines are sent in batches, a few
// times a second, once the program is applied to moto (which creates the declared groups).
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { FunctionLogRecord } from "./artifacts";
import { LOCAL_CREDENTIALS } from "./credentials";

/** Loaded on the first line sent, not with the runtime. */
const sdk = () =>
  require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs");

/** How often buffered lines are sent. */
const FLUSH_MS = 200;
/** PutLogEvents' limits: 10,000 events, and 256 KB for one event's message. */
const MAX_BATCH = 10_000;
const MAX_MESSAGE_BYTES = 256 * 1024 - 26;

export interface FunctionLogsOptions {
  /** moto_server's URL. */
  endpoint: string;
  region: string;
  /** Settles once the program is applied to moto (the log groups exist). */
  ready: Promise<unknown>;
  /** The log group of a function. */
  groupOf(functionName: string): string;
  /** A line saying what could not be sent (never thrown: logs must not stop a function). */
  warn(line: string): void;
}

/** Lambda's stream name for a sandbox started on `date`. */
export function logStreamName(sandbox: string, date = new Date()): string {
  const d = date.toISOString().slice(0, 10).replace(/-/g, "/");
  return `${d}/[$LATEST]${sandbox}`;
}

interface Stream {
  group: string;
  name: string;
  created?: Promise<void>;
  pending: Array<{ timestamp: number; message: string }>;
}

export class FunctionLogs {
  private clientOnce?: CloudWatchLogsClient;
  private readonly streams = new Map<string, Stream>();
  private readonly groups = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private sending: Promise<void> = Promise.resolve();
  private warned = false;
  private stopped = false;

  constructor(private readonly opts: FunctionLogsOptions) {}

  private get client(): CloudWatchLogsClient {
    this.clientOnce ??= new (sdk().CloudWatchLogsClient)({
      endpoint: this.opts.endpoint,
      region: this.opts.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    });
    return this.clientOnce;
  }

  /** Buffers one line of a function's sandbox. */
  add(functionName: string, record: FunctionLogRecord, sandbox: string): void {
    const key = `${functionName}\n${sandbox}`;
    let s = this.streams.get(key);
    if (!s) {
      s = { group: this.opts.groupOf(functionName), name: logStreamName(sandbox), pending: [] };
      this.streams.set(key, s);
    }
    let message = record.message;
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES)
      message = Buffer.from(message).subarray(0, MAX_MESSAGE_BYTES).toString("utf8");
    s.pending.push({ timestamp: Date.parse(record.time) || Date.now(), message });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /** Sends what is buffered; resolves once it is in moto. */
  flush(): Promise<void> {
    this.sending = this.sending.then(() => this.send());
    return this.sending;
  }

  private group(name: string): Promise<void> {
    let made = this.groups.get(name);
    if (!made) {
      made = this.client.send(new (sdk().CreateLogGroupCommand)({ logGroupName: name })).then(
        () => undefined,
        (e) => {
          if (e.name !== "ResourceAlreadyExistsException") throw e;
        },
      );
      this.groups.set(name, made);
    }
    return made;
  }

  private async send(): Promise<void> {
    try {
      await this.opts.ready;
    } catch {
      return; // the apply failed: the run stops, and says why
    }
    for (const s of this.streams.values()) {
      // Once stopped, nothing more goes to moto_server (a test reuses it for the next run).
      if (this.stopped) return;
      if (s.pending.length === 0) continue;
      const events = s.pending.splice(0, MAX_BATCH);
      try {
        s.created ??= this.group(s.group).then(async () => {
          await this.client.send(
            new (sdk().CreateLogStreamCommand)({ logGroupName: s.group, logStreamName: s.name }),
          );
        });
        await s.created;
        await this.client.send(
          new (sdk().PutLogEventsCommand)({
            logGroupName: s.group,
            logStreamName: s.name,
            // CloudWatch takes a batch in time order.
            logEvents: events.sort((a, b) => a.timestamp - b.timestamp),
          }),
        );
      } catch (e) {
        s.created = undefined;
        if (!this.warned && !this.stopped)
          this.opts.warn(
            `function logs: could not write to ${s.group} in moto (${(e as Error).message}); the terminal and the state port keep them`,
          );
        this.warned = true;
      }
    }
  }

  /** Sends nothing more; resolves once the write under way (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sending.catch(() => undefined);
    this.clientOnce?.destroy();
  }
}
