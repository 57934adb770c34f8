// Publishes the changes of the tenant data table, read from its DynamoDB stream, by the tenants'
// rules: every matching rule publishes one event, in rule order, to its bus (this hub's by
// default, or another account's). Records are processed one by one in stream order with
// Powertools batch; a record that cannot be published is reported in `batchItemFailures`, so the
// event source mapping retries from it (bisecting, bounded) and then hands it to its on-failure
// destination, while the other records are published. Each invocation emits one EMF blob of
// business metrics (handlers/lib/telemetry.ts, dimension service=change-publisher): the summed
// outcome of every publish call of the batch (EventsPublished, PublishRetries, and
// EventsPublishFailed when an event could not be published), flushed whatever the batch's fate.
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { makePublisher, PublishEntry, PublisherOptions, PublishResult } from "../lib/publisher";
import { emitInvocationMetrics, makeMetrics, recordPublish } from "../lib/telemetry";
import { changeEvents, Tenants } from "../../lib/tenantRules";
import { changeEntry, changeFromStreamRecord, maxEventBytesFromEnv } from "./items";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { lazyEventBridge } from "../lib/lazy";
import { contractsWithTenantSources } from "../../lib/eventSchemas";

/** Powertools `serviceName` of the change publisher: its logs' `service` and its metrics' `service` dimension. */
export const CHANGE_PUBLISHER_SERVICE = SERVICES.changePublisher;

import type { LoggerLike as SharedLogger } from "../lib/logger";

/** What this handler logs with: the shared logger's info and error. */
export type LoggerLike = Pick<SharedLogger, "info" | "error">;

export interface ChangePublisherDeps {
  /** An EventBridgeClient (anything with its `send`). */
  eventBridge: { send(command: any): Promise<any> };
  /** Tenant settings (the `switchyard:tenants` config). */
  tenants: Tenants;
  logger?: LoggerLike;
  /** Publisher tuning (tests pass `sleep`). */
  publisher?: Pick<PublisherOptions, "maxAttempts" | "baseDelayMs" | "sleep">;
  /**
   * Powertools Metrics (handlers/lib/telemetry.ts `makeMetrics(CHANGE_PUBLISHER_SERVICE)`), flushed
   * at the end of every invocation. Default none: no metrics are emitted (the component passes one).
   */
  metrics?: Metrics;
}

/** The publish calls of one invocation, summed (what recordPublish counts). */
type PublishTally = Pick<PublishResult, "delivered" | "retries" | "failed">;

export interface RecordOutcome {
  published: number;
}

const silent: LoggerLike = { info: () => undefined, error: () => undefined };

/** Environment: DEFAULT_BUS_ARN (the hub's bus), MAX_EVENT_BYTES (optional, default 262144). */
export function makeHandler(deps: ChangePublisherDeps) {
  const defaultBusArn = process.env.DEFAULT_BUS_ARN;
  if (!defaultBusArn)
    throw new Error("DEFAULT_BUS_ARN is not set (the ARN of the bus rules publish to by default)");
  const maxEntryBytes = maxEventBytesFromEnv("MAX_EVENT_BYTES");
  const logger = deps.logger ?? silent;
  // Rules may name their own sources: each is a tenant change contract too.
  const contracts = contractsWithTenantSources(deps.tenants);
  // One publisher per bus: PutEvents takes a bus ARN as EventBusName, also for another account's bus.
  const publishers = new Map<string, ReturnType<typeof makePublisher>>();
  const publisherFor = (busArn: string) => {
    let p = publishers.get(busArn);
    if (!p) {
      p = makePublisher({
        client: deps.eventBridge,
        busName: busArn,
        maxEntryBytes,
        contracts,
        ...deps.publisher,
      });
      publishers.set(busArn, p);
    }
    return p;
  };
  // Built once per cold start, by the factory: the processor keeps per-batch state.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);

  const publishRecord = async (
    record: DynamoDBRecord,
    tally: PublishTally,
  ): Promise<RecordOutcome> => {
    const change = changeFromStreamRecord(record);
    const events = changeEvents(deps.tenants[change.tenant]?.rules ?? [], change, defaultBusArn);
    let published = 0;
    // Consecutive events for one bus go in one publish call; the order of the rules is kept.
    for (let i = 0; i < events.length;) {
      const bus = events[i].busArn;
      const run: PublishEntry[] = [];
      for (; i < events.length && events[i].busArn === bus; i++) {
        run.push(changeEntry(events[i]));
      }
      const result = await publisherFor(bus).publish(run);
      tally.delivered += result.delivered;
      tally.retries += result.retries;
      tally.failed.push(...result.failed);
      published += result.delivered;
      if (result.failed.length > 0) {
        const why = result.failed
          .map((f) => `${f.entry.DetailType}: ${f.errorCode} ${f.errorMessage}`)
          .join("; ");
        throw new Error(
          `change ${change.changeId} (${change.tenant} ${change.rootSchema} ${change.operation}): ${result.failed.length} of ${run.length} events to ${bus} not published: ${why}`,
        );
      }
    }
    logger.info("change published", {
      changeId: change.changeId,
      tenant: change.tenant,
      rootSchema: change.rootSchema,
      operation: change.operation,
      events: published,
    });
    return { published };
  };

  const recordHandler = async (
    record: DynamoDBRecord,
    tally: PublishTally,
  ): Promise<RecordOutcome> => {
    try {
      return await publishRecord(record, tally);
    } catch (err) {
      logger.error("change not published", {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        eventID: record.eventID,
        error: (err as Error).message,
      });
      throw err;
    }
  };

  /**
   * Records the invocation's publishing outcome and flushes it: one EMF blob per invocation, also
   * when no rule matched (zeros) or a record failed. A metrics fault is logged, never thrown: the
   * batch's answer stays what the records made it.
   */
  const emitMetrics = (tally: PublishTally): void =>
    emitInvocationMetrics(
      deps.metrics,
      (metrics) => recordPublish(metrics, tally),
      (what, err) => logger.error(`change metrics not ${what}`, { error: errorSummary(err) }),
    );

  // A wholly failed batch throws (Powertools' default): a function error, which the mapping
  // retries by bisecting; a partial failure returns `batchItemFailures`.
  return async (event: DynamoDBStreamEvent, context: any) => {
    // Per invocation, so the counts of one batch never mix with another's.
    const tally: PublishTally = { delivered: 0, retries: 0, failed: [] };
    try {
      return await processPartialResponse(
        event,
        (record: DynamoDBRecord) => recordHandler(record, tally),
        processor,
        {
          context,
          // Stream order matters (an item's INSERT before its MODIFY): one record at a time.
          processInParallel: false,
        },
      );
    } finally {
      emitMetrics(tally);
    }
  };
}

/** Name and message of an error, never a payload. */
function errorSummary(err: unknown): { name: string; message: string } {
  const e = err as Error;
  return { name: e?.name ?? "Error", message: e?.message ?? String(err) };
}

/**
 * The deployed function (components/tenants/changePublisher.ts) for the stack's tenants: its
 * client, logger and metrics, built once per cold start.
 */
export function createChangePublisher(tenants: Tenants) {
  return makeHandler({
    eventBridge: lazyEventBridge(),
    tenants,
    logger: new Logger({ serviceName: CHANGE_PUBLISHER_SERVICE }),
    // Namespace Switchyard, dimension service=change-publisher: one EMF blob per batch.
    metrics: makeMetrics(CHANGE_PUBLISHER_SERVICE),
  });
}
