// What the local AWS endpoint answers to a request its services' deserializers refuse, to a hung
// moto_server, and how S3's errors look: as the AWS services answer them.
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AwsError, createAwsEndpoint, LocalServices } from "../../local/awsEndpoint";
import { LocalBus } from "../../local/bus";

const REGION = "eu-west-1";

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("local endpoint: refused bodies, a hung moto_server, S3's errors", function () {
  this.timeout(60_000);
  let url: string;
  let server: http.Server;
  // Stands for a moto_server that accepts connections and never answers.
  const hung = http.createServer(() => undefined);
  const writes: string[] = [];

  before(async () => {
    const dynamodbUrl = await listen(hung);
    const bus = new LocalBus(
      [],
      [],
      {
        account: "123456789012",
        region: REGION,
        maxEntryBytes: 262144,
        log: () => undefined,
        retryDelayMs: () => 1,
        deadLetter: async () => undefined,
        deliver: async () => undefined,
      },
      ["default"],
    );
    const svc: LocalServices = {
      dynamodbUrl,
      dynamodbTimeoutMs: 300,
      putEvents: async (entries) => bus.putEvents(entries),
      getSecretValue: async () => ({ ARN: "", Name: "", SecretString: "" }),
      snsPublish: async () => "",
      sqsSendMessage: async () => "",
      startExecution: async () => ({ executionArn: "", startDate: 0 }),
      invokeLambda: async () => ({ status: 200, payload: "null" }),
      s3Put: async () => "",
      s3Get: async (bucket, key) => {
        if (bucket !== "known")
          throw new AwsError("NoSuchBucket", "The specified bucket does not exist", 404, {
            BucketName: bucket,
          });
        throw new AwsError("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
      },
      aroundDynamoWrite: async (op, _request, forward) => {
        writes.push(op);
        await forward();
      },
    };
    server = createAwsEndpoint(svc);
    url = await listen(server);
  });
  after(async () => {
    server.closeAllConnections();
    hung.closeAllConnections();
    await Promise.all([server, hung].map((s) => new Promise((r) => s.close(r))));
  });

  const post = (target: string, body: string, contentType = "application/x-amz-json-1.0") =>
    fetch(url, {
      method: "POST",
      headers: { "x-amz-target": target, "content-type": contentType },
      body,
    });

  for (const [what, body] of [
    ["malformed JSON", "{not json"],
    ["null", "null"],
    ["an array", "[]"],
  ]) {
    it(`answers ${what} on the DynamoDB path 400 SerializationException, before moto_server or the stream hook`, async () => {
      const res = await post("DynamoDB_20120810.PutItem", body);
      expect(res.status).to.equal(400);
      expect(((await res.json()) as any).__type).to.equal("SerializationException");
      expect(writes).to.deep.equal([]);
    });

    it(`answers ${what} on the X-Amz-Target path 400 SerializationException`, async () => {
      const res = await post("AWSEvents.PutEvents", body, "application/x-amz-json-1.1");
      expect(res.status).to.equal(400);
      expect(((await res.json()) as any).__type).to.equal("SerializationException");
    });
  }

  it("answers PutEvents with Entries [null] 400, not 500", async () => {
    const res = await post(
      "AWSEvents.PutEvents",
      JSON.stringify({ Entries: [null] }),
      "application/x-amz-json-1.1",
    );
    expect(res.status).to.equal(400);
    expect(await res.json()).to.deep.include({
      __type: "SerializationException",
      message: "Expected structure for PutEventsRequestEntry",
    });
  });

  it("answers 500 InternalServerError, which the SDK retries, when moto_server does not answer; later requests are not held behind it", async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([
      post("DynamoDB_20120810.GetItem", JSON.stringify({ TableName: "t", Key: {} })),
      post("DynamoDB_20120810.GetItem", JSON.stringify({ TableName: "t", Key: {} })),
    ]);
    for (const res of [a, b]) {
      expect(res.status).to.equal(500);
      const body = (await res.json()) as any;
      expect(body.__type).to.equal("InternalServerError");
      expect(body.message).to.contain("did not answer GetItem within 300 ms");
    }
    // One at a time: the second waited for the first's timeout, then had its own.
    expect(Date.now() - started).to.be.within(550, 3000);
    const client = new DynamoDBClient({
      endpoint: url,
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 2,
    });
    try {
      await client.send(new GetItemCommand({ TableName: "t", Key: { id: { S: "1" } } }));
      expect.fail("moto_server never answers");
    } catch (e: any) {
      expect(e.name).to.equal("InternalServerError");
      expect(e.$metadata.attempts, "retried as a server error").to.equal(2);
    }
    client.destroy();
  });

  it("answers S3 errors in S3's XML: Code, Message, the key or bucket, RequestId, HostId", async () => {
    const res = await fetch(`${url}/known/some/key.json`);
    expect(res.status).to.equal(404);
    expect(res.headers.get("content-type")).to.equal("application/xml");
    expect(res.headers.get("x-amz-request-id")).to.match(/^[0-9A-F]{16}$/);
    const xml = await res.text();
    expect(xml).to.match(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Key>some\/key\.json<\/Key><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/,
    );
    const s3 = new S3Client({
      endpoint: url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      await s3.send(new GetObjectCommand({ Bucket: "other", Key: "k" }));
      expect.fail("no such bucket");
    } catch (e: any) {
      expect([e.name, e.$metadata.httpStatusCode, e.BucketName]).to.deep.equal([
        "NoSuchBucket",
        404,
        "other",
      ]);
    }
    const head = await fetch(`${url}/known/k`, { method: "HEAD" });
    expect(head.status).to.equal(404);
    expect(await head.text()).to.equal("");
    s3.destroy();
  });
});
