// moto_server (moto's AWS service mocks, in server mode) as a child process on a free local port:
// the AWS account of `npm start` (the program applied to it by the deploy rehearsal) and the local
// DynamoDB of the handler tests. It implements TransactWriteItems with AWS's error shapes
// (cancellation reasons included), which dynalite does not. moto 5.2.1 is installed in the machine
// image (`moto_server` on PATH); where it is not, it is installed once into .switchyard/moto-venv
// (python3 -m venv, then pip install "moto[server]==5.2.1"). It starts in under a second.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { pastPyenvShim, scriptInterpreter } from "./pythonCommand";

export interface MotoServer {
  /** Base URL, for example http://127.0.0.1:41234: a DynamoDB endpoint. */
  readonly url: string;
  readonly port: number;
  /** The moto_server process. */
  readonly pid: number;
  /**
   * Ends the process (SIGTERM, then SIGKILL after 2.5 s); resolves once it has exited. A reused
   * server (reuseMotoServers) is kept running instead, idle until the next start.
   */
  stop(): Promise<void>;
}

export interface MotoServerOptions {
  /** Port to listen on. Default one the OS reports free. */
  readonly port?: number;
  /** Environment added to the process's (moto reads its settings there, e.g. MOTO_ENABLE_RECORDING). */
  readonly env?: Record<string, string>;
  /** How long to wait for it to answer, ms. Default 20000. */
  readonly startTimeoutMs?: number;
}

export const MOTO_COMMAND = "moto_server";
/**
 * Environment moto_server needs for the deploy rehearsal (local/rehearsal.ts): the AWS-managed IAM
 * policies the program attaches (AmazonAPIGatewayPushToCloudWatchLogs) exist in moto only when it
 * loads them.
 */
export const REHEARSAL_MOTO_ENV: Readonly<Record<string, string>> = {
  MOTO_IAM_LOAD_MANAGED_POLICIES: "true",
};

/** moto_server's niceness over the Node process that starts it (nice(1)'s increment). */
export const MOTO_NICENESS = 10;

/** The moto release every machine of the project runs (pinned, as the npm dependencies are). */
export const MOTO_REQUIREMENT = "moto[server]==5.2.1";
/** Where moto is installed when moto_server is not on PATH. */
export const MOTO_VENV = path.join(__dirname, "..", ".switchyard", "moto-venv");
/** moto_server takes about 2 s to exit on SIGTERM; after this it is killed. */
const STOP_GRACE_MS = 2500;
const INSTALL_HINT = `install moto's server mode (pip install "${MOTO_REQUIREMENT}") so that ${MOTO_COMMAND} is on PATH`;

/** The executable of `command` on `PATH` (as spawn would find it), or undefined. */
export function onPath(command: string, envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** pip's arguments for the pinned moto: no prompts, one retry, a short timeout. */
const PIP_INSTALL = [
  "install",
  "--disable-pip-version-check",
  "--no-input",
  "--timeout",
  "15",
  "--retries",
  "1",
  MOTO_REQUIREMENT,
];

/** The first pip with `--python` (one installation of pip installing into another environment). */
const PIP_WITH_PYTHON_OPTION = [22, 3];

/**
 * The commands that install moto into `venv`: a virtual environment, then pip. Where `python`'s
 * own pip can install into another environment (`basePip`: pip 22.3 or later), the environment is
 * made without pip and that pip installs into it: making it with pip (ensurepip) is 4 s of CPU
 * here, without 0.07 s. Otherwise the environment's own pip, as `python3 -m venv` installs it.
 */
export function provisionCommands(
  venv: string,
  python = "python3",
  basePip = false,
): Array<{ file: string; args: string[] }> {
  return basePip
    ? [
        { file: python, args: ["-m", "venv", "--without-pip", venv] },
        {
          file: python,
          args: ["-m", "pip", "--python", path.join(venv, "bin", "python"), ...PIP_INSTALL],
        },
      ]
    : [
        { file: python, args: ["-m", "venv", venv] },
        { file: path.join(venv, "bin", "pip"), args: PIP_INSTALL },
      ];
}

/** Whether `python` has a pip that installs into another environment (`pip --python`). */
export async function pipInstallsElsewhere(
  python: string,
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  const { code, output } = await run(python, ["-m", "pip", "--version"], env);
  const [major, minor] = (output.match(/^pip (\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);
  if (code !== 0 || major === undefined) return false;
  const [wantMajor, wantMinor] = PIP_WITH_PYTHON_OPTION;
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

export interface ProvisionOptions {
  /** Where the virtual environment goes. Default MOTO_VENV. */
  readonly venv?: string;
  /** The environment the commands run with (its PATH finds python3; PIP_* settings apply). */
  readonly env?: NodeJS.ProcessEnv;
  /** One line per step. */
  readonly log?: (line: string) => void;
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({
        code: err ? Number((err as { code?: number }).code ?? 1) || 1 : 0,
        output: `${stdout}${stderr}`,
      }),
    ),
  );
}

/**
 * The moto_server to run: the one on PATH, else the one in .switchyard/moto-venv, else moto
 * installed there now. Fails with one line naming the fix when Python 3 is missing or pip cannot
 * install moto (this project's machines reach no Python package index).
 */
export async function motoCommand(o: ProvisionOptions = {}): Promise<string> {
  const env = o.env ?? process.env;
  const venv = o.venv ?? MOTO_VENV;
  const found = onPath(MOTO_COMMAND, env.PATH);
  // Behind a pyenv shim, the script it would exec: the shim's own start costs CPU the program's
  // evaluation competes for (local/pythonCommand.ts).
  if (found) return pastPyenvShim(found, env);
  const installed = path.join(venv, "bin", MOTO_COMMAND);
  if (fs.existsSync(installed)) return installed;
  const python = onPath("python3", env.PATH);
  if (!python)
    throw new Error(
      `${MOTO_COMMAND} is not on PATH and python3 was not found to install it into ${venv}: install Python 3 with venv (apt-get install -y python3 python3-venv), or ${INSTALL_HINT}`,
    );
  o.log?.(`${MOTO_COMMAND} is not on PATH: installing ${MOTO_REQUIREMENT} into ${venv}`);
  const [venvStep, pipStep] = provisionCommands(
    venv,
    python,
    await pipInstallsElsewhere(python, env),
  );
  const made = await run(venvStep.file, venvStep.args, env);
  if (made.code !== 0)
    throw new Error(
      `python3 -m venv ${venv} failed (${lastLine(made.output)}): install python3-venv (apt-get install -y python3-venv), or ${INSTALL_HINT}`,
    );
  const pip = await run(pipStep.file, pipStep.args, env);
  if (pip.code !== 0 || !fs.existsSync(installed)) {
    // A half-made environment would be taken for an installed one next time.
    fs.rmSync(venv, { recursive: true, force: true });
    throw new Error(
      `pip could not install ${MOTO_REQUIREMENT} into ${venv} (${lastLine(pip.output)}): ${INSTALL_HINT}, or point pip at a reachable index or wheel folder (PIP_INDEX_URL, PIP_FIND_LINKS) and start again`,
    );
  }
  o.log?.(`${MOTO_COMMAND}: installed into ${venv}`);
  return installed;
}

/** The last line a failed command printed that says something (pip ends with its ERROR line). */
function lastLine(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.reverse().find((l) => /error/i.test(l)) ?? lines[0] ?? "no output").slice(0, 300);
}

/** A port the OS reports free on 127.0.0.1 (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Whether moto answers at `url` (its own API: not some other server that took the port). Asked
 * with node:http, not fetch: the first fetch in a process loads undici (about 20 ms of CPU in a
 * CPU profile of `npm start`, which polls here while the program is evaluated).
 */
export function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/moto-api/data.json`, { timeout: 1000 }, (res) => {
      res.on("close", () => resolve(res.complete && res.statusCode === 200));
      res.resume();
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** Runs a moto_server script with the cycle collector on a schedule (see that file). */
export const MOTO_LAUNCHER = path.join(__dirname, "motoLauncher.py");
/**
 * The environment variable MOTO_LAUNCHER reads: seconds between its full collections (default 10),
 * 0 for none.
 */
export const MOTO_GC_PERIOD_ENV = "SWITCHYARD_MOTO_GC_SECONDS";

/**
 * How to start `command` on `port`: through MOTO_LAUNCHER with the interpreter its script names
 * (by path, or by name on PATH as `#!/usr/bin/env python3` does), else the command itself (pip's
 * `/bin/sh` trampoline for long paths, a pyenv shim left to pyenv): Python's collector then runs
 * as Python sets it, and MOTO_GC_PERIOD_ENV is not read.
 */
export function motoInvocation(command: string, port: number): { file: string; args: string[] } {
  const args = ["-H", "127.0.0.1", "-p", String(port)];
  const python = scriptInterpreter(command, true);
  return python
    ? { file: python, args: [MOTO_LAUNCHER, command, ...args] }
    : { file: command, args };
}

async function startOnce(command: string, port: number, o: MotoServerOptions): Promise<MotoServer> {
  const url = `http://127.0.0.1:${port}`;
  const how = motoInvocation(command, port);
  const child: ChildProcess = spawn(how.file, how.args, {
    env: { ...process.env, ...o.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // moto_server starts while the program is evaluated (npm start), and its Python start-up would
  // take CPU from the evaluation the run waits on: at a lower priority it takes what the evaluation
  // leaves (bench: npm start to Ready). It serves the run's AWS account in the background and keeps
  // that priority.
  if (child.pid !== undefined)
    try {
      // Relative to this process, as nice(1) sets it; 19 is the lowest priority there is.
      os.setPriority(child.pid, Math.min(19, os.getPriority() + MOTO_NICENESS));
    } catch {
      // Not permitted here: it runs at the default priority.
    }
  // moto logs every request on stderr: keep only the tail, for the error a failed start reports.
  let stderrTail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
  });
  let exited: { code: number | null; signal: string | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => ((exited = { code, signal }), resolve())),
  );
  child.once("error", (e) => (spawnError = e));
  // A test process that exits without stopping it must not leave it running.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  // Kept until the process has exited: a CLI that gives up waiting must still kill it.
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    process.removeListener("exit", killOnExit);
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 20000);
  for (;;) {
    if (spawnError) {
      process.removeListener("exit", killOnExit);
      const missing = (spawnError as NodeJS.ErrnoException).code === "ENOENT";
      throw new Error(
        missing
          ? `${MOTO_COMMAND} was not found: ${INSTALL_HINT}`
          : `${MOTO_COMMAND} did not start: ${spawnError.message}`,
      );
    }
    if (exited) {
      process.removeListener("exit", killOnExit);
      throw Object.assign(
        new Error(
          `${MOTO_COMMAND} on port ${port} exited (${exited.code ?? exited.signal}): ${stderrTail.trim()}`,
        ),
        {
          portInUse: /address already in use/i.test(stderrTail),
        },
      );
    }
    if (await answers(url)) return { url, port, pid: child.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${MOTO_COMMAND} on port ${port} did not answer within ${o.startTimeoutMs ?? 20000} ms: ${stderrTail.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts moto_server on 127.0.0.1 and resolves once it answers HTTP. Without `port`, on a port the
 * OS reports free, retried on another one if something took it in between. Where servers are
 * reused (reuseMotoServers), an idle one started with the same environment is given instead, reset
 * to an empty account.
 */
export async function startMotoServer(o: MotoServerOptions = {}): Promise<MotoServer> {
  return idleServers && reusable(o) ? reuseOrStart(o, idleServers) : launch(o);
}

async function launch(o: MotoServerOptions): Promise<MotoServer> {
  const command = await motoCommand({ log: (l) => console.log(l) });
  for (let attempt = 1; ; attempt++) {
    const port = o.port ?? (await freePort());
    try {
      return await startOnce(command, port, o);
    } catch (e) {
      if (o.port === undefined && (e as { portInUse?: boolean }).portInUse && attempt < 5) continue;
      throw e;
    }
  }
}

/** Idle servers by environment (JSON), where reuse is on. */
let idleServers: Map<string, MotoServer[]> | undefined;

/**
 * Makes this process reuse moto_servers: a stopped server is kept (idle) and the next
 * startMotoServer with the same environment gets it back, reset to an empty account by moto's own
 * `POST /moto-api/reset` (every backend's state dropped, as in a new process). The test workers do
 * this (test/setup.ts, which `npm run bench` loads too; its sections start servers of different
 * environments, so none is reused there): each local run or handler test still starts from an
 * empty account, without paying moto_server's Python start-up and its backends' imports again.
 * Servers given a port, or an environment that records requests (--persist), are never reused.
 * Idle servers end with the process.
 */
export function reuseMotoServers(): void {
  idleServers ??= new Map();
}

function reusable(o: MotoServerOptions): boolean {
  return (
    o.port === undefined && !Object.keys(o.env ?? {}).some((k) => k.startsWith("MOTO_RECORDER"))
  );
}

async function reuseOrStart(
  o: MotoServerOptions,
  idle: Map<string, MotoServer[]>,
): Promise<MotoServer> {
  const key = JSON.stringify(Object.entries(o.env ?? {}).sort());
  let server: MotoServer | undefined;
  for (let s = idle.get(key)?.pop(); s && !server; s = idle.get(key)?.pop()) {
    // One that died or cannot be reset is ended and skipped.
    const reset = await fetch(`${s.url}/moto-api/reset`, {
      method: "POST",
      signal: AbortSignal.timeout(5000),
    }).then(
      (r) => r.arrayBuffer().then(() => r.ok),
      () => false,
    );
    if (reset) server = s;
    else await s.stop();
  }
  server ??= await launch(o);
  const kept = server;
  let stopped = false;
  return {
    url: kept.url,
    port: kept.port,
    pid: kept.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      idle.set(key, [...(idle.get(key) ?? []), kept]);
    },
  };
}
