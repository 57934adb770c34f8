// Where moto_server is not on PATH, the local run and the tests install it into
// .switchyard/moto-venv (python3 -m venv, pip install "moto[server]==5.2.1"). This machine reaches no
// Python package index, so the install is driven here as far as it can go: without Python 3, with
// an index that refuses connections (the one-line failure), and from a folder holding a wheel
// named moto 5.2.1 (pip's own offline install, PIP_FIND_LINKS with PIP_NO_INDEX), which checks the
// virtual environment, the pinned requirement and where moto_server is then found.
import { expect } from "chai";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { writeZip } from "../../lib/zip";
import { LOCAL_CREDENTIALS } from "../../local/credentials";
import { REGION } from "../../local/mocks";
import {
  freePort,
  MOTO_GC_PERIOD_ENV,
  MOTO_LAUNCHER,
  MOTO_NICENESS,
  MOTO_REQUIREMENT,
  motoCommand,
  motoInvocation,
  pipInstallsElsewhere,
  provisionCommands,
  startMotoServer,
} from "../../local/motoServer";
import { scriptInterpreter } from "../../local/pythonCommand";
import { isAlive } from "./twinProcess";
import { PYTHON3 } from "../support/python";

/** A folder on PATH holding only links to the given commands. */
function binWith(dir: string, commands: Record<string, string>): string {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, target] of Object.entries(commands))
    fs.symlinkSync(target, path.join(bin, name));
  return bin;
}

/** Environment for pip that reads no user or site configuration and no cache. */
function pipEnv(pathValue: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: pathValue,
    HOME: os.tmpdir(),
    PIP_CONFIG_FILE: os.devNull,
    PIP_NO_CACHE_DIR: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    ...extra,
  };
}

describe("local: moto_server provisioning when it is not on PATH", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-moto-venv-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("installs the pinned moto into the virtual environment, with Python's venv and pip", () => {
    const venv = path.join(dir, "moto-venv");
    const install = [
      "install",
      "--disable-pip-version-check",
      "--no-input",
      "--timeout",
      "15",
      "--retries",
      "1",
      "moto[server]==5.2.1",
    ];
    // Python's own pip installs into an environment made without one, where it can.
    expect(provisionCommands(venv, "/usr/bin/python3", true)).to.deep.equal([
      { file: "/usr/bin/python3", args: ["-m", "venv", "--without-pip", venv] },
      {
        file: "/usr/bin/python3",
        args: ["-m", "pip", "--python", path.join(venv, "bin", "python"), ...install],
      },
    ]);
    // Else the environment gets pip of its own (ensurepip) and that installs.
    expect(provisionCommands(venv, "/usr/bin/python3")).to.deep.equal([
      { file: "/usr/bin/python3", args: ["-m", "venv", venv] },
      { file: path.join(venv, "bin", "pip"), args: install },
    ]);
    expect(MOTO_REQUIREMENT).to.equal("moto[server]==5.2.1");
  });

  it("installs with Python's own pip only where it is 22.3 or later (pip --python)", async function () {
    const says = (name: string, line: string, code = 0) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, `#!/bin/sh\necho "${line}"\nexit ${code}\n`, { mode: 0o755 });
      return file;
    };
    expect(await pipInstallsElsewhere(says("p1", "pip 22.3 from /x (python 3.11)"), {})).to.equal(
      true,
    );
    expect(await pipInstallsElsewhere(says("p2", "pip 23.0.1 from /x"), {})).to.equal(true);
    expect(await pipInstallsElsewhere(says("p3", "pip 22.2.2 from /x"), {})).to.equal(false);
    expect(await pipInstallsElsewhere(says("p4", "pip 9.0.1 from /x"), {})).to.equal(false);
    expect(
      await pipInstallsElsewhere(says("p5", "/usr/bin/python3: No module named pip", 1), {}),
    ).to.equal(false);
    if (!PYTHON3) this.skip();
    expect(await pipInstallsElsewhere(PYTHON3!, {}), "this machine's python3").to.equal(true);
  });

  it("takes the moto_server on PATH, else the one already installed in the virtual environment", async () => {
    const fake = path.join(dir, "moto_server");
    fs.writeFileSync(fake, "#!/bin/sh\n", { mode: 0o755 });
    expect(await motoCommand({ env: { PATH: dir }, venv: path.join(dir, "nope") })).to.equal(fake);
    const venv = path.join(dir, "venv");
    fs.mkdirSync(path.join(venv, "bin"), { recursive: true });
    fs.writeFileSync(path.join(venv, "bin", "moto_server"), "#!/bin/sh\n", { mode: 0o755 });
    expect(await motoCommand({ env: { PATH: path.join(dir, "empty") }, venv })).to.equal(
      path.join(venv, "bin", "moto_server"),
    );
  });

  it("fails with one line naming the fix when neither moto_server nor python3 is on PATH", async () => {
    const venv = path.join(dir, "moto-venv");
    const err = await motoCommand({ env: { PATH: binWith(dir, {}) }, venv }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      `moto_server is not on PATH and python3 was not found to install it into ${venv}: install Python 3 with venv (apt-get install -y python3 python3-venv), or install moto's server mode (pip install "moto[server]==5.2.1") so that moto_server is on PATH`,
    );
    expect(fs.existsSync(venv)).to.equal(false);
  });

  it("fails with one line naming the fix when pip cannot reach a package index, and leaves no half-made environment", async function () {
    if (!PYTHON3) this.skip();
    const venv = path.join(dir, "moto-venv");
    const lines: string[] = [];
    // A port of this test's range where nothing listens: pip's connection is refused, as this
    // machine refuses PyPI's.
    // A python3 without pip of its own (Debian's python3-venv without python3-pip): the
    // environment is made with pip (ensurepip), and its pip is what fails.
    const withoutPip = path.join(dir, "python3-without-pip");
    fs.writeFileSync(
      withoutPip,
      `#!/bin/sh\necho "$@" >> ${dir}/python3.calls\nif [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "python3: No module named pip" >&2; exit 1; fi\nexec ${PYTHON3} "$@"\n`,
      { mode: 0o755 },
    );
    const env = pipEnv(binWith(dir, { python3: withoutPip }), {
      PIP_INDEX_URL: "http://127.0.0.1:5599/simple",
    });
    const err = await motoCommand({ env, venv, log: (l) => lines.push(l) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, "the install must fail").to.be.instanceOf(Error);
    expect(err!.message).to.not.contain("\n");
    expect(err!.message).to.match(
      new RegExp(
        `^pip could not install moto\\[server\\]==5\\.2\\.1 into ${venv.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(.*\\): install moto's server mode \\(pip install "moto\\[server\\]==5\\.2\\.1"\\) so that moto_server is on PATH, or point pip at a reachable index or wheel folder \\(PIP_INDEX_URL, PIP_FIND_LINKS\\) and start again$`,
      ),
    );
    expect(err!.message).to.match(/No matching distribution|Could not find a version|ERROR/);
    expect(lines[0]).to.equal(
      `moto_server is not on PATH: installing moto[server]==5.2.1 into ${venv}`,
    );
    expect(fs.existsSync(venv), "the virtual environment is removed").to.equal(false);
    expect(fs.readFileSync(path.join(dir, "python3.calls"), "utf8")).to.equal(
      `-m pip --version\n-m venv ${venv}\n`,
    );
  });

  it("installs from a wheel folder pip is pointed at (PIP_FIND_LINKS) and finds moto_server in the environment", async function () {
    if (!PYTHON3) this.skip();
    // A wheel named moto 5.2.1 whose console script moto_server prints its name: what pip does with
    // the real one, without a package index.
    const wheels = path.join(dir, "wheels");
    fs.mkdirSync(wheels);
    const info = "moto-5.2.1.dist-info";
    const files: Record<string, string> = {
      "moto/__init__.py": '__version__ = "5.2.1"\n',
      "moto/server.py": 'def main():\n    print("moto_server 5.2.1")\n',
      [`${info}/METADATA`]:
        "Metadata-Version: 2.1\nName: moto\nVersion: 5.2.1\nProvides-Extra: server\n",
      [`${info}/WHEEL`]:
        "Wheel-Version: 1.0\nGenerator: switchyard-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
      [`${info}/entry_points.txt`]: "[console_scripts]\nmoto_server = moto.server:main\n",
      [`${info}/top_level.txt`]: "moto\n",
    };
    const record = [...Object.keys(files), `${info}/RECORD`].map((f) => `${f},,`).join("\n");
    fs.writeFileSync(
      path.join(wheels, "moto-5.2.1-py3-none-any.whl"),
      writeZip(
        Object.entries({ ...files, [`${info}/RECORD`]: `${record}\n` }).map(([name, text]) => ({
          name,
          data: Buffer.from(text),
        })),
      ),
    );
    const venv = path.join(dir, "moto-venv");
    const env = pipEnv(binWith(dir, { python3: PYTHON3! }), {
      PIP_NO_INDEX: "1",
      PIP_FIND_LINKS: wheels,
    });
    const command = await motoCommand({ env, venv });
    expect(command).to.equal(path.join(venv, "bin", "moto_server"));
    fs.accessSync(command, fs.constants.X_OK);
    // Installed by this Python's own pip, into an environment made without one.
    expect(fs.existsSync(path.join(venv, "bin", "pip")), "the environment's own pip").to.equal(
      false,
    );
    expect(execFileSync(command, { encoding: "utf8" })).to.equal("moto_server 5.2.1\n");
    // Found again without installing: the environment is kept in .switchyard/moto-venv.
    expect(
      await motoCommand({ env: { PATH: binWith(path.join(dir, "none"), {}) }, venv }),
    ).to.equal(command);
  });
});

describe("local: moto_server's priority and its reuse by the test workers", function () {
  this.timeout(60_000);
  const niceOf = (pid: number) =>
    Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[16]);
  const dynamo = (url: string) =>
    new DynamoDBClient({ endpoint: url, region: REGION, credentials: LOCAL_CREDENTIALS });
  const tables = async (url: string) => {
    const client = dynamo(url);
    try {
      return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    } finally {
      client.destroy();
    }
  };
  const createTable = async (url: string, name: string) => {
    const client = dynamo(url);
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        }),
      );
    } finally {
      client.destroy();
    }
  };

  it("runs below the Node process that starts it (MOTO_NICENESS)", async () => {
    const moto = await startMotoServer({ port: await freePort() });
    try {
      // nice(1)'s increment, at most the lowest priority there is (19).
      expect(niceOf(moto.pid)).to.equal(Math.min(19, niceOf(process.pid) + MOTO_NICENESS));
    } finally {
      await moto.stop();
    }
  });

  it("gives a stopped server back to the next start with the same environment, reset to an empty account", async () => {
    // test/setup.ts turned reuse on in this process.
    const first = await startMotoServer();
    await createTable(first.url, "left-behind");
    expect(await tables(first.url)).to.deep.equal(["left-behind"]);
    await first.stop();
    const second = await startMotoServer();
    try {
      expect(second.pid).to.equal(first.pid);
      expect(await tables(second.url)).to.deep.equal([]);
      // Another start while it is taken gets a server of its own.
      const third = await startMotoServer();
      expect(third.pid).to.not.equal(second.pid);
      await third.stop();
    } finally {
      await second.stop();
    }
  });

  it("ends every server a test worker kept with the worker, when the worker is ended by SIGTERM", async () => {
    // A process set up as a test worker (test/setup.ts): it starts a server, keeps it for reuse,
    // and is then ended as mocha ends a worker that does not exit in time.
    const script = `
      require(${JSON.stringify(require.resolve("../setup"))});
      const { startMotoServer } = require(${JSON.stringify(require.resolve("../../local/motoServer"))});
      startMotoServer().then(async (m) => {
        await m.stop();
        process.stdout.write(String(m.pid) + "\\n");
        setInterval(() => undefined, 1000);
      });`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c;
          if (out.includes("\n")) resolve(Number(out.trim()));
        });
        child.once("exit", (code) => reject(new Error(`the worker exited first (${code})`)));
      });
      // Kept for reuse: still running after its stop.
      expect(() => process.kill(pid, 0)).to.not.throw();
      const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
      child.kill("SIGTERM");
      expect(await exited).to.deep.equal({ code: 143, signal: null });
      // SIGKILL is delivered at once, but the process is reaped by init a moment later.
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isAlive(pid), `moto_server ${pid} left running`).to.equal(false);
    } finally {
      // A failed assertion does not leave the worker (and its server) running.
      child.kill("SIGKILL");
    }
  });

  it("never reuses a server given a port or one that records requests (--persist)", async () => {
    const port = await freePort();
    const withPort = await startMotoServer({ port });
    const pid = withPort.pid;
    await withPort.stop();
    expect(() => process.kill(pid, 0)).to.throw();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moto-recorder-"));
    try {
      const env = { MOTO_RECORDER_FILEPATH: path.join(dir, "r.jsonl") };
      const recording = await startMotoServer({ env });
      const recorder = recording.pid;
      await recording.stop();
      expect(() => process.kill(recorder, 0)).to.throw();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("local: moto_server through its launcher (Python's cycle collector on a schedule)", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-moto-launcher-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * A moto_server script, as pip writes one for PYTHON3, that reports what it runs with: the
   * collector, the launcher's thread, its argv and import path, and (after `wait` seconds)
   * whether a reference cycle it dropped has been collected.
   */
  function reportingScript(): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const script = path.join(bin, "moto_server");
    fs.writeFileSync(
      script,
      [
        `#!${PYTHON3}`,
        "import gc, json, sys, threading, time, weakref",
        "class Node: pass",
        "a, b = Node(), Node()",
        "a.other, b.other = b, a",
        "alive = weakref.ref(a)",
        "del a, b",
        "time.sleep(float(sys.argv[-1]))",
        "print(json.dumps({'gc': gc.isenabled(), 'threads': sorted(t.name for t in threading.enumerate()),",
        "  'argv': sys.argv, 'path0': sys.path[0], 'cycleCollected': alive() is None}))",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return script;
  }

  function launch(script: string, wait: string, env: Record<string, string> = {}) {
    const how = motoInvocation(script, 4999);
    expect(how.file).to.equal(PYTHON3);
    expect(how.args.slice(0, 2)).to.deep.equal([MOTO_LAUNCHER, script]);
    return JSON.parse(
      execFileSync(how.file, [...how.args, wait], {
        env: { PATH: process.env.PATH, ...env },
        encoding: "utf8",
      }),
    );
  }

  it("runs the script with its own argv and folder, the collector off and a thread that collects", function () {
    if (!PYTHON3) this.skip();
    const script = reportingScript();
    const ran = launch(script, "1.5", { [MOTO_GC_PERIOD_ENV]: "0.5" });
    expect(ran).to.deep.equal({
      gc: false,
      threads: ["MainThread", "scheduled-gc"],
      argv: [script, "-H", "127.0.0.1", "-p", "4999", "1.5"],
      path0: path.dirname(script),
      cycleCollected: true,
    });
  });

  it("collects nothing before its first period, and never with a period of 0", function () {
    if (!PYTHON3) this.skip();
    const script = reportingScript();
    expect(launch(script, "0.3").cycleCollected, "the default period is 10 s").to.equal(false);
    const never = launch(script, "0.3", { [MOTO_GC_PERIOD_ENV]: "0" });
    expect(never).to.include({ gc: false, cycleCollected: false });
    expect(never.threads).to.deep.equal(["MainThread"]);
  });

  it("starts a script that names no Python as it is, and one that finds it on PATH through it", () => {
    const sh = path.join(dir, "moto_server");
    fs.writeFileSync(sh, '#!/bin/sh\nexec python3 -m moto.server "$@"\n', { mode: 0o755 });
    expect(motoInvocation(sh, 4999)).to.deep.equal({
      file: sh,
      args: ["-H", "127.0.0.1", "-p", "4999"],
    });
    const env = path.join(dir, "moto_server_env");
    fs.writeFileSync(env, "#!/usr/bin/env python3\n", { mode: 0o755 });
    expect(motoInvocation(env, 4999)).to.deep.equal({
      file: "python3",
      args: [MOTO_LAUNCHER, env, "-H", "127.0.0.1", "-p", "4999"],
    });
    // Past pyenv's shim, only a script that names its interpreter by path is taken.
    expect(scriptInterpreter(env)).to.equal(undefined);
    expect(scriptInterpreter(path.join(dir, "missing"), true)).to.equal(undefined);
  });

  it("collects on its default schedule, said on stderr, for a period that is not one", function () {
    if (!PYTHON3) this.skip();
    const script = reportingScript();
    for (const bad of ["abc", "inf", "nan", "-1"]) {
      const how = motoInvocation(script, 4999);
      const run = spawnSync(how.file, [...how.args, "0"], {
        env: { PATH: process.env.PATH, [MOTO_GC_PERIOD_ENV]: bad },
        encoding: "utf8",
      });
      expect(run.status, bad).to.equal(0);
      expect(run.stderr.trim(), bad).to.equal(
        `${MOTO_GC_PERIOD_ENV}='${bad}' is not a number of seconds >= 0 (0: never): collecting every 10 s`,
      );
      expect(JSON.parse(run.stdout).threads, bad).to.deep.equal(["MainThread", "scheduled-gc"]);
    }
  });

  it("runs this machine's moto_server through it: it answers, and ends on SIGTERM", async function () {
    const moto = await startMotoServer({ port: await freePort() });
    const cmdline = fs.readFileSync(`/proc/${moto.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(1, 3)).to.deep.equal([MOTO_LAUNCHER, await motoCommand()]);
    const client = new DynamoDBClient({
      endpoint: moto.url,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const tables = await client.send(new ListTablesCommand({}));
    expect(tables.TableNames).to.deep.equal([]);
    const since = Date.now();
    await moto.stop();
    expect(isAlive(moto.pid)).to.equal(false);
    expect(Date.now() - since, "stopped by SIGTERM, not killed after the grace").to.be.below(2500);
  });

  it("is the launcher whose variable MOTO_GC_PERIOD_ENV names", () => {
    expect(fs.readFileSync(MOTO_LAUNCHER, "utf8")).to.include(
      `PERIOD_ENV = "${MOTO_GC_PERIOD_ENV}"`,
    );
  });
});
