// Where each function loads the AWS SDK (handlers/lib/lazy.ts), proven by running every bundled
// artifact of the program in a fresh process whose runtime provides a stand-in SDK: each package a
// bundle requires is present, but loading it throws "stub SDK <package> loaded". Init must not load
// any of them (only resolve them); under provisioned concurrency or switchyard:lambdaClientInit =
// at-init it must load them; and a runtime without a package fails init naming it.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluateProgram, Program } from "../program";
import { BundleReport, bundleReports, functionArchives } from "../../components/lambda";
import {
  lambdaRuntimeModules,
  LambdaHost,
  LambdaInvokeError,
  materialize,
} from "../../local/artifacts";

const reportOf = (name: string) =>
  new Promise<BundleReport>((r) => bundleReports.get(name)!.apply(r));

/** A node_modules folder whose packages exist but throw when loaded. */
function stubRuntime(packages: string[]): string {
  const modules = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-stub-sdk-")),
    "node_modules",
  );
  for (const p of packages) {
    fs.mkdirSync(path.join(modules, p), { recursive: true });
    fs.writeFileSync(
      path.join(modules, p, "package.json"),
      JSON.stringify({ name: p, version: "0.0.0-stub", main: "index.js" }),
    );
    fs.writeFileSync(
      path.join(modules, p, "index.js"),
      `throw new Error("stub SDK ${p} loaded");\n`,
    );
  }
  return modules;
}

describe("cold start: where functions load the AWS SDK (dev stack)", () => {
  let program: Program;
  let stubSdk: string;
  let noSdk: string;
  const dirs = new Map<string, string>();
  const hosts: LambdaHost[] = [];
  const declared = () =>
    program.resources
      .filter((r) => r.type === "aws:lambda/function:Function")
      .map((r) => ({
        name: r.name,
        env: (r.inputs.environment?.variables ?? {}) as Record<string, string>,
      }));
  const start = async (name: string, env: Record<string, string>, runtimeModules: string) => {
    const host = await LambdaHost.start(dirs.get(name)!, {
      env,
      runtimeModules,
      functionName: name,
    });
    hosts.push(host);
    return host;
  };
  const initFailure = async (
    name: string,
    env: Record<string, string>,
    runtimeModules: string,
  ): Promise<string> => {
    try {
      await start(name, env, runtimeModules);
    } catch (e) {
      expect(e, name).to.be.instanceOf(LambdaInvokeError);
      return (e as Error).message;
    }
    return expect.fail(`${name} initialized`);
  };

  before(async () => {
    program = await evaluateProgram("dev");
    const external = new Set<string>();
    for (const { name } of declared()) {
      dirs.set(name, await materialize(functionArchives.get(name)!));
      for (const p of (await reportOf(name)).external) external.add(p);
    }
    stubSdk = stubRuntime([...external]);
    noSdk = stubRuntime([]);
  });
  after(async () => {
    for (const h of hosts) await h.stop();
  });

  it("declares the 14 functions of the dev stack, each requiring SDK packages from the runtime", async () => {
    expect(declared()).to.have.length(14);
    for (const { name } of declared())
      expect((await reportOf(name)).external, name).to.not.be.empty;
  });

  it("initializes every function without loading an SDK package", async () => {
    for (const { name, env } of declared()) {
      const host = await start(
        name,
        { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" },
        stubSdk,
      );
      expect(host.stderr, name).to.not.contain("stub SDK");
    }
  });

  it("fails init naming an SDK package the runtime lacks (resolved at init, not loaded)", async () => {
    for (const { name, env } of declared()) {
      const message = await initFailure(
        name,
        { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" },
        noSdk,
      );
      expect(message, name).to.match(
        /^init failed: Cannot find module '@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb|util-dynamodb)'/,
      );
    }
  });

  it("loads the SDK at init under provisioned concurrency", async () => {
    for (const { name, env } of declared()) {
      const message = await initFailure(
        name,
        { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "provisioned-concurrency" },
        stubSdk,
      );
      expect(message, name).to.match(
        /^init failed: stub SDK @aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb) loaded/,
      );
    }
  });

  it("switchyard:lambdaClientInit=at-init loads the SDK at init in every function; prod commits it, dev does not", async () => {
    for (const { name, env } of declared())
      expect(env, name).to.not.have.property("SWITCHYARD_CLIENT_INIT");
    const atInit = (await evaluateProgram("dev", { lambdaClientInit: "at-init" })).resources.filter(
      (r) => r.type === "aws:lambda/function:Function",
    );
    expect(atInit).to.have.length(14);
    for (const f of atInit) {
      const env = f.inputs.environment.variables as Record<string, string>;
      expect(env.SWITCHYARD_CLIENT_INIT, f.name).to.equal("at-init");
      const message = await initFailure(
        f.name,
        { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" },
        stubSdk,
      );
      expect(message, f.name).to.match(
        /^init failed: stub SDK @aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb) loaded/,
      );
    }
    const prod = (await evaluateProgram("prod")).resources.filter(
      (r) => r.type === "aws:lambda/function:Function",
    );
    expect(prod.length).to.be.above(5);
    for (const f of prod)
      expect(f.inputs.environment.variables.SWITCHYARD_CLIENT_INIT, f.name).to.equal("at-init");
    // Back to the committed dev program for whatever runs next.
    await evaluateProgram("dev");
  });

  it("a webhook receiver built at init leaves S3 (oversized payloads only) for its first use", async () => {
    // The runtime's real SDK, but for client-s3, which throws when loaded.
    const real = lambdaRuntimeModules();
    const modules = stubRuntime(["@aws-sdk/client-s3"]);
    for (const scope of fs.readdirSync(real)) {
      for (const pkg of scope.startsWith("@")
        ? fs.readdirSync(path.join(real, scope)).map((p) => `${scope}/${p}`)
        : [scope]) {
        if (pkg === "@aws-sdk/client-s3") continue;
        fs.mkdirSync(path.dirname(path.join(modules, pkg)), { recursive: true });
        fs.symlinkSync(fs.realpathSync(path.join(real, pkg)), path.join(modules, pkg), "dir");
      }
    }
    const fn = declared().find((f) => f.name.endsWith("-webhooks-github"))!;
    expect(fn.env.PAYLOAD_BUCKET, "dev stores oversized payloads").to.be.a("string");
    const host = await start(fn.name, { ...fn.env, SWITCHYARD_CLIENT_INIT: "at-init" }, modules);
    expect(host.stdout + host.stderr).to.not.contain("stub SDK");
    // The other clients were built: without the SDK at all, the same init fails.
    const message = await initFailure(
      fn.name,
      { ...fn.env, SWITCHYARD_CLIENT_INIT: "at-init" },
      stubSdk,
    );
    expect(message).to.match(
      /^init failed: stub SDK @aws-sdk\/client-(eventbridge|secrets-manager|dynamodb) loaded/,
    );
  });

  it("a webhook receiver answers a misrouted request without the SDK, and loads it for the first request that needs it", async () => {
    const fn = declared().find((f) => f.name.endsWith("-webhooks-github"))!;
    const host = await start(fn.name, fn.env, stubSdk);
    const request = (rawPath: string) => ({
      version: "2.0",
      rawPath,
      rawQueryString: "",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": "sha256=00",
        "x-github-delivery": "d-1",
        "x-github-event": "ping",
      },
      requestContext: {
        domainName: "example.lambda-url.eu-west-1.on.aws",
        http: { method: "POST", path: rawPath },
      },
      body: "{}",
      isBase64Encoded: false,
    });
    expect((await host.invoke(request("/stripe"))).statusCode).to.equal(404);
    expect(host.stdout + host.stderr).to.not.contain("stub SDK");
    // The signature check needs the secret: Secrets Manager's package is loaded now.
    expect((await host.invoke(request("/github"))).statusCode).to.equal(503);
    expect(host.stdout + host.stderr).to.contain("stub SDK @aws-sdk/client-secrets-manager loaded");
  });
});
