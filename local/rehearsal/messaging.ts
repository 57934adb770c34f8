// SQS queues and their policies, SNS topics, their policies and subscriptions.
import {
  GetQueueAttributesCommand,
  CreateQueueCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { attributes, defined, nonEmpty, TypeRehearsal } from "./step";

/** Queue attributes by API name, from the Queue resource's inputs. */
const QUEUE_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: "delaySeconds",
  MaximumMessageSize: "maxMessageSize",
  MessageRetentionPeriod: "messageRetentionSeconds",
  ReceiveMessageWaitTimeSeconds: "receiveWaitTimeSeconds",
  VisibilityTimeout: "visibilityTimeoutSeconds",
  Policy: "policy",
  RedrivePolicy: "redrivePolicy",
  RedriveAllowPolicy: "redriveAllowPolicy",
  FifoQueue: "fifoQueue",
  ContentBasedDeduplication: "contentBasedDeduplication",
  DeduplicationScope: "deduplicationScope",
  FifoThroughputLimit: "fifoThroughputLimit",
  KmsMasterKeyId: "kmsMasterKeyId",
  KmsDataKeyReusePeriodSeconds: "kmsDataKeyReusePeriodSeconds",
  SqsManagedSseEnabled: "sqsManagedSseEnabled",
};

const TOPIC_ATTRIBUTES: Record<string, string> = {
  DisplayName: "displayName",
  Policy: "policy",
  DeliveryPolicy: "deliveryPolicy",
  KmsMasterKeyId: "kmsMasterKeyId",
  FifoTopic: "fifoTopic",
  ContentBasedDeduplication: "contentBasedDeduplication",
  SignatureVersion: "signatureVersion",
  TracingConfig: "tracingConfig",
};

const SUBSCRIPTION_ATTRIBUTES: Record<string, string> = {
  FilterPolicy: "filterPolicy",
  FilterPolicyScope: "filterPolicyScope",
  RawMessageDelivery: "rawMessageDelivery",
  RedrivePolicy: "redrivePolicy",
  DeliveryPolicy: "deliveryPolicy",
  SubscriptionRoleArn: "subscriptionRoleArn",
};

const fromInputs = (map: Record<string, string>, inputs: Record<string, any>) =>
  attributes(Object.fromEntries(Object.entries(map).map(([api, input]) => [api, inputs[input]])));

export const messagingRehearsals: Record<string, TypeRehearsal> = {
  "aws:sqs/queue:Queue": {
    operations: ["CreateQueue", "GetQueueAttributes"],
    async apply(s) {
      const created = await s.send("CreateQueue", { QueueName: "name", ...QUEUE_ATTRIBUTES }, () =>
        s.clients.sqs.send(
          new CreateQueueCommand({
            QueueName: s.name,
            Attributes: nonEmpty(fromInputs(QUEUE_ATTRIBUTES, s.inputs)),
          }),
        ),
      );
      const url = created.QueueUrl!;
      const read = await s.send("GetQueueAttributes", { QueueUrl: "url" }, () =>
        s.clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
        ),
      );
      return { outputs: { id: url, url, arn: read.Attributes?.QueueArn } };
    },
  },

  "aws:sqs/queuePolicy:QueuePolicy": {
    operations: ["SetQueueAttributes"],
    async apply(s) {
      await s.send(
        "SetQueueAttributes",
        { QueueUrl: "queueUrl", Queue: "queueUrl", Policy: "policy" },
        () =>
          s.clients.sqs.send(
            new SetQueueAttributesCommand({
              QueueUrl: s.inputs.queueUrl,
              Attributes: { Policy: s.inputs.policy },
            }),
          ),
      );
      return { outputs: { id: s.inputs.queueUrl } };
    },
  },

  "aws:sqs/redrivePolicy:RedrivePolicy": {
    operations: ["SetQueueAttributes"],
    async apply(s) {
      await s.send(
        "SetQueueAttributes",
        { QueueUrl: "queueUrl", RedrivePolicy: "redrivePolicy" },
        () =>
          s.clients.sqs.send(
            new SetQueueAttributesCommand({
              QueueUrl: s.inputs.queueUrl,
              Attributes: { RedrivePolicy: s.inputs.redrivePolicy },
            }),
          ),
      );
      return { outputs: { id: s.inputs.queueUrl } };
    },
  },

  "aws:sns/topic:Topic": {
    operations: ["CreateTopic"],
    async apply(s) {
      const out = await s.send("CreateTopic", { Name: "name", ...TOPIC_ATTRIBUTES }, () =>
        s.clients.sns.send(
          new CreateTopicCommand({
            Name: s.name,
            Attributes: nonEmpty(fromInputs(TOPIC_ATTRIBUTES, s.inputs)),
          }),
        ),
      );
      return { outputs: { id: out.TopicArn, arn: out.TopicArn } };
    },
  },

  "aws:sns/topicPolicy:TopicPolicy": {
    operations: ["SetTopicAttributes"],
    async apply(s) {
      await s.send(
        "SetTopicAttributes",
        { TopicArn: "arn", Topic: "arn", AttributeValue: "policy", Policy: "policy" },
        () =>
          s.clients.sns.send(
            new SetTopicAttributesCommand({
              TopicArn: s.inputs.arn,
              AttributeName: "Policy",
              AttributeValue: s.inputs.policy,
            }),
          ),
      );
      return { outputs: { id: s.inputs.arn } };
    },
  },

  "aws:sns/topicSubscription:TopicSubscription": {
    operations: ["Subscribe"],
    async apply(s) {
      const out = await s.send(
        "Subscribe",
        {
          TopicArn: "topic",
          Protocol: "protocol",
          Endpoint: "endpoint",
          ...SUBSCRIPTION_ATTRIBUTES,
        },
        () =>
          s.clients.sns.send(
            new SubscribeCommand(
              defined({
                TopicArn: s.inputs.topic,
                Protocol: s.inputs.protocol,
                Endpoint: s.inputs.endpoint,
                Attributes: nonEmpty(fromInputs(SUBSCRIPTION_ATTRIBUTES, s.inputs)),
                ReturnSubscriptionArn: true,
              }),
            ),
          ),
      );
      return { outputs: { id: out.SubscriptionArn, arn: out.SubscriptionArn } };
    },
  },
};
