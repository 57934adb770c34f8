// Cold start of each declared function's first realistic request (bench/realistic.ts), against the
// SDK floor and the empty handler measured in the same rounds: every round runs the empty handler,
// the SDK floor and each function once, in a fresh process each, so a ratio pairs a function with
// the floor of its own round.
import { Recorded } from "../local/mocks";
import { coldStartOnce, EMPTY_HANDLER, ONE_SDK_CALL_HANDLER, referenceFunction } from "./coldStart";
import {
  AwsCall,
  localEnvironment,
  provisionDeclared,
  RealisticRequest,
  realisticRequest,
  startAwsStandIn,
} from "./realistic";
import { pairedRatios, passesAtMost, spread, Spread } from "./stats";

export const EMPTY = "bench-empty-handler";
export const SDK_FLOOR = "bench-one-aws-call";

export interface ColdRow {
  function: string;
  /** The request it was sent. */
  request: string;
  /** Spawn to the first answer, ms, run by run. */
  totalMs: number[];
  loadMs: number[];
  /** AWS calls each run made (counted at the local endpoint). */
  awsCalls: number[];
  /** The operations it called, and how often over all runs. */
  operations: Record<string, number>;
  /** Why a run was not served as in production (an error answer from AWS, a wrong result). */
  problems: string[];
  /** What the target compares with: the SDK floor when it called AWS, else the empty handler. */
  baseline: typeof SDK_FLOOR | typeof EMPTY;
  /** Per-run ratio to the baseline of the same round. */
  ratios: number[];
  total: Spread;
  ratio: Spread;
  pass: boolean;
}

export interface ColdResult {
  runs: number;
  maxRatio: number;
  empty: Spread;
  sdkFloor: Spread;
  rows: ColdRow[];
}

export interface ColdOptions {
  resources: Recorded[];
  config: Record<string, string>;
  /** Function name -> directory of its materialized archive. */
  dirs: Map<string, string>;
  runs: number;
  maxRatio: number;
  recordsApiKey: string;
  log?: (line: string) => void;
}

export async function benchRealisticColdStarts(o: ColdOptions): Promise<ColdResult> {
  const aws = await startAwsStandIn();
  try {
    const provisioned = await provisionDeclared(o.resources, aws.url, o.recordsApiKey);
    const floorQueue = [...provisioned.queueUrls.values()][0];
    if (!floorQueue) throw new Error("the program declares no queue for the SDK floor's call");
    const fns = o.resources.filter((r) => r.type === "aws:lambda/function:Function");
    const fnNameOf = (r: Recorded) => String(r.inputs.name ?? r.name);
    const dirs = new Map(o.dirs);
    dirs.set(EMPTY, referenceFunction(EMPTY, EMPTY_HANDLER));
    dirs.set(SDK_FLOOR, referenceFunction(SDK_FLOOR, ONE_SDK_CALL_HANDLER));
    const names = [EMPTY, SDK_FLOOR, ...fns.map(fnNameOf)];
    type Run = {
      output?: string;
      totalMs: number;
      loadMs: number;
      calls: AwsCall[];
      request: string;
      problem?: string;
    };
    const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
    /** One fresh process of function `n` answering round `r`'s realistic request. */
    const measure = async (n: string, r: number): Promise<Run> => {
      const fn = fns.find((f) => fnNameOf(f) === n);
      let req: RealisticRequest | undefined;
      if (n === EMPTY) req = { what: "any event", event: {}, check: () => undefined };
      else if (n === SDK_FLOOR)
        req = {
          what: "SQS SendMessage",
          event: {},
          check: (x: any) => (x?.messageId ? undefined : `no message id: ${JSON.stringify(x)}`),
        };
      else
        req = await realisticRequest({
          fn: fn!,
          resources: o.resources,
          config: o.config,
          provisioned,
          seedUrl: aws.moto.url,
          run: r,
        });
      if (!req)
        return {
          totalMs: NaN,
          loadMs: NaN,
          calls: [],
          request: "none",
          problem: "the bench has no realistic request for this function",
        };
      const declaredEnv = (fn?.inputs.environment?.variables ?? {}) as Record<string, string>;
      const env = {
        ...localEnvironment(declaredEnv, provisioned),
        AWS_ENDPOINT_URL: aws.url,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn?.inputs.memorySize ?? 256),
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        ...(n === SDK_FLOOR ? { BENCH_QUEUE_URL: floorQueue } : {}),
      };
      const before = aws.calls.length;
      try {
        const s = await coldStartOnce(
          dirs.get(n)!,
          env,
          req.event,
          n,
          Number(fn?.inputs.timeout ?? 10),
        );
        const calls = aws.calls.slice(before);
        const refused = calls.filter((c) => c.status >= 400);
        const wrong = s.outcome === "result" ? req.check(s.result) : `threw ${s.outcome}`;
        const run: Run = {
          totalMs: s.totalMs,
          loadMs: s.loadMs,
          output: s.output,
          calls,
          request: req.what,
          problem:
            wrong ??
            (refused.length
              ? `AWS answered ${refused.map((c) => `${c.operation} ${c.status}`).join(", ")}`
              : undefined),
        };
        if (s.outcome !== "result") run.problem += `: ${String(s.result).slice(0, 160)}`;
        if (run.problem && process.env.BENCH_VERBOSE)
          o.log?.(`  ${n}: ${run.problem}\n${s.output}`);
        return run;
      } catch (e) {
        return {
          totalMs: NaN,
          loadMs: NaN,
          calls: aws.calls.slice(before),
          request: req.what,
          problem: `init failed: ${(e as Error).message.split("\n")[0].slice(0, 160)}`,
        };
      }
    };
    // One unmeasured round first, of every function, as the evaluation and npm start sections
    // have: a function's first process on this machine and moto_server's first request of an
    // operation are slower than the next ones (jobs-process's first run was 40-45 ms over its
    // others in two runs of this bench without it), which is this machine warming up, not the
    // function's cold start. Each measured run is still a fresh process; the warm-up's requests
    // use ids of their own.
    for (const n of names) await measure(n, o.runs).catch(() => undefined);
    const declaredNames = names.slice(2);
    for (let r = 0; r < o.runs; r++) {
      // The references first, then the functions in an order that rotates from round to round.
      const shift = r % Math.max(1, declaredNames.length);
      const order = [
        EMPTY,
        SDK_FLOOR,
        ...declaredNames.slice(shift),
        ...declaredNames.slice(0, shift),
      ];
      for (const n of order) runs.get(n)!.push(await measure(n, r));
      o.log?.(`  round ${r + 1}/${o.runs} done`);
    }
    const totals = (n: string) => runs.get(n)!.map((x) => x.totalMs);
    const rows: ColdRow[] = names.map((n) => {
      const rs = runs.get(n)!;
      const awsCalls = rs.map((x) => x.calls.length);
      const operations: Record<string, number> = {};
      for (const c of rs.flatMap((x) => x.calls))
        operations[c.operation] = (operations[c.operation] ?? 0) + 1;
      const baseline =
        n !== SDK_FLOOR && n !== EMPTY && Math.max(...awsCalls) > 0 ? SDK_FLOOR : EMPTY;
      const ratios = pairedRatios(totals(n), totals(baseline));
      const problems = [...new Set(rs.map((x) => x.problem).filter((p): p is string => !!p))];
      return {
        function: n,
        request: rs[0]?.request ?? "none",
        totalMs: totals(n),
        loadMs: rs.map((x) => x.loadMs),
        awsCalls,
        operations,
        problems,
        baseline,
        ratios,
        total: spread(totals(n)),
        ratio: spread(ratios),
        // Only a function served as in production, on every run, can pass.
        pass: problems.length === 0 && passesAtMost(ratios, o.maxRatio, o.runs),
      };
    });
    return {
      runs: o.runs,
      maxRatio: o.maxRatio,
      empty: spread(totals(EMPTY)),
      sdkFloor: spread(totals(SDK_FLOOR)),
      rows,
    };
  } finally {
    await aws.close();
  }
}
