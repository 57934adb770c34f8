// pastPyenvShim against pyenv itself: each case builds a pyenv root of its own (versions, version
// files, a shim in pyenv's own format) and runs that shim through this machine's pyenv, whose
// command prints the path it was started as. The path pastPyenvShim gives must be that one, or
// the shim itself where pyenv's rules are left to pyenv.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { onPath } from "../../local/motoServer";
import { PYTHON3 } from "../support/python";
import { pastPyenvShim, selectedVersions, shimRoot } from "../../local/pythonCommand";

/** This machine's pyenv executable, read from the moto_server shim on PATH (if it is one). */
function machinePyenv(): string | undefined {
  const shim = onPath("moto_server");
  if (!shim) return undefined;
  return fs.readFileSync(shim, "utf8").match(/^exec "([^"]+\/libexec\/pyenv)" exec /m)?.[1];
}
const PYENV = machinePyenv();
/** A Python interpreter by absolute path, as pip names one in a console script. */
const PYTHON = PYTHON3 ?? "/usr/bin/python3";

/** pyenv's shim, as `pyenv rehash` writes it (pyenv 2.x), for `root` and `pyenv`. */
function shimText(root: string, pyenv: string): string {
  return [
    "#!/usr/bin/env bash",
    "set -e",
    '[ -n "$PYENV_DEBUG" ] && set -x',
    "",
    'program="${0##*/}"',
    "",
    `export PYENV_ROOT="${root}"`,
    "SHIM_PATH=${0%/*}",
    `if [[ $SHIM_PATH != "${root}/shims" ]]; then`,
    '  export _PYENV_SHIM_PATH="$SHIM_PATH"',
    "fi",
    `exec "${pyenv}" exec "$program" "$@"`,
    "",
  ].join("\n");
}

interface Root {
  root: string;
  shim: string;
  /** A project folder two levels under a folder of its own, the working directory of the runs. */
  cwd: string;
}

/** A pyenv root with versions 3.11.7 (which has `tool`) and 3.12.1 (which has not). */
function makeRoot(): Root {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-pyenv-"));
  const root = path.join(base, "pyenv");
  for (const v of ["3.11.7", "3.12.1"])
    fs.mkdirSync(path.join(root, "versions", v, "bin"), { recursive: true });
  const tool = path.join(root, "versions", "3.11.7", "bin", "tool");
  // As pip writes a console script: its interpreter by absolute path.
  fs.writeFileSync(tool, `#!${PYTHON}\nimport sys\nprint(sys.argv[0])\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(root, "shims"));
  const shim = path.join(root, "shims", "tool");
  fs.writeFileSync(shim, shimText(root, PYENV ?? "/nonexistent/libexec/pyenv"), { mode: 0o755 });
  const cwd = path.join(base, "work", "project");
  fs.mkdirSync(cwd, { recursive: true });
  return { root, shim, cwd };
}

/** What running the shim starts, as pyenv selects it (the command prints its own path). */
function shimRuns(r: Root, env: NodeJS.ProcessEnv): string {
  return execFileSync(r.shim, [], {
    cwd: r.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

describe("pastPyenvShim: what a pyenv shim would run", function () {
  this.timeout(30_000);
  const roots: string[] = [];
  const root = () => {
    const r = makeRoot();
    roots.push(path.dirname(r.root));
    return r;
  };
  after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  const tool = (r: Root) => path.join(r.root, "versions", "3.11.7", "bin", "tool");

  const resolved: Array<[string, (r: Root) => NodeJS.ProcessEnv]> = [
    [
      "the global version file",
      (r) => (fs.writeFileSync(path.join(r.root, "version"), "3.11.7\n"), {}),
    ],
    [
      "PYENV_VERSION, the first of its versions that has the command",
      () => ({ PYENV_VERSION: "3.12.1:3.11.7" }),
    ],
    [
      "the nearest .python-version above the working directory, first words, comments skipped",
      (r) => {
        fs.writeFileSync(path.join(r.root, "version"), "3.12.1\n");
        fs.writeFileSync(
          path.join(path.dirname(r.cwd), ".python-version"),
          "# pinned\n\n3.12.1 trailing\r\n  3.11.7\n",
        );
        return {};
      },
    ],
    [
      "PYENV_DIR's .python-version before the working directory's",
      (r) => {
        fs.writeFileSync(path.join(r.cwd, ".python-version"), "3.12.1\n");
        const other = fs.mkdtempSync(path.join(path.dirname(r.root), "elsewhere-"));
        fs.writeFileSync(path.join(other, ".python-version"), "3.11.7\n");
        return { PYENV_DIR: other };
      },
    ],
  ];

  resolved.push(
    [
      "an empty PYENV_DIR as the working directory",
      (r) => {
        fs.writeFileSync(path.join(r.root, "version"), "3.12.1\n");
        fs.writeFileSync(path.join(r.cwd, ".python-version"), "3.11.7\n");
        return { PYENV_DIR: "" };
      },
    ],
    [
      "the .python-version above the working directory as bash's PWD names it (a symbolic link)",
      (r) => {
        // The project reached through a link whose parent holds 3.11.7's file; its real parent
        // holds none, and the global file says 3.12.1.
        fs.writeFileSync(path.join(r.root, "version"), "3.12.1\n");
        const linked = path.join(path.dirname(r.root), "linked");
        fs.mkdirSync(linked);
        fs.writeFileSync(path.join(linked, ".python-version"), "3.11.7\n");
        fs.symlinkSync(r.cwd, path.join(linked, "project"));
        // The process's own working directory is the real one (as process.cwd() gives it).
        return { PWD: path.join(linked, "project") };
      },
    ],
  );

  for (const [what, setup] of resolved)
    it(`follows ${what}, to the script the shim runs`, function () {
      if (!PYENV) this.skip();
      const r = root();
      const env = setup(r);
      const got = pastPyenvShim(r.shim, env, r.cwd);
      expect(got).to.equal(tool(r));
      expect(shimRuns(r, env)).to.equal(got);
    });

  const leftToPyenv: Array<[string, (r: Root) => NodeJS.ProcessEnv]> = [
    ["a version prefix (3.11)", () => ({ PYENV_VERSION: "3.11" })],
    ["the system Python", () => ({ PYENV_VERSION: "system" })],
    [
      "an empty .python-version nearer than the global file (the system Python)",
      (r) => {
        fs.writeFileSync(path.join(r.root, "version"), "3.11.7\n");
        fs.writeFileSync(path.join(r.cwd, ".python-version"), "# nothing pinned\n");
        return {};
      },
    ],
    ["a version that is not installed", () => ({ PYENV_VERSION: "3.11.7:3.9.1" })],
    ["a path outside the versions folder", () => ({ PYENV_VERSION: "../3.11.7" })],
    ["versions none of which has the command", () => ({ PYENV_VERSION: "3.12.1" })],
    [
      "a script that finds its interpreter on PATH (#!/usr/bin/env python3)",
      (r) => {
        fs.writeFileSync(tool(r), "#!/usr/bin/env python3\n", { mode: 0o755 });
        return { PYENV_VERSION: "3.11.7" };
      },
    ],
    [
      "a global version file it cannot read (a folder)",
      (r) => (fs.mkdirSync(path.join(r.root, "version")), {}),
    ],
  ];

  for (const [what, setup] of leftToPyenv)
    it(`leaves ${what} to the shim`, () => {
      const r = root();
      expect(pastPyenvShim(r.shim, setup(r), r.cwd)).to.equal(r.shim);
    });

  it("gives a command that is no pyenv shim as it is", () => {
    const r = root();
    expect(shimRoot(tool(r))).to.equal(undefined);
    expect(pastPyenvShim(tool(r), { PYENV_VERSION: "3.11.7" }, r.cwd)).to.equal(tool(r));
    expect(shimRoot(r.shim)).to.equal(r.root);
  });

  it("without any selection, selects the system Python", () => {
    const r = root();
    expect(selectedVersions(r.root, {}, r.cwd)).to.deep.equal(["system"]);
  });

  it("on this machine, gives for moto_server and aws what `pyenv which` gives", function () {
    if (!PYENV) this.skip();
    for (const command of ["moto_server", "aws"]) {
      const shim = onPath(command)!;
      const which = execFileSync(PYENV, ["which", command], { encoding: "utf8" }).trim();
      expect(pastPyenvShim(shim), command).to.equal(which);
      expect(pastPyenvShim(shim), command).not.to.equal(shim);
    }
  });
});
