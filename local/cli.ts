// `npm start [-- --stack prod] [--speed 1] [--persist] [--port 4500] [--records-endpoint URL] [--config key=value] [--moto all|engine]`
// Evaluates the program for the stack under mocks and serves it on localhost until Ctrl-C.
import "./polyfills";
import * as fs from "fs";
import * as path from "path";
import { SwitchyardLocal } from "./runtime";
import type { MotoScope } from "./services/moto";
import { KEYS } from "../config/keys";
import { NAMESPACE } from "../config/kinds";

import { ENDPOINTS_FILE } from "./endpointsFile";

/** Where a running instance says what it serves (`npm run demo` reads it); tests move it. */
export { ENDPOINTS_FILE };

/** --speed N, or a fraction such as 1/3600 (a 10 h wait takes 10 s). */
export function parseSpeed(v: string): number {
  const m = v.match(/^\s*([0-9.eE+-]+)\s*\/\s*([0-9.eE+-]+)\s*$/);
  return m ? Number(m[1]) / Number(m[2]) : Number(v);
}

export function parseArgs(argv: string[]): {
  stack: string;
  speed: number;
  persist: boolean;
  basePort: number;
  recordsEndpoint?: string;
  configOverrides: Record<string, string>;
  moto: MotoScope;
} {
  const out = {
    stack: "dev",
    speed: 0.05,
    persist: false,
    basePort: 4500,
    recordsEndpoint: undefined as string | undefined,
    configOverrides: {} as Record<string, string>,
    moto: "all" as MotoScope,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack") out.stack = next();
    else if (a === "--speed") out.speed = parseSpeed(next());
    else if (a === "--persist") out.persist = true;
    else if (a === "--port") out.basePort = Number(next());
    else if (a === "--records-endpoint") out.recordsEndpoint = next();
    else if (a === "--moto") {
      const v = next();
      if (v !== "all" && v !== "engine")
        throw new Error(`--moto ${v}: use all (the default: the whole program) or engine`);
      out.moto = v;
    } else if (a === "--config") {
      // One stack config value for this run only, as `pulumi config set` would give it; the
      // program validates it as it validates the stack file's (a bad value names the key).
      const [, key, value] = next().match(/^(?:switchyard:)?([A-Za-z0-9]+)=(.*)$/s) ?? [];
      if (key === undefined)
        throw new Error("--config needs key=value, such as --config recordsRateLimitPerSecond=300");
      if (!(key in KEYS))
        throw new Error(
          `--config ${key}: not a ${NAMESPACE} config key; the keys are listed in docs/configuration.md`,
        );
      out.configOverrides[`${NAMESPACE}:${key}`] = value;
    } else
      throw new Error(
        `unknown option ${a}; options: --stack dev|prod, --speed N, --persist, --port N, --records-endpoint URL, --config key=value, --moto all|engine`,
      );
  }
  if (!(out.speed > 0) || !Number.isFinite(out.speed))
    throw new Error(
      "--speed must be a positive number or fraction (1 = real time; 1/3600: an hour takes a second)",
    );
  return out;
}

/** How long a stop may take before the remaining processes are killed and the CLI exits anyway. */
export const STOP_DEADLINE_MS = 4000;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const running: { local?: SwitchyardLocal } = {};
  let stopping = false;
  // A requested stop exits 0 (npm reports nothing). Installed before anything starts: a Ctrl-C
  // during start-up exits too, and the exit hooks of moto_server, the function processes and the
  // temporary folders still run.
  const stop = async (why: string, code: number) => {
    if (stopping) {
      // A second Ctrl-C: no more waiting.
      console.log(`${why} again: exiting now`);
      process.exit(code);
    }
    stopping = true;
    console.log(`\n${why}: stopping`);
    const deadline = setTimeout(() => {
      console.error(`stopping took over ${STOP_DEADLINE_MS} ms: exiting anyway`);
      process.exit(code);
    }, STOP_DEADLINE_MS);
    try {
      await running.local?.stop();
    } catch (e) {
      console.error(`stopping failed: ${(e as Error).message}`);
    }
    fs.rmSync(ENDPOINTS_FILE, { force: true });
    clearTimeout(deadline);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop("SIGINT", 0));
  process.on("SIGTERM", () => void stop("SIGTERM", 0));
  process.on("SIGHUP", () => void stop("SIGHUP", 0));
  // A bug must not leave moto_server, function processes or ports behind: report it and stop.
  const crashed = (e: unknown) => {
    console.error("local runtime failed:", e);
    void stop("failure", 1);
  };
  process.on("uncaughtException", crashed);
  process.on("unhandledRejection", crashed);

  // The apply to moto (a few seconds) begins once Ready is printed: it must not delay it.
  let printedReady!: () => void;
  const applyAfter = new Promise<void>((resolve) => (printedReady = resolve));
  const local = await SwitchyardLocal.start({ ...args, applyAfter, log: (l) => console.log(l) });
  running.local = local;
  // The apply to moto goes on after Ready: a value moto rejects stops the run, naming it.
  local.applied.catch((e: Error) => {
    if (stopping) return;
    console.error(`the program could not be applied to moto: ${e.message}`);
    void stop("failure", 1);
  });
  console.log("");
  console.log(local.summary());
  fs.mkdirSync(path.dirname(ENDPOINTS_FILE), { recursive: true });
  fs.writeFileSync(
    ENDPOINTS_FILE,
    JSON.stringify(
      {
        stack: args.stack,
        pid: process.pid,
        target: await local.scenarioTarget(),
        outputs: await local.stackOutputs(),
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  console.log(`\nReady (speed x${args.speed}). Ctrl-C to stop. Try: npm run demo`);
  printedReady();
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
