// The records gateway's REQUEST authorizer with Secrets Manager faked behind the SDK client
// (aws-sdk-client-mock), failing as Secrets Manager does for an unknown secret.
import { expect } from "chai";
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { makeHandler, stageResource } from "../../../handlers/records/upstreamKeyAuthorizer";
import { captureLogger } from "../jobs/localJobs";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gw-upstream-key-AbCdEf";
const UPSTREAM = "upstream-records-key-5f1d";
const CONSUMER_KEY = "consumer-gateway-key-9a8b";
const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:gw123/v1/POST/records";

function requestEvent(headers: Record<string, string> = { "x-api-key": CONSUMER_KEY }): any {
  return {
    type: "REQUEST",
    methodArn: METHOD_ARN,
    resource: "/records",
    path: "/records",
    httpMethod: "POST",
    headers,
    multiValueHeaders: {},
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: { stage: "v1", identity: { sourceIp: "10.0.0.1", apiKey: CONSUMER_KEY } },
  };
}

describe("handlers/records/upstreamKeyAuthorizer", () => {
  let client: SecretsManagerClient;
  let sm: ReturnType<typeof mockClient>;
  let clock: number;

  function handler(logger = captureLogger().logger, cacheSeconds = "300") {
    const saved = { ...process.env };
    Object.assign(process.env, {
      UPSTREAM_KEY_SECRET_ARN: SECRET_ARN,
      SECRET_CACHE_SECONDS: cacheSeconds,
    });
    try {
      return makeHandler({ secrets: client, logger, now: () => clock });
    } finally {
      process.env = saved;
    }
  }

  beforeEach(() => {
    clock = 1_000_000;
    client = new SecretsManagerClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    sm = mockClient(client);
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      ARN: SECRET_ARN,
      SecretString: UPSTREAM,
    });
  });

  it("allows the whole stage (answers are cached per consumer key) and hands over the upstream key", async () => {
    expect(await handler()(requestEvent())).to.deep.equal({
      principalId: "records-gateway-consumer",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: "arn:aws:execute-api:eu-west-1:123456789012:gw123/v1/*",
          },
        ],
      },
      context: { upstreamKey: UPSTREAM },
    });
    expect(stageResource("arn:aws:execute-api:eu-west-1:1:a/prod/GET/records/x/y")).to.equal(
      "arn:aws:execute-api:eu-west-1:1:a/prod/*",
    );
  });

  it("reads the secret once per TTL", async () => {
    const h = handler();
    await h(requestEvent());
    clock += 299_000;
    await h(requestEvent());
    expect(sm.commandCalls(GetSecretValueCommand).length).to.equal(1);
    clock += 2_000;
    await h(requestEvent());
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).to.deep.equal([
      { SecretId: SECRET_ARN },
      { SecretId: SECRET_ARN },
    ]);
  });

  it("keeps serving the known key through a Secrets Manager outage, and fails closed without one", async () => {
    const h = handler(undefined, "0");
    await h(requestEvent());
    sm.on(GetSecretValueCommand).rejects(
      new InternalServiceError({ message: "internal", $metadata: { httpStatusCode: 500 } }),
    );
    expect((await h(requestEvent())).context).to.deep.equal({ upstreamKey: UPSTREAM });

    const { lines, logger } = captureLogger();
    const cold = handler(logger);
    try {
      await cold(requestEvent());
      expect.fail("should fail");
    } catch (e: any) {
      expect(e.message).to.equal("upstream key unavailable");
    }
    expect(lines.map((l) => JSON.parse(l))).to.deep.equal([
      { level: "ERROR", message: "cannot read the upstream key", error: "InternalServiceError" },
    ]);
  });

  it("never logs the upstream key nor the consumer's key", async () => {
    const { lines, logger } = captureLogger();
    const h = handler(logger);
    await h(requestEvent());
    await h(requestEvent({ "X-API-Key": CONSUMER_KEY, Authorization: "Bearer x" }));
    expect(lines.length).to.equal(2);
    expect(JSON.parse(lines[0])).to.deep.equal({
      level: "INFO",
      message: "upstream key attached",
      methodArn: METHOD_ARN,
    });
    const all = lines.join("\n");
    expect(all).to.not.contain(UPSTREAM);
    expect(all).to.not.contain(CONSUMER_KEY);
  });

  it("fails at cold start naming a missing or bad variable", () => {
    const saved = { ...process.env };
    try {
      delete process.env.UPSTREAM_KEY_SECRET_ARN;
      process.env.SECRET_CACHE_SECONDS = "60";
      expect(() => makeHandler({ secrets: client })).to.throw("UPSTREAM_KEY_SECRET_ARN is not set");
      process.env.UPSTREAM_KEY_SECRET_ARN = SECRET_ARN;
      process.env.SECRET_CACHE_SECONDS = "a while";
      expect(() => makeHandler({ secrets: client })).to.throw(
        'SECRET_CACHE_SECONDS must be a whole number from 0 to 3600, got "a while"',
      );
    } finally {
      process.env = saved;
    }
  });
});
