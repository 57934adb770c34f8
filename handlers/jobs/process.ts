// The processing function, invoked asynchronously by POST /jobs with { jobId, type, input }.
// It marks the job RUNNING (counting the attempt), runs the job type and writes SUCCEEDED with
// the result. A thrown error fails the attempt: Lambda retries (maximumRetryAttempts), then sends
// the invocation record to the on-failure destination, the error handler, which writes FAILED.
// Duplicate deliveries of a finished job are answered without running it again.
import { correlate, validCorrelationId } from "../lib/correlation";
import { LoggerLike, requireEnv, SILENT } from "./common";
import { DynamoSender, JOB_ID, JobStore } from "./jobStore";
import { JOB_TYPES, JobRegistry } from "./jobTypes";
import type { ProcessEvent } from "./submit";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { lazyDynamodb } from "../lib/lazy";

export interface ProcessDeps {
  dynamodb: DynamoSender;
  logger?: LoggerLike;
  registry?: JobRegistry;
  now?: () => Date;
}

export interface ProcessOutcome {
  jobId: string;
  status: string;
  /** Set when nothing ran: "finished" (duplicate delivery) or "missing" (no such job). */
  skipped?: "finished" | "missing";
}

export function makeHandler(deps: ProcessDeps) {
  const store = new JobStore(deps.dynamodb, requireEnv("JOBS_TABLE"));
  const registry = deps.registry ?? JOB_TYPES;
  const logger = deps.logger ?? SILENT;
  const now = deps.now ?? (() => new Date());

  return async (event: ProcessEvent, _context?: unknown): Promise<ProcessOutcome> => {
    if (
      !event ||
      typeof event.jobId !== "string" ||
      !JOB_ID.test(event.jobId) ||
      typeof event.type !== "string"
    ) {
      throw new Error(
        `not a job invocation: expected { jobId, type, input }, got ${JSON.stringify(event)?.slice(0, 200)}`,
      );
    }
    const { jobId, type, input } = event;
    // The submitting request's id; a job started some other way is correlated by its job id.
    correlate(logger, validCorrelationId(event.correlationId) ?? jobId);
    const claimed = await store.markRunning(jobId, now());
    if (claimed === undefined) {
      logger.warn("job not found; nothing to run", { jobId });
      return { jobId, status: "MISSING", skipped: "missing" };
    }
    if (claimed !== "claimed") {
      logger.info("job already finished; duplicate delivery ignored", {
        jobId,
        status: claimed.status,
      });
      return { jobId, status: claimed.status, skipped: "finished" };
    }
    const jobType = Object.prototype.hasOwnProperty.call(registry, type)
      ? registry[type]
      : undefined;
    if (!jobType) throw new Error(`unknown job type "${type}"`);
    const result = await jobType.run(input);
    const written = await store.markSucceeded(jobId, result, now());
    logger.info("job succeeded", { jobId, type, written });
    return { jobId, status: "SUCCEEDED" };
  };
}

/** The deployed function (components/jobs/jobsApi.ts): its clients and logger, built once per cold start. */
export function createProcess() {
  return makeHandler({
    dynamodb: lazyDynamodb(),
    logger: new Logger({ serviceName: SERVICES.jobsProcess }),
  });
}
