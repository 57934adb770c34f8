// SQS: each declared queue is a list of the messages sent to it (the hub's DLQ, destinations,
// subscriptions); the endpoint's SendMessage and SendMessageBatch land here, and the declared
// event source mappings of queues (local/queuePollers.ts) feed their functions from them.
// Visibility timeouts a function sets (ChangeMessageVisibility: the outbound dispatcher's retry
// schedule) are scaled by --speed; a client's ReceiveMessage keeps the seconds it asks for.
import { createHash, randomBytes, randomUUID } from "crypto";
import { AwsError, LocalServices, md5OfAttributes } from "../awsEndpoint";
import { REGION } from "../mocks";
import { LocalQueuePollers } from "../queuePollers";
import { eventOfMessage } from "../journalFacts";
import { nameOf, Runtime } from "./context";

export interface QueueMessage {
  MessageId: string;
  Body: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  SentTimestamp: number;
}

/** What receiving did to a message: SQS's receive count and visibility. */
interface Received {
  count: number;
  firstReceived: number;
  invisibleUntil: number;
  /** Hidden by a poller's receive, and not changed since by the function. */
  byPoller?: boolean;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

export class SqsService {
  public readonly queues = new Map<string, QueueMessage[]>();
  private readonly received = new WeakMap<QueueMessage, Received>();
  private readonly receipts = new Map<string, { queue: string; message: QueueMessage }>();
  /** The event source mappings of queues, once built. */
  public pollers?: LocalQueuePollers;

  constructor(private readonly rt: Runtime) {}

  build(): void {
    for (const q of this.rt.of("aws:sqs/queue:Queue")) this.queues.set(nameOf(q), []);
  }

  /** The event source mappings of queues; once the functions are built. */
  buildPollers(): void {
    const rt = this.rt;
    const mappings = rt
      .of("aws:lambda/eventSourceMapping:EventSourceMapping")
      .filter((m) => String(m.inputs.eventSourceArn).includes(":sqs:"))
      .map((m) => ({
        uuid: m.name,
        queueArn: String(m.inputs.eventSourceArn),
        queueName: String(m.inputs.eventSourceArn).split(":")[5],
        functionName: String(m.inputs.functionName),
        batchSize: m.inputs.batchSize ?? 10,
        reportBatchItemFailures: (m.inputs.functionResponseTypes ?? []).includes(
          "ReportBatchItemFailures",
        ),
      }))
      .filter((m) => this.queues.has(m.queueName));
    this.pollers = new LocalQueuePollers(mappings, {
      region: REGION,
      receive: (queue, max) =>
        (this.receive({ QueueUrl: queue, MaxNumberOfMessages: max, AttributeNames: ["All"] }, true)
          .Messages ?? []) as never,
      delete: (queue, handle) => this.delete({ QueueUrl: queue, ReceiptHandle: handle }),
      release: (queue, handle) => {
        const receipt = this.receipts.get(handle);
        const state = receipt && this.received.get(receipt.message);
        if (state?.byPoller)
          state.invisibleUntil = Date.now() + this.visibilitySeconds(queue) * 1000 * rt.speed;
      },
      hasVisible: (queue) => {
        const now = Date.now();
        return (this.queues.get(queue) ?? []).some(
          (m) => (this.received.get(m)?.invisibleUntil ?? 0) <= now,
        );
      },
      invoke: (fn, event) => rt.services.lambda.lambdas.invoke(fn, event),
      log: (l) => rt.log(l),
    });
  }

  /** A queue's declared visibility timeout (SQS's default: 30 s). */
  private visibilitySeconds(name: string): number {
    const declared = this.rt.of("aws:sqs/queue:Queue").find((q) => nameOf(q) === name);
    return Number(declared?.inputs.visibilityTimeoutSeconds ?? 30);
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

  /** Sends a message to a queue named by URL or ARN; returns its MessageId. */
  send(urlOrArn: string, body: string, attributes: QueueMessage["MessageAttributes"]): string {
    const name = this.queueName(urlOrArn);
    const id = randomUUID();
    this.queues.get(name)!.push({
      MessageId: id,
      Body: body,
      MessageAttributes: attributes,
      SentTimestamp: Date.now(),
    });
    this.rt.log(`  queue ${name}: message ${id.slice(0, 8)}`);
    this.pollers?.notify(name);
    const a = (k: string) => attributes?.[k]?.StringValue;
    this.noteDepth(name, "sent", id, body, {
      ...(a("RULE_ARN") || a("TARGET_ARN")
        ? {
            deadLetter: {
              ruleArn: a("RULE_ARN"),
              targetArn: a("TARGET_ARN"),
              errorCode: a("ERROR_CODE"),
              errorMessage: a("ERROR_MESSAGE"),
            },
          }
        : {}),
    });
    return id;
  }

  /** The queue's depth in the journal, after a message came or went. */
  private noteDepth(
    queue: string,
    change: "sent" | "deleted",
    messageId: string,
    body: string,
    more: { deadLetter?: Record<string, string | undefined> } = {},
  ): void {
    this.rt.services.eventBridge.journal.note({
      kind: "queue",
      queue,
      change,
      messageId,
      depth: this.queues.get(queue)!.length,
      ...eventOfMessage(body),
      ...more,
    });
  }

  /**
   * ReceiveMessage: up to MaxNumberOfMessages (1-10) visible messages, each hidden for the
   * VisibilityTimeout (default the queue's, 30 s) until deleted; answers at once (no long polling).
   */
  receive(request: Record<string, unknown>, byPoller = false) {
    const name = this.queueName(request.QueueUrl as string);
    const max = request.MaxNumberOfMessages === undefined ? 1 : Number(request.MaxNumberOfMessages);
    if (!Number.isInteger(max) || max < 1 || max > 10)
      throw new AwsError(
        "InvalidParameterValue",
        `Value ${String(request.MaxNumberOfMessages)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    const visibility =
      request.VisibilityTimeout === undefined
        ? this.visibilitySeconds(name)
        : Number(request.VisibilityTimeout);
    if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43200)
      throw new AwsError(
        "InvalidParameterValue",
        `Value ${String(request.VisibilityTimeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
    const system = [...list(request.AttributeNames), ...list(request.MessageSystemAttributeNames)];
    const wanted = list(request.MessageAttributeNames);
    const wants = (attr: string) =>
      wanted.some(
        (w) =>
          w === "All" ||
          w === ".*" ||
          w === attr ||
          (w.endsWith(".*") && attr.startsWith(w.slice(0, -1))),
      );
    const now = Date.now();
    const messages = [];
    for (const m of this.queues.get(name)!) {
      if (messages.length >= max) break;
      const state = this.received.get(m) ?? { count: 0, firstReceived: now, invisibleUntil: 0 };
      if (state.invisibleUntil > now) continue;
      state.count++;
      state.invisibleUntil = now + visibility * 1000;
      state.byPoller = byPoller;
      this.received.set(m, state);
      const handle = randomBytes(48).toString("base64");
      this.receipts.set(handle, { queue: name, message: m });
      const attrs: Record<string, string> = {
        SenderId: "AIDASWITCHYARDLOCAL",
        SentTimestamp: String(m.SentTimestamp),
        ApproximateReceiveCount: String(state.count),
        ApproximateFirstReceiveTimestamp: String(state.firstReceived),
      };
      const pickedAttrs = Object.fromEntries(
        Object.entries(attrs).filter(([k]) => system.includes("All") || system.includes(k)),
      );
      const messageAttrs = Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).filter(([k]) => wants(k)),
      );
      messages.push({
        MessageId: m.MessageId,
        ReceiptHandle: handle,
        MD5OfBody: md5(m.Body),
        Body: m.Body,
        ...(Object.keys(pickedAttrs).length ? { Attributes: pickedAttrs } : {}),
        ...(Object.keys(messageAttrs).length
          ? {
              MD5OfMessageAttributes: md5OfAttributes(messageAttrs),
              MessageAttributes: messageAttrs,
            }
          : {}),
      });
    }
    return messages.length ? { Messages: messages } : {};
  }

  /** DeleteMessage: removes a received message by its receipt handle. */
  delete(request: Record<string, unknown>) {
    const name = this.queueName(request.QueueUrl as string);
    const handle = receiptHandleOf(request);
    const receipt = this.receipts.get(handle);
    if (!receipt || receipt.queue !== name)
      throw new AwsError(
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    this.receipts.delete(handle);
    const list = this.queues.get(name)!;
    const i = list.indexOf(receipt.message);
    if (i >= 0) {
      list.splice(i, 1);
      this.noteDepth(name, "deleted", receipt.message.MessageId, receipt.message.Body);
    }
    return {};
  }

  /**
   * ChangeMessageVisibility: a received message hidden for VisibilityTimeout (0-43200) seconds
   * from now, scaled by --speed (a retry schedule's waits; 0 makes it visible at once).
   */
  changeVisibility(request: Record<string, unknown>) {
    const name = this.queueName(request.QueueUrl as string);
    const handle = receiptHandleOf(request);
    const seconds = Number(request.VisibilityTimeout);
    if (
      request.VisibilityTimeout === undefined ||
      !Number.isInteger(seconds) ||
      seconds < 0 ||
      seconds > 43200
    )
      throw new AwsError(
        "InvalidParameterValue",
        `Value ${String(request.VisibilityTimeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    const receipt = this.receipts.get(handle);
    if (!receipt || receipt.queue !== name)
      throw new AwsError(
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    const state = this.received.get(receipt.message);
    if (!state || !this.queues.get(name)!.includes(receipt.message))
      throw new AwsError(
        "AWS.SimpleQueueService.MessageNotInflight",
        "Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
      );
    state.invisibleUntil = Date.now() + seconds * 1000 * this.rt.speed;
    state.byPoller = false;
    this.rt.log(
      `  queue ${name}: message ${receipt.message.MessageId.slice(0, 8)} hidden ${seconds} s (${Math.round(seconds * 1000 * this.rt.speed)} ms at this speed)`,
    );
    if (seconds === 0) this.pollers?.notify(name);
    return {};
  }

  /**
   * A queue's message counts, as GetQueueAttributes reports them: the messages are the engine's,
   * so moto's answer (the queue's declared attributes) gets these. Undefined for a queue the engine
   * does not hold.
   */
  counts(queueUrl: string): Record<string, string> | undefined {
    const name = typeof queueUrl === "string" ? queueUrl.split("/").pop()! : "";
    const messages = this.queues.get(name);
    if (!messages) return undefined;
    const now = Date.now();
    const hidden = messages.filter((m) => (this.received.get(m)?.invisibleUntil ?? 0) > now).length;
    return {
      ApproximateNumberOfMessages: String(messages.length - hidden),
      ApproximateNumberOfMessagesNotVisible: String(hidden),
      ApproximateNumberOfMessagesDelayed: "0",
    };
  }

  endpoint(): Pick<
    LocalServices,
    | "sqsSendMessage"
    | "sqsReceiveMessage"
    | "sqsDeleteMessage"
    | "sqsChangeMessageVisibility"
    | "sqsMessageCounts"
  > {
    return {
      sqsMessageCounts: (queueUrl) => this.counts(queueUrl),
      sqsSendMessage: async (a) => this.send(a.QueueUrl, a.MessageBody, a.MessageAttributes ?? {}),
      sqsReceiveMessage: async (request) => this.receive(request),
      sqsDeleteMessage: async (request) => this.delete(request),
      sqsChangeMessageVisibility: async (request) => this.changeVisibility(request),
    };
  }

  /** Waits for the batches the pollers are processing now. */
  drain(): Promise<void> {
    return this.pollers?.drain() ?? Promise.resolve();
  }

  stop(): void {
    this.pollers?.stop();
  }
}

/** The request's ReceiptHandle, or SQS's MissingParameter error. */
function receiptHandleOf(request: Record<string, unknown>): string {
  const handle = request.ReceiptHandle;
  if (typeof handle !== "string" || !handle)
    throw new AwsError("MissingParameter", "The request must contain the parameter ReceiptHandle.");
  return handle;
}
