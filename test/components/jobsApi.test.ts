import { expect } from "chai";
import {
  one,
  ofType,
  resetRecorded,
  settle,
  setupMocks,
  valueOf,
  ACCOUNT,
  REGION,
  Recorded,
} from "../mocks";

setupMocks();
import { JobsApi, validateJobsArgs } from "../../components/jobs/jobsApi";
import { jobsDeploymentSpec, callerPolicy } from "../../components/jobs/jobsSpec";
import { submitModelSchema } from "../../components/jobs/jobSchema";
import { ACCESS_LOG_FIELDS, redeployHash } from "../../components/apigw/spec";
import { submitRequestSchema } from "../../handlers/jobs/jobTypes";

const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`;
const fnArn = (n: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${n}`;
const invokeArn = (n: string) =>
  `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${fnArn(n)}/invocations`;
const tableArn = (n: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${n}`;

function ofComponent(name: string, type: string): Recorded[] {
  return ofType(type, new RegExp(`^${name}(-|$)`));
}
function statements(roleName: string): any[] {
  return JSON.parse(one("aws:iam/rolePolicy:RolePolicy", roleName).inputs.policy).Statement;
}

describe("JobsApi (IAM auth, the default)", () => {
  let jobs: JobsApi;

  before(async () => {
    resetRecorded();
    jobs = new JobsApi("jobs", {
      busArn: BUS,
      logRetentionDays: 14,
      jobTtlDays: 3,
      pointInTimeRecovery: true,
    });
    await valueOf(jobs.invokeUrl);
    await valueOf(jobs.callerRoleArn);
    await settle();
  });

  it("stores jobs in a PAY_PER_REQUEST table with TTL, SSE and point-in-time recovery", () => {
    const t = one("aws:dynamodb/table:Table", "jobs-jobs").inputs;
    expect(t).to.deep.include({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attributes: [{ name: "pk", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: false,
    });
  });

  it("declares exactly POST /jobs and GET /jobs/{jobId}, IAM-authorized, the POST validated against the model", () => {
    const methods = ofComponent("jobs", "aws:apigateway/method:Method")
      .map((m) => m.inputs)
      .sort((a, b) => b.httpMethod.localeCompare(a.httpMethod));
    expect(methods).to.deep.equal([
      {
        restApi: "jobs-id",
        resourceId: "jobs-jobs-id",
        httpMethod: "POST",
        authorization: "AWS_IAM",
        apiKeyRequired: false,
        requestParameters: { "method.request.header.Idempotency-Key": false },
        requestValidatorId: "jobs-body-id",
        requestModels: { "application/json": "SubmitJob" },
      },
      {
        restApi: "jobs-id",
        resourceId: "jobs-jobs-jobId-id",
        httpMethod: "GET",
        authorization: "AWS_IAM",
        apiKeyRequired: false,
        requestParameters: { "method.request.path.jobId": true },
      },
    ]);
    expect(
      ofComponent("jobs", "aws:apigateway/resource:Resource").map((r) => r.inputs),
    ).to.deep.equal([
      { restApi: "jobs-id", parentId: "root0000", pathPart: "jobs" },
      { restApi: "jobs-id", parentId: "jobs-jobs-id", pathPart: "{jobId}" },
    ]);
    expect(
      one("aws:apigateway/requestValidator:RequestValidator", "jobs-body").inputs,
    ).to.deep.equal({
      restApi: "jobs-id",
      name: "body-and-parameters",
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const model = one("aws:apigateway/model:Model", "jobs-submit-job").inputs;
    expect(model).to.include({
      restApi: "jobs-id",
      name: "SubmitJob",
      contentType: "application/json",
    });
    expect(JSON.parse(model.schema)).to.deep.equal(submitRequestSchema());
    expect(ofType("aws:apigateway/authorizer:Authorizer")).to.deep.equal([]);
  });

  it("integrates each method with its function (AWS_PROXY), invocable only from that route", () => {
    // Registration order is not declaration order (inputs resolve asynchronously): sort POST first.
    const byMethod = (a: any, b: any) => b.httpMethod.localeCompare(a.httpMethod);
    const integrations = ofComponent("jobs", "aws:apigateway/integration:Integration")
      .map((i) => i.inputs)
      .sort(byMethod);
    expect(integrations).to.deep.equal([
      {
        restApi: "jobs-id",
        resourceId: "jobs-jobs-id",
        httpMethod: "POST",
        type: "AWS_PROXY",
        integrationHttpMethod: "POST",
        uri: invokeArn("jobs-submit"),
      },
      {
        restApi: "jobs-id",
        resourceId: "jobs-jobs-jobId-id",
        httpMethod: "GET",
        type: "AWS_PROXY",
        integrationHttpMethod: "POST",
        uri: invokeArn("jobs-get"),
      },
    ]);
    const perms = ofComponent("jobs", "aws:lambda/permission:Permission")
      .map((p) => p.inputs)
      .sort((a, b) => b.function.localeCompare(a.function));
    expect(perms).to.deep.equal([
      {
        action: "lambda:InvokeFunction",
        function: "jobs-submit",
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:jobs/*/POST/jobs`,
      },
      {
        action: "lambda:InvokeFunction",
        function: "jobs-get",
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:jobs/*/GET/jobs/*`,
      },
    ]);
  });

  it("chains the Lambda destinations: processor -> error handler -> EventHub bus, each with the grant it needs", () => {
    expect(
      one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "jobs-process").inputs,
    ).to.deep.equal({
      functionName: "jobs-process",
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 3600,
      destinationConfig: { onFailure: { destination: fnArn("jobs-failed") } },
    });
    expect(
      one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "jobs-failed").inputs,
    ).to.deep.equal({
      functionName: "jobs-failed",
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 21600,
      destinationConfig: { onFailure: { destination: BUS } },
    });
    const grants = (n: string) =>
      statements(n)
        .slice(1)
        .map((s) => ({ Action: s.Action, Resource: s.Resource }));
    expect(grants("jobs-process")).to.deep.equal([
      { Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [tableArn("jobs-jobs")] },
      { Action: ["lambda:InvokeFunction"], Resource: [fnArn("jobs-failed")] },
    ]);
    expect(grants("jobs-failed")).to.deep.equal([
      { Action: ["dynamodb:UpdateItem"], Resource: [tableArn("jobs-jobs")] },
      { Action: ["events:PutEvents"], Resource: [BUS] },
    ]);
    expect(grants("jobs-submit")).to.deep.equal([
      {
        Action: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
        Resource: [tableArn("jobs-jobs")],
      },
      { Action: ["lambda:InvokeFunction"], Resource: [fnArn("jobs-process")] },
    ]);
    expect(grants("jobs-get")).to.deep.equal([
      { Action: ["dynamodb:GetItem"], Resource: [tableArn("jobs-jobs")] },
    ]);
  });

  it("gives the functions the table, the TTL and the processor ARN, and nothing secret", () => {
    const env = (n: string) => one("aws:lambda/function:Function", n).inputs.environment.variables;
    expect(env("jobs-submit")).to.deep.equal({
      JOBS_TABLE: "jobs-jobs",
      JOBS_TTL_SECONDS: "259200",
      PROCESSOR_FUNCTION: fnArn("jobs-process"),
    });
    expect(env("jobs-failed")).to.deep.equal({
      JOBS_TABLE: "jobs-jobs",
      JOBS_TTL_SECONDS: "259200",
    });
    expect(env("jobs-process")).to.deep.equal({ JOBS_TABLE: "jobs-jobs" });
    expect(env("jobs-get")).to.deep.equal({ JOBS_TABLE: "jobs-jobs" });
    expect(one("aws:lambda/function:Function", "jobs-process").inputs.timeout).to.equal(60);
  });

  it("outputs a caller role whose single statement invokes exactly the two routes of the stage", async () => {
    expect(statements("jobs-caller")).to.deep.equal([
      {
        Sid: "InvokeJobsRoutes",
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: [
          `arn:aws:execute-api:${REGION}:${ACCOUNT}:jobs/v1/POST/jobs`,
          `arn:aws:execute-api:${REGION}:${ACCOUNT}:jobs/v1/GET/jobs/*`,
        ],
      },
    ]);
    expect(
      JSON.parse(one("aws:iam/role:Role", "jobs-caller").inputs.assumeRolePolicy),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`] },
          Action: "sts:AssumeRole",
        },
      ],
    });
    expect(await valueOf(jobs.callerRoleArn)).to.equal(`arn:aws:iam::${ACCOUNT}:role/jobs-caller`);
  });

  it("deploys a stage with JSON access logs, X-Ray, metrics and throttling, and no data trace", async () => {
    const stage = one("aws:apigateway/stage:Stage", "jobs-v1").inputs;
    expect(stage).to.deep.include({
      restApi: "jobs-id",
      deployment: "jobs-id",
      stageName: "v1",
      xrayTracingEnabled: true,
    });
    expect(stage.variables).to.equal(undefined);
    expect(stage.accessLogSettings.destinationArn).to.equal(
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:jobs-access`,
    );
    expect(JSON.parse(stage.accessLogSettings.format)).to.deep.equal(ACCESS_LOG_FIELDS);
    expect(one("aws:cloudwatch/logGroup:LogGroup", "jobs-access").inputs.retentionInDays).to.equal(
      14,
    );
    expect(one("aws:apigateway/methodSettings:MethodSettings", "jobs-v1").inputs).to.deep.equal({
      restApi: "jobs-id",
      stageName: "v1",
      methodPath: "*/*",
      settings: {
        metricsEnabled: true,
        loggingLevel: "OFF",
        dataTraceEnabled: false,
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
      },
    });
    expect(await valueOf(jobs.invokeUrl)).to.equal(
      `https://jobs-id.execute-api.${REGION}.amazonaws.com/v1`,
    );
    expect(ofType("aws:apigateway/usagePlan:UsagePlan")).to.deep.equal([]);
    expect(ofType("aws:wafv2/webAcl:WebAcl")).to.deep.equal([]);
  });

  it("redeploys when any route, integration, model or authorizer changes", async () => {
    const base = {
      auth: "iam" as const,
      modelSchema: submitModelSchema(),
      submitUri: invokeArn("jobs-submit"),
      getUri: invokeArn("jobs-get"),
    };
    const deployment = one("aws:apigateway/deployment:Deployment", "jobs").inputs;
    expect(deployment.restApi).to.equal("jobs-id");
    expect(deployment.triggers).to.deep.equal({
      redeployment: redeployHash(jobsDeploymentSpec(base)),
    });
    const variants = [
      { ...base, auth: "apiKey" as const },
      { ...base, auth: "jwt" as const, authorizer: { type: "TOKEN", uri: "u" } },
      { ...base, modelSchema: base.modelSchema.replace("32768", "1024") },
      { ...base, submitUri: invokeArn("jobs-submit-2") },
      { ...base, getUri: invokeArn("jobs-get-2") },
    ];
    const hashes = new Set([base, ...variants].map((v) => redeployHash(jobsDeploymentSpec(v))));
    expect(hashes.size).to.equal(variants.length + 1);
    // The hash is of the content, not of its key order.
    expect(redeployHash({ a: 1, b: [{ c: 2, d: 3 }] })).to.equal(
      redeployHash({ b: [{ d: 3, c: 2 }], a: 1 }),
    );
  });

  it("builds the caller policy from the execution ARN and stage", () => {
    expect(callerPolicy("arn:aws:execute-api:r:1:api", "prod").Statement[0].Resource).to.deep.equal(
      ["arn:aws:execute-api:r:1:api/prod/POST/jobs", "arn:aws:execute-api:r:1:api/prod/GET/jobs/*"],
    );
  });
});

describe("JobsApi alternatives: JWT authorizer, API keys, WAF, caller principals", () => {
  let jwt: JobsApi;
  let keyed: JobsApi;

  before(async () => {
    resetRecorded();
    jwt = new JobsApi("jwtjobs", {
      busArn: BUS,
      logRetentionDays: 7,
      auth: "jwt",
      jwt: {
        issuer: "https://id.example.com/",
        audience: "jobs",
        jwksUrl: "https://id.example.com/.well-known/jwks.json",
        resultTtlSeconds: 120,
      },
      wafRateLimit: 2000,
      throttle: { rateLimit: 20, burstLimit: 40 },
      processorRetryAttempts: 1,
    });
    keyed = new JobsApi("keyjobs", {
      busArn: BUS,
      logRetentionDays: 7,
      auth: "apiKey",
      apiKeyTier: { rateLimit: 5, burstLimit: 10, quota: 1000, period: "DAY" },
      apiKeyConsumers: ["ops", "batch"],
    });
    await valueOf(jwt.invokeUrl);
    await valueOf(keyed.apiKeyIds);
    await settle();
  });

  it("validates JWTs with a cached TOKEN authorizer that API Gateway may invoke", () => {
    expect(one("aws:apigateway/authorizer:Authorizer", "jwtjobs-jwt").inputs).to.deep.equal({
      restApi: "jwtjobs-id",
      name: "jwt",
      authorizerUri: invokeArn("jwtjobs-jwt"),
      type: "TOKEN",
      identitySource: "method.request.header.Authorization",
      identityValidationExpression: "^Bearer [-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+$",
      authorizerResultTtlInSeconds: 120,
    });
    expect(one("aws:lambda/permission:Permission", "jwtjobs-jwt").inputs).to.deep.equal({
      action: "lambda:InvokeFunction",
      function: "jwtjobs-jwt",
      principal: "apigateway.amazonaws.com",
      sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:jwtjobs/authorizers/jwtjobs-jwt-id`,
    });
    expect(
      one("aws:lambda/function:Function", "jwtjobs-jwt").inputs.environment.variables,
    ).to.deep.equal({
      JWT_ISSUER: "https://id.example.com/",
      JWT_AUDIENCE: "jobs",
      JWKS_URL: "https://id.example.com/.well-known/jwks.json",
      JWKS_CACHE_SECONDS: "3600",
    });
    for (const m of ofComponent("jwtjobs", "aws:apigateway/method:Method")) {
      expect(m.inputs).to.include({
        authorization: "CUSTOM",
        authorizerId: "jwtjobs-jwt-id",
        apiKeyRequired: false,
      });
    }
    expect(ofComponent("jwtjobs", "aws:iam/role:Role").map((r) => r.name)).to.not.include(
      "jwtjobs-caller",
    );
    expect(jwt.callerRoleArn).to.equal(undefined);
    expect(
      one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "jwtjobs-process")
        .inputs.maximumRetryAttempts,
    ).to.equal(1);
    expect(
      one("aws:apigateway/methodSettings:MethodSettings", "jwtjobs-v1").inputs.settings,
    ).to.include({ throttlingRateLimit: 20, throttlingBurstLimit: 40 });
  });

  it("rate-limits per IP with a WAF web ACL on the stage", () => {
    const acl = one("aws:wafv2/webAcl:WebAcl", "jwtjobs-waf").inputs;
    expect(acl.scope).to.equal("REGIONAL");
    expect(acl.defaultAction).to.deep.equal({ allow: {} });
    expect(acl.rules).to.deep.equal([
      {
        name: "rate-limit-per-ip",
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: { limit: 2000, aggregateKeyType: "IP", evaluationWindowSec: 300 },
        },
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: "jwtjobs-rate-limit",
          sampledRequestsEnabled: true,
        },
      },
    ]);
    expect(
      one("aws:wafv2/webAclAssociation:WebAclAssociation", "jwtjobs-waf").inputs,
    ).to.deep.equal({
      resourceArn: `arn:aws:apigateway:${REGION}::/restapis/jwtjobs-id/stages/v1`,
      webAclArn: `arn:aws:mock:${REGION}:${ACCOUNT}:WebAcl/jwtjobs-waf`,
    });
  });

  it("requires API keys on a usage plan with throttle and quota, one key per consumer", async () => {
    for (const m of ofComponent("keyjobs", "aws:apigateway/method:Method")) {
      expect(m.inputs).to.include({ authorization: "NONE", apiKeyRequired: true });
    }
    expect(one("aws:apigateway/usagePlan:UsagePlan", "keyjobs-jobs").inputs).to.deep.include({
      apiStages: [{ apiId: "keyjobs-id", stage: "v1", throttles: [] }],
      throttleSettings: { rateLimit: 5, burstLimit: 10 },
      quotaSettings: { limit: 1000, period: "DAY" },
    });
    const keys = ofComponent("keyjobs", "aws:apigateway/apiKey:ApiKey").map((k) => [
      k.name,
      k.inputs.enabled,
      k.inputs.value,
    ]);
    expect(keys.sort()).to.deep.equal([
      ["keyjobs-batch", true, undefined],
      ["keyjobs-ops", true, undefined],
    ]);
    const planKeys = ofComponent("keyjobs", "aws:apigateway/usagePlanKey:UsagePlanKey").map(
      (k) => k.inputs,
    );
    expect(planKeys.sort((a, b) => a.keyId.localeCompare(b.keyId))).to.deep.equal([
      { keyId: "keyjobs-batch-id", keyType: "API_KEY", usagePlanId: "keyjobs-jobs-id" },
      { keyId: "keyjobs-ops-id", keyType: "API_KEY", usagePlanId: "keyjobs-jobs-id" },
    ]);
    expect(await valueOf(keyed.apiKeyIds)).to.deep.equal({
      ops: "keyjobs-ops-id",
      batch: "keyjobs-batch-id",
    });
  });

  const invalid: Array<[string, object, string]> = [
    ["an unknown auth", { auth: "basic" }, 'auth must be one of iam, apiKey, jwt, got "basic"'],
    [
      "jwt without settings",
      { auth: "jwt" },
      'auth "jwt" needs jwt: { issuer, audience, jwksUrl }',
    ],
    [
      "a plain-http JWKS",
      { auth: "jwt", jwt: { issuer: "i", audience: "a", jwksUrl: "http://id.example.com/jwks" } },
      "jwt.jwksUrl must use https://",
    ],
    [
      "jwt settings under iam",
      { jwt: { issuer: "i", audience: "a", jwksUrl: "https://x" } },
      'jwt settings only apply when auth is "jwt", got auth "iam"',
    ],
    [
      "3 retries",
      { processorRetryAttempts: 3 },
      "processorRetryAttempts must be an integer from 0 to 2, got 3",
    ],
    [
      "a WAF limit of 5",
      { wafRateLimit: 5 },
      "wafRateLimit must be an integer from 10 to 2000000000, got 5",
    ],
    ["a TTL of 0 days", { jobTtlDays: 0 }, "jobTtlDays must be an integer from 1 to 365, got 0"],
    [
      "a bad principal",
      { callerPrincipals: ["bob"] },
      'callerPrincipals: "bob" must be an IAM role, user or account root ARN',
    ],
    [
      "a burst of 0",
      { throttle: { rateLimit: 1, burstLimit: 0 } },
      "throttle.burstLimit must be a whole number from 1 to 5000, got 0",
    ],
    [
      "a stage with a hyphen",
      { stageName: "v-1" },
      'stageName must be 1-64 letters, digits or underscores, got "v-1"',
    ],
  ];
  for (const [what, args, message] of invalid) {
    it(`refuses ${what}`, () => {
      expect(() =>
        validateJobsArgs("j", { busArn: BUS, logRetentionDays: 7, ...args } as any),
      ).to.throw(message);
    });
  }

  it("trusts only the configured principals when given", async () => {
    resetRecorded();
    const j = new JobsApi("pjobs", {
      busArn: BUS,
      logRetentionDays: 7,
      callerPrincipals: ["arn:aws:iam::111122223333:role/ci"],
    });
    await valueOf(j.callerRoleArn);
    await settle();
    expect(
      JSON.parse(one("aws:iam/role:Role", "pjobs-caller").inputs.assumeRolePolicy).Statement[0]
        .Principal,
    ).to.deep.equal({
      AWS: ["arn:aws:iam::111122223333:role/ci"],
    });
  });
});
