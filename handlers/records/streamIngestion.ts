// Record ingestion from a DynamoDB stream: each change of the configured table becomes a record of
// the records API, inserted or modified items as `upsert` (the new image), removed items as
// `delete` (the old image). Records are processed one by one in stream order with Powertools
// batch; one the API does not take is reported in `batchItemFailures`, so the event source mapping
// retries from it and finally sends it to its on-failure destination (the hub's DLQ).
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { changedItem } from "../lib/streamImage";
import { IngestRecord, makeRecordsClient, RecordsClientOptions, SendOutcome } from "./recordsApi";
import type { LoggerLike } from "./s3Ingestion";
import { requireEnv } from "../lib/env";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { lazySecretsManager } from "../lib/lazy";
import { makeSecretReader } from "../lib/secrets";
import type { HttpRequest } from "../lib/http";

export const DYNAMODB_DATABASE = "switchyard.dynamodb";

/** Which attributes of the source table's items carry the record's tenant, id and version. */
export interface StreamRecordMapping {
  tenantAttribute: string;
  idAttribute: string;
  /** When an item has no numeric version, the change's time (epoch seconds) is the version. */
  versionAttribute: string;
  collection: string;
}

/** The records API record a stream record stands for; throws when the item lacks tenant or id. */
export function recordFromStream(record: DynamoDBRecord, m: StreamRecordMapping): IngestRecord {
  const { eventName: name, item } = changedItem(
    record,
    (image) => `the table's stream must include ${image === "OldImage" ? "old" : "new"} images`,
  );
  const text = (v: unknown) =>
    typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
  const tenantId = text(item[m.tenantAttribute]);
  const recordId = text(item[m.idAttribute]);
  if (!tenantId)
    throw new Error(
      `stream record ${record.eventID}: item has no "${m.tenantAttribute}" (the tenant)`,
    );
  if (!recordId)
    throw new Error(
      `stream record ${record.eventID}: item has no "${m.idAttribute}" (the record id)`,
    );
  const at = record.dynamodb?.ApproximateCreationDateTime;
  const version = item[m.versionAttribute];
  const recordVersion = typeof version === "number" && version >= 0 ? version : at;
  if (typeof recordVersion !== "number") {
    throw new Error(
      `stream record ${record.eventID}: item has no numeric "${m.versionAttribute}" and the record no time`,
    );
  }
  return {
    tenantId,
    recordId,
    recordVersion,
    operationType: name === "REMOVE" ? "delete" : "upsert",
    payload: item,
    database: DYNAMODB_DATABASE,
    collection: m.collection,
    sourceTimestamp: new Date((at ?? 0) * 1000).toISOString(),
  };
}

export interface StreamIngestionDeps {
  secrets: { get(arn: string, options?: { maxAgeMs?: number }): Promise<string> };
  /** The records API's HTTP client; default handlers/lib/http.ts. */
  request?: HttpRequest;
  sleep?: (ms: number) => Promise<void>;
  logger?: LoggerLike;
  /** Records API client tuning; default 3 attempts (the mapping retries the record too). */
  client?: Pick<RecordsClientOptions, "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "timeoutMs">;
}

/**
 * Environment: RECORDS_API_URL, RECORDS_API_KEY_SECRET_ARN, SOURCE_TENANT_ATTRIBUTE,
 * SOURCE_ID_ATTRIBUTE, SOURCE_VERSION_ATTRIBUTE, SOURCE_COLLECTION.
 */
export function makeHandler(deps: StreamIngestionDeps) {
  const url = requireEnv("RECORDS_API_URL", "the records API's POST /api/v1/records URL");
  const secretArn = requireEnv(
    "RECORDS_API_KEY_SECRET_ARN",
    "the ARN of the secret holding the records API key",
  );
  const mapping: StreamRecordMapping = {
    tenantAttribute: requireEnv(
      "SOURCE_TENANT_ATTRIBUTE",
      "the item attribute holding the tenant id",
    ),
    idAttribute: requireEnv("SOURCE_ID_ATTRIBUTE", "the item attribute holding the record id"),
    versionAttribute: requireEnv(
      "SOURCE_VERSION_ATTRIBUTE",
      "the item attribute holding the record version",
    ),
    collection: requireEnv(
      "SOURCE_COLLECTION",
      "the records API collection of the table's records",
    ),
  };
  const logger = deps.logger ?? { info: () => undefined, error: () => undefined };
  const client = makeRecordsClient({
    url,
    apiKey: (refresh) => deps.secrets.get(secretArn, refresh ? { maxAgeMs: 0 } : undefined),
    request: deps.request,
    sleep: deps.sleep,
    maxAttempts: 3,
    ...deps.client,
  });
  // Built once per cold start, by the factory: the processor keeps per-batch state.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);

  const recordHandler = async (record: DynamoDBRecord): Promise<SendOutcome> => {
    try {
      return await client.send(recordFromStream(record, mapping));
    } catch (err) {
      logger.error("record not ingested", {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        eventID: record.eventID,
        error: (err as Error).message,
      });
      throw err;
    }
  };

  return async (event: DynamoDBStreamEvent, context: any) =>
    processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
}

/** The deployed function (components/records/recordIngestion.ts): its clients and logger, built once per cold start. */
export function createStreamIngestion() {
  return makeHandler({
    secrets: makeSecretReader({ client: lazySecretsManager(), ttlMs: 300000 }),
    logger: new Logger({ serviceName: SERVICES.recordIngestionStream }),
  });
}
