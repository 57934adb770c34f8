// The AWS CLI for the tests: each command runs through the CLI's own entry point in a process
// forked from one that has already imported it (awsCliServer.py), so a test pays the CLI's request
// handling, signing and output, not ~0.5 s of Python imports per command. One server per CLI and
// test worker, started on first use.
import { execFileSync, ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { onPath } from "../../local/motoServer";
import { pastPyenvShim, scriptInterpreter, shimRoot } from "../../local/pythonCommand";

/** Debian's awscli package (the AWS CLI v2), which .ci/run installs. */
export const AWS_CLI_V2 = "/usr/bin/aws";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Which CLI: the AWS CLI v2 at AWS_CLI_V2, or the `aws` a shell finds on PATH. */
export type Cli = "v2" | "path";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-aws-cli-"));
process.once("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));
let nextId = 0;

/**
 * The interpreter of the `aws` a shell would run: the script on PATH, or behind a pyenv shim the
 * script pyenv selects. Undefined where that `aws` is not a Python script (the CLI v2's installer
 * ships a binary): such a CLI is run by the shell instead.
 */
export function pathCliPython(): string | undefined {
  try {
    const onPathAws = onPath("aws");
    if (!onPathAws) return undefined;
    let script = pastPyenvShim(onPathAws);
    // A shim pyenv's selection is left to: pyenv says which script it runs.
    if (shimRoot(script) && !scriptInterpreter(script))
      script = execFileSync("pyenv", ["which", "aws"], { encoding: "utf8" }).trim();
    return scriptInterpreter(script);
  } catch {
    return undefined;
  }
}

class CliServer {
  private child?: ChildProcess;
  private readonly pending = new Map<number, (code: number) => void>();

  constructor(private readonly python: string) {}

  /** Keeps this process alive only while a command is running. */
  private hold(hold: boolean): void {
    const c = this.child!;
    for (const h of [c, c.stdin, c.stdout] as unknown as { ref(): void; unref(): void }[])
      if (hold) h.ref();
      else h.unref();
  }

  private server(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.python, [path.join(__dirname, "awsCliServer.py")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      const { id, code } = JSON.parse(line) as { id: number; code: number };
      this.pending.get(id)?.(code);
      this.pending.delete(id);
      this.hold(this.pending.size > 0);
    });
    const lost = () => {
      // Whatever was running is lost with the server: answered as a failed command, and the
      // next command starts a new server.
      if (this.child === child) this.child = undefined;
      for (const [id, done] of this.pending) {
        this.pending.delete(id);
        done(255);
      }
    };
    child.once("exit", lost);
    child.once("error", (e) => {
      process.stderr.write(`the AWS CLI server (${this.python}) failed: ${e.message}\n`);
      lost();
    });
    child.stdin!.on("error", () => undefined);
    this.child = child;
    return child;
  }

  async run(
    command: { args: string[] } | { line: string },
    env: NodeJS.ProcessEnv,
    timeoutSeconds: number,
  ): Promise<CliRun> {
    const id = nextId++;
    const stdout = path.join(scratch, `${id}.out`);
    const stderr = path.join(scratch, `${id}.err`);
    const code = await new Promise<number>((resolve) => {
      this.pending.set(id, resolve);
      const child = this.server();
      this.hold(true);
      child.stdin!.write(
        JSON.stringify({ id, ...command, env, stdout, stderr, timeout: timeoutSeconds }) + "\n",
      );
    });
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    const run = { code, stdout: read(stdout), stderr: read(stderr) };
    fs.rmSync(stdout, { force: true });
    fs.rmSync(stderr, { force: true });
    return run;
  }
}

const servers = new Map<string, CliServer>();
function serverFor(python: string): CliServer {
  let s = servers.get(python);
  if (!s) servers.set(python, (s = new CliServer(python)));
  return s;
}

let v2Python: string | undefined;

/** Runs `aws <args>` (the AWS CLI v2) with `env` as its whole environment. */
export function awsCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutSeconds = 60,
): Promise<CliRun> {
  // The interpreter of AWS_CLI_V2 (its shebang), where Debian's awscli package is importable:
  // read once per process.
  v2Python ??= scriptInterpreter(AWS_CLI_V2) ?? "/usr/bin/python3";
  return serverFor(v2Python).run({ args }, env, timeoutSeconds);
}

/**
 * Runs a printed command line `aws ...` as a shell would run it with the `aws` on PATH, through
 * that CLI's entry point: only for a line a shell splits into words without expanding anything
 * (no $, backquote, glob, redirection or separator outside quotes is allowed by the caller's check,
 * see plainAwsLine). `python` is pathCliPython().
 */
export function awsCliLine(
  python: string,
  line: string,
  env: NodeJS.ProcessEnv,
  timeoutSeconds = 60,
): Promise<CliRun> {
  return serverFor(python).run({ line }, env, timeoutSeconds);
}

/**
 * Whether a shell runs `line` as the plain words of an `aws` command: it starts with `aws ` and a
 * shell would only split it into words and remove its quotes. Outside quotes none of
 * $ ` \ * ? [ ] { } ~ | & ; < > ( ) ! # or a newline appears; inside double quotes none of $ ` \ !;
 * inside single quotes anything goes (a shell takes it literally).
 */
export function plainAwsLine(line: string): boolean {
  if (!/^aws\s/.test(line)) return false;
  let quote: "'" | '"' | undefined;
  for (const c of line) {
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if ("$`\\!".includes(c)) return false;
    } else if (c === "'" || c === '"') quote = c;
    else if ("$`\\*?[]{}~|&;<>()!#\n".includes(c)) return false;
  }
  return quote === undefined;
}
