import { expect } from "chai";
import { one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import { archiveEntries, LambdaHost, materialize } from "../../local/artifacts";
import * as pulumi from "@pulumi/pulumi";
import {
  BundleReport,
  bundleArchive,
  bundleEntriesHandedOver,
  bundleReports,
  functionArchives,
  entrySource,
  PROJECT_CODE,
  reuseBundles,
  SwitchyardFunction,
} from "../../components/lambda";

describe("SwitchyardFunction", () => {
  let fn: SwitchyardFunction;
  let host: LambdaHost | undefined;

  before(async () => {
    // What esbuild builds is under test here: every bundle is built (test/setup.ts reuses them).
    reuseBundles(false);
    resetRecorded();
    fn = new SwitchyardFunction("probe", {
      logRetentionDays: 7,
      timeout: 2,
      grants: [
        {
          actions: ["dynamodb:GetItem"],
          resources: [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t`],
        },
      ],
      environment: { PROBE_TABLE: "t" },
      handler: { module: "test/fixtures/probeHandler", factory: "createProbe" },
    });
    await valueOf(fn.function.arn);
    await settle();
  });
  after(async () => {
    reuseBundles();
    await host?.stop();
  });

  it("declares arm64 nodejs22.x with JSON logs in its own log group", () => {
    const f = one("aws:lambda/function:Function", "probe").inputs;
    expect(f.runtime).to.equal("nodejs22.x");
    expect(f.architectures).to.deep.equal(["arm64"]);
    expect(f.timeout).to.equal(2);
    expect(f.loggingConfig).to.deep.equal({ logFormat: "JSON", logGroup: "probe" });
    expect(f.environment).to.deep.equal({ variables: { PROBE_TABLE: "t" } });
    expect(f.role).to.equal(`arn:aws:iam::${ACCOUNT}:role/probe`);
    expect(one("aws:cloudwatch/logGroup:LogGroup", "probe").inputs.retentionInDays).to.equal(7);
  });

  it("grants only its own logs and the listed grants", () => {
    const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", "probe").inputs.policy);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:probe:*`,
      },
      {
        Effect: "Allow",
        Action: ["dynamodb:GetItem"],
        Resource: [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t`],
      },
    ]);
    const trust = JSON.parse(one("aws:iam/role:Role", "probe").inputs.assumeRolePolicy);
    expect(trust.Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });

  it("uploads one bundled __index.js: the handler and Powertools, not the AWS SDK that the runtime provides", async () => {
    const entries = await archiveEntries(functionArchives.get("probe")!);
    expect(entries.map((e) => e.name)).to.deep.equal(["__index.js"]);
    const report = await new Promise<BundleReport>((r) => bundleReports.get("probe")!.apply(r));
    // Only what the handler reaches: not every dependency of package.json.
    expect(Object.keys(report.inputs).sort()).to.deep.equal([
      PROJECT_CODE,
      "@aws-lambda-powertools/commons",
      "@aws-lambda-powertools/logger",
      "@aws/lambda-invoke-store",
    ]);
    expect(report.external).to.deep.equal(["@aws-sdk/client-dynamodb"]);
    expect(report.bytes).to.equal(Buffer.byteLength(entries[0].text!));
    // The SDK is required from the runtime, never copied in.
    expect(entries[0].text).to.contain('require("@aws-sdk/client-dynamodb")');
    expect(entries[0].text).to.not.match(/node_modules\/@(aws-sdk|smithy)\//);
  });

  it("fails the preview with the module's name when the handler requires a package that is not installed", async () => {
    try {
      await bundleArchive({ module: "test/fixtures/missingPackage", factory: "createMissing" });
      expect.fail("should not bundle");
    } catch (e) {
      expect((e as Error).message).to.contain(
        "bundling test/fixtures/missingPackage.createMissing: test/fixtures/missingPackage.ts:",
      );
      expect((e as Error).message).to.contain('Could not resolve "switchyard-not-installed-pkg"');
    }
  });

  it("fails the preview naming a handler module or factory that does not exist", async () => {
    const failure = (h: { module: string; factory: string }) =>
      bundleArchive(h).then(
        () => "bundled",
        (e: Error) => e.message,
      );
    expect(await failure({ module: "handlers/jobs/nope", factory: "createNope" })).to.contain(
      'Could not resolve "./handlers/jobs/nope"',
    );
    expect(await failure({ module: "handlers/jobs/get", factory: "createNope" })).to.contain(
      'No matching export in "handlers/jobs/get.ts" for import "createNope"',
    );
  });

  it("bundles a function the same alone and in one build with others, whatever comes before it", async () => {
    const text = async (b: Promise<{ archive: pulumi.asset.AssetArchive }>) =>
      (await archiveEntries((await b).archive))[0].text;
    const get = { module: "handlers/jobs/get", factory: "createGet" };
    const alone = await text(bundleArchive(get));
    const [first, , last] = await Promise.all([
      text(bundleArchive(get)),
      text(bundleArchive({ module: "handlers/jobs/submit", factory: "createSubmit" })),
      text(bundleArchive(get)),
    ]);
    const afterOthers = await Promise.all([
      text(bundleArchive({ module: "handlers/jobs/process", factory: "createProcess" })),
      text(bundleArchive(get)),
    ]);
    expect(alone).to.contain("createGet");
    expect([first, last, afterOthers[1]]).to.deep.equal([alone, alone, alone]);
    // A batch with one module that cannot be bundled fails that one alone.
    const [bad, good] = await Promise.allSettled([
      bundleArchive({ module: "handlers/jobs/nope", factory: "createNope" }),
      bundleArchive(get),
    ]);
    expect(bad.status).to.equal("rejected");
    expect(good.status === "fulfilled" && (await text(Promise.resolve(good.value)))).to.equal(
      alone,
    );
  });

  it("writes the factory's arguments into the entry as JSON, and refuses an Output among them", () => {
    expect(entrySource({ module: "handlers/x", factory: "createX", args: [{ a: [1, "b"] }, 2] })).to
      .equal(`import { createX as factory } from "./handlers/x";
export const handler = factory({"a":[1,"b"]}, 2);
`);
    expect(() =>
      entrySource({
        module: "handlers/x",
        factory: "createX",
        args: [{ key: pulumi.output("k") }],
      }),
    ).to.throw("handlers/x.createX: argument.key is a pulumi.Output");
    expect(() => entrySource({ module: "../outside", factory: "createX" })).to.throw(
      "a function's handler module must be a path from the project root",
    );
    expect(() => entrySource({ module: "handlers/x", factory: "create-x" })).to.throw(
      "a function's handler factory must be an exported name",
    );
  });

  it("runs its bundled __index.js in a fresh Node process", async () => {
    const dir = await materialize(functionArchives.get("probe")!);
    host = await LambdaHost.start(dir, { env: { PROBE_TABLE: "t" }, timeoutSeconds: 2 });
    const out = await host.invoke({ value: "abc" }, "req-1");
    expect(out).to.deep.equal({
      table: "t",
      sdkVersion: "function",
      sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    });
    // Powertools' logger wrote a JSON line with the request id.
    const line = host.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((l) => l.message === "probe");
    expect(line).to.include({ requestId: "req-1", service: "probe", level: "INFO" });
  });

  it("reports a handler error and a timeout the way Lambda does", async () => {
    try {
      await host!.invoke({ value: "x", fail: true });
      expect.fail("should have thrown");
    } catch (e: any) {
      expect(e.name).to.equal("Error");
      expect(e.message).to.equal("asked to fail for x");
    }
    try {
      await host!.invoke({ value: "x", sleepMs: 5000 });
      expect.fail("should have timed out");
    } catch (e: any) {
      expect(e.name).to.equal("Sandbox.Timedout");
      expect(e.message).to.equal("Task timed out after 2 seconds");
    }
  });

  it("fails at cold start naming a missing environment variable", async () => {
    const dir = await materialize(functionArchives.get("probe")!);
    try {
      await LambdaHost.start(dir, { env: {} });
      expect.fail("should not start");
    } catch (e: any) {
      expect(e.message).to.contain("PROBE_TABLE is not set");
    }
  });
});

describe("reuseBundles: a test worker's bundles, built once per entry", () => {
  const get = { module: "handlers/jobs/get", factory: "createGet" };
  beforeEach(() => reuseBundles(false));
  after(() => reuseBundles());

  it("gives an entry bundled before its bundle again, without asking esbuild", async () => {
    reuseBundles();
    const first = await bundleArchive(get);
    const handed = bundleEntriesHandedOver();
    const again = await bundleArchive(get);
    expect(again).to.equal(first);
    expect(bundleEntriesHandedOver(), "entries handed to esbuild").to.equal(handed);
    // Another entry (other arguments) is built.
    await bundleArchive({ ...get, args: [{ note: "other" }] });
    expect(bundleEntriesHandedOver()).to.equal(handed + 1);
  });

  it("builds every bundle anew when off, and keeps no failed build when on", async () => {
    const first = await bundleArchive(get);
    const handed = bundleEntriesHandedOver();
    const second = await bundleArchive(get);
    expect(second).to.not.equal(first);
    expect(bundleEntriesHandedOver()).to.equal(handed + 1);
    reuseBundles();
    const nope = { module: "handlers/jobs/nope", factory: "createNope" };
    for (let i = 0; i < 2; i++) {
      const before = bundleEntriesHandedOver();
      const failed = await bundleArchive(nope).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(failed?.message, `attempt ${i + 1}`).to.contain("bundling handlers/jobs/nope");
      // Asked of esbuild each time: the failure was not kept.
      expect(bundleEntriesHandedOver(), `attempt ${i + 1}`).to.equal(before + 1);
    }
  });
});
