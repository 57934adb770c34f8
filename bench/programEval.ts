// What `pulumi preview` pays to evaluate the program, and what `npm start` pays to be ready, each in
// a fresh Node process, against baselines evaluated the same way: a program of one
// aws.lambda.CallbackFunction (default packaging, role given) and one of one SwitchyardFunction.
import { ProgramName } from "./evalProgram";
import { ChildTiming, STOP_DELAY_MS, timeChild } from "./processes";

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

/** One round: the programs in the order they ran, each with its sample. */
export type Round = Array<{ program: ProgramName; sample: EvalSample }>;

export interface ProgramEvaluation {
  runs: number;
  rounds: Round[];
  /** Failures, by program. */
  errors: Partial<Record<ProgramName, string>>;
}

/**
 * The order of one round: every stack next to both baselines (A B A B), so a ratio pairs
 * evaluations that ran seconds apart.
 */
export const ROUND: ProgramName[] = [
  "one-callback-function",
  "dev",
  "one-switchyard-function",
  "prod",
  "one-callback-function",
];

const failed: EvalSample = {
  wallMs: NaN,
  readyMs: NaN,
  inProcessMs: NaN,
  resources: 0,
  functions: 0,
};

/** Every sample of a program, round by round. */
export function samplesOf(e: Pick<ProgramEvaluation, "rounds">, p: ProgramName): EvalSample[] {
  return e.rounds.flatMap((r) => r.filter((x) => x.program === p).map((x) => x.sample));
}

/**
 * Per round, `a`'s spawn-to-exit time over that of the `b` evaluation that ran closest to it in the
 * same round (the one before it on a tie).
 */
export function evaluationRatios(
  e: Pick<ProgramEvaluation, "rounds">,
  a: ProgramName,
  b: ProgramName,
): number[] {
  return e.rounds.flatMap((round) =>
    round.flatMap((x, i) => {
      if (x.program !== a) return [];
      const near = round
        .map((y, j) => ({ y, d: Math.abs(j - i) + (j > i ? 0.5 : 0) }))
        .filter(({ y }) => y.program === b)
        .sort((p, q) => p.d - q.d)[0];
      return near ? [x.sample.wallMs / near.y.sample.wallMs] : [NaN];
    }),
  );
}

/**
 * Evaluates the baselines and both stacks in `runs` rounds (ROUND's order), after one unmeasured
 * round that warms the file cache for all of them alike.
 */
export async function benchProgramEvaluation(
  runs: number,
  log: (line: string) => void = () => undefined,
): Promise<ProgramEvaluation> {
  const rounds: Round[] = [];
  const errors: Partial<Record<ProgramName, string>> = {};
  for (let r = -1; r < runs; r++) {
    const round: Round = [];
    for (const program of ROUND) {
      let sample: EvalSample;
      try {
        sample = await evaluateInChild(program);
      } catch (e) {
        errors[program] = (e as Error).message.slice(0, 300);
        sample = failed;
      }
      round.push({ program, sample });
    }
    if (r >= 0) rounds.push(round);
    log(r < 0 ? "  warm-up round done" : `  round ${r + 1}/${runs} done`);
  }
  return { runs, rounds, errors };
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
      stop = t.exitMs - t.readyMs - STOP_DELAY_MS;
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
