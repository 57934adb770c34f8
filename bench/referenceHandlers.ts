// The bench's reference functions, bundled like every declared function: the floors a cold start is
// compared with.

/** The floor of a cold start: a handler that does nothing. */
export function createEmpty() {
  return async () => ({ ok: true });
}

/** What merely loading two SDK clients and Powertools' logger at init costs. */
export function createSdkClientsOnly() {
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
  const { EventBridgeClient } = require("@aws-sdk/client-eventbridge");
  const { Logger } = require("@aws-lambda-powertools/logger");
  const clients = [
    new DynamoDBClient({}),
    new EventBridgeClient({}),
    new Logger({ serviceName: "bench" }),
  ];
  return async () => ({ ok: clients.length });
}

/**
 * The least a first request that calls AWS can cost: one client (SQS, the smallest this program
 * uses), built on first use, and one call (answered by the local endpoint).
 */
export function createOneAwsCall() {
  return async () => {
    const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
    const queueUrl = `${process.env.AWS_ENDPOINT_URL}/000000000000/bench`;
    const sent = await new SQSClient({})
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}" }))
      .then(
        () => "sent",
        (e: Error) => e.name,
      );
    return { ok: sent };
  };
}
