// lib/swcCache.js, the transpiler tsconfig.json gives ts-node: what it returns must be ts-node's
// own swc transpiler's output, from the cache or not, and any change to the source or the options
// must miss. Each case is a ts-node service created as tsconfig.json would create it, with a cache
// folder of its own.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { create } from "ts-node";

const ROOT = path.join(__dirname, "..", "..");
const CACHED = path.join(ROOT, "lib", "swcCache.js");

const SOURCE = [
  "import * as path from 'path';",
  "export interface Named { name: string }",
  "export const joined = (a: Named, b?: Named): string => path.join(a.name, b?.name ?? '');",
  "export enum Kind { One = 1, Two }",
  "",
].join("\n");

function service(
  transpiler: string | [string, object] | undefined,
  compilerOptions: object = {},
): { compile(code: string, file: string): string } {
  return create({
    project: path.join(ROOT, "tsconfig.json"),
    transpileOnly: true,
    // Without one: ts-node's own swc transpiler, which `"swc": true` names.
    transpiler: transpiler ?? "ts-node/transpilers/swc",
    compilerOptions,
  });
}

describe("lib/swcCache: ts-node's swc transpiler, cached on disk", function () {
  this.timeout(30_000);
  let dir: string;
  const file = path.join(ROOT, "lib", "cachedExample.ts");
  const cached = (options: object = {}) => service([CACHED, { cacheDirectory: dir }], options);
  const entries = () => fs.readdirSync(dir).filter((f) => f.endsWith(".json"));

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-swc-cache-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("gives swc's output on a miss, keeps it, and gives the same from the cache", () => {
    const swc = service(undefined).compile(SOURCE, file);
    expect(swc).to.include("Kind[Kind");
    expect(cached().compile(SOURCE, file)).to.equal(swc);
    expect(entries()).to.have.length(1);
    // A new service (as a new process would make) reads the entry: marked, it shows through.
    const entry = path.join(dir, entries()[0]);
    const kept = JSON.parse(fs.readFileSync(entry, "utf8"));
    fs.writeFileSync(entry, JSON.stringify({ ...kept, outputText: `${kept.outputText}//hit` }));
    expect(cached().compile(SOURCE, file)).to.include("//hit");
    expect(entries()).to.have.length(1);
  });

  it("misses on an edited source, another path or other compiler options", () => {
    const a = cached().compile(SOURCE, file);
    const edited = SOURCE.replace("Two", "Three");
    const b = cached().compile(edited, file);
    expect(b).to.equal(service(undefined).compile(edited, file));
    expect(b).not.to.equal(a);
    cached().compile(SOURCE, path.join(ROOT, "lib", "otherExample.ts"));
    const es2019 = cached({ target: "ES2019" }).compile(SOURCE, file);
    expect(es2019).to.equal(service(undefined, { target: "ES2019" }).compile(SOURCE, file));
    expect(entries()).to.have.length(4);
  });

  it("transpiles again over a damaged entry, and rewrites it", () => {
    const swc = service(undefined).compile(SOURCE, file);
    cached().compile(SOURCE, file);
    const entry = path.join(dir, entries()[0]);
    fs.writeFileSync(entry, '{"outputText": "trunc');
    expect(cached().compile(SOURCE, file)).to.equal(swc);
    expect(JSON.parse(fs.readFileSync(entry, "utf8")).outputText).to.be.a("string");
  });

  it("transpiles without a cache where its folder cannot be made", () => {
    const blocked = path.join(dir, "blocked");
    fs.writeFileSync(blocked, "a file where the folder would be");
    const s = service([CACHED, { cacheDirectory: path.join(blocked, "cache") }]);
    expect(s.compile(SOURCE, file)).to.equal(service(undefined).compile(SOURCE, file));
  });

  it("removes its partial file when the entry cannot be put in place", () => {
    // The entry's name taken by a folder: the rename fails after the partial file is written.
    cached().compile(SOURCE, file);
    const [name] = entries();
    fs.rmSync(path.join(dir, name));
    fs.mkdirSync(path.join(dir, name));
    expect(cached().compile(SOURCE, file)).to.equal(service(undefined).compile(SOURCE, file));
    expect(fs.readdirSync(dir)).to.deep.equal([name]);
    expect(fs.statSync(path.join(dir, name)).isDirectory()).to.equal(true);
  });

  it("keeps at most 4,000 entries: past that, the least recently used half goes", () => {
    const old = Date.now() / 1000 - 10 * 24 * 3600;
    for (let i = 0; i < 4001; i++) {
      const f = path.join(dir, `${String(i).padStart(64, "0")}.json`);
      fs.writeFileSync(f, JSON.stringify({ outputText: `// ${i}` }));
      fs.utimesSync(f, old + i, old + i);
    }
    const newest = path.join(dir, `${String(4000).padStart(64, "0")}.json`);
    const oldest = path.join(dir, `${String(0).padStart(64, "0")}.json`);
    cached().compile(SOURCE, file);
    expect(entries()).to.have.length(2001);
    expect(fs.existsSync(newest), "the most recently used").to.equal(true);
    expect(fs.existsSync(oldest), "the least recently used").to.equal(false);
  });

  it("marks an entry used when it is read a day or more after it was last marked", () => {
    cached().compile(SOURCE, file);
    const entry = path.join(dir, entries()[0]);
    const twoDaysAgo = Date.now() / 1000 - 2 * 24 * 3600;
    fs.utimesSync(entry, twoDaysAgo, twoDaysAgo);
    cached().compile(SOURCE, file);
    expect(Date.now() - fs.statSync(entry).mtimeMs).to.be.below(60_000);
  });

  it("serves a new process from what an earlier one kept", () => {
    // Each process registers ts-node as tsconfig.json has it (this cache folder aside) and loads a
    // project file. The first one's entry is marked: the second process runs the marked code.
    const script = [
      `require("ts-node").register({ project: "tsconfig.json", transpileOnly: true, transpiler: [${JSON.stringify(CACHED)}, { cacheDirectory: process.argv[1] }] });`,
      `require("./local/pythonCommand.ts");`,
      `console.log(globalThis.fromCache === true ? "hit" : "transpiled");`,
    ].join("\n");
    const run = () =>
      execFileSync(process.execPath, ["-e", script, dir], { cwd: ROOT, encoding: "utf8" }).trim();
    expect(run()).to.equal("transpiled");
    expect(entries()).to.have.length(1);
    const entry = path.join(dir, entries()[0]);
    const kept = JSON.parse(fs.readFileSync(entry, "utf8"));
    fs.writeFileSync(
      entry,
      JSON.stringify({ ...kept, outputText: `globalThis.fromCache = true;${kept.outputText}` }),
    );
    expect(run()).to.equal("hit");
  });
});
