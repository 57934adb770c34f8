// Turns the archive a CallbackFunction declares into a directory and hosts it in a fresh Node
// process: the same __index.js and node_modules that `pulumi up` zips, run as Lambda would.
import { ChildProcess, fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LOCAL_CREDENTIALS } from "./credentials";
import { REGION } from "./account";

const PROJECT_MODULES = path.join(__dirname, "..", "node_modules");

const temporaryDirs = new Set<string>();
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * When this process exits, however it exits short of SIGKILL, its function processes are killed
 * and its temporary folders removed: neither may outlive the local runtime.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
    removeTemporaryDirs();
  });
}

/** A new folder under the OS's temporary folder, removed when this process exits. */
export function temporaryDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirs.add(dir);
  installExitHook();
  return dir;
}

/** Removes every folder temporaryDir made (materialized archives, the runtime's node_modules). */
export function removeTemporaryDirs(): void {
  for (const dir of temporaryDirs) fs.rmSync(dir, { recursive: true, force: true });
  temporaryDirs.clear();
  runtimeModules = undefined;
}

function unwrap<T>(v: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(v).apply((x) => resolve(x as T)));
}

export interface ArchiveFile {
  /** Path inside the archive. */
  name: string;
  /** Text of a string asset, or the path of a file (or, for a folder archive, a folder) here. */
  text?: string;
  path?: string;
}

/**
 * The files of a declared archive: `__index.js` text, and each packaged file (nested archives are
 * flattened; a folder archive stays one entry whose `path` is the folder).
 */
export function archiveEntries(
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
  prefix = "",
): Promise<ArchiveFile[]> {
  // Read once per archive: the local run materializes it and the apply to moto zips it, at once.
  if (prefix !== "" || typeof archive !== "object" || archive === null)
    return readArchiveEntries(archive, prefix);
  let entries = ENTRIES.get(archive);
  if (!entries) {
    entries = readArchiveEntries(archive, prefix);
    ENTRIES.set(archive, entries);
  }
  return entries;
}

const ENTRIES = new WeakMap<object, Promise<ArchiveFile[]>>();

async function readArchiveEntries(
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
  prefix: string,
): Promise<ArchiveFile[]> {
  const a = (await unwrap(archive)) as any;
  const assets = await a.assets;
  const out: ArchiveFile[] = [];
  for (const [name, asset] of Object.entries<any>(assets)) {
    const full = prefix ? `${prefix}/${name}` : name;
    if (asset.assets !== undefined) out.push(...(await archiveEntries(asset, full)));
    else if (asset.text !== undefined) out.push({ name: full, text: await asset.text });
    else out.push({ name: full, path: await asset.path });
  }
  return out;
}

/**
 * Writes the archive to a new directory, copying every file: a link would let Node resolve a
 * package's files from the project's node_modules and hide a file the archive lacks.
 */
export async function materialize(
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
  dir = temporaryDir("switchyard-fn-"),
): Promise<string> {
  for (const e of await archiveEntries(archive)) {
    const dest = path.join(dir, e.name);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (e.text !== undefined) fs.writeFileSync(dest, e.text);
    else if (fs.statSync(e.path!).isDirectory())
      fs.cpSync(e.path!, dest, { recursive: true, dereference: true });
    else fs.copyFileSync(e.path!, dest);
  }
  return dir;
}

let runtimeModules: string | undefined;

/**
 * A node_modules folder holding what the nodejs22.x runtime provides: the AWS SDK v3 (every
 * @aws-sdk, @smithy and @aws-crypto package) and the packages they depend on, linked from the
 * project's node_modules. Functions resolve nothing else outside their own archive.
 */
export function lambdaRuntimeModules(): string {
  if (runtimeModules) return runtimeModules;
  const dir = temporaryDir("switchyard-runtime-");
  const modules = path.join(dir, "node_modules");
  fs.mkdirSync(modules);
  const seen = new Set<string>();
  const visit = (pkg: string) => {
    if (seen.has(pkg)) return;
    const src = path.join(PROJECT_MODULES, pkg);
    if (!fs.existsSync(path.join(src, "package.json"))) return;
    seen.add(pkg);
    const json = JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8"));
    for (const dep of Object.keys({ ...json.dependencies, ...json.optionalDependencies }))
      visit(dep);
  };
  for (const scope of ["@aws-sdk", "@smithy", "@aws-crypto"]) {
    const d = path.join(PROJECT_MODULES, scope);
    if (fs.existsSync(d)) for (const p of fs.readdirSync(d)) visit(`${scope}/${p}`);
  }
  for (const pkg of seen) {
    const dest = path.join(modules, pkg);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.symlinkSync(path.join(PROJECT_MODULES, pkg), dest, "dir");
  }
  runtimeModules = modules;
  return modules;
}

export interface HostOptions {
  /** Environment variables the function declares, plus endpoint and credentials. */
  env?: Record<string, string>;
  /** The function's timeout in seconds. */
  timeoutSeconds?: number;
  functionName?: string;
  /** What the runtime provides on NODE_PATH; default the AWS SDK (lambdaRuntimeModules). */
  runtimeModules?: string;
  /**
   * Called with each line the process writes (a console call or a Powertools record is one line),
   * with the request id of the invocation it belongs to. With it, `stdout` and `stderr` keep only
   * their last 64 KB.
   */
  onLog?(record: FunctionLogRecord): void;
}

/** One line a function process wrote. */
export interface FunctionLogRecord {
  /** When the runtime received it, ISO 8601. */
  time: string;
  stream: "stdout" | "stderr";
  /** The invocation it belongs to (a Powertools record's function_request_id, else the one
   *  running), or undefined for what the process wrote outside any invocation (its init). */
  requestId?: string;
  message: string;
}

/** What stdout and stderr keep when the lines are handed to onLog. */
const KEPT_OUTPUT_CHARS = 64 * 1024;

/** The request id a Powertools JSON record names, if the line is one. */
function powertoolsRequestId(line: string): string | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const id = (JSON.parse(line) as { function_request_id?: unknown }).function_request_id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

export class LambdaInvokeError extends Error {
  constructor(
    public readonly errorType: string,
    message: string,
    public readonly remoteStack?: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

/**
 * One artifact in its own Node process. The AWS SDK comes through NODE_PATH, as the nodejs22.x
 * runtime provides it (lambdaRuntimeModules); everything else must be in the archive.
 */
export class LambdaHost {
  private child!: ChildProcess;
  private seq = 0;
  private pending = new Map<
    number,
    { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  public loadMs = 0;
  public stderr = "";
  public stdout = "";
  private stopped = false;
  /** The request id of the invocation running, whose lines these are. */
  private running?: string;
  /** Set when the process reported an error (spawn or IPC failure). */
  private failed?: Error;

  private constructor(
    private readonly dir: string,
    private readonly opts: HostOptions,
  ) {}

  static async start(dir: string, opts: HostOptions = {}): Promise<LambdaHost> {
    const host = new LambdaHost(dir, opts);
    await host.spawn();
    return host;
  }

  private spawn(): Promise<void> {
    const timeoutMs = (this.opts.timeoutSeconds ?? 10) * 1000;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      NODE_PATH: this.opts.runtimeModules ?? lambdaRuntimeModules(),
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: this.opts.functionName ?? path.basename(this.dir),
      SWITCHYARD_TIMEOUT_MS: String(timeoutMs),
      // Lambda runs nodejs22.x; the SDK's warning about Node 20 only concerns this machine.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...this.opts.env,
    };
    const child = fork(path.join(__dirname, "lambdaRunner.js"), [this.dir], {
      env,
      execArgv: [],
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child = child;
    liveChildren.add(child);
    installExitHook();
    child.once("exit", () => liveChildren.delete(child));
    // A process that could not be spawned, or a send to one that has just died, is reported
    // here: the sandbox is marked dead (never reused) and its invocations rejected.
    child.on("error", (e) => {
      this.failed = e;
      const err = new Error(`function process failed: ${e.message}`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
    });
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]!.setEncoding("utf8");
      child[stream]!.on("data", (d: string) => {
        this[stream] += d;
        const onLog = this.opts.onLog;
        if (!onLog) return;
        if (this[stream].length > 2 * KEPT_OUTPUT_CHARS)
          this[stream] = this[stream].slice(-KEPT_OUTPUT_CHARS);
        const lines = (partial + d).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (!line) continue;
          onLog({
            time: new Date().toISOString(),
            stream,
            requestId: powertoolsRequestId(line) ?? this.running,
            message: line,
          });
        }
      });
    }
    return new Promise((resolve, reject) => {
      // A process that cannot be spawned (EAGAIN, ENOMEM) reports it here and never exits.
      child.once("error", reject);
      this.child.once("exit", (code) => {
        const err = new Error(
          `function process exited with code ${code}: ${this.stderr.slice(-2000)}`,
        );
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        reject(err);
      });
      this.child.on("message", (m: any) => {
        if (m.type === "ready") {
          this.loadMs = m.loadMs;
          resolve();
        } else if (m.type === "init-error") {
          reject(
            new LambdaInvokeError(m.error.name, `init failed: ${m.error.message}`, m.error.stack),
          );
        } else if (m.type === "result" || m.type === "error") {
          const p = this.pending.get(m.id);
          if (!p) return;
          clearTimeout(p.timer);
          this.pending.delete(m.id);
          // Let the stdout pipe deliver the lines written before the answer.
          setTimeout(() => {
            this.running = undefined;
            if (m.type === "result") p.resolve(m.result);
            else
              p.reject(
                new LambdaInvokeError(m.error.errorType, m.error.errorMessage, m.error.stack),
              );
          }, 5);
        }
      });
    });
  }

  /**
   * Whether the process can take an invocation: running, its IPC channel open, not stopped and
   * not failed. A sandbox that is not alive is discarded, never reused.
   */
  get alive(): boolean {
    const c = this.child;
    return (
      !this.stopped &&
      !this.failed &&
      c !== undefined &&
      c.exitCode === null &&
      c.signalCode === null &&
      c.connected
    );
  }

  /** Invokes the handler; rejects with the handler's error, or a timeout as Lambda reports it. */
  invoke<R = any>(event: unknown, requestId?: string): Promise<R> {
    if (!this.alive)
      return Promise.reject(
        new Error(
          `function process is not running${this.failed ? `: ${this.failed.message}` : ""}`,
        ),
      );
    const id = ++this.seq;
    const timeoutMs = (this.opts.timeoutSeconds ?? 10) * 1000;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new LambdaInvokeError(
            "Sandbox.Timedout",
            `Task timed out after ${timeoutMs / 1000} seconds`,
          ),
        );
        // A timed-out sandbox is discarded, as Lambda does.
        this.child.kill();
        if (!this.stopped) void this.spawn().catch(() => undefined);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.running = requestId;
      this.child.send({ type: "invoke", id, event, requestId }, (e) => {
        if (!e || !this.pending.has(id)) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(`function process did not take the invocation: ${e.message}`));
      });
    });
  }

  /**
   * Ends the process: SIGTERM, then SIGKILL after `graceMs`. A process already gone (exited, or
   * ended by a signal such as the terminal's Ctrl-C, when exitCode stays null) resolves at once.
   */
  /**
   * Ends the process: SIGTERM, then SIGKILL after `graceMs`. Idempotent: the pool, the idle timer
   * and the runtime's stop may all stop one host, and a second call must not take the first's
   * exit listener away (its promise would never settle).
   */
  stop(graceMs = 1000): Promise<void> {
    this.stopping ??= this.end(graceMs);
    return this.stopping;
  }

  private stopping?: Promise<void>;

  private async end(graceMs: number): Promise<void> {
    this.stopped = true;
    const child = this.child;
    const err = new Error("function process stopped");
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.removeAllListeners("exit");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      child.once("exit", () => {
        clearTimeout(timer);
        liveChildren.delete(child);
        resolve();
      });
      child.kill();
    });
  }
}
