// Reading the EMF blobs Powertools Metrics writes, as CloudWatch reads them (shared by the
// receiver's and the change publisher's metrics tests).
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
