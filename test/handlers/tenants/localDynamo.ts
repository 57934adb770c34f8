// A local DynamoDB with the tenant tables, for handler tests: moto_server (local/motoServer.ts), the
// real DynamoDB wire API with transactions and AWS's cancellation reasons (dynalite has none), on a
// port the OS picks, ended by `stop` (call it in `after`).
import * as http from "http";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startMotoServer } from "../../../local/motoServer";
import { EVENT_MARKER_TTL_ATTRIBUTE } from "../../../handlers/tenants/apiKeys";

export interface LocalDynamo {
  url: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const moto = await startMotoServer();
  const client = new DynamoDBClient({
    endpoint: moto.url,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    // One request at a time: DynamoDB applies each request atomically, moto_server's threads do not
    // (a cancelled transaction restores tables copied before a concurrent write). Invocations still
    // interleave their requests, as concurrent ones do on AWS.
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    url: moto.url,
    client,
    doc,
    stop: async () => {
      client.destroy();
      await moto.stop();
    },
  };
}

/** The tables the tenant components declare, with the same keys (and the access table's TTL). */
export async function createTenantTables(
  client: DynamoDBClient,
  data: string,
  access: string,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: data,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "tenant", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "tenant", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: access,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: access,
      TimeToLiveSpecification: { AttributeName: EVENT_MARKER_TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}
