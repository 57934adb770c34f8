// What `pulumi preview` pays to evaluate the program, and what `npm start` pays to be ready, each in
// a fresh Node process, against baselines evaluated the same way: a program of one
// aws.lambda.CallbackFunction (default packaging, role given) and one of one SwitchyardFunction.
import { ProgramName } from "./evalProgram";
import { ChildTiming, timeChild } from "./processes";
import { pairedRatios } from "./stats";

/** One evaluation: spawn to exit (the figure compared), and process start to evaluation done. */
export interface EvalSample {
  /** Spawn of `ts-node --transpile-only bench/evalProgram.ts <program>` to its exit, ms. */
  wallMs: number;
  /** Spawn to the line it prints once evaluated, ms. */
  readyMs: number;
  /** From the child's own process start (Node's time origin) to evaluation done, ms. */
  inProcessMs: number;
  resources: number;
  functions: number;
}

export function evaluateInChild(program: ProgramName): Promise<EvalSample> {
  return timeChild({ args: ["bench/evalProgram.ts", program], ready: /^EVALUATED / }).then(
    (t: ChildTiming) => {
      const done = JSON.parse(t.line.replace(/^EVALUATED /, "")) as {
        ms: number;
        resources: number;
        functions: number;
      };
      return {
        wallMs: t.exitMs,
        readyMs: t.readyMs,
        inProcessMs: done.ms,
        resources: done.resources,
        functions: done.functions,
      };
    },
  );
}

export interface ProgramEvaluation {
  runs: number;
  /** Samples per program, run by run (NaN where a run failed). */
  samples: Record<ProgramName, EvalSample[]>;
  /** Failures, by program. */
  errors: Partial<Record<ProgramName, string>>;
}

const failed: EvalSample = {
  wallMs: NaN,
  readyMs: NaN,
  inProcessMs: NaN,
  resources: 0,
  functions: 0,
};

/**
 * Evaluates the baselines and both stacks `runs` times, interleaved (one of each per round, the
 * baseline right before the stack it is compared with), after one unmeasured round that warms the
 * file cache for all of them alike.
 */
export async function benchProgramEvaluation(
  runs: number,
  log: (line: string) => void = () => undefined,
): Promise<ProgramEvaluation> {
  const order: ProgramName[] = ["one-callback-function", "dev", "one-switchyard-function", "prod"];
  const samples = Object.fromEntries(order.map((p) => [p, [] as EvalSample[]])) as Record<
    ProgramName,
    EvalSample[]
  >;
  const errors: Partial<Record<ProgramName, string>> = {};
  for (let r = -1; r < runs; r++) {
    for (const p of order) {
      let s: EvalSample;
      try {
        s = await evaluateInChild(p);
      } catch (e) {
        errors[p] = (e as Error).message.slice(0, 300);
        s = failed;
      }
      if (r >= 0) samples[p].push(s);
    }
    log(r < 0 ? "  warm-up round done" : `  round ${r + 1}/${runs} done`);
  }
  return { runs, samples, errors };
}

/** Per-run ratios of one program's spawn-to-exit time to another's, measured in the same round. */
export function evaluationRatios(e: ProgramEvaluation, a: ProgramName, b: ProgramName): number[] {
  return pairedRatios(
    e.samples[a].map((s) => s.wallMs),
    e.samples[b].map((s) => s.wallMs),
  );
}

export interface StartToReady {
  runs: number;
  /** Spawn of `ts-node --transpile-only local/cli.ts` to its `Ready` line, ms, run by run. */
  readyMs: number[];
  /** From SIGINT to its exit, ms. */
  stopMs: number[];
  /** The dev evaluation of the same round: spawn to its evaluated line, ms. */
  evaluationMs: number[];
  errors: string[];
}

/**
 * `npm start` until Ready, then SIGINT and its exit, `runs` times; each round first evaluates the
 * same stack in a fresh process (spawn to its evaluated line, as `npm start` is timed to its Ready
 * line). One unmeasured round first, which also generates the local secrets (.switchyard/) that a
 * first start writes.
 */
export async function benchStartToReady(
  stack: string,
  runs: number,
  log: (line: string) => void = () => undefined,
): Promise<StartToReady> {
  const out: StartToReady = { runs, readyMs: [], stopMs: [], evaluationMs: [], errors: [] };
  const program = stack === "prod" ? "prod" : "dev";
  for (let r = -1; r < runs; r++) {
    let evaluation = NaN;
    let ready = NaN;
    let stop = NaN;
    try {
      evaluation = (await evaluateInChild(program)).readyMs;
      // Port 0: every server of the local runtime on a port the OS picks.
      const t = await timeChild({
        args: ["local/cli.ts", "--stack", stack, "--port", "0"],
        ready: /^Ready /,
        stop: "SIGINT",
      });
      ready = t.readyMs;
      stop = t.exitMs - t.readyMs;
    } catch (e) {
      out.errors.push((e as Error).message.slice(0, 300));
    }
    if (r >= 0) {
      out.readyMs.push(ready);
      out.stopMs.push(stop);
      out.evaluationMs.push(evaluation);
    }
    log(r < 0 ? "  warm-up round done" : `  round ${r + 1}/${runs} done`);
  }
  return out;
}
