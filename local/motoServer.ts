// moto_server (moto's AWS service mocks, in server mode) as a child process on a free local port:
// the local DynamoDB of `npm start` and of the handler tests. It implements TransactWriteItems with
// AWS's error shapes (cancellation reasons included), which dynalite does not. moto 5.2.1 is
// installed in the machine image (Python, `moto_server` on PATH); it starts in under a second.
import { ChildProcess, spawn } from "child_process";
import * as net from "net";

export interface MotoServer {
  /** Base URL, for example http://127.0.0.1:41234: a DynamoDB endpoint. */
  readonly url: string;
  readonly port: number;
  /** The moto_server process. */
  readonly pid: number;
  /** Ends the process (SIGTERM, then SIGKILL after 2.5 s); resolves once it has exited. */
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
/** moto_server takes about 2 s to exit on SIGTERM; after this it is killed. */
const STOP_GRACE_MS = 2500;
const INSTALL_HINT = `install moto's server mode (pip install "moto[server]==5.2.1") so that ${MOTO_COMMAND} is on PATH`;

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

/** Whether moto answers at `url` (its own API: not some other server that took the port). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function startOnce(port: number, o: MotoServerOptions): Promise<MotoServer> {
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_COMMAND, ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, ...o.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
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
 * OS reports free, retried on another one if something took it in between.
 */
export async function startMotoServer(o: MotoServerOptions = {}): Promise<MotoServer> {
  for (let attempt = 1; ; attempt++) {
    const port = o.port ?? (await freePort());
    try {
      return await startOnce(port, o);
    } catch (e) {
      if (o.port === undefined && (e as { portInUse?: boolean }).portInUse && attempt < 5) continue;
      throw e;
    }
  }
}
