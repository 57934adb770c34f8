// The local runtime's DynamoDB stream records (local/streams.ts) against a real DynamoDB API
// (dynalite): the records a write emits, their sequence numbers, and the reads each write costs.
import { expect } from "chai";
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { LocalStreams, StreamTable } from "../../local/streams";
import { LocalDynamo, startLocalDynamo } from "../support/aws";

describe("local/streams: the records DynamoDB Streams would emit", function () {
  let ddb: LocalDynamo;
  const TABLE = "streamed";
  const table: StreamTable = {
    name: TABLE,
    arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${TABLE}`,
    streamArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${TABLE}/stream/2026-01-01T00:00:00.000`,
    keys: ["id"],
    viewType: "NEW_AND_OLD_IMAGES",
  };
  let batches: any[][];
  let reads: number;
  let streams: LocalStreams;

  before(async () => {
    ddb = await startLocalDynamo();
    await ddb.createTable(TABLE, "id");
  });
  after(async () => ddb.close());
  beforeEach(() => {
    batches = [];
    reads = 0;
    streams = new LocalStreams(
      new Map([[TABLE, table]]),
      [
        {
          uuid: "m-1",
          streamArn: table.streamArn,
          functionName: "consumer",
          batchSize: 100,
          reportBatchItemFailures: true,
          bisectOnError: false,
          maximumRetryAttempts: 0,
        },
      ],
      {
        dynamo: {
          send: (command: any) => {
            if (command instanceof GetItemCommand) reads++;
            return ddb.client.send(command);
          },
        },
        region: "eu-west-1",
        invoke: async (_fn, event: any) => {
          batches.push(event.Records);
          return { batchItemFailures: [] };
        },
        sendToDestination: async () => undefined,
        log: () => undefined,
      },
    );
  });

  /** A write as the AWS endpoint forwards it: the request's JSON, then the call to DynamoDB. */
  const write = (operation: string, request: any, command: any) =>
    streams.aroundDynamoWrite(operation, request, async () => {
      await ddb.client.send(command);
      return 200;
    });
  const put = (item: Record<string, any>) => {
    const input = { TableName: TABLE, Item: item };
    return write("PutItem", input, new PutItemCommand(input));
  };

  it("emits INSERT then MODIFY with increasing sequence numbers; a PutItem costs one read, not two", async () => {
    await put({ id: { S: "a" }, n: { N: "1" } });
    const afterInsert = reads;
    await put({ id: { S: "a" }, n: { N: "2" } });
    await streams.drain();
    // The item before the write is read; a PutItem's item after it is its Item.
    expect(afterInsert).to.equal(1);
    expect(reads).to.equal(2);
    const records = batches.flat();
    expect(records.map((r) => r.eventName)).to.deep.equal(["INSERT", "MODIFY"]);
    expect(records[1].dynamodb.OldImage).to.deep.equal({ id: { S: "a" }, n: { N: "1" } });
    expect(records[1].dynamodb.NewImage).to.deep.equal({ id: { S: "a" }, n: { N: "2" } });
    const [first, second] = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect(second > first).to.equal(true);
    expect(records[0].dynamodb.SequenceNumber).to.match(/^\d{21}$/);
  });

  it("emits nothing for a write that changes nothing, whatever the order of the item's attributes", async () => {
    await put({ id: { S: "b" }, x: { S: "1" }, y: { M: { p: { N: "1" }, q: { S: "z" } } } });
    await put({ y: { M: { q: { S: "z" }, p: { N: "1" } } }, x: { S: "1" }, id: { S: "b" } });
    await streams.drain();
    expect(batches.flat().map((r) => r.eventName)).to.deep.equal(["INSERT"]);
  });

  it("reads an UpdateItem's item after the write: only DynamoDB knows what it left", async () => {
    await put({ id: { S: "c" }, n: { N: "1" } });
    const input = {
      TableName: TABLE,
      Key: { id: { S: "c" } },
      UpdateExpression: "SET n = n + :one",
      ExpressionAttributeValues: { ":one": { N: "1" } },
    };
    await write("UpdateItem", input, new UpdateItemCommand(input));
    await streams.drain();
    const modify = batches.flat()[1];
    expect(modify.eventName).to.equal("MODIFY");
    expect(modify.dynamodb.NewImage).to.deep.equal({ id: { S: "c" }, n: { N: "2" } });
    // One read before the PutItem; one before and one after the UpdateItem.
    expect(reads).to.equal(3);
  });
});
