// API Gateway throttling in the local REST APIs: token buckets (local/apiThrottles.ts), the stage's
// method throttling (MethodSettings `*/*` and a method's override), usage plans' throttles per key
// (plan-wide across the plan's stages, per method per stage) and quotas, answered as API Gateway
// answers (429, {"message":"Too Many Requests"} or {"message":"Limit Exceeded"}, x-amzn-ErrorType).
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiThrottles, quotaPeriod } from "../../local/apiThrottles";
import { LocalRestApi, methodPathKey } from "../../local/apigateway";
import { recorded, resetRecorded, settle, setupMocks } from "../../local/mocks";
import { SwitchyardLocal } from "../../local/runtime";
import { declareResources, declareStage } from "../../components/apigw/restApi";

/** Ports of this file's own servers (the upstream and the API). */
const UPSTREAM_PORT = 5700;
const API_PORT = 5701;
/** The first port of the local run's servers. */
const RUN_PORT = 5710;

async function call(
  url: string,
  key?: string,
): Promise<{ status: number; body: string; type?: string }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
    body: "{}",
  });
  return {
    status: res.status,
    body: await res.text(),
    type: res.headers.get("x-amzn-errortype") ?? undefined,
  };
}

const THROTTLED = {
  status: 429,
  body: '{"message":"Too Many Requests"}',
  type: "TooManyRequestsException",
};
const OVER_QUOTA = {
  status: 429,
  body: '{"message":"Limit Exceeded"}',
  type: "LimitExceededException",
};

describe("API Gateway throttles: token buckets", () => {
  it("lets a burst through, then refills at the rate", () => {
    let now = 0;
    const t = new ApiThrottles(() => now);
    const b = [{ key: "k", limit: { rate: 2, burst: 3 } }];
    expect([t.take(b), t.take(b), t.take(b), t.take(b)]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      "k",
    ]);
    now = 499; // 0.998 of a token
    expect(t.take(b)).to.equal("k");
    now = 500;
    expect(t.take(b)).to.equal(undefined);
    expect(t.take(b)).to.equal("k");
  });

  it("takes a token from every bucket or from none", () => {
    const t = new ApiThrottles(() => 0);
    const wide = { key: "plan", limit: { rate: 1, burst: 5 } };
    const narrow = { key: "method", limit: { rate: 1, burst: 1 } };
    expect(t.take([wide, narrow])).to.equal(undefined);
    expect(t.take([wide, narrow])).to.equal("method");
    // The refused call took nothing from the plan's bucket: 4 tokens are left.
    expect([1, 2, 3, 4, 5].map(() => t.take([wide]))).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
      "plan",
    ]);
  });

  it("does not throttle unset limits (-1), and a burst of 0 refuses everything", () => {
    const t = new ApiThrottles(() => 0);
    for (let i = 0; i < 100; i++)
      expect(t.take([{ key: "u", limit: { rate: -1 } }])).to.equal(undefined);
    expect(t.take([{ key: "z", limit: { rate: 10, burst: 0 } }])).to.equal("z");
  });

  it("counts a quota per UTC period and stops at its limit", () => {
    let now = Date.parse("2026-03-01T23:59:59Z");
    const t = new ApiThrottles(() => now);
    const q = { limit: 2, period: "DAY" };
    expect([t.count("k", q), t.count("k", q), t.count("k", q)]).to.deep.equal([true, true, false]);
    now = Date.parse("2026-03-02T00:00:00Z");
    expect(t.count("k", q)).to.equal(true);
    expect(quotaPeriod("MONTH", new Date(now))).to.equal("2026-03");
  });

  it("reads MethodSettings method paths, escaped or not, as a route's", () => {
    expect(methodPathKey("records/POST")).to.equal(methodPathKey("/records/POST"));
    expect(methodPathKey("~1records~1{id}/GET")).to.equal(methodPathKey("/records/{id}/GET"));
    expect(methodPathKey("~1/GET")).to.equal(methodPathKey("//GET"));
  });
});

describe("API Gateway throttles: the records gateway as the program declares it", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;
  let url: string;
  let keys: Record<string, string>;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      basePort: RUN_PORT,
      log: () => undefined,
      configOverrides: {
        // Stage throttle: each method 1 request/s, burst 3.
        "switchyard:recordsGatewayRateLimit": "1",
        "switchyard:recordsGatewayBurstLimit": "3",
        "switchyard:recordsGatewayTiers": JSON.stringify({
          roomy: { rateLimit: 1000, burstLimit: 1000 },
          // A per-method throttle on the plan's stage: POST /records at burst 1.
          narrow: {
            rateLimit: 1000,
            burstLimit: 1000,
            throttles: { "/records/POST": { rateLimit: 1, burstLimit: 1 } },
          },
        }),
        "switchyard:recordsGatewayConsumers": JSON.stringify({ big: "roomy", picky: "narrow" }),
      },
    });
    const name = Object.keys(local.restApis).find((n) => n.endsWith("-records-gw"))!;
    url = local.apiUrls[name];
    keys = local.restApis[name].apiKeys;
  });
  after(async () => local?.stop());

  const keyOf = (consumer: string) => Object.entries(keys).find(([k]) => k.endsWith(consumer))![1];

  it("applies the plan's per-method throttle to that method only, before the stage's", async () => {
    const first = await call(`${url}/records`, keyOf("picky"));
    const second = await call(`${url}/records`, keyOf("picky"));
    expect(first.status).to.not.equal(429);
    expect(second).to.deep.equal(THROTTLED);
  });

  it("throttles every caller past the stage's burst with API Gateway's 429", async () => {
    // The stage's bucket for POST /records holds 3 tokens; "picky" took one above.
    const out = [];
    for (let i = 0; i < 3; i++) out.push(await call(`${url}/records`, keyOf("big")));
    expect(out.slice(0, 2).map((r) => r.status)).to.not.include(429);
    expect(out[2]).to.deep.equal(THROTTLED);
    expect(local.logLines.some((l) => /throttled \(stage .*\/records\/POST\)/.test(l))).to.equal(
      true,
    );
  });
});

describe("API Gateway throttles: two stages of one API, method overrides, usage plans across stages", function () {
  this.timeout(60_000);
  let upstream: http.Server;
  let server: http.Server;
  let api: LocalRestApi;
  let base: string;

  before(async () => {
    upstream = http.createServer((_req, res) => res.writeHead(200).end('{"ok":true}'));
    await new Promise<void>((r) => upstream.listen(UPSTREAM_PORT, "127.0.0.1", r));

    // The declarations, evaluated under the mocks as the local runtime evaluates the program.
    setupMocks({}, "throttles");
    resetRecorded();
    const parent = new pulumi.ComponentResource("switchyard:test:Api", "thr", {}, {});
    const restApi = new aws.apigateway.RestApi("thr", { name: "thr" }, { parent });
    const ids = declareResources("thr", restApi, ["/items", "/other"], parent);
    const deps: pulumi.Resource[] = [];
    for (const path of ["/items", "/other"]) {
      const m = new aws.apigateway.Method(
        `thr${path}`,
        {
          restApi: restApi.id,
          resourceId: ids[path],
          httpMethod: "POST",
          authorization: "NONE",
          apiKeyRequired: path === "/items",
        },
        { parent },
      );
      const i = new aws.apigateway.Integration(
        `thr${path}`,
        {
          restApi: restApi.id,
          resourceId: ids[path],
          httpMethod: "POST",
          type: "HTTP_PROXY",
          integrationHttpMethod: "POST",
          uri: `http://127.0.0.1:${UPSTREAM_PORT}/echo`,
        },
        { parent },
      );
      deps.push(m, i);
    }
    for (const stageName of ["v1", "v2"])
      declareStage(
        `thr-${stageName}`,
        {
          api: restApi,
          stageName,
          redeployHash: "x",
          dependsOn: deps,
          logRetentionDays: 1,
          xrayTracing: false,
          metrics: false,
          throttle: { rateLimit: 1000, burstLimit: 1000 },
        },
        parent,
      );
    // One method's override on stage v1.
    new aws.apigateway.MethodSettings(
      "thr-v1-other",
      {
        restApi: restApi.id,
        stageName: "v1",
        methodPath: "other/POST",
        settings: { throttlingRateLimit: 1, throttlingBurstLimit: 1 },
      },
      { parent },
    );
    const plan = (
      name: string,
      args: Partial<aws.apigateway.UsagePlanArgs>,
      perMethod?: object,
    ) => {
      const p = new aws.apigateway.UsagePlan(
        `thr-${name}`,
        {
          apiStages: ["v1", "v2"].map((stage) => ({
            apiId: restApi.id,
            stage,
            throttles: perMethod ? [{ path: "/items/POST", ...perMethod }] : [],
          })),
          ...args,
        },
        { parent },
      );
      const key = new aws.apigateway.ApiKey(
        `thr-${name}`,
        { name, value: `key-${name}-0123456789abcdef` },
        { parent },
      );
      new aws.apigateway.UsagePlanKey(
        `thr-${name}`,
        { keyId: key.id, keyType: "API_KEY", usagePlanId: p.id },
        { parent },
      );
    };
    // Per-method throttle, burst 2, on each stage; the plan-wide one out of the way.
    plan(
      "permethod",
      { throttleSettings: { rateLimit: 1000, burstLimit: 1000 } },
      { rateLimit: 0.01, burstLimit: 2 },
    );
    // Plan-wide throttle, burst 3.
    plan("planwide", { throttleSettings: { rateLimit: 0.01, burstLimit: 3 } });
    // Quota of 3 a day.
    plan("quota", {
      throttleSettings: { rateLimit: 1000, burstLimit: 1000 },
      quotaSettings: { limit: 3, period: "DAY" },
    });
    await settle();
    const declared = [...recorded];
    api = new LocalRestApi(
      declared.find((r) => r.type === "aws:apigateway/restApi:RestApi")!,
      declared,
      {
        invokeLambda: async () => {
          throw new Error("no function in this API");
        },
        rewriteUrl: (u) => u,
        log: () => undefined,
        throttles: new ApiThrottles(),
      },
    );
    server = http.createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((r) => server.listen(API_PORT, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    await new Promise((r) => upstream?.close(r));
  });

  it("serves every declared stage of the API under its name", async () => {
    expect((await call(`${base}/v1/other`)).status).to.equal(200);
    expect((await call(`${base}/v2/other`)).status).to.equal(200);
    const unknown = await call(`${base}/v3/other`);
    expect(unknown).to.deep.equal({
      status: 403,
      body: '{"message":"Missing Authentication Token"}',
      type: "MissingAuthenticationTokenException",
    });
  });

  it("applies a MethodSettings override to its method on its stage only", async () => {
    // v1's /other took its one token above.
    expect(await call(`${base}/v1/other`)).to.deep.equal(THROTTLED);
    const v2 = [await call(`${base}/v2/other`), await call(`${base}/v2/other`)];
    expect(v2.map((r) => r.status)).to.deep.equal([200, 200]);
  });

  it("meters a usage plan's per-method throttle per stage: each stage has its own bucket", async () => {
    const key = "key-permethod-0123456789abcdef";
    const v1 = [];
    for (let i = 0; i < 3; i++) v1.push(await call(`${base}/v1/items`, key));
    expect(v1.map((r) => r.status)).to.deep.equal([200, 200, 429]);
    expect(v1[2]).to.deep.equal(THROTTLED);
    const v2 = [];
    for (let i = 0; i < 3; i++) v2.push(await call(`${base}/v2/items`, key));
    expect(v2.map((r) => r.status)).to.deep.equal([200, 200, 429]);
  });

  it("meters a usage plan's own throttle per key across all its stages, as API Gateway does", async () => {
    const key = "key-planwide-0123456789abcdef";
    const out = [
      await call(`${base}/v1/items`, key),
      await call(`${base}/v2/items`, key),
      await call(`${base}/v1/items`, key),
      await call(`${base}/v2/items`, key),
    ];
    expect(out.map((r) => r.status)).to.deep.equal([200, 200, 200, 429]);
    expect(out[3]).to.deep.equal(THROTTLED);
  });

  it("counts a usage plan's quota per key across its stages and answers Limit Exceeded past it", async () => {
    const key = "key-quota-0123456789abcdef";
    const out = [
      await call(`${base}/v1/items`, key),
      await call(`${base}/v2/items`, key),
      await call(`${base}/v1/items`, key),
      await call(`${base}/v2/items`, key),
    ];
    expect(out.map((r) => r.status)).to.deep.equal([200, 200, 200, 429]);
    expect(out[3]).to.deep.equal(OVER_QUOTA);
  });

  it("refuses a key that is on no plan of the API with 403", async () => {
    expect(await call(`${base}/v1/items`, "not-a-key")).to.deep.equal({
      status: 403,
      body: '{"message":"Forbidden"}',
      type: "ForbiddenException",
    });
  });
});
