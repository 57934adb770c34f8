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

describe("npm test", () => {
  // The globs list the slow end-to-end folders first, so the two workers start on them and finish
  // together; a test file that no glob names would silently never run.
  it("names every test file exactly once", () => {
    const script: string = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"))
      .scripts.test;
    const globs = [...script.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    const asRegExp = (glob: string) =>
      new RegExp(
        `^${glob
          .replace(/[.+^$()|[\]\\]/g, "\\$&")
          .replace(/\{([^}]+)\}/g, (_, alts: string) => `(${alts.split(",").join("|")})`)
          .replace(/\*\*\//g, "(.+/)?")
          .replace(/\*/g, "[^/]*")}$`,
      );
    const matchers = globs.map(asRegExp);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }))
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (e.name.endsWith(".test.ts")) files.push(`${dir}/${e.name}`);
    };
    walk("test");
    expect(files.length).to.be.greaterThan(90);
    const unnamed = files.filter((f) => matchers.filter((m) => m.test(f)).length !== 1);
    expect(unnamed).to.deep.equal([]);
  });
});
