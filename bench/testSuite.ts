// The test suite timed as a developer runs it: `npm test` spawned in the project, wall time from
// spawn to exit, with the counts mocha prints at its end. Runs one after the other, so each has the
// machine to itself (the suite uses both cores: a second run alongside would time the contention).
import { spawn } from "child_process";
import { ROOT } from "./processes";
import { nowMs } from "./stats";

export interface SuiteRun {
  /** Spawn to exit, ms. */
  wallMs: number;
  /** The process's exit code (null when a signal ended it). */
  code: number | null;
  /** mocha's closing counts; undefined when it printed none (it did not get that far). */
  counts?: SuiteCounts;
}

export interface SuiteCounts {
  passing: number;
  pending: number;
  failing: number;
}

/**
 * The counts of mocha's closing summary ("1588 passing (2m)", "1 pending", "2 failing"): the last
 * "passing" line of `output` and the pending and failing lines after it. Undefined without one.
 */
export function suiteCounts(output: string): SuiteCounts | undefined {
  const summaries = [...output.matchAll(/^ *\d+ passing\b/gm)];
  if (summaries.length === 0) return undefined;
  const tail = output.slice(summaries[summaries.length - 1].index);
  const count = (word: string) =>
    Number(tail.match(new RegExp(`^ *(\\d+) ${word}\\b`, "m"))?.[1] ?? 0);
  return { passing: count("passing"), pending: count("pending"), failing: count("failing") };
}

export interface SuiteOptions {
  /** The command and its arguments; default `npm test`. */
  command?: [string, ...string[]];
  /** Default 15 minutes: a run past it is killed, with its process group, and counts as failed. */
  timeoutMs?: number;
}

/** Runs the suite once and times it. */
export function timeSuiteOnce(o: SuiteOptions = {}): Promise<SuiteRun> {
  const [file, ...args] = o.command ?? ["npm", "test"];
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    // Its own process group: a run that times out is ended with every process it started.
    const child = spawn(file, args, {
      cwd: ROOT,
      // Only the closing counts on stdout are read.
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(
      () => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // Already gone.
        }
      },
      o.timeoutMs ?? 15 * 60_000,
    );
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ wallMs: nowMs() - t0, code, counts: suiteCounts(out) });
    });
  });
}

/** `runs` runs of the suite, one after the other; `log` hears of each as it ends. */
export async function timeSuite(
  runs: number,
  log: (line: string) => void,
  o: SuiteOptions = {},
): Promise<SuiteRun[]> {
  const out: SuiteRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await timeSuiteOnce(o);
    out.push(r);
    log(
      `  run ${i + 1}/${runs}: ${(r.wallMs / 1000).toFixed(1)} s, exit ${r.code}` +
        (r.counts
          ? `, ${r.counts.passing} passing, ${r.counts.pending} pending, ${r.counts.failing} failing`
          : ", no summary"),
    );
  }
  return out;
}
