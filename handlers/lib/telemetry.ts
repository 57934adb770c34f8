// Structured telemetry shared by every Switchyard handler: a Powertools Logger and Metrics built the
// same way everywhere, the one correlation id carried from a webhook to the bus event to the
// workflow, and the names of the business metrics (EMF) that the alarms and the dashboard read.
// Runtime code only: no @pulumi/* imports. Build the Logger and Metrics inside the handler factory
// (at cold start), never at deploy time: Powertools classes hold ES private fields.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

// The names the alarms, the dashboard and the handlers share (lib/contracts.ts).
import {
  DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  REJECTION_REASONS,
  RejectionReason,
  SERVICES,
} from "../../lib/contracts";
export { DIMENSION, METRIC, METRICS_NAMESPACE, REJECTION_REASONS };
export type { RejectionReason };

/** Powertools `serviceName` of the webhook receivers: the `service` dimension their alarm watches. */
export const WEBHOOK_SERVICE = SERVICES.webhooks;

// The correlation id's rules live in ./correlation, which loads no Powertools package: handlers
// that only log can take them without bundling Metrics.
export {
  correlate,
  CorrelatedLogger,
  correlationIdFrom,
  CORRELATION_FIELD,
  CORRELATION_HEADER,
  CORRELATION_HEADERS,
  CORRELATION_ID_PATTERN,
  validCorrelationId,
} from "./correlation";

export interface TelemetryOptions {
  /** Log level; default the LOG_LEVEL variable, else INFO. */
  logLevel?: string;
  /** Extra dimensions on every metric (keep them few: each combination is a billed metric). */
  defaultDimensions?: Record<string, string>;
}

/** The JSON logger of a handler: `service` = serviceName, level from LOG_LEVEL. */
export function makeLogger(serviceName: string, opts: TelemetryOptions = {}): Logger {
  const level = (opts.logLevel ?? process.env.LOG_LEVEL ?? "INFO").toUpperCase();
  return new Logger({ serviceName, logLevel: level as any });
}

/** The EMF metrics of a handler: namespace Switchyard, dimension `service` = serviceName. */
export function makeMetrics(serviceName: string, opts: TelemetryOptions = {}): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName,
    ...(opts.defaultDimensions ? { defaultDimensions: opts.defaultDimensions } : {}),
  });
}

/** The Logger and Metrics of a handler, built together. */
export function makeTelemetry(serviceName: string, opts: TelemetryOptions = {}) {
  return { logger: makeLogger(serviceName, opts), metrics: makeMetrics(serviceName, opts) };
}

/** Counts an accepted delivery (flushed with the handler's other metrics). */
export function recordAccepted(metrics: Metrics, count = 1): void {
  metrics.addMetric(METRIC.deliveryAccepted, MetricUnit.Count, count);
}

/** Counts a duplicate delivery (flushed with the handler's other metrics). */
export function recordDuplicate(metrics: Metrics, count = 1): void {
  metrics.addMetric(METRIC.deliveryDuplicate, MetricUnit.Count, count);
}

/**
 * Emits one rejection at once, with the `reason` dimension (a single-metric blob, so the dimension
 * never leaks onto the handler's other metrics) and the provider as metadata.
 */
export function recordRejected(metrics: Metrics, reason: RejectionReason, provider?: string): void {
  const single = metrics.singleMetric();
  single.addDimension(DIMENSION.reason, reason);
  if (provider) single.addMetadata("provider", provider);
  single.addMetric(METRIC.deliveryRejected, MetricUnit.Count, 1);
}

/** Counts a publisher's outcome: events published, retries and failures. */
export function recordPublish(
  metrics: Metrics,
  result: { delivered: number; retries: number; failed: readonly unknown[] },
): void {
  metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, result.delivered);
  metrics.addMetric(METRIC.publishRetries, MetricUnit.Count, result.retries);
  if (result.failed.length > 0)
    metrics.addMetric(METRIC.publishFailed, MetricUnit.Count, result.failed.length);
}

/**
 * Records an invocation's metrics with `record` and flushes them as one EMF blob. A metrics fault
 * is reported to `onError` (a log line), never thrown: the invocation's answer stays what its work
 * made it. A failed flush discards what was stored, so one invocation's counts never ride along
 * with the next one's. Flushing with nothing stored is skipped (Powertools would only warn).
 */
export function emitInvocationMetrics(
  metrics: Metrics | undefined,
  record: (metrics: Metrics) => void,
  onError: (what: "recorded" | "flushed", err: unknown) => void,
): void {
  if (!metrics) return;
  try {
    record(metrics);
  } catch (err) {
    onError("recorded", err);
  }
  try {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  } catch (err) {
    onError("flushed", err);
    try {
      metrics.clearMetrics();
      metrics.clearMetadata();
    } catch {
      // Nothing more to do: the fault is reported above.
    }
  }
}
