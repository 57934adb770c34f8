// ts-node's swc transpiler with a disk cache: the transpiler tsconfig.json names for ts-node, and so
// for `pulumi preview`, `pulumi up`, `npm start`, the tests and the bench. Every process that loads
// this project's TypeScript transpiles each file it loads again (ts-node 10 keeps nothing between
// processes: its cache was removed in TypeStrong/ts-node#701, and typescript-cached-transpile,
// written for #908, caches TypeScript's transpileModule, not swc). That is 110-180 ms of a start of
// `npm start` and about 6 s of CPU over `npm test`'s 30 processes (measured with a timing wrapper
// around this same transpiler). The cache is as conservative as #908's: an entry is keyed by the
// SHA-256 of swc's and ts-node's versions, the compiler options ts-node derived from tsconfig.json,
// the module kind, the file's path and its text, so an edit or an upgrade is a miss, never a stale
// hit; the output is swc's own, and swc is loaded only on a miss. Entries live in
// node_modules/.cache/switchyard-ts-node (the convention of babel-loader and nyc; `npm ci` starts it
// empty), the least recently used half removed past 4,000. It is plain JavaScript because
// ts-node loads it before it can transpile anything.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { threadId } = require("worker_threads");

const DEFAULT_DIRECTORY = path.join(
  __dirname,
  "..",
  "node_modules",
  ".cache",
  "switchyard-ts-node",
);
/** Bumped when what an entry holds changes. */
const FORMAT = 1;
/**
 * Past this many entries, the first process that writes one removes the least recently used half
 * (an entry read is marked used at most once a day): every edit leaves an entry behind.
 */
const MAX_ENTRIES = 4000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Removes the least recently used half of `directory`'s entries when it holds over MAX_ENTRIES. */
function prune(directory) {
  const names = fs.readdirSync(directory).filter((n) => n.endsWith(".json"));
  if (names.length <= MAX_ENTRIES) return;
  const aged = names
    .map((n) => ({
      file: path.join(directory, n),
      mtime: fs.statSync(path.join(directory, n)).mtimeMs,
    }))
    .sort((a, b) => a.mtime - b.mtime);
  for (const { file } of aged.slice(0, names.length - MAX_ENTRIES / 2))
    fs.rmSync(file, { force: true });
}

/** A kept entry, marked used when it was last marked over a day ago; undefined if none or damaged. */
function readEntry(file) {
  let fd;
  try {
    fd = fs.openSync(file, "r");
    const hit = JSON.parse(fs.readFileSync(fd, "utf8"));
    if (typeof hit.outputText !== "string") return undefined;
    const now = Date.now();
    if (now - fs.fstatSync(fd).mtimeMs > DAY_MS) fs.futimesSync(fd, now / 1000, now / 1000);
    return hit;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * ts-node's transpiler factory (`create`), as `ts-node/transpilers/swc` exports it. Options of
 * its own, given after the module name in tsconfig.json: `cacheDirectory`.
 */
exports.create = function create(createOptions) {
  // swc itself (@swc/core, about 50 ms to load) only on a miss: a process whose files are all
  // kept never loads it.
  let inner;
  const swc = () => (inner ??= require("ts-node/transpilers/swc").create(createOptions));
  const directory = createOptions.cacheDirectory ?? DEFAULT_DIRECTORY;
  const salt = JSON.stringify([
    FORMAT,
    require("@swc/core/package.json").version,
    require("ts-node/package.json").version,
    createOptions.service.config.options,
    createOptions.nodeModuleEmitKind ?? null,
  ]);
  let wrote = false;
  return {
    transpile(input, options) {
      const key = crypto
        .createHash("sha256")
        .update(salt)
        .update("\0")
        .update(options.fileName)
        .update("\0")
        .update(input)
        .digest("hex");
      const file = path.join(directory, `${key}.json`);
      const kept = readEntry(file);
      if (kept) return kept;
      const out = swc().transpile(input, options);
      // Written whole, then renamed: a process reading it meanwhile sees all of it or none. Named
      // for this process, thread and write, so two writers never share one.
      const partial = `${file}.${process.pid}.${threadId}.${crypto.randomBytes(4).toString("hex")}.partial`;
      try {
        if (!wrote) {
          fs.mkdirSync(directory, { recursive: true });
          prune(directory);
        }
        wrote = true;
        fs.writeFileSync(
          partial,
          JSON.stringify({ outputText: out.outputText, sourceMapText: out.sourceMapText }),
        );
        fs.renameSync(partial, file);
      } catch {
        // A read-only checkout or a full disk transpiles every time, as ts-node alone does.
        try {
          fs.rmSync(partial, { force: true });
        } catch {
          // Its folder is not there to hold it.
        }
      }
      return out;
    },
  };
};
