// Timing fresh Node processes from the outside: `ts-node --transpile-only <script>` spawned, the
// wall time to a line it prints (its ready or done line) and to its exit.
import { spawn } from "child_process";
import * as path from "path";
import { nowMs } from "./stats";

export const ROOT = path.join(__dirname, "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js");

/** Default wait between a server's ready line and the signal that stops it, ms. */
export const STOP_DELAY_MS = 250;

export interface ChildTiming {
  /** Spawn to the first stdout line matching `ready`, ms. */
  readyMs: number;
  /** Spawn to the process's exit, ms (after `stop` was sent, when one is given, and its delay). */
  exitMs: number;
  /** The matching line. */
  line: string;
}

export interface ChildOptions {
  /** Script and arguments, relative to the project. */
  args: string[];
  /** The line that says the process got where it is timed to. */
  ready: RegExp;
  /** Sent once `ready` is seen (a server that runs until told to stop); default: wait for exit. */
  stop?: NodeJS.Signals;
  /**
   * Wait after the ready line before sending `stop`: a process that prints its ready line just
   * before it installs its signal handler would otherwise die of the signal's default action,
   * leaving its own children (moto_server) running. Default 250 ms.
   */
  stopDelayMs?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * Spawns `ts-node --transpile-only` on a script in the project and times it. Rejects when the
 * process exits before its ready line, exits non-zero, or times out (it is then killed).
 */
export function timeChild(o: ChildOptions): Promise<ChildTiming> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const child = spawn(process.execPath, [TS_NODE, "--transpile-only", ...o.args], {
      cwd: ROOT,
      env: { ...process.env, ...o.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let readyMs = NaN;
    let line = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${o.args.join(" ")} did not finish within ${o.timeoutMs ?? 180_000} ms`));
    }, o.timeoutMs ?? 180_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!Number.isNaN(readyMs)) return;
      const found = out.split("\n").find((l) => o.ready.test(l));
      if (found === undefined) return;
      readyMs = nowMs() - t0;
      line = found;
      if (o.stop) setTimeout(() => child.kill(o.stop), o.stopDelayMs ?? STOP_DELAY_MS);
    });
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const exitMs = nowMs() - t0;
      if (Number.isNaN(readyMs))
        return reject(
          new Error(
            `${o.args.join(" ")} exited (${code ?? signal}) before printing ${o.ready}: ${err.trim().slice(-600)}`,
          ),
        );
      // A server told to stop must handle the signal and exit 0: killed by it, it did not clean up.
      if (code !== 0)
        return reject(
          new Error(`${o.args.join(" ")} exited with ${code ?? signal}: ${err.trim()}`),
        );
      resolve({ readyMs, exitMs, line });
    });
  });
}
