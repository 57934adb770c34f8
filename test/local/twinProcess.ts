// `npm start` as a child process, for the tests that attack it or stop it: started in its own
// process group (as a terminal runs it) with its own TMPDIR, so that what it leaves behind shows.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

export interface TwinProcess {
  child: ChildProcess;
  pid: number;
  /** The folder given to it as TMPDIR. */
  tmpDir: string;
  /** Each served port by what its summary line calls it ("AWS endpoint", "function URL x", ...). */
  ports: Map<string, number>;
  /** moto_server's pid, from the summary. */
  motoPid: number;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the time from now until the process has exited, in ms; Infinity once
   * `timeoutMs` has passed without it exiting (its process group is then killed).
   */
  exited(timeoutMs?: number): Promise<number>;
}

/**
 * local/cli.ts options for a run whose records route dead-letters within seconds: a fast retry
 * clock and prod's API destination rate (the route's 185 retries take a second, not the 19 s of
 * dev's 10 per second), with the records API at `recordsUrl`.
 */
export const fastDeadLetterArgs = (recordsUrl: string): string[] => [
  "--speed",
  "0.0001",
  "--config",
  "recordsRateLimitPerSecond=300",
  "--records-endpoint",
  recordsUrl,
];

/**
 * Starts local/cli.ts on ports from `basePort` and resolves once it prints its ready line (or,
 * to catch it while it starts, a line matching `until`).
 */
export async function startTwin(
  basePort: number,
  env: Record<string, string> = {},
  until = /^Ready /m,
  readyTimeoutMs = 120_000,
  /** More options of local/cli.ts (--speed, --records-endpoint). */
  args: string[] = [],
): Promise<TwinProcess> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "twin-test-"));
  const child = spawn(
    process.execPath,
    [
      require.resolve("ts-node/dist/bin.js"),
      "--transpile-only",
      "local/cli.ts",
      "--port",
      String(basePort),
      ...args,
    ],
    {
      cwd: ROOT,
      // Its endpoints file stays out of the project's: a developer's `npm start` keeps its own.
      env: {
        ...process.env,
        TMPDIR: tmpDir,
        SWITCHYARD_ENDPOINTS_FILE: path.join(tmpDir, "endpoints.json"),
        ...env,
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // Its own process group does not end with this one: a test run that is cut short kills it.
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // No process left in the group.
    }
  };
  process.once("exit", killGroup);
  child.once("exit", () => process.removeListener("exit", killGroup));
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d.toString()));
  child.stderr!.on("data", (d) => (err += d.toString()));
  let exitedAt: number | undefined;
  const exit = new Promise<void>((r) =>
    child.once("exit", () => {
      exitedAt = Date.now();
      r();
    }),
  );
  const deadline = Date.now() + readyTimeoutMs;
  while (!until.test(out)) {
    if (exitedAt !== undefined || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`local/cli.ts did not get ready:\n${out.slice(-3000)}\n${err.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const ports = new Map<string, number>();
  for (const m of out.matchAll(/^ {2}([^:\n]+): http:\/\/127\.0\.0\.1:(\d+)/gm)) {
    ports.set(m[1].replace(/ \(.*\)$/, ""), Number(m[2]));
  }
  const moto = out.match(/moto_server http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)/);
  return {
    child,
    pid: child.pid!,
    tmpDir,
    ports,
    motoPid: Number(moto?.[1]),
    stdout: () => out,
    stderr: () => err,
    exited: async (timeoutMs = 30_000) => {
      const from = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        exit.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!gaveUp) return exitedAt! - from;
      process.kill(-child.pid!, "SIGKILL");
      return Infinity;
    },
  };
}

/** Every process below `pid` (its children, theirs, ...), from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: fields after it are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // It exited while the list was read.
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        visit(child);
      }
  };
  visit(pid);
  return out;
}

/** Whether a process is running (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
