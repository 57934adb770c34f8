import { expect } from "chai";
import {
  buildClientsAtInit,
  ensureInstalled,
  lazy,
  lazyClient,
  lazyClients,
  sdk,
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

  it("sdk loads the real SDK packages, and lazyClients builds real clients with the default configuration", async () => {
    expect(sdk.dynamodb().PutItemCommand).to.equal(
      require("@aws-sdk/client-dynamodb").PutItemCommand,
    );
    expect(sdk.dynamodbDocument().GetCommand).to.equal(require("@aws-sdk/lib-dynamodb").GetCommand);
    expect(sdk.eventBridge().PutEventsCommand).to.equal(
      require("@aws-sdk/client-eventbridge").PutEventsCommand,
    );
    expect(sdk.lambda().InvokeCommand).to.equal(require("@aws-sdk/client-lambda").InvokeCommand);
    expect(sdk.s3().GetObjectCommand).to.equal(require("@aws-sdk/client-s3").GetObjectCommand);
    expect(sdk.secretsManager().GetSecretValueCommand).to.equal(
      require("@aws-sdk/client-secrets-manager").GetSecretValueCommand,
    );
    expect(sdk.sqs().SendMessageCommand).to.equal(
      require("@aws-sdk/client-sqs").SendMessageCommand,
    );

    expect(lazyClients.dynamodb().client()).to.be.instanceOf(sdk.dynamodb().DynamoDBClient);
    expect(lazyClients.eventBridge().client()).to.be.instanceOf(
      sdk.eventBridge().EventBridgeClient,
    );
    expect(lazyClients.lambda().client()).to.be.instanceOf(sdk.lambda().LambdaClient);
    expect(lazyClients.s3().client()).to.be.instanceOf(sdk.s3().S3Client);
    expect(lazyClients.secretsManager().client()).to.be.instanceOf(
      sdk.secretsManager().SecretsManagerClient,
    );
    expect(lazyClients.sqs().client()).to.be.instanceOf(sdk.sqs().SQSClient);
    const doc = lazyClients
      .dynamodbDocument({ marshallOptions: { removeUndefinedValues: true } })
      .client();
    expect(doc).to.be.instanceOf(sdk.dynamodbDocument().DynamoDBDocumentClient);
    expect(doc.config.translateConfig?.marshallOptions?.removeUndefinedValues).to.equal(true);
  });
});
