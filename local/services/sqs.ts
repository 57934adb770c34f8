// SQS: each declared queue is a list of the messages sent to it (the hub's DLQ, destinations,
// subscriptions); the endpoint's SendMessage and SendMessageBatch land here.
import { randomUUID } from "crypto";
import { AwsError, LocalServices } from "../awsEndpoint";
import { nameOf, Runtime } from "./context";

export interface QueueMessage {
  MessageId: string;
  Body: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  SentTimestamp: number;
}

export class SqsService {
  public readonly queues = new Map<string, QueueMessage[]>();

  constructor(private readonly rt: Runtime) {}

  build(): void {
    for (const q of this.rt.of("aws:sqs/queue:Queue")) this.queues.set(nameOf(q), []);
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
    return id;
  }

  endpoint(): Pick<LocalServices, "sqsSendMessage"> {
    return {
      sqsSendMessage: async (a) => this.send(a.QueueUrl, a.MessageBody, a.MessageAttributes ?? {}),
    };
  }
}
