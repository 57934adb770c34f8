// Archive sizes of a declared function: the archive SwitchyardFunction declares (one bundled
// __index.js, AWS SDK excluded) and the one a CallbackFunction with default code paths would declare
// for the same serialized __index.js (with every dependency's folder).
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries } from "../local/artifacts";
import { BUILD_TOOLS } from "../components/lambda";
import { FileEntry, SizeReport, walkFiles, writeZip, ZipInput } from "./zip";

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

/**
 * The folders CallbackFunction packages with default code path options, but for the build tool
 * (esbuild, a dependency only because the program bundles with it at deploy time): the comparison
 * is of packaging the handlers' own dependencies.
 */
export async function defaultCodeFolders(): Promise<Array<{ name: string; path: string }>> {
  const paths = await pulumi.runtime.computeCodePaths({ extraExcludePackages: BUILD_TOOLS });
  const out: Array<{ name: string; path: string }> = [];
  for (const [name, a] of paths) out.push({ name, path: await (a as any).path });
  return out;
}

export interface ArchiveMeasure {
  function: string;
  /** Packaged folders, largest first, with what each adds. */
  packages: Array<{ name: string; files: number; unpackedBytes: number; zippedBytes: number }>;
  /** Bytes of the serialized handler (__index.js), unpacked. */
  indexBytes: number;
  ours: SizeReport;
  /** Default CallbackFunction packaging of the same __index.js. */
  defaults: SizeReport;
  /** defaults.zippedBytes / ours.zippedBytes. */
  zippedRatio: number;
  /** Default packaging's unpacked bytes over ours. */
  unpackedRatio: number;
  /** Default packaging's file count over ours. */
  filesRatio: number;
  /** Packages in the default archive that ours leaves out (the runtime provides them). */
  excludedPackages: number;
}

export async function measureArchive(
  functionName: string,
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
  defaults: Array<{ name: string; path: string }>,
  sizer: ArchiveSizer,
  /** The code before bundling (serialized __index.js), which default packaging uploads; default: `archive`'s. */
  serialized: pulumi.Input<pulumi.asset.AssetArchive> = archive,
): Promise<ArchiveMeasure> {
  const entries = await archiveEntries(archive);
  const textsOf = (es: Awaited<ReturnType<typeof archiveEntries>>) =>
    es
      .filter((e) => e.text !== undefined)
      .map((e) => ({ name: e.name, data: Buffer.from(e.text!, "utf8") }));
  const texts = textsOf(entries);
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
  const def = sizer.measure(
    serialized === archive ? texts : textsOf(await archiveEntries(serialized)),
    defaults,
  );
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
    indexBytes: texts.reduce((n, t) => n + t.data.length, 0),
    ours,
    defaults: def,
    zippedRatio: Math.round((def.zippedBytes / ours.zippedBytes) * 100) / 100,
    unpackedRatio: Math.round((def.unpackedBytes / ours.unpackedBytes) * 100) / 100,
    filesRatio: Math.round((def.files / ours.files) * 100) / 100,
    excludedPackages: defaults.filter((d) => !mine.has(d.name)).length,
  };
}
