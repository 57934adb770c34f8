import { expect } from "chai";
import { requiredSecrets } from "../../config/keys";
import { readConfig } from "../../config/read";
import { NAMESPACE } from "../../config/kinds";
import { DeclaredProgram, loadProgram, readStackConfig } from "../../local/program";
import { bundleEntriesHandedOver } from "../../components/lambda";
import { archiveEntries } from "../../local/artifacts";
import { recorded, withoutStackTraces } from "../../local/mocks";

describe("local/program: the program evaluated once for a local run", () => {
  const saved = { ...process.env };
  const stackConfig = readStackConfig("dev");
  const required = requiredSecrets(
    readConfig((k) => stackConfig[`${NAMESPACE}:${k}`], "dev").webhookProviders,
  );

  // One evaluation serves the tests below: what `meanwhile` saw when it ran, and the program.
  const seen: Array<{
    resources: number;
    functions: number;
    entries: number;
    traces: [number, unknown];
  }> = [];
  const outside = (): [number, unknown] => [Error.stackTraceLimit, Error.prepareStackTrace];
  let tracesBefore: [number, unknown];
  let tracesAfter: [number, unknown];
  let entriesBefore = 0;
  let program: DeclaredProgram;

  before(async () => {
    // Every secret the dev stack requires comes from the environment, plus a rotated-out one.
    for (const { key } of required) process.env[`SWITCHYARD_${key.toUpperCase()}`] = `env-${key}`;
    process.env.SWITCHYARD_GITHUBWEBHOOKSECRETPREVIOUS = "env-github-previous";
    entriesBefore = bundleEntriesHandedOver();
    tracesBefore = outside();
    program = await loadProgram("dev", {}, undefined, () => {
      seen.push({
        resources: recorded.length,
        functions: recorded.filter((r) => r.type === "aws:lambda/function:Function").length,
        entries: bundleEntriesHandedOver(),
        traces: outside(),
      });
    });
    tracesAfter = outside();
  });
  after(() => {
    process.env = saved;
  });

  it("gives the program each required secret up front and generates none", () => {
    expect(required.map((s) => s.key)).to.include.members(["recordsApiKey", "githubWebhookSecret"]);
    expect(program.generatedSecrets).to.deep.equal([]);
    for (const { key } of required) {
      expect(program.config[`${NAMESPACE}:${key}`]).to.equal(`env-${key}`);
    }
    // Nothing was generated, so nothing was written: localSecret writes .switchyard/secrets.json
    // only for a secret it generates. (Comparing the file before and after raced with other test
    // files, whose twins write it from parallel workers.)
  });

  it("passes a webhook secret being rotated out (SWITCHYARD_<KEY>PREVIOUS) to the receiver", () => {
    expect(program.config[`${NAMESPACE}:githubWebhookSecretPrevious`]).to.equal(
      "env-github-previous",
    );
    const version = program.resources.find(
      (r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && /github/.test(r.name),
    );
    expect(version, "the GitHub receiver's signing secret version").to.not.equal(undefined);
    // A secret input is recorded as Pulumi's secret wrapper: { <sig>: ..., value }.
    const secretString = version!.inputs.secretString;
    expect(secretString).to.be.an("object");
    expect(JSON.parse(secretString.value)).to.deep.equal({
      current: "env-githubWebhookSecret",
      previous: "env-github-previous",
    });
  });

  it("runs `meanwhile` once the program is declared, while its functions are still being bundled", async () => {
    expect(seen).to.have.length(1);
    // Declared: the bus, tables and queues are registered. Bundling: a function registers only once
    // esbuild has returned its code, and none has yet.
    expect(seen[0].resources).to.be.greaterThan(50);
    expect(seen[0].functions).to.equal(0);
    // And esbuild held every entry by then (one per distinct bundle: the five receivers share
    // theirs), none was handed over after: it asks this process for nothing more.
    const bundles = new Set(
      await Promise.all(
        [...program.archives.values()].map(async (a) => (await archiveEntries(a))[0].text),
      ),
    );
    expect(bundles.size).to.be.greaterThan(1);
    expect(seen[0].entries - entriesBefore).to.equal(bundles.size);
    expect(bundleEntriesHandedOver()).to.equal(seen[0].entries);
    expect(
      program.resources.filter((r) => r.type === "aws:lambda/function:Function"),
    ).to.have.length(13);
  });

  it("gives `meanwhile` the stack traces of outside the evaluation, and puts them back after", () => {
    // ts-node's source-map support formats stack traces here; the evaluation turns it off.
    expect(tracesBefore[0]).to.be.greaterThan(0);
    expect(tracesBefore[1]).to.be.a("function");
    expect(seen[0].traces).to.deep.equal(tracesBefore);
    expect(tracesAfter).to.deep.equal(tracesBefore);
  });

  it("fails with the error of a `meanwhile` that throws", async () => {
    const err = await loadProgram("dev", {}, undefined, () => {
      throw new Error("a serving module failed to load");
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal("a serving module failed to load");
  });
});

describe("local/mocks: withoutStackTraces", () => {
  it("runs with no frames and V8's own formatting, then puts ts-node's back", async () => {
    const outside = [Error.stackTraceLimit, Error.prepareStackTrace];
    const during = await withoutStackTraces(async () => {
      // As Pulumi's Resource.callsites() does: lift the limit, read a stack.
      Error.stackTraceLimit = Infinity;
      const stack = new Error("probe").stack ?? "";
      Error.stackTraceLimit = 0;
      return { prepare: Error.prepareStackTrace, firstFrame: stack.split("\n")[1] ?? "" };
    });
    expect(during.prepare).to.equal(undefined);
    // A frame of this file, as V8 formats it: the path ts-node loaded it from.
    expect(during.firstFrame).to.match(/^\s+at .*program\.test\.ts:\d+:\d+\)?$/);
    expect([Error.stackTraceLimit, Error.prepareStackTrace]).to.deep.equal(outside);
  });
});
