// Publishes the changes of the tenant data table, read from its DynamoDB stream, by the tenants'
// rules: every matching rule publishes one event, in rule order, to its bus (this hub's by
// default, or another account's). Records are processed one by one in stream order with
// Powertools batch; a record that cannot be published is reported in `batchItemFailures`, so the
// event source mapping retries from it (bisecting, bounded) and then hands it to its on-failure
// destination, while the other records are published.
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { makePublisher, PublishEntry, PublisherOptions } from "../lib/publisher";
import { changeEvents, Tenants } from "../../components/tenants/tenantRules";
import { changeFromStreamRecord } from "./items";

export interface LoggerLike {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

export interface ChangePublisherDeps {
  /** An EventBridgeClient (anything with its `send`). */
  eventBridge: { send(command: any): Promise<any> };
  /** Tenant settings (the `switchyard:tenants` config). */
  tenants: Tenants;
  logger?: LoggerLike;
  /** Publisher tuning (tests pass `sleep`). */
  publisher?: Pick<PublisherOptions, "maxAttempts" | "baseDelayMs" | "sleep">;
}

export interface RecordOutcome {
  published: number;
}

const silent: LoggerLike = { info: () => undefined, error: () => undefined };

/** Environment: DEFAULT_BUS_ARN (the hub's bus), MAX_EVENT_BYTES (optional, default 262144). */
export function makeHandler(deps: ChangePublisherDeps) {
  const defaultBusArn = process.env.DEFAULT_BUS_ARN;
  if (!defaultBusArn) throw new Error("DEFAULT_BUS_ARN is not set (the ARN of the bus rules publish to by default)");
  const maxEntryBytes = Number(process.env.MAX_EVENT_BYTES ?? 262144);
  if (!Number.isInteger(maxEntryBytes) || maxEntryBytes < 1) {
    throw new Error(`MAX_EVENT_BYTES must be a positive whole number, got "${process.env.MAX_EVENT_BYTES}"`);
  }
  const logger = deps.logger ?? silent;
  // One publisher per bus: PutEvents takes a bus ARN as EventBusName, also for another account's bus.
  const publishers = new Map<string, ReturnType<typeof makePublisher>>();
  const publisherFor = (busArn: string) => {
    let p = publishers.get(busArn);
    if (!p) {
      p = makePublisher({ client: deps.eventBridge, busName: busArn, maxEntryBytes, ...deps.publisher });
      publishers.set(busArn, p);
    }
    return p;
  };
  // Built at cold start: the processor holds ES private fields, which must not be serialized.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);

  const publishRecord = async (record: DynamoDBRecord): Promise<RecordOutcome> => {
    const change = changeFromStreamRecord(record);
    const events = changeEvents(deps.tenants[change.tenant]?.rules ?? [], change, defaultBusArn);
    let published = 0;
    // Consecutive events for one bus go in one publish call; the order of the rules is kept.
    for (let i = 0; i < events.length; ) {
      const bus = events[i].busArn;
      const run: PublishEntry[] = [];
      for (; i < events.length && events[i].busArn === bus; i++) {
        run.push({ Source: events[i].source, DetailType: events[i].detailType, Detail: JSON.stringify(events[i].detail) });
      }
      const result = await publisherFor(bus).publish(run);
      published += result.delivered;
      if (result.failed.length > 0) {
        const why = result.failed.map((f) => `${f.entry.DetailType}: ${f.errorCode} ${f.errorMessage}`).join("; ");
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

  const recordHandler = async (record: DynamoDBRecord): Promise<RecordOutcome> => {
    try {
      return await publishRecord(record);
    } catch (err) {
      logger.error("change not published", {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        eventID: record.eventID,
        error: (err as Error).message,
      });
      throw err;
    }
  };

  // A wholly failed batch throws (Powertools' default): a function error, which the mapping
  // retries by bisecting; a partial failure returns `batchItemFailures`.
  return async (event: DynamoDBStreamEvent, context: any) =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      // Stream order matters (an item's INSERT before its MODIFY): one record at a time.
      processInParallel: false,
    });
}
