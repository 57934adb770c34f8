// The cold-start bench's local AWS: moto_server behind the counting proxy, the SDK floor's one call
// answered successfully, Lambda's asynchronous Invoke answered 202, and what the program declares
// created on moto with the environment pointed at it.
import { expect } from "chai";
import * as fs from "fs";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  coldStartOnce,
  EMPTY_HANDLER,
  ONE_SDK_CALL_HANDLER,
  referenceFunction,
} from "../../bench/coldStart";
import {
  AwsStandIn,
  localEnvironment,
  provisionDeclared,
  STAND_IN_MOTO_ENV,
  startAwsStandIn,
} from "../../bench/realistic";
import { MOTO_GC_PERIOD_ENV, MOTO_LAUNCHER } from "../../local/motoServer";
import { Recorded } from "../../local/mocks";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const declared: Recorded[] = [
  { type: "aws:sqs/queue:Queue", name: "bench-q", inputs: {}, urn: "" },
  {
    type: "aws:secretsmanager/secret:Secret",
    name: "bench-secret",
    inputs: {},
    urn: "",
  },
  {
    type: "aws:secretsmanager/secretVersion:SecretVersion",
    name: "bench-secret",
    inputs: { secretId: "bench-secret-id", secretString: '{"current":"s3cret"}' },
    urn: "",
  },
  {
    type: "aws:dynamodb/table:Table",
    name: "bench-table",
    inputs: { hashKey: "pk", attributes: [{ name: "pk", type: "S" }] },
    urn: "",
  },
];

describe("bench: the cold-start bench's local AWS (moto_server behind a counting proxy)", function () {
  this.timeout(60_000);
  let aws: AwsStandIn;

  before(async () => {
    aws = await startAwsStandIn();
  });
  after(async () => aws?.close());

  it("creates what the program declares and points a function's environment at it", async () => {
    const p = await provisionDeclared(declared, aws.url, "records-key");
    try {
      const declaredArn =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-secret-AbCdEf";
      const env = localEnvironment(
        {
          SECRET: declaredArn,
          QUEUE: "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-q",
        },
        p,
      );
      expect(env.QUEUE.startsWith(aws.url)).to.equal(true);
      const sm = new SecretsManagerClient({ endpoint: aws.url, region: "eu-west-1", credentials });
      const got = await sm.send(new GetSecretValueCommand({ SecretId: env.SECRET }));
      expect(got.SecretString).to.equal('{"current":"s3cret"}');
      expect(p.tables).to.deep.equal(["bench-table"]);
    } finally {
      await p.records.stop();
    }
  });

  it("answers the SDK floor's one call successfully, counted, and an empty handler makes none", async () => {
    const p = await provisionDeclared([declared[0]], aws.url, "records-key");
    await p.records.stop();
    const queue = [...p.queueUrls.values()][0];
    const before = aws.calls.length;
    const floor = await coldStartOnce(
      referenceFunction("bench-floor", ONE_SDK_CALL_HANDLER),
      { AWS_ENDPOINT_URL: aws.url, BENCH_QUEUE_URL: queue },
      {},
    );
    expect(floor.outcome).to.equal("result");
    expect((floor.result as { messageId?: string }).messageId).to.be.a("string");
    expect(aws.calls.slice(before)).to.deep.equal([
      { operation: "AmazonSQS.SendMessage", status: 200 },
    ]);
    const mid = aws.calls.length;
    const empty = await coldStartOnce(referenceFunction("bench-empty", EMPTY_HANDLER), {
      AWS_ENDPOINT_URL: aws.url,
    });
    expect(empty.result).to.deep.equal({ ok: true });
    expect(aws.calls.length).to.equal(mid);
  });

  it("runs moto_server with Python's cycle collector off, so none of its pauses lands in a cold start", () => {
    const environ = fs.readFileSync(`/proc/${aws.moto.pid}/environ`, "utf8").split("\0");
    expect(environ).to.include(`${MOTO_GC_PERIOD_ENV}=0`);
    expect(STAND_IN_MOTO_ENV).to.deep.equal({ [MOTO_GC_PERIOD_ENV]: "0" });
    // Through the launcher, which reads it (test/local/motoServer.test.ts runs it).
    const cmdline = fs.readFileSync(`/proc/${aws.moto.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline[1]).to.equal(MOTO_LAUNCHER);
  });

  it("accepts Lambda's asynchronous Invoke with 202 and refuses the others", async () => {
    const lambda = new LambdaClient({ endpoint: aws.url, region: "eu-west-1", credentials });
    const ok = await lambda.send(
      new InvokeCommand({ FunctionName: "f", InvocationType: "Event", Payload: Buffer.from("{}") }),
    );
    expect(ok.StatusCode).to.equal(202);
    let refused = "";
    await lambda
      .send(new InvokeCommand({ FunctionName: "f", Payload: Buffer.from("{}") }))
      .catch((e: Error) => (refused = e.name));
    expect(refused).to.not.equal("");
    expect(aws.calls.slice(-2).map((c) => [c.operation, c.status])).to.deep.equal([
      ["Lambda.Invoke", 202],
      ["Lambda.Invoke", 400],
    ]);
  });
});
