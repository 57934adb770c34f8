// tsconfig.json's `ts-node` section makes ts-node (and so `pulumi preview` and `pulumi up`, which
// load this project's ts-node with tsconfig.json) transpile with swc, through lib/swcCache.js (swc's
// output, kept on disk between processes). Swapping the transpiler must
// change nothing a deployment sees: both stacks evaluated under TypeScript's transpiler and under
// swc declare the same resources with the same inputs and the same function archives. This mocha
// worker is the swc side (.mocharc.json registers ts-node, which reads tsconfig.json); TypeScript's
// runs in a process of its own.
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";
import { programDigest } from "./fixtures/programDigest";

const ROOT = path.join(__dirname, "..");

/** Registers ts-node as Pulumi's nodejs runtime does (tsconfig.json, transpile-only), with TypeScript's transpiler. */
function digestUnderTypeScript(): Promise<{ transpiler: string; digest: any }> {
  const script = [
    `const service = require("ts-node").register({ transpileOnly: true, project: "tsconfig.json", compilerOptions: {}, swc: false, transpiler: false });`,
    `console.log("TRANSPILER " + (service.options.swc || service.options.transpiler ? "swc" : "typescript"));`,
    `require("./test/fixtures/programDigest.ts").printProgramDigest();`,
  ].join("\n");
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["-e", script],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 170000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        const line = (p: string) =>
          stdout
            .split("\n")
            .find((l) => l.startsWith(p))
            ?.slice(p.length);
        resolve({ transpiler: line("TRANSPILER ")!, digest: JSON.parse(line("DIGEST ")!) });
      },
    ),
  );
}

describe("the program under swc, as tsconfig.json has ts-node transpile it", function () {
  this.timeout(180000);

  it("declares what it declares under TypeScript's transpiler: every resource, input and archive", async () => {
    // The instance ts-node registered in this process, as it reads tsconfig.json.
    const here = (
      process as unknown as Record<symbol, { options: { transpiler?: string } } | undefined>
    )[Symbol.for("ts-node.register.instance")];
    expect(here?.options.transpiler, "this worker transpiles with swc, cached").to.equal(
      "./lib/swcCache.js",
    );
    const [swcDigest, typescript] = await Promise.all([programDigest(), digestUnderTypeScript()]);
    // As the other process printed it: through JSON (an undefined input is left out).
    const swc = JSON.parse(JSON.stringify(swcDigest));
    expect(typescript.transpiler).to.equal("typescript");
    for (const stack of ["dev", "prod"]) {
      expect(swc[stack].resources.length, stack).to.be.greaterThan(200);
      expect(Object.keys(swc[stack].archives).length, stack).to.be.greaterThan(9);
    }
    expect(swc).to.deep.equal(typescript.digest);
  });
});
