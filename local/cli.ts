// `npm start [-- --stack prod] [--speed 1] [--persist] [--port 4500] [--records-endpoint URL]`
// Evaluates the program for the stack under mocks and serves it on localhost until Ctrl-C.
import "./polyfills";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./program";
import { SwitchyardLocal } from "./runtime";

export const ENDPOINTS_FILE = path.join(ROOT, ".switchyard", "endpoints.json");

export function parseArgs(argv: string[]): {
  stack: string;
  speed: number;
  persist: boolean;
  basePort: number;
  recordsEndpoint?: string;
} {
  const out = {
    stack: "dev",
    speed: 0.05,
    persist: false,
    basePort: 4500,
    recordsEndpoint: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack") out.stack = next();
    else if (a === "--speed") out.speed = Number(next());
    else if (a === "--persist") out.persist = true;
    else if (a === "--port") out.basePort = Number(next());
    else if (a === "--records-endpoint") out.recordsEndpoint = next();
    else
      throw new Error(
        `unknown option ${a}; options: --stack dev|prod, --speed N, --persist, --port N, --records-endpoint URL`,
      );
  }
  if (!(out.speed > 0)) throw new Error("--speed must be a positive number (1 = real time)");
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const local = await SwitchyardLocal.start({ ...args, log: (l) => console.log(l) });
  console.log("");
  console.log(local.summary());
  fs.mkdirSync(path.dirname(ENDPOINTS_FILE), { recursive: true });
  fs.writeFileSync(
    ENDPOINTS_FILE,
    JSON.stringify(
      { stack: args.stack, pid: process.pid, target: await local.scenarioTarget() },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  console.log(`\nReady (speed x${args.speed}). Ctrl-C to stop. Try: npm run demo`);
  const stop = async () => {
    await local.stop();
    fs.rmSync(ENDPOINTS_FILE, { force: true });
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
