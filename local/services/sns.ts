// SNS: each declared topic keeps what was published to it and fans it out to its declared
// subscriptions (SQS, Lambda, email as a log line), with their filter policies.
import { randomUUID } from "crypto";
import { arnFor } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { compilePattern } from "../../lib/eventPattern";
import { Runtime } from "./context";

export interface TopicMessage {
  MessageId: string;
  TopicArn: string;
  Message: string;
  Subject?: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
}

export type PublishRequest = Omit<TopicMessage, "MessageId">;

export class SnsService {
  public readonly topics = new Map<string, TopicMessage[]>();

  constructor(private readonly rt: Runtime) {}

  build(): void {
    for (const t of this.rt.of("aws:sns/topic:Topic"))
      this.topics.set(arnFor(t.type, t.name, t.inputs), []);
  }

  /** Publishes to a topic and delivers to its subscriptions; returns the MessageId. */
  publish(a: PublishRequest): string {
    const list = this.topics.get(a.TopicArn);
    if (!list) throw new AwsError("NotFound", "Topic does not exist", 404);
    const id = randomUUID();
    list.push({ MessageId: id, ...a });
    const outcome = a.MessageAttributes?.outcome?.StringValue;
    this.rt.log(
      `  notification on ${a.TopicArn.split(":").pop()}${outcome ? ` (outcome ${outcome})` : ""}: ${a.Subject ?? a.Message.slice(0, 80)}`,
    );
    for (const s of this.rt
      .of("aws:sns/topicSubscription:TopicSubscription")
      .filter((x) => x.inputs.topic === a.TopicArn)) {
      const policy = s.inputs.filterPolicy ? JSON.parse(s.inputs.filterPolicy) : undefined;
      const attrs = Object.fromEntries(
        Object.entries(a.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
      );
      if (policy && !compilePattern(policy)(attrs)) continue;
      const envelope = {
        Type: "Notification",
        MessageId: id,
        TopicArn: a.TopicArn,
        Subject: a.Subject,
        Message: a.Message,
        Timestamp: new Date().toISOString(),
        MessageAttributes: Object.fromEntries(
          Object.entries(a.MessageAttributes ?? {}).map(([k, v]) => [
            k,
            { Type: v.DataType, Value: v.StringValue },
          ]),
        ),
      };
      if (s.inputs.protocol === "sqs")
        this.rt.services.sqs.send(s.inputs.endpoint, JSON.stringify(envelope), {});
      if (s.inputs.protocol === "lambda")
        this.rt.services.lambda.lambdas.invokeAsync(s.inputs.endpoint, {
          Records: [
            {
              EventSource: "aws:sns",
              EventVersion: "1.0",
              EventSubscriptionArn: `${a.TopicArn}:${randomUUID()}`,
              Sns: envelope,
            },
          ],
        });
      if (s.inputs.protocol === "email")
        this.rt.log(`  email to ${s.inputs.endpoint}: ${a.Subject ?? a.Message.slice(0, 60)}`);
    }
    return id;
  }

  endpoint(): Pick<LocalServices, "snsPublish"> {
    return { snsPublish: async (a) => this.publish(a) };
  }
}
