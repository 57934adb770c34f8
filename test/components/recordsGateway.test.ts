import { expect } from "chai";
import {
  one,
  ofType,
  recorded,
  resetRecorded,
  settle,
  setupMocks,
  valueOf,
  ACCOUNT,
  REGION,
  Recorded,
} from "../mocks";

setupMocks();
import * as pulumi from "@pulumi/pulumi";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { RecordsGateway } from "../../components/records/recordsGateway";
import { gatewayDeploymentSpec, gatewayRoutes } from "../../components/records/gatewaySpec";
import { ACCESS_LOG_FIELDS, parseTiers, redeployHash } from "../../components/apigw/spec";
import { makeHandler as makeUpstreamKeyAuthorizer } from "../../handlers/records/upstreamKeyAuthorizer";

const KEY = "records-upstream-key-7c31";
const ENDPOINT = "https://records.example.com";
const TIERS = parseTiers({
  standard: { rateLimit: 100, burstLimit: 200, quota: 1000000, period: "MONTH" },
  partner: {
    rateLimit: 500,
    burstLimit: 1000,
    quota: 20000000,
    period: "MONTH",
    throttles: {
      "/records/POST": { rateLimit: 400, burstLimit: 800 },
      "/verify/record/POST": { rateLimit: 50, burstLimit: 100 },
    },
  },
});
const invokeArn = (n: string) =>
  `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:${ACCOUNT}:function:${n}/invocations`;
const byMethodPath = (a: any, b: any) =>
  `${a.resourceId}${a.httpMethod}`.localeCompare(`${b.resourceId}${b.httpMethod}`);

/**
 * The headers API Gateway sends upstream for an HTTP_PROXY integration, as its parameter mapping
 * documents it: the client's headers, then each mapped integration.request.header.<name> set from
 * its source, replacing a client header of the same name (header names are case-insensitive).
 */
function upstreamHeaders(
  clientHeaders: Record<string, string>,
  requestParameters: Record<string, string>,
  authorizerContext: Record<string, unknown>,
): Record<string, string> {
  const out: Record<string, string> = { ...clientHeaders };
  for (const [target, source] of Object.entries(requestParameters)) {
    const m = /^integration\.request\.header\.(.+)$/.exec(target);
    if (!m) continue;
    const ctx = /^context\.authorizer\.(.+)$/.exec(source);
    if (!ctx) throw new Error(`this model only maps authorizer context to headers, got ${source}`);
    for (const k of Object.keys(out)) if (k.toLowerCase() === m[1].toLowerCase()) delete out[k];
    out[m[1]] = String(authorizerContext[ctx[1]]);
  }
  return out;
}

describe("RecordsGateway", () => {
  let gw: RecordsGateway;
  const planKeyOptions: Array<[string, boolean | undefined]> = [];

  before(async () => {
    resetRecorded();
    gw = new RecordsGateway(
      "gw",
      {
        apiEndpoint: ENDPOINT,
        apiKey: pulumi.secret(KEY),
        tiers: TIERS,
        consumers: { acme: "standard", bigco: "partner", initech: "standard" },
        extraRoutes: ["GET /records/{recordId}"],
        logRetentionDays: 30,
        authorizerCacheSeconds: 120,
      },
      {
        transformations: [
          (t) => {
            if (t.type === "aws:apigateway/usagePlanKey:UsagePlanKey")
              planKeyOptions.push([
                t.name,
                (t.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
              ]);
            return undefined;
          },
        ],
      },
    );
    await valueOf(gw.apiKeyIds);
    await valueOf(gw.usagePlanIds);
    await valueOf(gw.invokeUrl);
    await settle();
  });

  it("proxies POST /records, POST /verify/record and the listed routes to the records API", () => {
    const integrations = ofType("aws:apigateway/integration:Integration", /^gw-/)
      .map((i) => i.inputs)
      .sort(byMethodPath);
    const headerMapping = {
      "integration.request.header.X-API-Key": "context.authorizer.upstreamKey",
    };
    expect(integrations).to.deep.equal([
      {
        restApi: "gw-id",
        resourceId: "gw-records-id",
        httpMethod: "POST",
        type: "HTTP_PROXY",
        integrationHttpMethod: "POST",
        uri: `${ENDPOINT}/api/v1/records`,
        requestParameters: headerMapping,
        timeoutMilliseconds: 29000,
      },
      {
        restApi: "gw-id",
        resourceId: "gw-records-recordId-id",
        httpMethod: "GET",
        type: "HTTP_PROXY",
        integrationHttpMethod: "GET",
        uri: `${ENDPOINT}/api/v1/records/{recordId}`,
        requestParameters: {
          ...headerMapping,
          "integration.request.path.recordId": "method.request.path.recordId",
        },
        timeoutMilliseconds: 29000,
      },
      {
        restApi: "gw-id",
        resourceId: "gw-verify-record-id",
        httpMethod: "POST",
        type: "HTTP_PROXY",
        integrationHttpMethod: "POST",
        uri: `${ENDPOINT}/api/v1/verify/record`,
        requestParameters: headerMapping,
        timeoutMilliseconds: 29000,
      },
    ]);
    expect(
      ofType("aws:apigateway/resource:Resource", /^gw-/)
        .map((r) => r.inputs)
        .sort((a, b) => (a.pathPart < b.pathPart ? -1 : 1)),
    ).to.deep.equal([
      { restApi: "gw-id", parentId: "gw-verify-id", pathPart: "record" },
      { restApi: "gw-id", parentId: "root0000", pathPart: "records" },
      { restApi: "gw-id", parentId: "root0000", pathPart: "verify" },
      { restApi: "gw-id", parentId: "gw-records-id", pathPart: "{recordId}" },
    ]);
  });

  it("requires a consumer API key and runs the upstream-key authorizer on every method", () => {
    const methods = ofType("aws:apigateway/method:Method", /^gw-/)
      .map((m) => m.inputs)
      .sort(byMethodPath);
    const common = {
      restApi: "gw-id",
      authorization: "CUSTOM",
      authorizerId: "gw-upstream-key-id",
      apiKeyRequired: true,
    };
    expect(methods).to.deep.equal([
      { ...common, resourceId: "gw-records-id", httpMethod: "POST", requestParameters: {} },
      {
        ...common,
        resourceId: "gw-records-recordId-id",
        httpMethod: "GET",
        requestParameters: { "method.request.path.recordId": true },
      },
      { ...common, resourceId: "gw-verify-record-id", httpMethod: "POST", requestParameters: {} },
    ]);
    expect(one("aws:apigateway/restApi:RestApi", "gw").inputs.apiKeySource).to.equal("HEADER");
    expect(one("aws:apigateway/authorizer:Authorizer", "gw-upstream-key").inputs).to.deep.equal({
      restApi: "gw-id",
      name: "upstream-key",
      authorizerUri: invokeArn("gw-upstream-key"),
      type: "REQUEST",
      identitySource: "method.request.header.x-api-key",
      authorizerResultTtlInSeconds: 120,
    });
    expect(one("aws:lambda/permission:Permission", "gw-upstream-key").inputs).to.deep.equal({
      action: "lambda:InvokeFunction",
      function: "gw-upstream-key",
      principal: "apigateway.amazonaws.com",
      sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:gw/authorizers/gw-upstream-key-id`,
    });
  });

  it("keeps the records key in its own secret, readable by the authorizer's role only by ARN", () => {
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:gw-upstream-key-AbCdEf`;
    const version = one("aws:secretsmanager/secretVersion:SecretVersion", "gw-upstream-key").inputs;
    expect(version.secretId).to.equal("gw-upstream-key-id");
    // Pulumi's secret signature: the engine stores the value encrypted and never shows it.
    expect(version.secretString).to.deep.equal({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: KEY,
    });
    const fn = one("aws:lambda/function:Function", "gw-upstream-key").inputs;
    expect(fn.environment.variables).to.deep.equal({
      UPSTREAM_KEY_SECRET_ARN: secretArn,
      SECRET_CACHE_SECONDS: "300",
    });
    const policy = JSON.parse(
      one("aws:iam/rolePolicy:RolePolicy", "gw-upstream-key").inputs.policy,
    );
    expect(policy.Statement.slice(1)).to.deep.equal([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
    ]);
  });

  it("declares a usage plan per tier with throttle, quota and per-method overrides on the stage", () => {
    const plan = (t: string) => one("aws:apigateway/usagePlan:UsagePlan", `gw-${t}`).inputs;
    expect(plan("standard")).to.deep.equal({
      description: "Switchyard gw: tier standard",
      apiStages: [{ apiId: "gw-id", stage: "v1", throttles: [] }],
      throttleSettings: { rateLimit: 100, burstLimit: 200 },
      quotaSettings: { limit: 1000000, period: "MONTH" },
    });
    expect(plan("partner")).to.deep.equal({
      description: "Switchyard gw: tier partner",
      apiStages: [
        {
          apiId: "gw-id",
          stage: "v1",
          throttles: [
            { path: "/records/POST", rateLimit: 400, burstLimit: 800 },
            { path: "/verify/record/POST", rateLimit: 50, burstLimit: 100 },
          ],
        },
      ],
      throttleSettings: { rateLimit: 500, burstLimit: 1000 },
      quotaSettings: { limit: 20000000, period: "MONTH" },
    });
  });

  it("gives each consumer its own key (value generated by AWS) on its tier's plan, and outputs only ids", async () => {
    const keys = ofType("aws:apigateway/apiKey:ApiKey", /^gw-/);
    expect(keys.map((k) => k.name).sort()).to.deep.equal(["gw-acme", "gw-bigco", "gw-initech"]);
    for (const k of keys) expect(k.inputs).to.not.have.property("value");
    const assigned = ofType("aws:apigateway/usagePlanKey:UsagePlanKey", /^gw-/)
      .map((k) => [k.inputs.keyId, k.inputs.usagePlanId, k.inputs.keyType])
      .sort();
    expect(assigned).to.deep.equal([
      ["gw-acme-id", "gw-standard-id", "API_KEY"],
      ["gw-bigco-id", "gw-partner-id", "API_KEY"],
      ["gw-initech-id", "gw-standard-id", "API_KEY"],
    ]);
    expect(await valueOf(gw.apiKeyIds)).to.deep.equal({
      acme: "gw-acme-id",
      bigco: "gw-bigco-id",
      initech: "gw-initech-id",
    });
    // Moving a consumer to another tier must drop the old assignment first (one plan per key and stage).
    expect(planKeyOptions.sort()).to.deep.equal([
      ["gw-acme", true],
      ["gw-bigco", true],
      ["gw-initech", true],
    ]);
    expect(await valueOf(gw.usagePlanIds)).to.deep.equal({
      standard: "gw-standard-id",
      partner: "gw-partner-id",
    });
    expect(await valueOf(gw.invokeUrl)).to.equal(
      `https://gw-id.execute-api.${REGION}.amazonaws.com/v1`,
    );
  });

  it("redeploys on any route or integration change: the trigger is the hash of the deployment spec", () => {
    const routes = gatewayRoutes(["GET /records/{recordId}"]);
    const uri = invokeArn("gw-upstream-key");
    const triggers = one("aws:apigateway/deployment:Deployment", "gw").inputs.triggers;
    expect(triggers).to.deep.equal({
      redeployment: redeployHash(gatewayDeploymentSpec(ENDPOINT, routes, 120, uri)),
    });
    const variants = [
      redeployHash(gatewayDeploymentSpec(ENDPOINT, gatewayRoutes([]), 120, uri)),
      redeployHash(
        gatewayDeploymentSpec(
          ENDPOINT,
          gatewayRoutes(["GET /records/{recordId}", "POST /records/batch"]),
          120,
          uri,
        ),
      ),
      redeployHash(gatewayDeploymentSpec("https://records-2.example.com", routes, 120, uri)),
      redeployHash(gatewayDeploymentSpec(ENDPOINT, routes, 60, uri)),
    ];
    expect(new Set([triggers.redeployment, ...variants]).size).to.equal(5);
  });

  it("never lets the consumer's X-API-Key reach the records API: the mapping replaces it with the authorizer's key", async () => {
    const secrets = new SecretsManagerClient({
      region: REGION,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    mockClient(secrets)
      .on(GetSecretValueCommand, { SecretId: "arn:secret" })
      .resolves({ SecretString: KEY });
    const saved = { ...process.env };
    Object.assign(process.env, {
      UPSTREAM_KEY_SECRET_ARN: "arn:secret",
      SECRET_CACHE_SECONDS: "300",
    });
    const authorize = makeUpstreamKeyAuthorizer({ secrets });
    process.env = saved;
    const answer = await authorize({
      type: "REQUEST",
      methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:gw-id/v1/POST/records`,
      headers: { "x-api-key": "consumer-key-acme" },
    } as any);
    const integration = ofType("aws:apigateway/integration:Integration", /^gw-/).find((i) =>
      i.inputs.uri.endsWith("/api/v1/records"),
    )!;
    for (const sent of ["x-api-key", "X-API-Key", "X-Api-Key"]) {
      const headers = upstreamHeaders(
        { [sent]: "consumer-key-acme", "Content-Type": "application/json" },
        integration.inputs.requestParameters,
        answer.context!,
      );
      expect(headers).to.deep.equal({ "Content-Type": "application/json", "X-API-Key": KEY });
    }
  });

  it("shows the records key in no stage variable, access log field, method setting, output or other resource", async () => {
    const stage = one("aws:apigateway/stage:Stage", "gw-v1").inputs;
    expect(stage.variables).to.equal(undefined);
    expect(JSON.parse(stage.accessLogSettings.format)).to.deep.equal(ACCESS_LOG_FIELDS);
    expect(
      Object.values(ACCESS_LOG_FIELDS).filter((v) =>
        /authorizer\.(?!principalId)|identity\.apiKey$/.test(v),
      ),
    ).to.deep.equal([]);
    expect(
      one("aws:apigateway/methodSettings:MethodSettings", "gw-v1").inputs.settings,
    ).to.deep.equal({
      metricsEnabled: true,
      loggingLevel: "OFF",
      dataTraceEnabled: false,
      throttlingRateLimit: 300,
      throttlingBurstLimit: 600,
    });
    const holding = recorded
      .filter((r: Recorded) => JSON.stringify(r.inputs).includes(KEY))
      .map((r) => `${r.type} ${r.name}`);
    expect(holding).to.deep.equal([
      "aws:secretsmanager/secretVersion:SecretVersion gw-upstream-key",
    ]);
    const outputs = JSON.stringify([
      await valueOf(gw.invokeUrl),
      await valueOf(gw.apiKeyIds),
      await valueOf(gw.usagePlanIds),
    ]);
    expect(outputs).to.not.contain(KEY);
  });

  const invalid: Array<[string, object, string]> = [
    [
      "an override of a route the gateway lacks",
      {
        tiers: parseTiers({
          t: {
            rateLimit: 1,
            burstLimit: 1,
            throttles: { "/records/GET": { rateLimit: 1, burstLimit: 1 } },
          },
        }),
      },
      'tier "t": throttle override "/records/GET" names no route of this API (routes: /records/POST, /verify/record/POST)',
    ],
    [
      "a consumer on an unknown tier",
      { consumers: { acme: "gold" } },
      'consumer "acme" names tier "gold", which is not one of standard, partner',
    ],
    [
      "a malformed extra route",
      { extraRoutes: ["FETCH /x"] },
      'extraRoutes[0] must be "<METHOD> <path>"',
    ],
    [
      "a duplicate route",
      { extraRoutes: ["POST /records"] },
      "extraRoutes[0]: POST /records is already a route of the gateway",
    ],
    [
      "an http endpoint",
      { apiEndpoint: "http://records.example.com" },
      "apiEndpoint must use https://",
    ],
    ["no tiers", { tiers: {} }, "tiers must define at least one usage plan tier"],
    [
      "a 2-hour authorizer cache",
      { authorizerCacheSeconds: 7200 },
      "authorizerCacheSeconds must be an integer from 0 to 3600, got 7200",
    ],
  ];
  for (const [what, args, message] of invalid) {
    it(`refuses ${what}`, () => {
      expect(
        () =>
          new RecordsGateway("bad", {
            apiEndpoint: ENDPOINT,
            apiKey: "k",
            tiers: TIERS,
            logRetentionDays: 7,
            ...args,
          } as any),
      ).to.throw(message);
    });
  }
});

describe("usage plan tiers and consumers (config JSON)", () => {
  it("parses tiers with quotas and per-method throttles", () => {
    expect(parseTiers({ s: { rateLimit: 1.5, burstLimit: 3 } })).to.deep.equal({
      s: { rateLimit: 1.5, burstLimit: 3 },
    });
  });
  const bad: Array<[unknown, string]> = [
    [[], "must be a JSON object of tiers"],
    [
      { s: { rateLimit: 0, burstLimit: 1 } },
      'tier "s".rateLimit must be a number above 0 and at most 10000, got 0',
    ],
    [
      { s: { rateLimit: 1, burstLimit: 6000 } },
      'tier "s".burstLimit must be a whole number from 1 to 5000, got 6000',
    ],
    [
      { s: { rateLimit: 1, burstLimit: 1, quota: 10 } },
      'tier "s".period must be one of DAY, WEEK, MONTH when quota is set, got undefined',
    ],
    [
      { s: { rateLimit: 1, burstLimit: 1, quota: 0.5, period: "DAY" } },
      'tier "s".quota must be a whole number of requests of at least 1, got 0.5',
    ],
    [{ s: { rateLimit: 1, burstLimit: 1, burst: 2 } }, 'tier "s": unknown field "burst"'],
    [
      {
        s: {
          rateLimit: 1,
          burstLimit: 1,
          throttles: { "POST /records": { rateLimit: 1, burstLimit: 1 } },
        },
      },
      'tier "s".throttles key "POST /records" must be "<resource path>/<METHOD>", e.g. "/records/POST"',
    ],
    [
      { "no spaces": { rateLimit: 1, burstLimit: 1 } },
      'tier name "no spaces" must be 1-30 letters, digits or hyphens',
    ],
  ];
  for (const [value, message] of bad) {
    it(`refuses ${JSON.stringify(value)}`, () => expect(() => parseTiers(value)).to.throw(message));
  }
});
