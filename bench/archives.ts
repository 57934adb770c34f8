// Archive sizes of a declared function: the archive SwitchyardFunction declares (one bundled
// __index.js, AWS SDK excluded) and the one a CallbackFunction with default code paths would declare
// for the same code (the function's own code, with every dependency's folder), with and without the
// AWS SDK that the runtime provides.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries } from "../local/artifacts";
import { BUILD_TOOLS, RUNTIME_PROVIDED } from "../components/lambda";
import { FileEntry, SizeReport, walkFiles } from "./zip";
import { writeZip, ZipInput } from "../lib/zip";

/** Size of an empty ZIP (its end-of-central-directory record alone). */
export const EMPTY_ZIP_BYTES = writeZip([]).length;

interface Contribution {
  files: number;
  unpackedBytes: number;
  /** Bytes the folder adds to any ZIP (its local and central entries): ZIP sizes are additive. */
  zippedBytes: number;
}

/**
 * Zips each packaged folder once and remembers what it adds to an archive, so archives that share
 * packages are measured without zipping them again. The total is exactly the size of the one ZIP of
 * all entries, because a ZIP is the concatenation of independent entries plus one 22-byte trailer.
 */
export class ArchiveSizer {
  private readonly folders = new Map<string, Contribution>();

  contribution(inputs: ZipInput[]): Contribution {
    return {
      files: inputs.length,
      unpackedBytes: inputs.reduce((n, e) => n + e.data.length, 0),
      zippedBytes: writeZip(inputs).length - EMPTY_ZIP_BYTES,
    };
  }

  folder(name: string, absPath: string): Contribution {
    const key = `${name}\u0000${absPath}`;
    let c = this.folders.get(key);
    if (!c) {
      const files: FileEntry[] = walkFiles(absPath, name);
      c = this.contribution(files.map((f) => ({ name: f.name, data: fs.readFileSync(f.abs) })));
      this.folders.set(key, c);
    }
    return c;
  }

  /** What each folder adds to an archive, largest first. */
  breakdown(
    folders: Array<{ name: string; path: string }>,
  ): Array<{ name: string } & Contribution> {
    return folders
      .map((f) => ({ name: f.name, ...this.folder(f.name, f.path) }))
      .sort((a, b) => b.zippedBytes - a.zippedBytes);
  }

  /** Size of the archive of these text files and folders. */
  measure(texts: ZipInput[], folders: Array<{ name: string; path: string }>): SizeReport {
    const parts = [this.contribution(texts), ...folders.map((f) => this.folder(f.name, f.path))];
    return {
      files: parts.reduce((n, p) => n + p.files, 0),
      unpackedBytes: parts.reduce((n, p) => n + p.unpackedBytes, 0),
      zippedBytes: EMPTY_ZIP_BYTES + parts.reduce((n, p) => n + p.zippedBytes, 0),
    };
  }
}

/** What the nodejs22.x runtime provides, which a CallbackFunction can be told not to package. */
export const RUNTIME_SCOPES = RUNTIME_PROVIDED.map((p) => p.replace(/\/\*$/, ""));

/** Every installed package of the runtime-provided scopes (exact names, as code paths exclude). */
export function runtimeProvidedPackages(
  root = path.join(__dirname, "..", "node_modules"),
): string[] {
  const names: string[] = [];
  for (const scope of RUNTIME_SCOPES) {
    const dir = path.join(root, scope);
    if (fs.existsSync(dir)) for (const p of fs.readdirSync(dir)) names.push(`${scope}/${p}`);
  }
  return names.sort();
}

/**
 * The folders CallbackFunction packages with default code path options, but for the build tool
 * (esbuild, a dependency only because the program bundles with it at deploy time): the comparison
 * is of packaging the handlers' own dependencies. With `withoutSdk`, also without the AWS SDK, as
 * `codePathOptions.extraExcludePackages` would leave it out (its own dependencies go with it).
 */
export async function defaultCodeFolders(
  withoutSdk = false,
): Promise<Array<{ name: string; path: string }>> {
  const paths = await pulumi.runtime.computeCodePaths({
    extraExcludePackages: [...BUILD_TOOLS, ...(withoutSdk ? runtimeProvidedPackages() : [])],
  });
  const out: Array<{ name: string; path: string }> = [];
  for (const [name, a] of paths) out.push({ name, path: await (a as any).path });
  return out;
}

/**
 * The function's own code in a bundled __index.js: the text of every module esbuild put there that
 * is not from node_modules. esbuild (not minified) heads each module with a `// <path>` line.
 */
export function ownCode(bundle: string): string {
  const marker = /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.(?:[cm]?[jt]s|json))$/;
  let own = true;
  const out: string[] = [];
  for (const line of bundle.split("\n")) {
    const m = line.match(marker);
    if (m) own = !m[1].includes("node_modules/");
    if (own) out.push(line);
  }
  return out.join("\n");
}

export interface ArchiveMeasure {
  function: string;
  /** Packaged folders, largest first, with what each adds. */
  packages: Array<{ name: string; files: number; unpackedBytes: number; zippedBytes: number }>;
  /** Bytes of the function's own code (no package's), as default packaging would upload it. */
  ownCodeBytes: number;
  ours: SizeReport;
  /** Default CallbackFunction packaging: the own code and every dependency's folder. */
  defaults: SizeReport;
  /** The same without the runtime-provided SDK (@aws-sdk, @smithy, @aws-crypto). */
  defaultsWithoutSdk: SizeReport;
  /** defaults.zippedBytes / ours.zippedBytes. */
  zippedRatio: number;
  /** defaultsWithoutSdk.zippedBytes / ours.zippedBytes: the headline. */
  zippedRatioWithoutSdk: number;
  /** Default packaging's unpacked bytes over ours. */
  unpackedRatio: number;
  unpackedRatioWithoutSdk: number;
  /** Default packaging's file count over ours. */
  filesRatio: number;
  filesRatioWithoutSdk: number;
  /** Packages in the default archive that ours leaves out (the runtime provides them). */
  excludedPackages: number;
}

const r2 = (a: number, b: number) => Math.round((a / b) * 100) / 100;

export async function measureArchive(
  functionName: string,
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
  defaults: {
    withSdk: Array<{ name: string; path: string }>;
    withoutSdk: Array<{ name: string; path: string }>;
  },
  sizer: ArchiveSizer,
): Promise<ArchiveMeasure> {
  const entries = await archiveEntries(archive);
  const texts = entries
    .filter((e) => e.text !== undefined)
    .map((e) => ({ name: e.name, data: Buffer.from(e.text!, "utf8") }));
  // Packaged files come one by one (the archive keeps only what a CommonJS Lambda loads) or, for an
  // archive that was not pruned, as whole folders.
  const isDir = (p: string) => fs.statSync(p).isDirectory();
  const files = entries
    .filter((e) => e.path !== undefined && !isDir(e.path))
    .map((e) => ({ name: e.name, data: fs.readFileSync(e.path!) }));
  const folders = entries
    .filter((e) => e.path !== undefined && isDir(e.path))
    .map((e) => ({ name: e.name, path: e.path! }));
  const ours = sizer.measure([...texts, ...files], folders);
  // Default packaging uploads the function's own code unbundled beside the package folders.
  const own = texts.map((t) => ({
    name: t.name,
    data: Buffer.from(ownCode(t.data.toString("utf8")), "utf8"),
  }));
  const def = sizer.measure(own, defaults.withSdk);
  const defNoSdk = sizer.measure(own, defaults.withoutSdk);
  const packageOf = (name: string) =>
    name.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? name;
  const byPackage = new Map<string, ZipInput[]>();
  for (const f of files)
    byPackage.set(`node_modules/${packageOf(f.name)}`, [
      ...(byPackage.get(`node_modules/${packageOf(f.name)}`) ?? []),
      f,
    ]);
  const mine = new Set([...folders.map((f) => f.name), ...byPackage.keys()]);
  const packages = [
    ...sizer.breakdown(folders),
    ...[...byPackage].map(([name, inputs]) => ({ name, ...sizer.contribution(inputs) })),
  ].sort((a, b) => b.zippedBytes - a.zippedBytes);
  return {
    function: functionName,
    packages,
    ownCodeBytes: own.reduce((n, t) => n + t.data.length, 0),
    ours,
    defaults: def,
    defaultsWithoutSdk: defNoSdk,
    zippedRatio: r2(def.zippedBytes, ours.zippedBytes),
    zippedRatioWithoutSdk: r2(defNoSdk.zippedBytes, ours.zippedBytes),
    unpackedRatio: r2(def.unpackedBytes, ours.unpackedBytes),
    unpackedRatioWithoutSdk: r2(defNoSdk.unpackedBytes, ours.unpackedBytes),
    filesRatio: r2(def.files, ours.files),
    filesRatioWithoutSdk: r2(defNoSdk.files, ours.files),
    excludedPackages: defaults.withSdk.filter((d) => !mine.has(d.name)).length,
  };
}
