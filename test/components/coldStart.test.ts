// Every function the program declares loads and initializes without the AWS SDK: SDK packages and
// clients are loaded on first use (handlers/lib/lazy.ts), so a cold start that is answered without
// calling AWS never pays for them. Proven by running each serialized artifact in a fresh process
// whose runtime provides no SDK at all: init must succeed, and fail where provisioned concurrency
// asks for every client at init.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluateProgram, Program } from "../program";
import { functionArchives } from "../../components/lambda";
import { archiveEntries, LambdaHost, LambdaInvokeError, materialize } from "../../local/artifacts";

describe("cold start: no AWS SDK is loaded at init (dev stack)", () => {
  let program: Program;
  let noSdk: string;
  const dirs = new Map<string, string>();
  const hosts: LambdaHost[] = [];
  const declared = () =>
    program.resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => ({ name: r.name, env: (r.inputs.environment?.variables ?? {}) as Record<string, string> }));

  before(async () => {
    program = await evaluateProgram("dev");
    noSdk = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-no-sdk-")), "node_modules");
    fs.mkdirSync(noSdk);
    for (const { name } of declared()) dirs.set(name, await materialize(functionArchives.get(name)!));
  });
  after(async () => {
    for (const h of hosts) await h.stop();
  });

  it("declares the 13 functions of the dev stack, each calling the SDK somewhere", async () => {
    expect(declared().map((f) => f.name)).to.have.length(13);
    for (const { name } of declared()) {
      const index = (await archiveEntries(functionArchives.get(name)!)).find((e) => e.name === "__index.js")!.text!;
      expect(index, name).to.match(/require\("@aws-sdk\/client-[a-z-]+"\)/);
    }
  });

  it("initializes every function without the SDK on NODE_PATH", async () => {
    for (const { name, env } of declared()) {
      const host = await LambdaHost.start(dirs.get(name)!, { env: { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" }, runtimeModules: noSdk, functionName: name });
      hosts.push(host);
      expect(host.stderr, name).to.not.contain("Cannot find module");
    }
  });

  it("builds every client at init under provisioned concurrency (so init fails here without the SDK)", async () => {
    for (const { name, env } of declared()) {
      try {
        const host = await LambdaHost.start(dirs.get(name)!, { env: { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "provisioned-concurrency" }, runtimeModules: noSdk, functionName: name });
        hosts.push(host);
        expect.fail(`${name} initialized without building its clients`);
      } catch (e) {
        expect(e, name).to.be.instanceOf(LambdaInvokeError);
        expect((e as Error).message, name).to.match(/init failed: Cannot find module '@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)'/);
      }
    }
  });

  it("switchyard:lambdaClientInit=at-init builds every client at init in every function (and the default does not)", async () => {
    for (const { name, env } of declared()) expect(env, name).to.not.have.property("SWITCHYARD_CLIENT_INIT");
    const atInit = await evaluateProgram("dev", { lambdaClientInit: "at-init" });
    const fns = atInit.resources.filter((r) => r.type === "aws:lambda/function:Function");
    expect(fns).to.have.length(13);
    for (const f of fns) {
      const env = f.inputs.environment.variables as Record<string, string>;
      expect(env.SWITCHYARD_CLIENT_INIT, f.name).to.equal("at-init");
      try {
        const host = await LambdaHost.start(dirs.get(f.name)!, { env: { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" }, runtimeModules: noSdk, functionName: f.name });
        hosts.push(host);
        expect.fail(`${f.name} initialized without building its clients`);
      } catch (e) {
        expect((e as Error).message, f.name).to.match(/init failed: Cannot find module '@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)'/);
      }
    }
    // Prod commits at-init (Pulumi.prod.yaml): every one of its functions builds its clients at init.
    const prod = (await evaluateProgram("prod")).resources.filter((r) => r.type === "aws:lambda/function:Function");
    expect(prod.length).to.be.above(5);
    for (const f of prod) expect(f.inputs.environment.variables.SWITCHYARD_CLIENT_INIT, f.name).to.equal("at-init");
    // Back to the committed dev program for whatever runs next.
    await evaluateProgram("dev");
  });

  it("a webhook receiver answers a rejected request without the SDK, and loads it for the first request that needs it", async () => {
    const fn = declared().find((f) => f.name.endsWith("-webhooks-github"))!;
    const host = await LambdaHost.start(dirs.get(fn.name)!, { env: fn.env, runtimeModules: noSdk, functionName: fn.name });
    hosts.push(host);
    const request = (rawPath: string) => ({
      version: "2.0",
      rawPath,
      rawQueryString: "",
      headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00", "x-github-delivery": "d-1", "x-github-event": "ping" },
      requestContext: { domainName: "example.lambda-url.eu-west-1.on.aws", http: { method: "POST", path: rawPath } },
      body: "{}",
      isBase64Encoded: false,
    });
    const notFound = await host.invoke(request("/stripe"));
    expect(notFound.statusCode).to.equal(404);
    // The signature check needs the secret: Secrets Manager's package is loaded now, and missing here.
    const needsSecret = await host.invoke(request("/github"));
    expect(needsSecret.statusCode).to.equal(503);
    expect(host.stdout + host.stderr).to.contain("Cannot find module '@aws-sdk/client-secrets-manager'");
  });
});
