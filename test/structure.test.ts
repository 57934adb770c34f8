// Where code may import from, checked on the source: handlers never import deploy-time code
// (components/, config/, @pulumi/*), and deploy-time code never imports a handler's entry file
// (the module a function bundles), which would load Powertools and the handler into the Pulumi
// process. Shared names live in lib/contracts.ts, which imports nothing.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The project files and packages a file imports (value or type), resolved from the root. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/g),
    ...text.matchAll(/\brequire\("([^"]+)"\)/g),
  ].map((m) => m[1]);
  return specs.map((s) => (s.startsWith(".") ? path.join(path.dirname(file), s) : s));
}

/** Every handler module a component names for a function (`module: "handlers/..."`). */
function entryModules(): string[] {
  return sourceFiles("components").flatMap((f) =>
    [...fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(/module: "([^"]+)"/g)].map(
      (m) => m[1],
    ),
  );
}

describe("where code imports from", () => {
  it("handlers import no deploy-time code: no components/, config/ or @pulumi/*", () => {
    const offenders = sourceFiles("handlers").flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(components|config)\//.test(i) || i.startsWith("@pulumi/"))
        .map((i) => `${f} imports ${i}`),
    );
    expect(offenders).to.deep.equal([]);
  });

  it("every function's handler module is an entry file under handlers/", () => {
    const entries = [...new Set(entryModules())].sort();
    expect(entries).to.include.members(["handlers/jobs/submit", "handlers/webhooks/receiver"]);
    for (const e of entries) {
      expect(e).to.match(/^handlers\//);
      expect(fs.existsSync(path.join(ROOT, `${e}.ts`)), e).to.equal(true);
    }
  });

  it("deploy-time code (index.ts, config, components) imports no handler entry file", () => {
    const entries = new Set(entryModules());
    const deployTime = [
      "index.ts",
      "config.ts",
      ...sourceFiles("config"),
      ...sourceFiles("components"),
    ];
    const offenders = deployTime.flatMap((f) =>
      importsOf(f)
        .filter((i) => entries.has(i))
        .map((i) => `${f} imports ${i}`),
    );
    expect(offenders).to.deep.equal([]);
  });

  it("lib/contracts.ts imports nothing", () => {
    expect(importsOf("lib/contracts.ts")).to.deep.equal([]);
  });
});
