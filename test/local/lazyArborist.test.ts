// @pulumi/pulumi requires npm's arborist as it loads; local/polyfills.ts defers that load
// (local/lazyArborist.ts) in the processes this project starts. Each case runs in a fresh Node
// process, since this worker loaded @pulumi/pulumi long ago.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as path from "path";
import { deferArborist } from "../../local/lazyArborist";

const ROOT = path.join(__dirname, "..", "..");

/** Runs `script` in a fresh Node process with ts-node, in the project root; its stdout as JSON. */
function inFreshProcess(script: string): any {
  const out = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "-e", script],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: "tsconfig.json" } },
  );
  return JSON.parse(out.trim().split("\n").pop()!);
}

const LOADED = `Object.keys(require.cache).filter((k) => /\\/node_modules\\/(@npmcli|pacote)\\//.test(k)).length`;

describe("local: npm's arborist, loaded by @pulumi/pulumi, is loaded only when used", function () {
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

  it("leaves a process where arborist is loaded (or the stand-in is in place) as it is", () => {
    // This worker ran local/polyfills first (test/setup.ts): the stand-in or the package is cached.
    expect(deferArborist()).to.equal(false);
  });
});
