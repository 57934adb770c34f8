// Record ingestion from S3: each object created under the ingestion prefix holds JSON, one record or
// an array of records; each record is sent to the records API with its idempotency key. Records
// (or whole objects) that cannot be ingested are reported to the hub's DLQ, one message each,
// naming the bucket, the object key, the record's index and the error.
import type { S3Event } from "aws-lambda";
import { lazyS3, lazySecretsManager, lazySqs, sdkS3, sdkSqs } from "../lib/lazy";
import {
  IngestRecord,
  makeRecordsClient,
  mapLimit,
  RecordsClientOptions,
  SendFailure,
} from "./recordsApi";
import { requireEnv } from "../lib/env";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { makeSecretReader } from "../lib/secrets";
import type { HttpRequest } from "../lib/http";

export const S3_DATABASE = "switchyard.s3";
export const DEFAULT_COLLECTION = "records";
/** `source` field of the failure reports, so DLQ readers can tell them from EventBridge's. */
export const S3_FAILURE_SOURCE = "switchyard.records.s3-ingestion";

import type { LoggerLike as SharedLogger } from "../lib/logger";

/** What this handler logs with: the shared logger's info and error. */
export type LoggerLike = Pick<SharedLogger, "info" | "error">;

export interface S3IngestionDeps {
  /** An S3Client (anything with its `send`). */
  s3: { send(command: any): Promise<any> };
  /** An SQSClient, for the failure reports. */
  sqs: { send(command: any): Promise<any> };
  /** Reads the records API key (handlers/lib/secrets.ts). */
  secrets: { get(arn: string, options?: { maxAgeMs?: number }): Promise<string> };
  /** The records API's HTTP client; default handlers/lib/http.ts. */
  request?: HttpRequest;
  sleep?: (ms: number) => Promise<void>;
  logger?: LoggerLike;
  /** Records in flight at once. Default 8. */
  concurrency?: number;
  /** Records API client tuning. */
  client?: Pick<RecordsClientOptions, "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "timeoutMs">;
  /** Stop starting new records when less than this much of the invocation's time is left. Default 15000 ms. */
  reserveMs?: number;
}

/** One report on the DLQ. */
export interface FailureReport {
  source: string;
  bucket: string;
  key: string;
  versionId?: string;
  /** Index of the record in the object; absent when the whole object failed. */
  index?: number;
  recordId?: string;
  idempotencyKey?: string;
  /** HTTP status of the records API's last answer (0: not reached). */
  status?: number;
  attempts?: number;
  error: string;
  failedAt: string;
}

export interface S3IngestionResult {
  objects: number;
  records: number;
  sent: number;
  failed: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates one record of an object and fills in the defaults. */
export function recordFromObject(raw: unknown, sourceTimestamp: string): IngestRecord {
  if (!isObject(raw)) throw new Error("record must be a JSON object");
  const { tenantId, recordId, recordVersion, payload, operationType, collection } = raw;
  if (typeof tenantId !== "string" || tenantId === "")
    throw new Error("tenantId must be a non-empty string");
  if (typeof recordId !== "string" || recordId === "")
    throw new Error("recordId must be a non-empty string");
  if (typeof recordVersion !== "number" || !Number.isFinite(recordVersion) || recordVersion < 0) {
    throw new Error("recordVersion must be a number >= 0");
  }
  if (payload === undefined) throw new Error("payload is missing");
  if (operationType !== undefined && operationType !== "upsert" && operationType !== "delete") {
    throw new Error('operationType must be "upsert" or "delete"');
  }
  if (collection !== undefined && (typeof collection !== "string" || collection === "")) {
    throw new Error("collection must be a non-empty string");
  }
  const ts = raw.sourceTimestamp;
  if (ts !== undefined && (typeof ts !== "string" || Number.isNaN(Date.parse(ts)))) {
    throw new Error("sourceTimestamp must be an ISO 8601 date-time");
  }
  return {
    tenantId,
    recordId,
    recordVersion,
    operationType: (operationType as "upsert" | "delete" | undefined) ?? "upsert",
    payload,
    database: S3_DATABASE,
    collection: (collection as string | undefined) ?? DEFAULT_COLLECTION,
    sourceTimestamp: (ts as string | undefined) ?? sourceTimestamp,
  };
}

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/** Environment: RECORDS_API_URL, RECORDS_API_KEY_SECRET_ARN, FAILURE_QUEUE_URL, MAX_OBJECT_BYTES (optional). */
export function makeHandler(deps: S3IngestionDeps) {
  const url = requireEnv("RECORDS_API_URL", "the records API's POST /api/v1/records URL");
  const secretArn = requireEnv(
    "RECORDS_API_KEY_SECRET_ARN",
    "the ARN of the secret holding the records API key",
  );
  const failureQueueUrl = requireEnv(
    "FAILURE_QUEUE_URL",
    "the URL of the queue failures are reported to",
  );
  const maxObjectBytes = Number(process.env.MAX_OBJECT_BYTES ?? 50 * 1024 * 1024);
  const logger = deps.logger ?? { info: () => undefined, error: () => undefined };
  const reserveMs = deps.reserveMs ?? 15000;
  const client = makeRecordsClient({
    url,
    apiKey: (refresh) => deps.secrets.get(secretArn, refresh ? { maxAgeMs: 0 } : undefined),
    request: deps.request,
    sleep: deps.sleep,
    ...deps.client,
  });

  async function report(failures: FailureReport[]): Promise<void> {
    for (let i = 0; i < failures.length; i += 10) {
      const chunk = failures.slice(i, i + 10);
      const out = await deps.sqs.send(
        new (sdkSqs().SendMessageBatchCommand)({
          QueueUrl: failureQueueUrl,
          Entries: chunk.map((f, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify(f),
            MessageAttributes: { source: { DataType: "String", StringValue: S3_FAILURE_SOURCE } },
          })),
        }),
      );
      if (out?.Failed?.length) {
        // Throwing fails the invocation: Lambda retries it (records carry idempotency keys).
        throw new Error(
          `could not report ${out.Failed.length} ingestion failures to ${failureQueueUrl}: ${out.Failed.map((f: any) => f.Code).join(", ")}`,
        );
      }
    }
  }

  return async (
    event: S3Event,
    context: { getRemainingTimeInMillis?: () => number } = {},
  ): Promise<S3IngestionResult> => {
    const result: S3IngestionResult = { objects: 0, records: 0, sent: 0, failed: 0 };
    let keyRead: Promise<unknown> | undefined;
    const failures: FailureReport[] = [];
    const outOfTime = () =>
      typeof context?.getRemainingTimeInMillis === "function" &&
      context.getRemainingTimeInMillis() < reserveMs;

    for (const n of event.Records ?? []) {
      const bucket = n.s3.bucket.name;
      const key = decodeKey(n.s3.object.key);
      const where = {
        source: S3_FAILURE_SOURCE,
        bucket,
        key,
        ...(n.s3.object.versionId ? { versionId: n.s3.object.versionId } : {}),
      };
      const fail = (f: Partial<FailureReport> & { error: string }) => {
        failures.push({ ...where, ...f, failedAt: new Date().toISOString() });
        result.failed++;
      };
      result.objects++;

      let items: unknown[];
      try {
        const download = deps.s3.send(
          new (sdkS3().GetObjectCommand)({
            Bucket: bucket,
            Key: key,
            VersionId: n.s3.object.versionId,
          }),
        );
        // The records API key is read while the object downloads, not after it: on a cold start
        // Secrets Manager's client then loads and its GetSecretValue waits alongside GetObject.
        // The reader shares this call with the records client's own read of the key; a failure
        // here is the records client's to retry and report, per record.
        if (!keyRead) keyRead = deps.secrets.get(secretArn).catch(() => undefined);
        const obj = await download;
        if (typeof obj.ContentLength === "number" && obj.ContentLength > maxObjectBytes) {
          throw new Error(
            `object is ${obj.ContentLength} bytes, more than the ${maxObjectBytes} bytes read at once; split it`,
          );
        }
        const text: string = await obj.Body.transformToString("utf-8");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (e) {
          // The parse error's text is the reason recorded for the object; nothing else of it is kept.
          // eslint-disable-next-line preserve-caught-error
          throw new Error(`object is not JSON: ${(e as Error).message}`);
        }
        items = Array.isArray(parsed) ? parsed : [parsed];
      } catch (err) {
        fail({
          error: `${(err as Error).name === "Error" ? "" : `${(err as Error).name}: `}${(err as Error).message}`,
        });
        continue;
      }
      result.records += items.length;

      await mapLimit(items, deps.concurrency ?? 8, async (raw, index) => {
        const recordId =
          isObject(raw) && typeof raw.recordId === "string" ? raw.recordId : undefined;
        let record: IngestRecord;
        try {
          record = recordFromObject(raw, n.eventTime);
        } catch (err) {
          fail({ index, recordId, error: `invalid record: ${(err as Error).message}` });
          return;
        }
        if (outOfTime()) {
          fail({ index, recordId, error: "not sent: the invocation ran out of time" });
          return;
        }
        try {
          await client.send(record);
          result.sent++;
        } catch (err) {
          const e = err as SendFailure;
          fail({
            index,
            recordId,
            idempotencyKey: e.idempotencyKey,
            status: e.status,
            attempts: e.attempts,
            error: e.message,
          });
        }
      });
      logger.info("object ingested", { bucket, key, records: items.length });
    }

    if (failures.length > 0) {
      logger.error("ingestion failures reported", {
        failed: failures.length,
        queue: failureQueueUrl,
      });
      await report(failures);
    }
    return result;
  };
}

/** The deployed function (components/records/recordIngestion.ts): its clients and logger, built once per cold start. */
export function createS3Ingestion() {
  return makeHandler({
    s3: lazyS3(),
    sqs: lazySqs(),
    secrets: makeSecretReader({ client: lazySecretsManager(), ttlMs: 300000 }),
    logger: new Logger({ serviceName: SERVICES.recordIngestionS3 }),
  });
}
