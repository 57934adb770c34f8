// POST /jobs: validates the body, stores the job as PENDING, starts the processing function
// asynchronously (InvocationType Event) and answers 202 { jobId } with a Location header.
// An Idempotency-Key header maps retried POSTs to the same job: the key is claimed with a
// conditional write, the job item is created with another, and only the request that creates the
// job item invokes the processor, so concurrent duplicates start exactly one processing.
import { randomUUID } from "crypto";
import { lazyDynamodb, lazyLambda, sdkLambda } from "../lib/lazy";
import { correlate, correlationIdFrom } from "../lib/correlation";
import type { APIGatewayProxyEvent } from "aws-lambda";
import {
  canonicalJson,
  header,
  intEnv,
  json,
  LoggerLike,
  ProxyResult,
  requireEnv,
  sha256Hex,
  SILENT,
} from "./common";
import { DynamoSender, JobStore } from "./jobStore";
import { JOB_TYPES, JobRegistry, submitRequestSchema } from "./jobTypes";
import { validate } from "./schema";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";

/** The part of LambdaClient the handler uses. */
export interface LambdaSender {
  send(command: any): Promise<any>;
}

export interface SubmitDeps {
  dynamodb: DynamoSender;
  lambda: LambdaSender;
  logger?: LoggerLike;
  registry?: JobRegistry;
  now?: () => Date;
  newId?: () => string;
}

/** Largest accepted body; keeps the job item and the async invocation payload small. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Idempotency-Key: 1-255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** What the processing function receives (also the `requestPayload` of its failure record). */
export interface ProcessEvent {
  jobId: string;
  type: string;
  input: unknown;
  /** The submitting request's correlation id, on the processor's (and failure handler's) log lines. */
  correlationId?: string;
}

/** The Location of a job: under the stage (or base path) the request came in on. */
export function jobLocation(
  event: Pick<APIGatewayProxyEvent, "requestContext">,
  jobId: string,
): string {
  const path = (event.requestContext as { path?: string } | undefined)?.path ?? "/jobs";
  const prefix = path.replace(/\/jobs\/?$/, "");
  return `${prefix}/jobs/${jobId}`;
}

export function makeHandler(deps: SubmitDeps) {
  const table = requireEnv("JOBS_TABLE");
  const processor = requireEnv("PROCESSOR_FUNCTION");
  const ttlSeconds = intEnv("JOBS_TTL_SECONDS", 3600, 366 * 86400);
  const store = new JobStore(deps.dynamodb, table);
  const registry = deps.registry ?? JOB_TYPES;
  const logger = deps.logger ?? SILENT;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const schema = submitRequestSchema(registry);
  const topLevel = { ...schema, oneOf: undefined };

  return async (event: APIGatewayProxyEvent, _context?: unknown): Promise<ProxyResult> => {
    // The caller's x-correlation-id (or x-request-id), else API Gateway's request id.
    const correlationId = correlate(logger, correlationIdFrom(event));
    const raw = event.body ?? "";
    const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
    if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
      return json(413, { message: `the body must be at most ${MAX_BODY_BYTES} bytes` });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(400, { message: "the body must be a JSON object", errors: ["$: is not JSON"] });
    }
    // Top level first (type, input present), then the input against its type's schema: the
    // errors name the actual field instead of "matched 0 of N schemas".
    let errors = validate(topLevel, body);
    if (errors.length === 0) {
      const { type, input } = body as { type: string; input: unknown };
      errors = validate(registry[type].inputSchema, input, "$.input");
    }
    if (errors.length > 0) return json(400, { message: "invalid job", errors });
    const { type, input } = body as { type: string; input: unknown };

    const key = header(event.headers, "Idempotency-Key");
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      return json(400, { message: "Idempotency-Key must be 1-255 visible ASCII characters" });
    }

    const at = now();
    const expiresAt = Math.floor(at.getTime() / 1000) + ttlSeconds;
    let jobId = newId();
    let replayed = false;
    if (key !== undefined) {
      const requestHash = sha256Hex(canonicalJson({ type, input }));
      let claim;
      try {
        claim = await store.claimKey(key, jobId, requestHash, at, expiresAt);
      } catch (e) {
        if ((e as Error).name !== "KeyReleased") throw e;
        // The request holding this key failed and released it while we looked: the caller retries.
        return json(
          409,
          { message: "a concurrent request with this Idempotency-Key failed; retry" },
          { "Retry-After": "1" },
        );
      }
      if (claim.requestHash !== requestHash) {
        return json(422, {
          message: "this Idempotency-Key was already used with a different body",
        });
      }
      jobId = claim.jobId;
      replayed = !claim.fresh;
    }

    // Whoever creates the job item starts the processing; everyone else just answers.
    const created = await store.createPending(
      { jobId, type, input, expiresAt, idempotencyKey: key },
      at,
    );
    if (created) {
      const payload: ProcessEvent = { jobId, type, input, correlationId };
      try {
        await deps.lambda.send(
          new (sdkLambda().InvokeCommand)({
            FunctionName: processor,
            InvocationType: "Event",
            Payload: Buffer.from(JSON.stringify(payload)),
          }),
        );
      } catch (e) {
        logger.error("could not start processing; job rolled back", {
          jobId,
          error: (e as Error).name,
        });
        await store.rollback(jobId, key);
        return json(
          503,
          { message: "the job could not be started, retry later" },
          { "Retry-After": "5" },
        );
      }
    }
    logger.info(replayed ? "job replayed" : "job accepted", { jobId, type, replayed, created });
    return json(
      202,
      { jobId },
      {
        Location: jobLocation(event, jobId),
        ...(replayed ? { "Idempotent-Replayed": "true" } : {}),
      },
    );
  };
}

/** The deployed function (components/jobs/jobsApi.ts): its clients and logger, built once per cold start. */
export function createSubmit() {
  return makeHandler({
    dynamodb: lazyDynamodb(),
    lambda: lazyLambda(),
    logger: new Logger({ serviceName: SERVICES.jobsSubmit }),
  });
}
