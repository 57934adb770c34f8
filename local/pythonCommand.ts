// What runs a Python command found on PATH: past pyenv's shim, and the interpreter its script
// names.
//
// A command pyenv installed (moto_server, aws) is found on PATH as a shim: a bash script that runs
// `pyenv exec <command>`, which selects the Python version and execs that version's script. That
// costs about 70 ms of CPU per start (bash, then pyenv's own scripts) before the command's own
// start-up, and `npm start` starts moto_server while the program is evaluated, on the same two
// cores. pyenv has no library interface to ask instead, and `pyenv which` costs more than half as
// much, so its selection is followed here (pyenv-version-file, pyenv-version-file-read,
// pyenv-version-name, pyenv-which) for the plain case only: versions installed under exactly the
// names selected. Anything else (the system Python, a prefix such as "3.11", a script that is not
// pyenv's shim) is left to the shim. What `pyenv exec` adds to the environment (the version's bin
// first on PATH, PYENV_VERSION) is not: the scripts of pip-installed commands name their
// interpreter by its absolute path.
import * as fs from "fs";
import * as path from "path";

/** The first `bytes` of a file as text (a script's first line, a shim), or undefined. */
function fileHead(file: string, bytes = 1024): string | undefined {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const buf = Buffer.alloc(bytes);
      return buf.toString("utf8", 0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * The Python interpreter a script names in its first line (`#!/path/to/python3`, as pip writes a
 * console script's), or undefined (a binary, pip's `/bin/sh` trampoline for long paths, a shim).
 * With `viaEnv`, also the one a `#!/usr/bin/env python3` line finds on PATH (its name, "python3").
 */
export function scriptInterpreter(script: string, viaEnv = false): string | undefined {
  const first = fileHead(script, 512)?.split("\n", 1)[0];
  const absolute = first?.match(/^#!\s*(\/\S*python[\d.]*)\s*$/)?.[1];
  if (absolute || !viaEnv) return absolute;
  return first?.match(/^#!\s*\/usr\/bin\/env\s+(python[\d.]*)\s*$/)?.[1];
}

/** The PYENV_ROOT a pyenv shim names (`export PYENV_ROOT="..."`), or undefined if not a shim. */
export function shimRoot(file: string): string | undefined {
  const text = fileHead(file);
  if (!text || !/libexec\/pyenv"? exec /.test(text)) return undefined;
  return text.match(/^export PYENV_ROOT="([^"]+)"$/m)?.[1];
}

/**
 * The version names a version file gives (pyenv-version-file-read: the first word of each line,
 * blank lines and `#` comments skipped); empty when it gives none.
 */
function versionFileNames(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((w) => w && !w.startsWith("#"));
}

/** The nearest .python-version from `dir` up (pyenv-version-file), or undefined. */
function localVersionFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const file = path.join(d, ".python-version");
    if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return file;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * The version names pyenv selects, in order (pyenv-version-name before it resolves them):
 * PYENV_VERSION split on ':', else the first version file found (PYENV_DIR's, the working
 * directory's, then the global one); an empty selection is the system Python.
 */
export function selectedVersions(root: string, env: NodeJS.ProcessEnv, cwd: string): string[] {
  let names: string[];
  if (env.PYENV_VERSION) names = env.PYENV_VERSION.split(":").filter(Boolean);
  else {
    // An empty PYENV_DIR is the working directory, as pyenv takes it.
    const file =
      (env.PYENV_DIR ? localVersionFile(env.PYENV_DIR) : undefined) ??
      localVersionFile(cwd) ??
      path.join(root, "version");
    names = fs.existsSync(file) ? versionFileNames(file) : [];
  }
  return names.length > 0 ? names : ["system"];
}

/**
 * The working directory as pyenv sees it: bash's PWD (which keeps the symbolic links it was
 * reached through) where it names `cwd`, else `cwd`.
 */
function logicalCwd(env: NodeJS.ProcessEnv, cwd: string): string {
  try {
    if (env.PWD && fs.realpathSync(env.PWD) === fs.realpathSync(cwd)) return env.PWD;
  } catch {
    // PWD names nothing that is there.
  }
  return cwd;
}

/**
 * The executable a pyenv shim at `file` would exec for `command`, when pyenv's selection names an
 * installed version whose script for it names its interpreter by absolute path (so it needs
 * nothing of what `pyenv exec` sets); else `file` itself (not a shim, or a case the shim decides).
 */
export function pastPyenvShim(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  try {
    return targetOf(file, env, logicalCwd(env, cwd)) ?? file;
  } catch {
    // What pyenv would read is not readable as it expects (a version file that is a folder): the
    // shim says what that means.
    return file;
  }
}

function targetOf(file: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const root = shimRoot(file);
  if (!root) return undefined;
  const command = path.basename(file);
  const versions = selectedVersions(root, env, cwd);
  // Each must be installed under exactly that name: pyenv resolves the others ("python-3.12", a
  // prefix such as "3.11", the system Python) by rules of its own, so the shim does.
  const dirs = versions.map((v) => path.join(root, "versions", v));
  if (versions.some((v) => v === "system" || v.includes("/") || v.startsWith(".")))
    return undefined;
  if (!dirs.every((d) => fs.statSync(d, { throwIfNoEntry: false })?.isDirectory()))
    return undefined;
  // pyenv-which: the first selected version that has the command. Its hooks (pip's rehash, the
  // virtualenv plugin's fallbacks) change the answer only for pip or a command no version has.
  for (const dir of dirs) {
    const target = path.join(dir, "bin", command);
    try {
      fs.accessSync(target, fs.constants.X_OK);
    } catch {
      continue; // Not in this version: the next one selected.
    }
    // A script that finds its interpreter on PATH (`#!/usr/bin/env python3`) would find the one
    // `pyenv exec` puts first: left to the shim.
    return scriptInterpreter(target) ? target : undefined;
  }
  return undefined;
}
