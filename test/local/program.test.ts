import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requiredSecrets } from "../../config/keys";
import { readConfig } from "../../config/read";
import { NAMESPACE } from "../../config/kinds";
import { DeclaredProgram, loadProgram, readStackConfig } from "../../local/program";
import { readSecrets, writeSecrets } from "../../local/secretsFile";
import { bundleEntriesHandedOver, reuseBundles } from "../../components/lambda";
import { archiveEntries } from "../../local/artifacts";
import { recorded, withStackTraces, withoutStackTraces } from "../../local/mocks";

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
    // The hand-over of entries to esbuild is under test: every bundle is built (test/setup.ts
    // reuses them).
    reuseBundles(false);
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
    reuseBundles();
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
    ).to.have.length(14);
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
  it("puts them back once overlapping evaluations have all ended, whichever ends first", async () => {
    const outside = [Error.stackTraceLimit, Error.prepareStackTrace];
    const off = () => [Error.stackTraceLimit, Error.prepareStackTrace];
    let endFirst!: () => void;
    let endSecond!: () => void;
    const first = withoutStackTraces(() => new Promise<void>((r) => (endFirst = r)));
    const second = withoutStackTraces(() => new Promise<void>((r) => (endSecond = r)));
    expect(off()).to.deep.equal([0, undefined]);
    // Work that is not an evaluation gets the outside traces, then the evaluations' again.
    expect(withStackTraces(() => [Error.stackTraceLimit, Error.prepareStackTrace])).to.deep.equal(
      outside,
    );
    expect(off()).to.deep.equal([0, undefined]);
    endFirst();
    await first;
    expect(off()).to.deep.equal([0, undefined]);
    endSecond();
    await second;
    expect(off()).to.deep.equal(outside);
  });

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

describe("local/secretsFile: the local secrets file", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-secrets-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is written all at once: a reader never sees part of it while other processes write it", async function () {
    this.timeout(60_000);
    const file = path.join(dir, "secrets.json");
    // Large enough that a write in place (truncate, then write) would be caught half done.
    const content = (n: number) =>
      Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key${i}`, `${n}`.repeat(100)]));
    writeSecrets(file, content(0));
    const writer = (n: number) =>
      spawn(
        process.execPath,
        [
          "-r",
          "ts-node/register/transpile-only",
          "-e",
          `const { writeSecrets } = require(${JSON.stringify(require.resolve("../../local/secretsFile"))});
           const content = Object.fromEntries(Array.from({ length: 400 }, (_, i) => ["key" + i, "${n}".repeat(100)]));
           for (let i = 0; i < 300; i++) writeSecrets(${JSON.stringify(file)}, content);`,
        ],
        { stdio: "inherit" },
      );
    const writers = [1, 2, 3].map(writer);
    const done = Promise.all(writers.map((w) => new Promise((r) => w.once("exit", r))));
    let running = true;
    void done.then(() => (running = false));
    let reads = 0;
    const seen = new Set<string>();
    try {
      while (running) {
        seen.add(readSecrets(file).key399.slice(0, 1));
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      // A failed read ends the test: its writers end with it.
      if (running) for (const w of writers) w.kill();
    }
    expect(await done).to.deep.equal([0, 0, 0]);
    expect(reads).to.be.greaterThan(100);
    // Whole contents only, the writers' own among them; no partial file is left beside it.
    expect([...seen].every((d) => ["0", "1", "2", "3"].includes(d))).to.equal(true);
    expect(seen.size).to.be.greaterThan(1);
    expect(fs.readdirSync(dir)).to.deep.equal(["secrets.json"]);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
  });

  it("gives processes that start together the same secrets, the ones the file keeps", async function () {
    this.timeout(60_000);
    const file = path.join(dir, "secrets.json");
    // Four processes wait (asleep) for the same moment, then each asks for the same five missing keys.
    const at = Date.now() + 2000;
    const runs = [1, 2, 3, 4].map(
      (n) =>
        new Promise<Record<string, string>>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              "-r",
              "ts-node/register/transpile-only",
              "-e",
              `const { secretInFile } = require(${JSON.stringify(require.resolve("../../local/secretsFile"))});
               Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ${at} - Date.now()));
               const got = {};
               for (const k of ["a", "b", "c", "d", "e"])
                 got[k] = secretInFile(${JSON.stringify(file)}, k, () => k + "-from-${n}").value;
               process.stdout.write(JSON.stringify(got));`,
            ],
            { stdio: ["ignore", "pipe", "inherit"] },
          );
          let out = "";
          child.stdout!.on("data", (c: Buffer) => (out += c));
          child.once("exit", (code) =>
            code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exited ${code}`)),
          );
        }),
    );
    const got = await Promise.all(runs);
    const kept = readSecrets(file);
    expect(Object.keys(kept).sort()).to.deep.equal(["a", "b", "c", "d", "e"]);
    for (const g of got) expect(g).to.deep.equal(kept);
    expect(fs.readdirSync(dir)).to.deep.equal(["secrets.json"]);
  });

  it("fails naming the file and the fix when it is not a JSON object of secrets", () => {
    const file = path.join(dir, "secrets.json");
    fs.writeFileSync(file, '{"recordsApiKey": ');
    expect(() => readSecrets(file)).to.throw(
      /secrets\.json is not valid JSON \(.*\): fix it, or delete it and the run generates new local secrets$/,
    );
    fs.writeFileSync(file, "[]");
    expect(() => readSecrets(file)).to.throw(
      /secrets\.json must hold a JSON object of secrets by config key: fix it, or delete it/,
    );
    expect(readSecrets(path.join(dir, "absent.json"))).to.deep.equal({});
  });
});
