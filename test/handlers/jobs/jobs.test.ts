// The jobs handlers against dynalite (the DynamoDB wire API): submit, idempotency (sequential and
// concurrent), processing, the failure record written by the error handler, and GET's shapes.
// Lambda's Invoke is faked behind the SDK client (aws-sdk-client-mock) and fails as Lambda does.
import { expect } from "chai";
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient, TooManyRequestsException } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { makeHandler as makeSubmit, MAX_BODY_BYTES } from "../../../handlers/jobs/submit";
import { makeHandler as makeProcess } from "../../../handlers/jobs/process";
import {
  makeHandler as makeErrorHandler,
  FailureRecord,
} from "../../../handlers/jobs/errorHandler";
import { makeHandler as makeGet } from "../../../handlers/jobs/get";
import { JobRegistry, JOB_TYPES } from "../../../handlers/jobs/jobTypes";
import { captureLogger, LocalJobsTable, proxyEvent, startJobsTable } from "./localJobs";

const PROCESSOR = "arn:aws:lambda:eu-west-1:123456789012:function:jobs-process-1234567";
const T0 = new Date("2026-11-21T10:00:00.000Z");
const TTL = 7 * 86400;
const ENV = { JOBS_TABLE: "jobs", PROCESSOR_FUNCTION: PROCESSOR, JOBS_TTL_SECONDS: String(TTL) };

function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k];
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let seq = 0;
const ids = () => `00000000-0000-4000-8000-${String(++seq).padStart(12, "0")}`;

/** A job type that fails every attempt, as a broken job would. */
const failing: JobRegistry = {
  ...JOB_TYPES,
  checksum: {
    ...JOB_TYPES.checksum,
    async run() {
      throw new TypeError("digest engine exploded");
    },
  },
};

/** The record Lambda sends to the on-failure destination after the last attempt failed. */
function failureRecord(payload: unknown, error: Error, attempts = 3): FailureRecord {
  return {
    version: "1.0",
    timestamp: "2026-11-21T10:03:05.568Z",
    requestContext: {
      requestId: "e4b46cbf-b738-4880-a18c-df61200e0001",
      functionArn: `${PROCESSOR}:$LATEST`,
      condition: "RetriesExhausted",
      approximateInvokeCount: attempts,
    },
    requestPayload: payload as FailureRecord["requestPayload"],
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: {
      errorType: error.name,
      errorMessage: error.message,
      trace: ["at run (jobTypes.js:1:1)"],
    },
  };
}

describe("jobs handlers against dynalite", () => {
  let db: LocalJobsTable;
  let lambda: LambdaClient;
  let lambdaMock: ReturnType<typeof mockClient>;
  let clock: Date;
  const now = () => clock;

  const submit = (extra: { registry?: JobRegistry } = {}) =>
    withEnv(ENV, () => makeSubmit({ dynamodb: db.client, lambda, now, newId: ids, ...extra }));
  const processor = (registry?: JobRegistry) =>
    withEnv(ENV, () => makeProcess({ dynamodb: db.client, now, registry }));
  const errorHandler = () => withEnv(ENV, () => makeErrorHandler({ dynamodb: db.client, now }));
  const get = () => withEnv(ENV, () => makeGet({ dynamodb: db.client }));
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    proxyEvent({
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "Content-Type": "application/json", ...headers },
    });
  const getEvent = (jobId: string) =>
    proxyEvent({
      method: "GET",
      resource: "/jobs/{jobId}",
      path: `/jobs/${jobId}`,
      pathParameters: { jobId },
    });
  const invocations = () =>
    lambdaMock.commandCalls(InvokeCommand).map((c) => ({
      ...c.args[0].input,
      Payload: JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString("utf8")),
    }));

  before(async () => {
    db = await startJobsTable("jobs");
  });
  after(async () => db.stop());
  beforeEach(() => {
    clock = T0;
    lambda = new LambdaClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    lambdaMock = mockClient(lambda);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  });

  describe("submit (POST /jobs)", () => {
    it("stores the job as PENDING, invokes the processor with Event and answers 202 with Location", async () => {
      const res = await submit()(post({ type: "checksum", input: { text: "abc" } }));
      const jobId = JSON.parse(res.body).jobId;
      expect(jobId).to.match(/^00000000-0000-4000-8000-\d{12}$/);
      expect(res).to.deep.equal({
        statusCode: 202,
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": "no-store",
          Location: `/v1/jobs/${jobId}`,
        },
        body: JSON.stringify({ jobId }),
      });
      const item = (await db.items()).find((i) => i.pk.S === jobId)!;
      expect(item).to.deep.equal({
        pk: { S: jobId },
        type: { S: "checksum" },
        status: { S: "PENDING" },
        input: { S: '{"text":"abc"}' },
        createdAt: { S: "2026-11-21T10:00:00.000Z" },
        updatedAt: { S: "2026-11-21T10:00:00.000Z" },
        attempts: { N: "0" },
        expiresAt: { N: String(T0.getTime() / 1000 + TTL) },
      });
      expect(invocations()).to.deep.equal([
        // No x-correlation-id: the request is correlated by API Gateway's request id.
        {
          FunctionName: PROCESSOR,
          InvocationType: "Event",
          Payload: { jobId, type: "checksum", input: { text: "abc" }, correlationId: "req-1" },
        },
      ]);
    });

    it("carries the caller's correlation id onto its log lines, the processor's and the failure handler's", async () => {
      const lines: Array<{ level: string; message: string; correlation_id?: string }> = [];
      // Powertools Logger's contract for the two methods: appended keys last until resetKeys.
      const recording = () => {
        let keys: Record<string, string> = {};
        const at = (level: string) => (message: string) => lines.push({ level, message, ...keys });
        return {
          info: at("info"),
          warn: at("warn"),
          error: at("error"),
          resetKeys: () => (keys = {}),
          setCorrelationId: (v: unknown) => (keys = { ...keys, correlation_id: String(v) }),
        };
      };
      const res = await withEnv(ENV, () =>
        makeSubmit({ dynamodb: db.client, lambda, now, newId: ids, logger: recording() }),
      )(post({ type: "checksum", input: { text: "abc" } }, { "X-Correlation-Id": "corr-job-1" }));
      expect(res.statusCode).to.equal(202);
      const [invocation] = invocations();
      expect(invocation.Payload.correlationId).to.equal("corr-job-1");
      const processorLogger = recording();
      const run = withEnv(ENV, () =>
        makeProcess({ dynamodb: db.client, now, logger: processorLogger }),
      );
      await run(invocation.Payload);
      const failed = withEnv(ENV, () =>
        makeErrorHandler({ dynamodb: db.client, now, logger: recording() }),
      );
      await failed(
        failureRecord({ ...invocation.Payload, correlationId: "corr-job-1" }, new Error("boom")),
      );
      expect(lines.map((l) => [l.message, l.correlation_id])).to.deep.equal([
        ["job accepted", "corr-job-1"],
        ["job succeeded", "corr-job-1"],
        ["failure record ignored: the job already succeeded", "corr-job-1"],
      ]);
      // A second invocation of the same processor, started without an id, is correlated by its job id, not the last one.
      lines.length = 0;
      await run({ jobId: invocation.Payload.jobId, type: "checksum", input: { text: "abc" } });
      expect(lines.map((l) => l.correlation_id)).to.deep.equal([invocation.Payload.jobId]);
    });

    it("takes a base64 body and a Location without a stage prefix when there is none", async () => {
      const ev = post("");
      ev.body = Buffer.from(
        JSON.stringify({ type: "checksum", input: { text: "é", algorithm: "sha512" } }),
      ).toString("base64");
      ev.isBase64Encoded = true;
      delete ev.requestContext.path;
      const res = await submit()(ev);
      expect(res.statusCode).to.equal(202);
      expect(res.headers.Location).to.equal(`/jobs/${JSON.parse(res.body).jobId}`);
      expect(invocations()[0].Payload.input).to.deep.equal({ text: "é", algorithm: "sha512" });
    });

    const bad: Array<[string, unknown, number, unknown]> = [
      [
        "not JSON",
        "{nope",
        400,
        { message: "the body must be a JSON object", errors: ["$: is not JSON"] },
      ],
      [
        "an array",
        [],
        400,
        { message: "invalid job", errors: ["$: must be an object, got array"] },
      ],
      [
        "no input",
        { type: "checksum" },
        400,
        { message: "invalid job", errors: ["$.input: is required"] },
      ],
      [
        "an unknown type",
        { type: "resize", input: {} },
        400,
        { message: "invalid job", errors: ['$.type: must be one of "checksum"'] },
      ],
      [
        "an extra field",
        { type: "checksum", input: { text: "a" }, priority: 1 },
        400,
        { message: "invalid job", errors: ["$.priority: is not allowed"] },
      ],
      [
        "a bad input",
        { type: "checksum", input: { text: 5, algorithm: "md5", extra: true } },
        400,
        {
          message: "invalid job",
          errors: [
            "$.input.text: must be a string, got integer",
            '$.input.algorithm: must be one of "sha256", "sha512"',
            "$.input.extra: is not allowed",
          ],
        },
      ],
      [
        "a text over 32768 characters",
        { type: "checksum", input: { text: "x".repeat(32769) } },
        400,
        {
          message: "invalid job",
          errors: ["$.input.text: must have at most 32768 characters, got 32769"],
        },
      ],
      [
        "a body over 64 KiB",
        { type: "checksum", input: { text: "x".repeat(MAX_BODY_BYTES) } },
        413,
        {
          message: `the body must be at most ${MAX_BODY_BYTES} bytes`,
        },
      ],
    ];
    for (const [what, body, status, answer] of bad) {
      it(`answers ${status} to ${what}, stores nothing and invokes nothing`, async () => {
        const before = (await db.items()).length;
        const res = await submit()(post(body as any));
        expect(res.statusCode).to.equal(status);
        expect(JSON.parse(res.body)).to.deep.equal(answer);
        expect((await db.items()).length).to.equal(before);
        expect(invocations()).to.deep.equal([]);
      });
    }

    it("answers a retried POST with the same Idempotency-Key with the same job, invoking once", async () => {
      const h = submit();
      const body = { type: "checksum", input: { text: "once", algorithm: "sha256" } };
      const first = await h(post(body, { "Idempotency-Key": "order-77" }));
      // Same body with its keys in another order: the same request.
      const second = await h(
        post(
          { input: { algorithm: "sha256", text: "once" }, type: "checksum" },
          { "idempotency-key": "order-77" },
        ),
      );
      const jobId = JSON.parse(first.body).jobId;
      expect(first.statusCode).to.equal(202);
      expect(first.headers).to.not.have.property("Idempotent-Replayed");
      expect(second.statusCode).to.equal(202);
      expect(JSON.parse(second.body)).to.deep.equal({ jobId });
      expect(second.headers).to.include({
        Location: `/v1/jobs/${jobId}`,
        "Idempotent-Replayed": "true",
      });
      expect(invocations().length).to.equal(1);
      const items = (await db.items()).filter(
        (i) => i.pk.S === jobId || i.pk.S === "idem#order-77",
      );
      expect(items.map((i) => [i.pk.S, i.jobId?.S ?? i.idempotencyKey?.S])).to.deep.equal([
        [jobId, "order-77"],
        ["idem#order-77", jobId],
      ]);
    });

    it("refuses an Idempotency-Key reused with a different body (422) and a malformed key (400)", async () => {
      const h = submit();
      await h(post({ type: "checksum", input: { text: "a" } }, { "Idempotency-Key": "k-422" }));
      const other = await h(
        post({ type: "checksum", input: { text: "b" } }, { "Idempotency-Key": "k-422" }),
      );
      expect(other.statusCode).to.equal(422);
      expect(JSON.parse(other.body)).to.deep.equal({
        message: "this Idempotency-Key was already used with a different body",
      });
      const malformed = await h(
        post({ type: "checksum", input: { text: "a" } }, { "Idempotency-Key": "has space" }),
      );
      expect(malformed.statusCode).to.equal(400);
      expect(invocations().length).to.equal(1);
    });

    it("gives 20 concurrent POSTs with one Idempotency-Key one job and one processing", async () => {
      const h = submit();
      const body = { type: "checksum", input: { text: "concurrent" } };
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => h(post(body, { "Idempotency-Key": "burst-1" }))),
      );
      const jobIds = new Set(answers.map((r) => JSON.parse(r.body).jobId));
      expect(answers.map((r) => r.statusCode)).to.deep.equal(Array(20).fill(202));
      expect(jobIds.size).to.equal(1);
      const [jobId] = [...jobIds];
      expect(answers.filter((r) => r.headers["Idempotent-Replayed"] === undefined).length).to.equal(
        1,
      );
      expect(invocations().map((i) => i.Payload.jobId)).to.deep.equal([jobId]);
      const items = await db.items();
      expect(
        items.filter((i) => i.idempotencyKey?.S === "burst-1").map((i) => i.pk.S),
      ).to.deep.equal([jobId]);
      expect(items.filter((i) => i.pk.S === "idem#burst-1").length).to.equal(1);
    });

    it("rolls the job and its key back and answers 503 when Lambda throttles the invoke; a retry starts afresh", async () => {
      lambdaMock
        .on(InvokeCommand)
        .rejectsOnce(
          new TooManyRequestsException({
            message: "Rate Exceeded.",
            $metadata: { httpStatusCode: 429 },
            Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
          }),
        )
        .resolves({ StatusCode: 202 });
      const h = submit();
      const body = { type: "checksum", input: { text: "throttled" } };
      const first = await h(post(body, { "Idempotency-Key": "retry-me" }));
      expect(first.statusCode).to.equal(503);
      expect(first.headers["Retry-After"]).to.equal("5");
      const items = await db.items();
      expect(
        items.filter((i) => i.pk.S === "idem#retry-me" || i.idempotencyKey?.S === "retry-me"),
      ).to.deep.equal([]);
      const second = await h(post(body, { "Idempotency-Key": "retry-me" }));
      expect(second.statusCode).to.equal(202);
      expect(second.headers).to.not.have.property("Idempotent-Replayed");
      expect(invocations().length).to.equal(2);
    });

    it("answers 409 when the request holding the key rolled it back while this one looked it up", async () => {
      // The real client, with the other request's rollback (a real DeleteItem) landing between this
      // request's refused PutItem and its GetItem.
      const racing = {
        send: async (command: any) => {
          try {
            return await db.client.send(command);
          } catch (e: any) {
            if (
              e.name === "ConditionalCheckFailedException" &&
              command.input.Item?.pk?.S === "idem#race"
            ) {
              await db.client.send(
                new DeleteItemCommand({ TableName: "jobs", Key: { pk: { S: "idem#race" } } }),
              );
            }
            throw e;
          }
        },
      };
      await submit()(
        post({ type: "checksum", input: { text: "r" } }, { "Idempotency-Key": "race" }),
      );
      const h = withEnv(ENV, () => makeSubmit({ dynamodb: racing, lambda, now, newId: ids }));
      const res = await h(
        post({ type: "checksum", input: { text: "r" } }, { "Idempotency-Key": "race" }),
      );
      expect(res.statusCode).to.equal(409);
      expect(res.headers["Retry-After"]).to.equal("1");
      expect(invocations().length).to.equal(1);
    });

    it("fails at cold start naming a missing environment variable", () => {
      expect(() =>
        withEnv({ ...ENV, PROCESSOR_FUNCTION: undefined }, () =>
          makeSubmit({ dynamodb: db.client, lambda }),
        ),
      ).to.throw("PROCESSOR_FUNCTION is not set");
      expect(() =>
        withEnv({ ...ENV, JOBS_TTL_SECONDS: "forever" }, () =>
          makeSubmit({ dynamodb: db.client, lambda }),
        ),
      ).to.throw('JOBS_TTL_SECONDS must be a whole number from 3600 to 31622400, got "forever"');
    });
  });

  describe("processing, failure and GET", () => {
    async function submitted(text: string): Promise<{ jobId: string; payload: any }> {
      const res = await submit()(post({ type: "checksum", input: { text } }));
      const payload = invocations().at(-1)!.Payload;
      return { jobId: JSON.parse(res.body).jobId, payload };
    }

    it("runs the job, writes SUCCEEDED with the result, and GET returns it", async () => {
      const { jobId, payload } = await submitted("abc");
      clock = new Date("2026-11-21T10:00:02.000Z");
      const out = await processor()(payload);
      expect(out).to.deep.equal({ jobId, status: "SUCCEEDED" });
      const res = await get()(getEvent(jobId));
      expect(res.statusCode).to.equal(200);
      expect(JSON.parse(res.body)).to.deep.equal({
        jobId,
        type: "checksum",
        status: "SUCCEEDED",
        createdAt: "2026-11-21T10:00:00.000Z",
        updatedAt: "2026-11-21T10:00:02.000Z",
        startedAt: "2026-11-21T10:00:02.000Z",
        finishedAt: "2026-11-21T10:00:02.000Z",
        attempts: 1,
        result: {
          algorithm: "sha256",
          digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          bytes: 3,
        },
      });
      // A duplicate delivery of the same event does not run it again.
      clock = new Date("2026-11-21T10:05:00.000Z");
      expect(await processor()(payload)).to.deep.equal({
        jobId,
        status: "SUCCEEDED",
        skipped: "finished",
      });
      expect(JSON.parse((await get()(getEvent(jobId))).body).updatedAt).to.equal(
        "2026-11-21T10:00:02.000Z",
      );
    });

    it("shows a PENDING job without result or error", async () => {
      const { jobId } = await submitted("pending");
      expect(JSON.parse((await get()(getEvent(jobId.toUpperCase()))).body)).to.deep.equal({
        jobId,
        type: "checksum",
        status: "PENDING",
        createdAt: "2026-11-21T10:00:00.000Z",
        updatedAt: "2026-11-21T10:00:00.000Z",
        attempts: 0,
      });
    });

    it("fails each attempt of a broken job; the error handler then writes FAILED with parameters and error", async () => {
      const { jobId, payload } = await submitted("doomed");
      const run = processor(failing);
      for (let attempt = 1; attempt <= 3; attempt++) {
        clock = new Date(T0.getTime() + attempt * 60_000);
        try {
          await run(payload);
          expect.fail("the attempt should fail");
        } catch (e: any) {
          expect(e.name).to.equal("TypeError");
          expect(e.message).to.equal("digest engine exploded");
        }
      }
      const running = JSON.parse((await get()(getEvent(jobId))).body);
      expect(running).to.include({
        status: "RUNNING",
        attempts: 3,
        startedAt: "2026-11-21T10:01:00.000Z",
      });

      clock = new Date("2026-11-21T10:03:05.000Z");
      const record = failureRecord(payload, new TypeError("digest engine exploded"));
      expect(await errorHandler()(record)).to.deep.equal({ jobId, recorded: true });
      const res = await get()(getEvent(jobId));
      expect(JSON.parse(res.body)).to.deep.equal({
        jobId,
        type: "checksum",
        status: "FAILED",
        createdAt: "2026-11-21T10:00:00.000Z",
        updatedAt: "2026-11-21T10:03:05.000Z",
        startedAt: "2026-11-21T10:01:00.000Z",
        finishedAt: "2026-11-21T10:03:05.000Z",
        attempts: 3,
        error: {
          type: "TypeError",
          message: "digest engine exploded",
          condition: "RetriesExhausted",
          attempts: 3,
        },
      });
      const item = (await db.items()).find((i) => i.pk.S === jobId)!;
      expect(JSON.parse(item.input.S)).to.deep.equal({ text: "doomed" });
      // A late duplicate delivery of the failed job does not run it.
      expect(await processor()(payload)).to.deep.equal({
        jobId,
        status: "FAILED",
        skipped: "finished",
      });
    });

    it("records an aged-out job (no response payload) and recreates a job whose item is gone", async () => {
      const jobId = "0f0e0d0c-0b0a-4000-8000-000000000aaa";
      const record = failureRecord(
        { jobId, type: "checksum", input: { text: "lost" } },
        new Error("x"),
        0,
      );
      record.requestContext!.condition = "EventAgeExceeded";
      record.responsePayload = undefined;
      delete record.responseContext;
      expect(await errorHandler()(record)).to.deep.equal({ jobId, recorded: true });
      const view = JSON.parse((await get()(getEvent(jobId))).body);
      expect(view).to.deep.equal({
        jobId,
        type: "checksum",
        status: "FAILED",
        createdAt: "2026-11-21T10:00:00.000Z",
        updatedAt: "2026-11-21T10:00:00.000Z",
        finishedAt: "2026-11-21T10:00:00.000Z",
        attempts: 0,
        error: {
          type: "EventAgeExceeded",
          message: "processing did not complete (EventAgeExceeded)",
          condition: "EventAgeExceeded",
          attempts: 0,
        },
      });
      const item = (await db.items()).find((i) => i.pk.S === jobId)!;
      expect(item.expiresAt.N).to.equal(String(T0.getTime() / 1000 + TTL));
      expect(JSON.parse(item.input.S)).to.deep.equal({ text: "lost" });
    });

    it("leaves a SUCCEEDED job alone when a late failure record arrives", async () => {
      const { jobId, payload } = await submitted("fine");
      await processor()(payload);
      const before = (await db.items()).find((i) => i.pk.S === jobId);
      expect(await errorHandler()(failureRecord(payload, new Error("late")))).to.deep.equal({
        jobId,
        recorded: false,
      });
      expect((await db.items()).find((i) => i.pk.S === jobId)).to.deep.equal(before);
    });

    it("throws on a record it cannot interpret, and when DynamoDB fails, so Lambda sends it to the bus", async () => {
      try {
        await errorHandler()({
          requestContext: { condition: "RetriesExhausted" },
          requestPayload: { hello: 1 },
        } as any);
        expect.fail("should throw");
      } catch (e: any) {
        expect(e.message).to.equal(
          "not a jobs invocation record: requestPayload.jobId and requestPayload.type are required",
        );
      }
      const broken = withEnv({ ...ENV, JOBS_TABLE: "no-such-table" }, () =>
        makeErrorHandler({ dynamodb: db.client, now }),
      );
      try {
        await broken(
          failureRecord(
            { jobId: "0f0e0d0c-0b0a-4000-8000-000000000bbb", type: "checksum", input: {} },
            new Error("x"),
          ),
        );
        expect.fail("should throw");
      } catch (e: any) {
        expect(e.name).to.equal("ResourceNotFoundException");
      }
    });

    it("skips a job that does not exist, and throws on an event that is not a job", async () => {
      expect(
        await processor()({
          jobId: "0f0e0d0c-0b0a-4000-8000-000000000ccc",
          type: "checksum",
          input: { text: "x" },
        }),
      ).to.deep.equal({
        jobId: "0f0e0d0c-0b0a-4000-8000-000000000ccc",
        status: "MISSING",
        skipped: "missing",
      });
      try {
        await processor()({ hello: "world" } as any);
        expect.fail("should throw");
      } catch (e: any) {
        expect(e.message).to.match(/^not a job invocation: expected \{ jobId, type, input \}/);
      }
    });

    it("answers 404 for an unknown id and 400 for malformed ids (including idempotency items)", async () => {
      const unknown = await get()(getEvent("0f0e0d0c-0b0a-4000-8000-00000000dead"));
      expect(unknown.statusCode).to.equal(404);
      expect(JSON.parse(unknown.body)).to.deep.equal({
        message: "job 0f0e0d0c-0b0a-4000-8000-00000000dead not found",
      });
      for (const id of ["42", "idem#order-77", "0f0e0d0c-0b0a-4000-8000-00000000deadbeef", ""]) {
        const res = await get()(getEvent(id));
        expect(res.statusCode, id).to.equal(400);
        expect(JSON.parse(res.body).message).to.match(/^jobId must be a job id/);
      }
    });
  });

  it("logs the job id and type, never the job input", async () => {
    const { lines, logger } = captureLogger();
    const h = withEnv(ENV, () =>
      makeSubmit({ dynamodb: db.client, lambda, now, newId: ids, logger }),
    );
    const res = await h(post({ type: "checksum", input: { text: "private-text-77" } }));
    const jobId = JSON.parse(res.body).jobId;
    expect(lines.map((l) => JSON.parse(l))).to.deep.equal([
      {
        level: "INFO",
        message: "job accepted",
        jobId,
        type: "checksum",
        replayed: false,
        created: true,
      },
    ]);
  });
});
