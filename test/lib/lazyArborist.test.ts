// @pulumi/pulumi requires npm's arborist as it loads; lib/lazyArborist.ts defers that load, in the
// program (index.ts imports it first) and in the processes this project starts (local/polyfills.ts).
// Each case runs in a fresh Node process, since this worker loaded @pulumi/pulumi long ago.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { deferArborist } from "../../lib/lazyArborist";

const ROOT = path.join(__dirname, "..", "..");

/** Runs `script` in a fresh Node process with ts-node, in the project root; its stdout as JSON. */
function inFreshProcess(script: string): any {
  const out = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "-e", script],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, TS_NODE_PROJECT: "tsconfig.json" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return JSON.parse(out.trim().split("\n").pop()!);
}

const LOADED = `Object.keys(require.cache).filter((k) => /\\/node_modules\\/(@npmcli|pacote)\\//.test(k)).length`;

describe("lib/lazyArborist: npm's arborist, loaded by @pulumi/pulumi, is loaded only when used", function () {
  this.timeout(60_000);

  it("loads @pulumi/pulumi without arborist's modules after local/polyfills, then npm's own exports on first use", () => {
    const r = inFreshProcess(`
      require("./local/polyfills");
      require("@pulumi/pulumi");
      const before = ${LOADED};
      const stand = require("@npmcli/arborist");
      const keys = Object.keys(stand);
      const viaStand = stand.Arborist;
      const real = require("@npmcli/arborist");
      console.log(JSON.stringify({
        before, keys, esModule: stand.__esModule, name: viaStand.name,
        same: viaStand === real.Arborist, realIsStand: real === stand,
        realKeys: Object.keys(real), after: ${LOADED},
      }));`);
    expect(r.before, "only the stand-in's cache entry").to.equal(1);
    expect(r.name).to.equal("Arborist");
    expect(r.same).to.equal(true);
    expect(r.realIsStand, "the real package took the cache entry").to.equal(false);
    expect(r.keys).to.deep.equal(r.realKeys);
    expect(r.esModule).to.equal(true);
    expect(r.after).to.be.greaterThan(100);
  });

  it("is what keeps them out: @pulumi/pulumi alone loads them", () => {
    expect(
      inFreshProcess(`require("@pulumi/pulumi"); console.log(JSON.stringify(${LOADED}));`),
    ).to.be.greaterThan(100);
  });

  it("is the first thing index.ts loads, and Pulumi's language host has not loaded @pulumi/pulumi's runtime before it", () => {
    const source = fs.readFileSync(path.join(ROOT, "index.ts"), "utf8");
    const firstImport = source.split("\n").find((l) => /^import\b/.test(l));
    expect(firstImport).to.equal('import "./lib/lazyArborist";');
    // What `pulumi preview` loads before it requires the program: the nodejs language host's
    // cmd/run modules (index.js requires the V8 hooks, instrumentation and run.js).
    const host = inFreshProcess(`
      // cmd/run/index.js parses its arguments as it loads (none here: it prints its usage and exits).
      process.exit = () => undefined;
      for (const m of ["runtime/closure/v8Hooks", "cmd/run/instrumentation", "cmd/run/run.js"])
        require("@pulumi/pulumi/" + m);
      console.log(JSON.stringify({
        runtimeIndex: Object.keys(require.cache).some((k) => k.endsWith("/@pulumi/pulumi/runtime/index.js")),
        loaded: ${LOADED},
      }));`);
    expect(host).to.deep.equal({ runtimeIndex: false, loaded: 0 });
  });

  it("leaves a process where arborist is loaded (or the stand-in is in place) as it is", () => {
    // This worker ran local/polyfills first (test/setup.ts): the stand-in or the package is cached.
    expect(deferArborist()).to.equal(false);
  });
});
