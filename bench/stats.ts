// Summary statistics and timing loops of the bench.

/** The p-th percentile (0-100) by the nearest-rank method: the smallest sample >= p% of them. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error("percentile: no samples");
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p must be 0-100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** The median: the middle sample, or the mean of the two middle ones. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median: no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: median(samples),
    p99: percentile(samples, 99),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Runs `fn` `warmup` times unmeasured, then `iterations` times, timing each call (ms). `fn` gets the
 * iteration index, so each call can use fresh input.
 */
export async function timeEach(
  fn: (i: number) => unknown | Promise<unknown>,
  iterations: number,
  warmup = Math.min(50, Math.ceil(iterations / 10)),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = nowMs();
    await fn(i);
    samples.push(nowMs() - t0);
  }
  return samples;
}

/** Ratio a/b, rounded to two decimals. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/** What a repeated measurement is reported as: how many runs, and their min, median and max. */
export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** The spread of repeated runs; runs that failed (NaN) are left out and counted by `n`. */
export function spread(samples: readonly number[]): Spread {
  const ok = samples.filter((s) => !Number.isNaN(s));
  if (ok.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN };
  return { n: ok.length, min: Math.min(...ok), median: median(ok), max: Math.max(...ok) };
}

/**
 * Ratios a[i] / b[i] of runs measured side by side (interleaved A B A B), so drift on the machine
 * affects both sides of each ratio alike. Both lists must have one sample per run.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length)
    throw new Error(`pairedRatios: ${a.length} runs against ${b.length}; pair run by run`);
  return a.map((x, i) => x / b[i]);
}

/**
 * Whether a repeated measurement meets an upper limit: only when its worst run (the max) does, and
 * only when every run was measured. A median under the limit with one run over it fails.
 */
export function passesAtMost(samples: readonly number[], limit: number, runs = samples.length) {
  const s = spread(samples);
  return s.n > 0 && s.n === runs && s.max <= limit;
}

/** "min / median / max" of a spread, each formatted by `f`. */
export function formatSpread(s: Spread, f: (n: number) => string): string {
  return s.n === 0 ? "not measured" : `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;
}

/** Prints rows as an aligned text table (first column left, the others right). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    line(headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}
