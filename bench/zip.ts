// A directory walker and the size of its files zipped (lib/zip.ts), so the bench measures the
// archive `pulumi up` would upload without shelling out to `zip`.
import * as fs from "fs";
import * as path from "path";
import { writeZip, ZipInput } from "../lib/zip";

export interface FileEntry {
  /** Path inside the archive. */
  name: string;
  /** Path on this machine. */
  abs: string;
  size: number;
}

/**
 * Every regular file under `dir`, following symbolic links (materialized archives link their
 * packages), named `prefix/<relative path>`. A directory reached twice through links (a cycle) is
 * walked once.
 */
export function walkFiles(dir: string, prefix = "", seen = new Set<string>()): FileEntry[] {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: FileEntry[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const abs = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = fs.statSync(abs); // follows links
    if (st.isDirectory()) out.push(...walkFiles(abs, rel, seen));
    else if (st.isFile()) out.push({ name: rel, abs, size: st.size });
  }
  seen.delete(real);
  return out;
}

export interface SizeReport {
  files: number;
  unpackedBytes: number;
  zippedBytes: number;
}

/** Zips the files in memory and reports the archive's size next to the unpacked size and count. */
export function measureFiles(files: FileEntry[], extra: ZipInput[] = []): SizeReport {
  const inputs: ZipInput[] = [
    ...extra,
    ...files.map((f) => ({ name: f.name, data: fs.readFileSync(f.abs) })),
  ];
  const zipped = writeZip(inputs);
  return {
    files: inputs.length,
    unpackedBytes: inputs.reduce((n, e) => n + e.data.length, 0),
    zippedBytes: zipped.length,
  };
}
