// Local AWS for the tests: DynamoDB (dynalite, the real DynamoDB wire API, in this process) and
// aws-sdk-client-mock on one client instance.
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AwsStub, mockClient } from "aws-sdk-client-mock";

export interface LocalDynamo {
  endpoint: string;
  /** A client of this DynamoDB (region eu-west-1, local credentials). */
  client: DynamoDBClient;
  /** Creates an on-demand table keyed by `hashKey` (a string partition key). */
  createTable(name: string, hashKey: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts dynalite on a port the OS picks, with tables created and deleted at once. */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = require("dynalite")({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  return {
    endpoint,
    client,
    async createTable(name, hashKey) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }],
          KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
        }),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * aws-sdk-client-mock on `send` of this client instance only. mockClient(SomeClient) would stub
 * SomeClient.prototype.send for the whole mocha process (other test files, the local runtime, use
 * real clients), and a stubbed inherited send makes mocking an instance of that class fail: start
 * from the SDK base Client's own send, whatever a class-level mock elsewhere did.
 */
export function mockInstance(client: { send: (...args: any[]) => any }): AwsStub<any, any, any> {
  let real: unknown;
  for (let p = Object.getPrototypeOf(client); p; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, "send") && p.constructor?.name === "Client")
      real = p.send;
  }
  if (typeof real !== "function") throw new Error("mockInstance: not an AWS SDK v3 client");
  Object.defineProperty(client, "send", { value: real, writable: true, configurable: true });
  return mockClient(client as any) as unknown as AwsStub<any, any, any>;
}
