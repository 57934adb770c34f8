// Reading the EMF blobs Powertools Metrics writes, as CloudWatch reads them, and what it writes to
// stdout (shared by the receiver's, the relay's and the change publisher's metrics tests, the
// telemetry tests and the monitoring tests).
import { expect } from "chai";

export type Blob = Record<string, any>;

/**
 * The blob's metrics as CloudWatch reads them: namespace, dimension sets and metric definitions,
 * plus the metric, dimension and metadata values. Checks the timestamp is now-ish and drops it.
 */
export function metricsOf(blob: Blob) {
  const { _aws, ...values } = blob;
  expect(Math.abs(_aws.Timestamp - Date.now())).to.be.lessThan(60_000);
  expect(_aws.CloudWatchMetrics).to.have.length(1);
  const def = _aws.CloudWatchMetrics[0];
  return { namespace: def.Namespace, dimensions: def.Dimensions, metrics: def.Metrics, values };
}

/** Metric definitions of unit Count, by name. */
export const count = (...names: string[]) => names.map((Name) => ({ Name, Unit: "Count" }));

/** Starts taking what is written to stdout (where Powertools writes), as non-empty lines. */
function captureStdout(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const write = process.stdout.write;
  (process.stdout as any).write = (chunk: any) => {
    lines.push(
      ...String(chunk)
        .split("\n")
        .filter((l) => l.trim() !== ""),
    );
    return true;
  };
  return { lines, restore: () => (process.stdout.write = write) };
}

/** Runs `fn` and returns the non-empty lines it wrote to stdout. */
export function stdoutLinesOf(fn: () => void): string[] {
  const c = captureStdout();
  try {
    fn();
  } finally {
    c.restore();
  }
  return c.lines;
}

/** Runs `fn` and returns the EMF blobs written to stdout meanwhile (other stdout lines are kept out). */
export async function emfOf<T>(fn: () => Promise<T>): Promise<{ result: T; blobs: Blob[] }> {
  const c = captureStdout();
  let result: T;
  try {
    result = await fn();
  } finally {
    c.restore();
  }
  const blobs = c.lines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((b) => b._aws);
  return { result, blobs };
}
