// One AWS SDK v3 client per service the rehearsal calls, all pointed at the emulator's endpoint.
import { APIGatewayClient } from "@aws-sdk/client-api-gateway";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { WAFV2Client } from "@aws-sdk/client-wafv2";

export interface Clients {
  apigateway: APIGatewayClient;
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  dynamodb: DynamoDBClient;
  events: EventBridgeClient;
  iam: IAMClient;
  lambda: LambdaClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  sfn: SFNClient;
  sns: SNSClient;
  sqs: SQSClient;
  wafv2: WAFV2Client;
}

/**
 * Clients for `endpoint` in `region`, with moto's test credentials. One attempt per call: a
 * rejection is the answer the rehearsal reports, not something to retry.
 */
export function clientsFor(endpoint: string, region: string): Clients {
  const config = {
    endpoint,
    region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
  return {
    apigateway: new APIGatewayClient(config),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    dynamodb: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    secrets: new SecretsManagerClient(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    wafv2: new WAFV2Client(config),
  };
}

/** Closes every client's connections. */
export function destroyClients(c: Clients): void {
  for (const client of Object.values(c)) (client as { destroy(): void }).destroy();
}
