// tsconfig.json's `ts-node` section makes ts-node (and so `pulumi preview` and `pulumi up`, which
// load this project's ts-node with tsconfig.json) transpile with swc. Swapping the transpiler must
// change nothing a deployment sees: both stacks evaluated under TypeScript's transpiler and under
// swc declare the same resources with the same inputs and the same function archives.
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "..");

/** Registers ts-node as Pulumi's nodejs runtime does (tsconfig.json, transpile-only), then `swc`. */
function digestWith(swc: boolean): Promise<{ transpiler: string; digest: any }> {
  const script = [
    `const service = require("ts-node").register({ transpileOnly: true, project: "tsconfig.json", compilerOptions: {}${swc ? "" : ", swc: false"} });`,
    `console.log("TRANSPILER " + (service.options.swc ? "swc" : "typescript"));`,
    `require("./test/fixtures/programDigest.ts");`,
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
    const [swc, typescript] = await Promise.all([digestWith(true), digestWith(false)]);
    expect(swc.transpiler).to.equal("swc");
    expect(typescript.transpiler).to.equal("typescript");
    for (const stack of ["dev", "prod"]) {
      expect(swc.digest[stack].resources.length, stack).to.be.greaterThan(200);
      expect(Object.keys(swc.digest[stack].archives).length, stack).to.be.greaterThan(9);
    }
    expect(swc.digest).to.deep.equal(typescript.digest);
  });
});
