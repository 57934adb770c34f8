// When the Monitoring component's alarms fire: pure, so the stack's config table (config/keys.ts)
// and its docs state the same defaults as the component.
import { REJECTION_REASONS, RejectionReason } from "../../lib/contracts";

export interface MonitoringThresholds {
  /** Seconds per evaluated data point of the count alarms, a multiple of 60. Default 60. */
  readonly periodSeconds: number;
  /** Lambda `Errors` (Sum per period) at or above which a function alarms. Default 1. */
  readonly lambdaErrors: number;
  /** Lambda `Throttles` (Sum per period) at or above which a function alarms. Default 1. */
  readonly lambdaThrottles: number;
  /** Oldest async event waiting (AsyncEventAge Maximum), in seconds, above which an async function alarms. Default 300. */
  readonly asyncEventAgeSeconds: number;
  /** Async events dropped (Sum per period) at or above which a function alarms. Default 1. */
  readonly asyncEventsDropped: number;
  /** Failed, timed-out or aborted executions (Sum per period) at or above which a workflow alarms. Default 1. */
  readonly workflowFailures: number;
  /** Percentage of requests answered 5xx (Average of 5XXError x 100) above which an API alarms. Default 1. */
  readonly api5xxRatePercent: number;
  /** p99 latency in ms above which an API alarms. Default 3000. */
  readonly apiLatencyP99Ms: number;
  /** Periods an API alarm looks at. Default 5. */
  readonly apiEvaluationPeriods: number;
  /** Of those, how many must breach. Default 3. */
  readonly apiDatapointsToAlarm: number;
  /** EventBridge `FailedInvocations` (Sum per period) at or above which a rule alarms. Default 1. */
  readonly ruleFailedInvocations: number;
  /** Webhook rejections per minute (per reason alarmed) above which a receiver alarms. Default 20. */
  readonly webhookRejectionsPerMinute: number;
  /** Rejection reasons alarmed. Default ["signature"]. */
  readonly webhookRejectionReasons: readonly RejectionReason[];
}

export const MONITORING_DEFAULTS: MonitoringThresholds = {
  periodSeconds: 60,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  asyncEventAgeSeconds: 300,
  asyncEventsDropped: 1,
  workflowFailures: 1,
  api5xxRatePercent: 1,
  apiLatencyP99Ms: 3000,
  apiEvaluationPeriods: 5,
  apiDatapointsToAlarm: 3,
  ruleFailedInvocations: 1,
  webhookRejectionsPerMinute: 20,
  webhookRejectionReasons: [REJECTION_REASONS.signature],
};
