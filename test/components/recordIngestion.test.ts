import { expect } from "chai";
import * as crypto from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { one, ofType, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../../components/events/eventHub";
import { functionArchives } from "../../components/lambda";
import { RecordIngestion } from "../../components/records/recordIngestion";
import { LambdaHost, materialize } from "../../local/artifacts";
import { LocalS3 } from "../handlers/records/localS3";
import { ScriptedRecordsApi } from "../handlers/records/scriptedRecordsApi";

const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:ihub-dlq`;
const DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ihub-dlq`;
const SOURCE_TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
const SOURCE_STREAM = `${SOURCE_TABLE}/stream/2026-02-03T04:05:06.789`;

function policyOf(name: string) {
  return JSON.parse(one("aws:iam/rolePolicy:RolePolicy", name).inputs.policy).Statement.slice(1);
}

describe("RecordIngestion under mocks", () => {
  let ing: RecordIngestion;
  const dependsOn = new Map<string, any[]>();

  before(async () => {
    resetRecorded();
    const hub = new EventHub("ihub");
    ing = new RecordIngestion(
      "ing",
      {
        hub,
        apiEndpoint: "https://records.example.com",
        apiKey: pulumi.secret("records-key"),
        prefix: "drop/",
        streamSource: { tableArn: SOURCE_TABLE, streamArn: SOURCE_STREAM, idAttribute: "pk" },
        maximumRetryAttempts: 4,
      },
      {
        transformations: [
          (a) => {
            dependsOn.set(`${a.type} ${a.name}`, [a.opts.dependsOn ?? []].flat());
            return undefined;
          },
        ],
      },
    );
    await valueOf(ing.notification.id);
    await valueOf(ing.streamMapping!.arn);
    await settle();
  });

  it("declares a bucket with SSE, every public access blocked, ACLs off and TLS only", () => {
    const bucketArn = "arn:aws:s3:::ing-bucket";
    expect(one("aws:s3/bucket:Bucket", "ing-bucket").inputs).to.deep.include({
      bucketPrefix: "ing-",
      forceDestroy: true,
    });
    expect(
      one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "ing-bucket",
      ).inputs.rules,
    ).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(
      one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ing-bucket").inputs,
    ).to.deep.include({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ing-bucket").inputs.rule,
    ).to.deep.equal({
      objectOwnership: "BucketOwnerEnforced",
    });
    expect(
      JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", "ing-bucket").inputs.policy).Statement,
    ).to.deep.equal([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("notifies the function of objects created under the prefix, after a permission scoped to the bucket and account", () => {
    const n = one("aws:s3/bucketNotification:BucketNotification", "ing-bucket").inputs;
    expect(n.lambdaFunctions).to.deep.equal([
      {
        id: "ingest-records",
        lambdaFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ing-s3`,
        events: ["s3:ObjectCreated:*"],
        filterPrefix: "drop/",
      },
    ]);
    const p = one("aws:lambda/permission:Permission", "ing-s3").inputs;
    expect(p).to.deep.equal({
      action: "lambda:InvokeFunction",
      function: "ing-s3",
      principal: "s3.amazonaws.com",
      sourceArn: "arn:aws:s3:::ing-bucket",
      sourceAccount: ACCOUNT,
    });
    expect(dependsOn.get("aws:s3/bucketNotification:BucketNotification ing-bucket")).to.include(
      ing.s3Permission,
    );
  });

  it("keeps the records API key in a secret the functions read at run time, never in their environment", () => {
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ing-records-api-key-AbCdEf`;
    // The engine receives the value as a secret (Pulumi's secret signature wraps it): encrypted in state.
    const value = one("aws:secretsmanager/secretVersion:SecretVersion", "ing-records-api-key")
      .inputs.secretString;
    expect(value["4dabf18193072939515e22adb298388d"]).to.equal("1b47061264138c4ac30d75fd1eb44270");
    expect(value.value).to.equal("records-key");
    const f = one("aws:lambda/function:Function", "ing-s3").inputs;
    expect(f.environment.variables).to.deep.equal({
      RECORDS_API_URL: "https://records.example.com/api/v1/records",
      RECORDS_API_KEY_SECRET_ARN: secretArn,
      FAILURE_QUEUE_URL: DLQ_URL,
      MAX_OBJECT_BYTES: "52428800",
    });
    expect(
      JSON.stringify(ofType("aws:lambda/function:Function").map((r) => r.inputs.environment)),
    ).to.not.contain('records-key"');
    expect(policyOf("ing-s3")).to.deep.equal([
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: ["arn:aws:s3:::ing-bucket/drop/*"],
      },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
    ]);
    expect(dependsOn.get("aws:lambda/function:Function ing-s3")).to.have.length(1);
  });

  it("hands failed S3 invocations to the hub's DLQ after two retries", () => {
    expect(
      one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "ing-s3").inputs,
    ).to.deep.equal({
      functionName: "ing-s3",
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 21600,
      destinationConfig: { onFailure: { destination: DLQ } },
    });
  });

  it("forwards the configured table's stream with partial batch responses and the hub DLQ on failure", () => {
    expect(
      one("aws:lambda/eventSourceMapping:EventSourceMapping", "ing-stream").inputs,
    ).to.deep.equal({
      eventSourceArn: SOURCE_STREAM,
      functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ing-stream`,
      startingPosition: "LATEST",
      batchSize: 25,
      maximumBatchingWindowInSeconds: 1,
      parallelizationFactor: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 4,
      maximumRecordAgeInSeconds: 86400,
      destinationConfig: { onFailure: { destinationArn: DLQ } },
    });
    expect(
      dependsOn.get("aws:lambda/eventSourceMapping:EventSourceMapping ing-stream"),
    ).to.deep.equal([ing.streamFn!.policy]);
    expect(
      one("aws:lambda/function:Function", "ing-stream").inputs.environment.variables,
    ).to.deep.include({
      SOURCE_TENANT_ATTRIBUTE: "tenantId",
      SOURCE_ID_ATTRIBUTE: "pk",
      SOURCE_VERSION_ATTRIBUTE: "recordVersion",
      SOURCE_COLLECTION: "orders",
    });
    expect(policyOf("ing-stream")).to.deep.equal([
      {
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: [SOURCE_STREAM],
      },
      { Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ing-records-api-key-AbCdEf`],
      },
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
    ]);
  });

  it("declares no stream function without a stream source, and reuses a given secret", async () => {
    resetRecorded();
    const hub = new EventHub("ihub2");
    const plain = new RecordIngestion("plain", {
      hub,
      apiEndpoint: "https://records.example.com",
      apiKeySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-AbCdEf",
      protect: true,
    });
    await valueOf(plain.notification.id);
    await settle();
    expect(plain.streamFn).to.equal(undefined);
    expect(ofType("aws:lambda/eventSourceMapping:EventSourceMapping")).to.deep.equal([]);
    expect(ofType("aws:secretsmanager/secret:Secret")).to.deep.equal([]);
    expect(
      one("aws:lambda/function:Function", "plain-s3").inputs.environment.variables
        .RECORDS_API_KEY_SECRET_ARN,
    ).to.equal("arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-AbCdEf");
    expect(one("aws:s3/bucket:Bucket", "plain-bucket").inputs.forceDestroy).to.equal(false);
    expect((plain.bucket as any).__protect).to.equal(true);
    expect(
      one("aws:s3/bucketNotification:BucketNotification", "plain-bucket").inputs.lambdaFunctions[0]
        .filterPrefix,
    ).to.equal("incoming/");
  });

  it("refuses bad arguments, naming them", () => {
    const hub = new EventHub("ihub3");
    const base = { hub, apiEndpoint: "https://records.example.com", apiKey: "k" };
    expect(() => new RecordIngestion("b1", { ...base, apiKeySecretArn: "arn" })).to.throw(
      "give exactly one of apiKey",
    );
    expect(() => new RecordIngestion("b2", { ...base, prefix: "/in" })).to.throw(
      'prefix must be an S3 key prefix (no leading "/", at most 512 characters), got "/in"',
    );
    expect(() => new RecordIngestion("b3", { ...base, apiEndpoint: "http://x" })).to.throw(
      "apiEndpoint must use https://",
    );
    expect(
      () =>
        new RecordIngestion("b4", {
          ...base,
          streamSource: {
            tableArn: SOURCE_TABLE,
            streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/other/stream/x",
          },
        }),
    ).to.throw(`streamSource.streamArn must be the stream of ${SOURCE_TABLE}`);
    expect(
      () =>
        new RecordIngestion("b5", {
          ...base,
          streamSource: { tableArn: "orders", streamArn: "x" },
        }),
    ).to.throw("streamSource.tableArn must be a DynamoDB table ARN");
  });
});

/** Secrets Manager and SQS as the SDK speaks them (JSON protocol), for the artifact's process. */
function localAws(secrets: Record<string, string>, sent: any[]): http.Server {
  return http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const input = JSON.parse(text || "{}");
      const target = String(req.headers["x-amz-target"]);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      };
      if (target === "secretsmanager.GetSecretValue") {
        if (secrets[input.SecretId] === undefined)
          return reply(400, { __type: "ResourceNotFoundException", message: "no such secret" });
        return reply(200, {
          ARN: input.SecretId,
          Name: "k",
          SecretString: secrets[input.SecretId],
        });
      }
      if (target === "AmazonSQS.SendMessageBatch") {
        sent.push(input);
        return reply(200, {
          Successful: input.Entries.map((e: any, i: number) => ({
            Id: e.Id,
            MessageId: `m-${i}`,
            MD5OfMessageBody: crypto.createHash("md5").update(e.MessageBody).digest("hex"),
          })),
          Failed: [],
        });
      }
      reply(400, { __type: "InvalidAction", message: `not implemented here: ${target}` });
    });
  });
}

describe("the bundled S3 ingestion function (__index.js) in a fresh Node process", () => {
  const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-AbCdEf";
  const api = new ScriptedRecordsApi(
    () => "artifact-key",
    (b) => (b.recordId === "bad" ? { status: 400 } : { status: 202 }),
  );
  const s3 = new LocalS3();
  const sent: any[] = [];
  const aws = localAws({ [secretArn]: "artifact-key" }, sent);
  let host: LambdaHost;
  let queueUrl = "";

  before(async () => {
    await api.start();
    await s3.start();
    await new Promise<void>((r) => aws.listen(0, "127.0.0.1", r));
    const awsUrl = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
    queueUrl = `${awsUrl}/${ACCOUNT}/ihub2-dlq`;
    const dir = await materialize(functionArchives.get("plain-s3")!);
    host = await LambdaHost.start(dir, {
      timeoutSeconds: 30,
      env: {
        RECORDS_API_URL: `${api.url}/api/v1/records`,
        RECORDS_API_KEY_SECRET_ARN: secretArn,
        FAILURE_QUEUE_URL: queueUrl,
        AWS_ENDPOINT_URL_S3: s3.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: awsUrl,
        AWS_ENDPOINT_URL_SQS: awsUrl,
      },
    });
  });
  after(async () => {
    await host?.stop();
    await api.stop();
    await s3.stop();
    await new Promise((r) => aws.close(r));
  });

  it("reads the object, sends its records with the key from the secret, and reports the refused one", async () => {
    s3.put("in-bucket", "incoming/x.json", [
      { tenantId: "acme", recordId: "good", recordVersion: 1, payload: { a: 1 } },
      { tenantId: "acme", recordId: "bad", recordVersion: 1, payload: { a: 2 } },
    ]);
    const event = {
      Records: [
        {
          eventTime: "2026-11-21T10:00:00.000Z",
          eventName: "ObjectCreated:Put",
          s3: {
            bucket: { name: "in-bucket", arn: "arn:aws:s3:::in-bucket" },
            object: { key: "incoming/x.json", size: 10 },
          },
        },
      ],
    };
    const r = await host.invoke(event);
    expect(r).to.deep.equal({ objects: 1, records: 2, sent: 1, failed: 1 });
    expect(api.calls.map((c) => [c.body.recordId, c.headers["x-api-key"], c.status])).to.deep.equal(
      [
        ["good", "artifact-key", 202],
        ["bad", "artifact-key", 400],
      ],
    );
    expect(sent).to.have.length(1);
    expect(sent[0].QueueUrl).to.equal(queueUrl);
    const report = JSON.parse(sent[0].Entries[0].MessageBody);
    expect(report).to.deep.include({
      bucket: "in-bucket",
      key: "incoming/x.json",
      index: 1,
      recordId: "bad",
      status: 400,
    });
  });
});
