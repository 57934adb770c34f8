// Lambda's SQS event source mappings, locally: a poller per mapping receives up to its batch size of
// visible messages (hidden for the queue's visibility timeout while the function runs), invokes the
// function with the event Lambda sends, deletes the messages it processed and leaves the others:
// with ReportBatchItemFailures the ones it names (their visibility is what the function set, e.g.
// the dispatcher's next retry), without it every message of a batch that failed. A message whose
// invocation failed returns once the queue's visibility timeout, scaled by --speed, has passed.

export interface QueueMapping {
  uuid: string;
  queueName: string;
  queueArn: string;
  functionName: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

/** A received message, as SqsService's ReceiveMessage answers it. */
export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

export interface QueuePollerDeps {
  region: string;
  /** Receives up to `max` visible messages, hidden for the queue's own visibility timeout. */
  receive(queueName: string, max: number): ReceivedMessage[];
  delete(queueName: string, receiptHandle: string): void;
  /**
   * A message left on the queue: unless the function changed its visibility, it waits the queue's
   * visibility timeout, scaled by --speed, from now.
   */
  release(queueName: string, receiptHandle: string): void;
  /** Whether the queue holds a message visible now. */
  hasVisible(queueName: string): boolean;
  invoke(functionName: string, event: unknown): Promise<any>;
  log(line: string): void;
}

/** How often a poller looks for messages whose visibility timeout has run out. */
const POLL_MS = 25;

export class LocalQueuePollers {
  private readonly running = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    public readonly mappings: QueueMapping[],
    private readonly deps: QueuePollerDeps,
  ) {
    if (mappings.length > 0) {
      this.timer = setInterval(() => this.pollAll(), POLL_MS);
      this.timer.unref();
    }
  }

  /** Looks at once (a message was just sent), rather than at the next tick. */
  notify(queueName: string): void {
    for (const m of this.mappings) if (m.queueName === queueName) this.pump(m);
  }

  private pollAll(): void {
    for (const m of this.mappings) this.pump(m);
  }

  private pump(m: QueueMapping): void {
    if (this.stopped || this.running.has(m.uuid) || !this.deps.hasVisible(m.queueName)) return;
    const p = this.poll(m)
      .catch((e) => this.deps.log(`  queue ${m.queueName} -> ${m.functionName}: ${e.message}`))
      .finally(() => {
        this.running.delete(m.uuid);
        if (this.deps.hasVisible(m.queueName)) this.pump(m);
      });
    this.running.set(m.uuid, p);
  }

  private async poll(m: QueueMapping): Promise<void> {
    const messages = this.deps.receive(m.queueName, m.batchSize);
    if (messages.length === 0) return;
    const records = messages.map((msg) => ({
      messageId: msg.MessageId,
      receiptHandle: msg.ReceiptHandle,
      body: msg.Body,
      attributes: msg.Attributes ?? {},
      messageAttributes: Object.fromEntries(
        Object.entries(msg.MessageAttributes ?? {}).map(([k, v]) => [
          k,
          {
            stringValue: v.StringValue,
            stringListValues: [],
            binaryListValues: [],
            dataType: v.DataType,
          },
        ]),
      ),
      md5OfBody: msg.MD5OfBody,
      eventSource: "aws:sqs",
      eventSourceARN: m.queueArn,
      awsRegion: this.deps.region,
    }));
    let failed: Set<string>;
    try {
      const result = await this.deps.invoke(m.functionName, { Records: records });
      const items: unknown = m.reportBatchItemFailures ? result?.batchItemFailures : [];
      const ids = new Set(records.map((r) => r.messageId));
      // An answer Lambda cannot read (not a list, an unknown id) fails the whole batch, as on AWS.
      const named = Array.isArray(items)
        ? items.map((i) => (i as { itemIdentifier?: unknown })?.itemIdentifier)
        : undefined;
      failed =
        named && named.every((id) => typeof id === "string" && ids.has(id))
          ? new Set(named as string[])
          : ids;
      this.deps.log(
        `  queue ${m.queueName} -> ${m.functionName}: ${records.length - failed.size} of ${records.length} messages done${failed.size ? `, ${failed.size} left for a later attempt` : ""}`,
      );
    } catch (e) {
      if ((e as { stopping?: boolean }).stopping) return;
      this.deps.log(
        `  queue ${m.queueName} -> ${m.functionName}: batch of ${records.length} failed: ${(e as Error).message}`,
      );
      failed = new Set(records.map((r) => r.messageId));
    }
    for (const r of records) {
      if (failed.has(r.messageId)) this.deps.release(m.queueName, r.receiptHandle);
      else this.deps.delete(m.queueName, r.receiptHandle);
    }
  }

  /** Waits for the batches being processed now (not for messages waiting to become visible). */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
