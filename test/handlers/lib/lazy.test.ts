import { expect } from "chai";
import {
  buildClientsAtInit,
  ensureInstalled,
  lazy,
  lazyClient,
  lazyDynamodb,
  lazyDynamodbDocument,
  lazyEventBridge,
  lazyLambda,
  lazyS3,
  lazySecretsManager,
  lazySqs,
  sdkDynamodb,
  sdkDynamodbDocument,
  sdkEventBridge,
  sdkLambda,
  sdkS3,
  sdkSecretsManager,
  sdkSqs,
} from "../../../handlers/lib/lazy";

const ON_DEMAND = { AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" };
const PROVISIONED = { AWS_LAMBDA_INITIALIZATION_TYPE: "provisioned-concurrency" };

describe("handlers/lib/lazy", () => {
  it("builds a value on first use, once", () => {
    let builds = 0;
    const get = lazy(() => ({ n: ++builds }), ON_DEMAND);
    expect(builds).to.equal(0);
    const first = get();
    expect(get()).to.equal(first);
    expect(builds).to.equal(1);
  });

  it("builds at once where init happens ahead of traffic (provisioned concurrency)", () => {
    let builds = 0;
    const get = lazy(() => ++builds, PROVISIONED);
    expect(builds).to.equal(1);
    expect(get()).to.equal(1);
    expect(builds).to.equal(1);
    expect(buildClientsAtInit(PROVISIONED)).to.equal(true);
    // The stack's switchyard:lambdaClientInit = at-init asks for the same on on-demand init.
    let atInit = 0;
    lazy(() => ++atInit, {
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      SWITCHYARD_CLIENT_INIT: "at-init",
    });
    expect(atInit).to.equal(1);
    expect(buildClientsAtInit({ SWITCHYARD_CLIENT_INIT: "on-first-use" })).to.equal(false);
    for (const t of ["on-demand", "snap-start", undefined]) {
      expect(buildClientsAtInit({ AWS_LAMBDA_INITIALIZATION_TYPE: t }), String(t)).to.equal(false);
    }
  });

  it("tries again after a build that threw", () => {
    let calls = 0;
    const get = lazy(() => {
      if (++calls === 1) throw new Error("first build fails");
      return "built";
    }, ON_DEMAND);
    expect(() => get()).to.throw("first build fails");
    expect(get()).to.equal("built");
    expect(get()).to.equal("built");
    expect(calls).to.equal(2);
  });

  it("lazyClient builds the client on its first send and reuses it", async () => {
    const made: Array<{ sent: unknown[] }> = [];
    const c = lazyClient(() => {
      const client = {
        sent: [] as unknown[],
        send: async (cmd: unknown) => (client.sent.push(cmd), `ok ${client.sent.length}`),
      };
      made.push(client);
      return client;
    }, ON_DEMAND);
    expect(made).to.have.length(0);
    expect(await c.send("a")).to.equal("ok 1");
    expect(await c.send("b")).to.equal("ok 2");
    expect(made).to.have.length(1);
    expect(made[0].sent).to.deep.equal(["a", "b"]);
    expect(c.client()).to.equal(made[0]);
  });

  it("lazyClient passes the client's rejection through", async () => {
    const c = lazyClient(
      () => ({
        send: async () =>
          Promise.reject(Object.assign(new Error("slow down"), { name: "ThrottlingException" })),
      }),
      ON_DEMAND,
    );
    try {
      await c.send({});
      expect.fail("should have rejected");
    } catch (e: any) {
      expect(e.name).to.equal("ThrottlingException");
    }
  });

  it("ensureInstalled passes for installed packages and throws naming a missing one", () => {
    expect(() => ensureInstalled("@aws-sdk/client-sqs", "@aws-sdk/util-dynamodb")).to.not.throw();
    expect(() => ensureInstalled("@aws-sdk/client-sqs", "@aws-sdk/client-not-a-service")).to.throw(
      "Cannot find module '@aws-sdk/client-not-a-service'",
    );
  });

  it("the sdk* loaders load the real SDK packages, and the lazy* clients build real clients with the default configuration", async () => {
    expect(sdkDynamodb().PutItemCommand).to.equal(
      require("@aws-sdk/client-dynamodb").PutItemCommand,
    );
    expect(sdkDynamodbDocument().GetCommand).to.equal(require("@aws-sdk/lib-dynamodb").GetCommand);
    expect(sdkEventBridge().PutEventsCommand).to.equal(
      require("@aws-sdk/client-eventbridge").PutEventsCommand,
    );
    expect(sdkLambda().InvokeCommand).to.equal(require("@aws-sdk/client-lambda").InvokeCommand);
    expect(sdkS3().GetObjectCommand).to.equal(require("@aws-sdk/client-s3").GetObjectCommand);
    expect(sdkSecretsManager().GetSecretValueCommand).to.equal(
      require("@aws-sdk/client-secrets-manager").GetSecretValueCommand,
    );
    expect(sdkSqs().SendMessageCommand).to.equal(require("@aws-sdk/client-sqs").SendMessageCommand);

    expect(lazyDynamodb().client()).to.be.instanceOf(sdkDynamodb().DynamoDBClient);
    expect(lazyEventBridge().client()).to.be.instanceOf(sdkEventBridge().EventBridgeClient);
    expect(lazyLambda().client()).to.be.instanceOf(sdkLambda().LambdaClient);
    expect(lazyS3().client()).to.be.instanceOf(sdkS3().S3Client);
    expect(lazySecretsManager().client()).to.be.instanceOf(
      sdkSecretsManager().SecretsManagerClient,
    );
    expect(lazySqs().client()).to.be.instanceOf(sdkSqs().SQSClient);
    const doc = lazyDynamodbDocument({
      marshallOptions: { removeUndefinedValues: true },
    }).client();
    expect(doc).to.be.instanceOf(sdkDynamodbDocument().DynamoDBDocumentClient);
    expect(doc.config.translateConfig?.marshallOptions?.removeUndefinedValues).to.equal(true);
  });
});
