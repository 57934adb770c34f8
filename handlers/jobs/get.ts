// GET /jobs/{jobId}: the job's status, timestamps and its result or error. 400 for an id that is
// not a job id (a lowercase UUID), 404 for an unknown one.
import type { APIGatewayProxyEvent } from "aws-lambda";
import { json, ProxyResult, requireEnv } from "./common";
import { DynamoSender, Job, JOB_ID, JobStore } from "./jobStore";
import { lazyDynamodb } from "../lib/lazy";

export interface GetDeps {
  dynamodb: DynamoSender;
}

/** What a caller sees of a job: no input echo, no internal keys. */
export function jobView(job: Job): Record<string, unknown> {
  return {
    jobId: job.jobId,
    type: job.type,
    status: job.status,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    attempts: job.attempts,
    ...(job.status === "SUCCEEDED" ? { result: job.result } : {}),
    ...(job.status === "FAILED" ? { error: job.error } : {}),
  };
}

export function makeHandler(deps: GetDeps) {
  const store = new JobStore(deps.dynamodb, requireEnv("JOBS_TABLE"));
  return async (event: APIGatewayProxyEvent, _context?: unknown): Promise<ProxyResult> => {
    const raw = event.pathParameters?.jobId ?? "";
    const jobId = raw.toLowerCase();
    if (!JOB_ID.test(jobId)) {
      return json(400, {
        message: "jobId must be a job id (a UUID such as 3f2b8c1e-6d4a-4b7e-9c1d-2a5e8f0b7c64)",
      });
    }
    const job = await store.get(jobId);
    if (!job) return json(404, { message: `job ${jobId} not found` });
    return json(200, jobView(job));
  };
}

/** The deployed function (components/jobs/jobsApi.ts): its clients and logger, built once per cold start. */
export function createGet() {
  return makeHandler({ dynamodb: lazyDynamodb() });
}
