// Where moto_server is not on PATH, the local run and the tests install it into
// .switchyard/moto-venv (python3 -m venv, pip install "moto[server]==5.2.1"). This machine reaches no
// Python package index, so the install is driven here as far as it can go: without Python 3, with
// an index that refuses connections (the one-line failure), and from a folder holding a wheel
// named moto 5.2.1 (pip's own offline install, PIP_FIND_LINKS with PIP_NO_INDEX), which checks the
// virtual environment, the pinned requirement and where moto_server is then found.
import { expect } from "chai";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  paginateListPolicies,
} from "@aws-sdk/client-iam";
import { writeZip } from "../../lib/zip";
import { LOCAL_CREDENTIALS } from "../../local/credentials";
import { REGION } from "../../local/mocks";
import {
  answers,
  freePort,
  MOTO_GC_PERIOD_ENV,
  MOTO_LAUNCHER,
  MOTO_NICENESS,
  MOTO_REQUIREMENT,
  motoCommand,
  motoInvocation,
  pipInstallsElsewhere,
  provisionCommands,
  REHEARSAL_MOTO_ENV,
  startMotoServer,
} from "../../local/motoServer";
import { scriptInterpreter } from "../../local/pythonCommand";
import { isAlive } from "./twinProcess";
import { PYTHON3 } from "../support/python";
import { awsCli } from "../support/awsCli";
import { CLI_ENVIRONMENT } from "../../local/firstRun";

/** A folder on PATH holding only links to the given commands. */
function binWith(dir: string, commands: Record<string, string>): string {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, target] of Object.entries(commands))
    fs.symlinkSync(target, path.join(bin, name));
  return bin;
}

/** A Python script for PYTHON3 at `file` (executable, as pip writes moto_server): `lines` after the shebang. */
function pythonScript(file: string, lines: string[]): string {
  fs.writeFileSync(file, [`#!${PYTHON3}`, ...lines, ""].join("\n"), { mode: 0o755 });
  return file;
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

describe("local: whether moto_server answers (the readiness the local run polls for)", function () {
  this.timeout(20_000);

  /** A server on a free port whose requests `handle` answers; its URL and what it was asked. */
  async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url ?? "");
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const close = () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { url, asked, close };
  }

  it("is true for a 200 from moto's own data.json, false for another server's answer", async () => {
    const ok = await serve((_req, res) => res.end("{}"));
    const other = await serve((_req, res) => {
      res.statusCode = 404;
      res.end("not here");
    });
    try {
      expect(await answers(ok.url)).to.equal(true);
      expect(ok.asked).to.deep.equal(["/moto-api/data.json"]);
      expect(await answers(other.url)).to.equal(false);
    } finally {
      await Promise.all([ok.close(), other.close()]);
    }
  });

  it("is false where nothing listens, and within its 1 s timeout for a server that never answers", async () => {
    expect(await answers(`http://127.0.0.1:${await freePort()}`)).to.equal(false);
    const silent = await serve(() => undefined);
    // Headers sent, then the body never ends.
    const stalled = await serve((_req, res) => res.writeHead(200).write("{"));
    try {
      for (const { url } of [silent, stalled]) {
        const since = Date.now();
        expect(await answers(url)).to.equal(false);
        expect(Date.now() - since).to.be.within(900, 3000);
      }
    } finally {
      await Promise.all([silent.close(), stalled.close()]);
    }
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
    const script = pythonScript(path.join(bin, "moto_server"), [
      "import gc, json, sys, threading, time, weakref",
      "class Node: pass",
      "a, b = Node(), Node()",
      "a.other, b.other = b, a",
      "alive = weakref.ref(a)",
      "del a, b",
      "time.sleep(float(sys.argv[-1]))",
      "print(json.dumps({'gc': gc.isenabled(), 'threads': sorted(t.name for t in threading.enumerate()),",
      "  'argv': sys.argv, 'path0': sys.path[0], 'cycleCollected': alive() is None}))",
    ]);
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

describe("local: moto_server through its launcher answers as moto_server started as it is", function () {
  this.timeout(90_000);
  // Both with the rehearsal's environment (AWS-managed policies loaded), each test using its own
  // names; the IAM test, which resets moto, comes last.
  const started: Array<() => Promise<void>> = [];
  let launched: { url: string; stderr: () => string };
  let plain: { url: string; stderr: () => string };
  before(async () => {
    [launched, plain] = await Promise.all([start("launched"), start("as it is")]);
  });
  after(async () => {
    await Promise.all(started.splice(0).map((stop) => stop()));
  });

  /**
   * This machine's moto_server with REHEARSAL_MOTO_ENV, through the launcher as the local run
   * starts it or as it is (the same arguments, without the launcher), and everything it writes on
   * stderr.
   */
  async function start(
    how: "launched" | "as it is",
  ): Promise<{ url: string; stderr: () => string }> {
    const port = await freePort();
    const command = await motoCommand();
    const through = motoInvocation(command, port);
    expect(
      through.args.slice(0, 2),
      "this machine's moto_server runs through the launcher",
    ).to.deep.equal([MOTO_LAUNCHER, command]);
    const { file, args } =
      how === "launched" ? through : { file: command, args: through.args.slice(2) };
    const child = spawn(file, args, {
      env: { ...process.env, ...REHEARSAL_MOTO_ENV },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    started.push(async () => {
      child.kill("SIGKILL");
      await exit;
    });
    const url = `http://127.0.0.1:${port}`;
    // The readiness the local run polls for (answers), for at most 20 s or until it exits.
    for (let tries = 0; !(await answers(url)); tries++) {
      if (exited || tries >= 200) throw new Error(`moto_server (${how}) did not answer: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { url, stderr: () => stderr };
  }

  /**
   * What IAM answers about AWS-managed policies: listed, read and attached in the aws partition,
   * then, after a reset of moto, listed and attached in aws-cn (whose backend moto made, unread,
   * for every request before).
   */
  async function managedPolicies(url: string) {
    const inPartition = async (region: string, partition: string) => {
      const iam = new IAMClient({ endpoint: url, region, credentials: LOCAL_CREDENTIALS });
      const policies: string[] = [];
      for await (const page of paginateListPolicies(
        { client: iam, pageSize: 1000 },
        { Scope: "AWS" },
      ))
        policies.push(...(page.Policies ?? []).map((p) => p.Arn!));
      const PolicyArn = `arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`;
      const RoleName = `pushes-logs-${partition}`;
      await iam.send(
        new CreateRoleCommand({
          RoleName,
          AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
        }),
      );
      await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn }));
      const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName })))
        .AttachedPolicies;
      // moto gives each policy object a random PolicyId, and dates of its own.
      const { PolicyId, CreateDate, UpdateDate, ...policy } = (
        await iam.send(new GetPolicyCommand({ PolicyArn }))
      ).Policy!;
      expect([PolicyId, CreateDate, UpdateDate].every(Boolean)).to.equal(true);
      return { policies: policies.sort(), attached, policy };
    };
    const aws = await inPartition("us-east-1", "aws");
    expect((await fetch(`${url}/moto-api/reset`, { method: "POST" })).ok).to.equal(true);
    const awsCn = await inPartition("cn-north-1", "aws-cn");
    return { aws, awsCn };
  }

  /** What KMS answers, through the AWS CLI v2, for keys of each kind and a table's default key. */
  async function kmsAnswers(url: string) {
    const aws = async (...args: string[]) => {
      const r = await awsCli(
        ["--endpoint-url", url, "--output", "json", "--no-cli-pager", ...args],
        { ...process.env, ...CLI_ENVIRONMENT },
      );
      const error = /An error occurred \((\w+)\)/.exec(r.stderr)?.[1];
      if (r.code !== 0 && !error) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
      return { code: r.code, error, json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
    };
    const message = Buffer.from("switchyard").toString("base64");
    const symmetric = (await aws("kms", "create-key")).json.KeyMetadata;
    const encrypted = await aws(
      "kms",
      "encrypt",
      "--key-id",
      symmetric.KeyId,
      "--plaintext",
      message,
    );
    const decrypted = await aws(
      "kms",
      "decrypt",
      "--ciphertext-blob",
      encrypted.json.CiphertextBlob,
    );
    const rsa = (
      await aws("kms", "create-key", "--key-spec", "RSA_2048", "--key-usage", "SIGN_VERIFY")
    ).json.KeyMetadata;
    const sign = ["--message", message, "--signing-algorithm", "RSASSA_PSS_SHA_256"];
    const signature = await aws("kms", "sign", "--key-id", rsa.KeyId, ...sign);
    const verified = await aws(
      "kms",
      "verify",
      "--key-id",
      rsa.KeyId,
      ...sign,
      "--signature",
      signature.json.Signature,
    );
    const rsaPublic = await aws("kms", "get-public-key", "--key-id", rsa.KeyId);
    // What moto answers for the private key a symmetric key holds: asked for, it exists.
    const symmetricPublic = await aws("kms", "get-public-key", "--key-id", symmetric.KeyId);
    const symmetricSign = await aws("kms", "sign", "--key-id", symmetric.KeyId, ...sign);
    const badSpec = await aws("kms", "create-key", "--key-spec", "ECC_NIST_P999");
    // DynamoDB makes the account's alias/aws/dynamodb key for a table encrypted with KMS.
    const table = await aws(
      "dynamodb",
      "create-table",
      "--table-name",
      "encrypted",
      "--attribute-definitions",
      "AttributeName=pk,AttributeType=S",
      "--key-schema",
      "AttributeName=pk,KeyType=HASH",
      "--billing-mode",
      "PAY_PER_REQUEST",
      "--sse-specification",
      "Enabled=true,SSEType=KMS",
    );
    const aliases = (await aws("kms", "list-aliases")).json.Aliases;
    const tableKey = aliases.find(
      (a: { AliasName: string }) => a.AliasName === "alias/aws/dynamodb",
    );
    const tableKeyPublic = await aws("kms", "get-public-key", "--key-id", tableKey.TargetKeyId);
    return {
      symmetric: symmetric.KeySpec,
      roundTrip: Buffer.from(decrypted.json.Plaintext, "base64").toString(),
      signed: { code: signature.code, valid: verified.json.SignatureValid },
      rsaPublicKeyBytes: Buffer.from(rsaPublic.json.PublicKey, "base64").length,
      symmetricPublic: {
        code: symmetricPublic.code,
        error: symmetricPublic.error,
        bytes: symmetricPublic.json && Buffer.from(symmetricPublic.json.PublicKey, "base64").length,
      },
      symmetricSign: { code: symmetricSign.code, error: symmetricSign.error },
      badSpec: { code: badSpec.code, error: badSpec.error },
      table: {
        sse: table.json.TableDescription.SSEDescription.Status,
        key: table.json.TableDescription.SSEDescription.KMSMasterKeyArn.endsWith(
          `/${tableKey.TargetKeyId}`,
        ),
        publicKeyBytes:
          tableKeyPublic.json && Buffer.from(tableKeyPublic.json.PublicKey, "base64").length,
      },
    };
  }

  it("answers KMS for symmetric and RSA keys, and DynamoDB's default key, as moto_server as it is (AWS CLI v2)", async () => {
    const [ours, theirs] = await Promise.all([kmsAnswers(launched.url), kmsAnswers(plain.url)]);
    expect(ours).to.deep.equal(theirs);
    expect(ours.roundTrip).to.equal("switchyard");
    expect(ours.signed).to.deep.equal({ code: 0, valid: true });
    expect(ours.badSpec.code).to.not.equal(0);
    expect(ours.table.sse).to.equal("ENABLED");
    expect(ours.table.key).to.equal(true);
  });

  it("builds IAM's AWS-managed policies and a symmetric KMS key's private key when first read, and lists moto's modules and loads botocore's models once", function () {
    if (!PYTHON3) this.skip();
    // Run through the launcher as moto_server would be, importing this machine's moto.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-moto-launcher-"));
    try {
      const script = pythonScript(path.join(dir, "moto_server"), [
        "import json, os",
        "import moto",
        "from moto import backends",
        "from moto.iam import models",
        "from moto.iam.aws_managed_policies import aws_managed_policies_data",
        "from cryptography.hazmat.primitives.asymmetric import rsa",
        "generated = []",
        "real_generate = rsa.generate_private_key",
        "rsa.generate_private_key = lambda **kw: generated.append(kw['key_size']) or real_generate(**kw)",
        "from moto.kms.models import kms_backends",
        "kms = kms_backends['123456789012']['us-east-1']",
        "symmetric = kms.create_key(policy='', key_usage='ENCRYPT_DECRYPT', key_spec='SYMMETRIC_DEFAULT', description='', tags=None)",
        "at_symmetric = list(generated)",
        "first = symmetric.private_key",
        "read_twice = symmetric.private_key is first",
        "at_read = list(generated)",
        "from moto.core import utils",
        "from moto.core.loaders import Loader",
        "one_loader = utils.create_loader() is utils.create_loader() and isinstance(utils.create_loader(), Loader)",
        "sqs_operations = sorted(utils.get_service_model('sqs').operation_names)",
        "from botocore.session import get_session",
        "botocore_operations = sorted(get_session().get_service_model('sqs').operation_names)",
        "kms.create_key(policy='', key_usage='SIGN_VERIFY', key_spec='RSA_3072', description='', tags=None)",
        "made = models.iam_backends['123456789012']['aws-cn']",
        "built_when_made = len(models.AWSManagedPolicy.instances_tracked)",
        "read = made.managed_policies",
        "root = os.path.dirname(moto.__file__)",
        "print(json.dumps({",
        "  'builtWhenMade': built_when_made,",
        "  'oneLoader': one_loader, 'sqsModel': sqs_operations == botocore_operations and len(sqs_operations),",
        "  'kms': {'atSymmetric': at_symmetric, 'atRead': at_read, 'readTwice': read_twice, 'atRsa': generated},",
        "  'readCount': len(read), 'published': len(json.loads(aws_managed_policies_data)),",
        "  'builtOnce': made.managed_policies is read and made.aws_managed_policies is made.aws_managed_policies,",
        "  'partitions': sorted({p.partition for p in read.values()}),",
        "  'listedOnce': backends.list_of_moto_modules() is backends.list_of_moto_modules(),",
        "  'listing': list(backends.list_of_moto_modules()),",
        "  'folders': sorted(e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e)) and not e.startswith('__')),",
        "}))",
      ]);
      const how = motoInvocation(script, 4999);
      const ran = JSON.parse(
        execFileSync(how.file, how.args, {
          env: { PATH: process.env.PATH, ...REHEARSAL_MOTO_ENV },
          encoding: "utf8",
        }),
      );
      expect(ran.builtWhenMade, "a backend made for an account lookup builds no policy").to.equal(
        0,
      );
      expect(ran.readCount).to.equal(ran.published).and.be.above(1000);
      expect(ran.builtOnce).to.equal(true);
      expect(ran.partitions).to.deep.equal(["aws-cn"]);
      expect(ran.listedOnce).to.equal(true);
      // One botocore Loader (moto's own class) serves every service model moto loads.
      expect(ran.oneLoader).to.equal(true);
      expect(ran.sqsModel, "SQS's operations, as botocore's own session loads them").to.be.above(
        20,
      );
      expect(ran.listing).to.deep.equal(ran.folders);
      // A symmetric KMS key gets moto's RSA-2048 private key when it is first read, once; an RSA
      // key gets its own when it is made.
      expect(ran.kms).to.deep.equal({
        atSymmetric: [],
        atRead: [2048],
        readTwice: true,
        atRsa: [2048, 3072],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes no line per request on stderr, where moto_server as it is writes one", async () => {
    for (const { url } of [launched, plain]) {
      const client = new DynamoDBClient({
        endpoint: url,
        region: REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      await client.send(new ListTablesCommand({}));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(plain.stderr(), "moto_server as it is").to.match(/"POST \/ HTTP\/1\.1" 200/);
    expect(launched.stderr(), "through the launcher").not.to.match(/HTTP\/1\.1/);
  });
  it("lists, reads and attaches AWS-managed policies as moto_server as it is, in each partition, after a reset too", async () => {
    const [ours, theirs] = await Promise.all([
      managedPolicies(launched.url),
      managedPolicies(plain.url),
    ]);
    expect(ours).to.deep.equal(theirs);
    for (const [partition, asked] of [
      ["aws", ours.aws],
      ["aws-cn", ours.awsCn],
    ] as const) {
      // 1,485 in moto 5.2.1's copy of AWS's list; every one in the partition asked.
      expect(asked.policies.length, partition).to.equal(1485);
      expect(
        asked.policies.every((arn) => arn.startsWith(`arn:${partition}:iam::aws:policy/`)),
        partition,
      ).to.equal(true);
      expect(asked.attached, partition).to.deep.equal([
        { PolicyName: "AmazonAPIGatewayPushToCloudWatchLogs", PolicyArn: asked.policy.Arn },
      ]);
    }
  });
});
