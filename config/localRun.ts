// What only the local run (`npm start`, local/program.ts) tells the program while it evaluates it:
// stack config cannot set it and `pulumi up` never loads local/, so a deployed stack never sees it.
// It admits http:// and loopback outbound endpoints (the sample subscriber on this machine) and
// gives the dispatcher the run's time scale, with which its retry waits are emulated.

export interface LocalRun {
  /** The run's --speed: local waits last this many times as long as on AWS (0.05: 5 min is 15 s). */
  readonly speed: number;
}

let current: LocalRun | undefined;

/** Runs `f` (a synchronous evaluation of the program or of its config) as the local run. */
export function asLocalRun<T>(run: LocalRun, f: () => T): T {
  const outer = current;
  current = run;
  try {
    return f();
  } finally {
    current = outer;
  }
}

/** The local run evaluating the program now, or undefined (a preview, `pulumi up`, a test graph). */
export function localRun(): LocalRun | undefined {
  return current;
}
