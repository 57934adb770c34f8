// ts-node's swc transpiler with a disk cache: the transpiler tsconfig.json names for ts-node, and so
// for `pulumi preview`, `pulumi up`, `npm start`, the tests and the bench. Every process that loads
// this project's TypeScript transpiles each file it loads again (ts-node 10 keeps nothing between
// processes: its cache was removed in TypeStrong/ts-node#701, and typescript-cached-transpile,
// written for #908, caches TypeScript's transpileModule, not swc). That is 110-180 ms of a start of
// `npm start` and about 6 s of CPU over `npm test`'s 30 processes (measured with a timing wrapper
// around this same transpiler). The cache is as conservative as #908's: an entry is keyed by the
// SHA-256 of swc's and ts-node's versions, the compiler options ts-node derived from tsconfig.json,
// the module kind, the file's path and its text, so an edit or an upgrade is a miss, never a stale
// hit; the output is swc's own. Entries live in node_modules/.cache/switchyard-ts-node (the
// convention of babel-loader and nyc; `npm ci` starts it empty). It is plain JavaScript because
// ts-node loads it before it can transpile anything.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const swc = require("ts-node/transpilers/swc");

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
 * ts-node's transpiler factory (`create`), as `ts-node/transpilers/swc` exports it. Options of
 * its own, given after the module name in tsconfig.json: `cacheDirectory`.
 */
exports.create = function create(createOptions) {
  const inner = swc.create(createOptions);
  const directory = createOptions.cacheDirectory ?? DEFAULT_DIRECTORY;
  const salt = JSON.stringify([
    FORMAT,
    require("@swc/core/package.json").version,
    require("ts-node/package.json").version,
    createOptions.service.config.options,
    createOptions.nodeModuleEmitKind ?? null,
  ]);
  let made = false;
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
      try {
        const hit = JSON.parse(fs.readFileSync(file, "utf8"));
        if (typeof hit.outputText === "string") return hit;
      } catch {
        // No entry (or a damaged one, overwritten below).
      }
      const out = inner.transpile(input, options);
      // Written whole, then renamed: a process reading it meanwhile sees all of it or none.
      const partial = `${file}.${process.pid}.partial`;
      try {
        if (!made) fs.mkdirSync(directory, { recursive: true });
        made = true;
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
