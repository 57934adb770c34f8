// The processing function's on-failure destination. Lambda calls it asynchronously with the
// invocation record of a job whose processing failed every attempt (or aged out); it writes FAILED
// with the job's parameters and the error. When this function itself fails (after its own retries)
// its on-failure destination is the EventHub bus, so the record lands in the archive for replay:
// hence it throws, rather than swallowing, anything it cannot record.
import { correlate, validCorrelationId } from "../lib/correlation";
import { LoggerLike, intEnv, requireEnv, SILENT } from "./common";
import { DynamoSender, JOB_ID, JobError, JobStore } from "./jobStore";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { lazyDynamodb } from "../lib/lazy";

/** The record Lambda sends to an on-failure destination (the fields this handler reads). */
export interface FailureRecord {
  version?: string;
  timestamp?: string;
  requestContext?: {
    requestId?: string;
    functionArn?: string;
    /** RetriesExhausted, EventAgeExceeded, ... */
    condition?: string;
    approximateInvokeCount?: number;
  };
  requestPayload?: { jobId?: unknown; type?: unknown; input?: unknown; correlationId?: unknown };
  responseContext?: { statusCode?: number; executedVersion?: string; functionError?: string };
  responsePayload?: {
    errorType?: string;
    errorMessage?: string;
    trace?: string[];
    stackTrace?: string[];
  } | null;
}

export interface ErrorHandlerDeps {
  dynamodb: DynamoSender;
  logger?: LoggerLike;
  now?: () => Date;
}

/** The error recorded on the job: never the stack trace (callers see it). */
export function jobErrorOf(record: FailureRecord): JobError {
  const condition = record.requestContext?.condition ?? "Unknown";
  const p = record.responsePayload ?? undefined;
  return {
    type: p?.errorType ?? condition,
    message: (p?.errorMessage ?? `processing did not complete (${condition})`).slice(0, 2000),
    condition,
    attempts: record.requestContext?.approximateInvokeCount ?? 0,
  };
}

export function makeHandler(deps: ErrorHandlerDeps) {
  const store = new JobStore(deps.dynamodb, requireEnv("JOBS_TABLE"));
  const ttlSeconds = intEnv("JOBS_TTL_SECONDS", 3600, 366 * 86400);
  const logger = deps.logger ?? SILENT;
  const now = deps.now ?? (() => new Date());

  return async (
    record: FailureRecord,
    _context?: unknown,
  ): Promise<{ jobId: string; recorded: boolean }> => {
    const payload = record?.requestPayload;
    const jobId = payload?.jobId;
    if (typeof jobId !== "string" || !JOB_ID.test(jobId) || typeof payload?.type !== "string") {
      // Not ours to interpret: fail so that it reaches the bus (and its archive) intact.
      throw new Error(
        "not a jobs invocation record: requestPayload.jobId and requestPayload.type are required",
      );
    }
    // The submitting request's id, else the job id.
    correlate(logger, validCorrelationId(payload.correlationId) ?? jobId);
    const error = jobErrorOf(record);
    const at = now();
    const recorded = await store.markFailed(
      jobId,
      { type: payload.type, input: payload.input },
      error,
      at,
      Math.floor(at.getTime() / 1000) + ttlSeconds,
    );
    if (recorded) logger.warn("job failed", { jobId, error });
    else logger.info("failure record ignored: the job already succeeded", { jobId });
    return { jobId, recorded };
  };
}

/** The deployed function (components/jobs/jobsApi.ts): its clients and logger, built once per cold start. */
export function createErrorHandler() {
  return makeHandler({
    dynamodb: lazyDynamodb(),
    logger: new Logger({ serviceName: SERVICES.jobsFailed }),
  });
}
