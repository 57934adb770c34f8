// The receiver handler (makeHandler) against a real DynamoDB API (dynalite) for its deliveries
// table, whose stream feeds the relay (makeRelay) as the component's mapping does
// (./localServices.ts RelayStreams), with EventBridge, Secrets Manager, S3 and SQS (the hub's DLQ)
// behind aws-sdk-client-mock on client instances. Each handler call returns once the relay has
// handled what the call stored, so `published` holds what reached the bus.
import { expect } from "chai";
import * as crypto from "crypto";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  makeHandler,
  readReceiverConfig,
  ReceiverConfig,
  ReceiverLogger,
} from "../../../handlers/webhooks/receiver";
import { signGithub } from "../../../handlers/webhooks/providers/github";
import { hmacRequestHeaders, signHmacBody } from "../../../handlers/webhooks/providers/hmac";
import { correlationIdFrom } from "../../../handlers/lib/correlation";
import { signStandard } from "../../../handlers/webhooks/providers/standard";
import { signStripe } from "../../../handlers/webhooks/providers/stripe";
import { signTwilio } from "../../../handlers/webhooks/providers/twilio";
import { Provider, PROVIDER_MODULES } from "../../../handlers/webhooks/providers";
import { LocalDynamo, mockInstance, startLocalDynamo } from "../../support/aws";
import { makeRelay } from "../../../handlers/webhooks/relay";
import { deliveryItemId, MAX_STORED_ENTRY_BYTES } from "../../../handlers/webhooks/outbox";
import { createIdempotencyTable, RelayStreams, scanTable } from "./localServices";
import { expectRefusedEvents } from "../../support/publishedEvents";

const TABLE = "webhook-idempotency";
const DOMAIN = "abcdefghij.lambda-url.eu-west-1.on.aws";
const BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-test";
const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/switchyard-test-dlq";
const NOW_S = 1_800_000_000;
const credentials = { accessKeyId: "x", secretAccessKey: "x" };
const region = "eu-west-1";

// Every listed provider has a secret (its module's example); these schemes' tests use their own.
const SECRETS: Record<Provider, string> = {
  ...(Object.fromEntries(PROVIDER_MODULES.map((m) => [m.name, m.secret.example])) as Record<
    Provider,
    string
  >),
  github: "It's a Secret to Everybody",
  stripe: "whsec_stripe_test",
  twilio: "12345",
  standard: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  hmac: "generic-hmac-secret",
};
const arnOf = (p: Provider) =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:test-${p}-AbCdEf`;

const eventBridge = new EventBridgeClient({ region, credentials });
const secretsManager = new SecretsManagerClient({ region, credentials });
const s3 = new S3Client({ region, credentials });
const sqs = new SQSClient({ region, credentials });
const eb = mockInstance(eventBridge);
const sm = mockInstance(secretsManager);
const s3Mock = mockInstance(s3);
const sqsMock = mockInstance(sqs);

/** SecretString by ARN; the fake answers like Secrets Manager, including its not-found error. */
const secretValues = new Map<string, string>();
/** Entries EventBridge accepted. */
let published: PutEventsRequestEntry[] = [];
/** Per-entry error code to answer for the next PutEvents calls (undefined = accept). */
let failEntriesWith: string | undefined;
/** How many calls fail with `failEntriesWith` (undefined = every call). */
let failCallsLeft: number | undefined;
let putEventsDelayMs = 0;

function installFakes() {
  eb.reset();
  sm.reset();
  s3Mock.reset();
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "00000000-0000-4000-8000-000000000001" });
  eb.on(PutEventsCommand).callsFake(async (input) => {
    if (putEventsDelayMs) await new Promise((r) => setTimeout(r, putEventsDelayMs));
    if (failEntriesWith && (failCallsLeft === undefined || failCallsLeft-- > 0)) {
      return {
        FailedEntryCount: input.Entries.length,
        Entries: input.Entries.map(() => ({
          ErrorCode: failEntriesWith,
          ErrorMessage: `${failEntriesWith} (injected)`,
        })),
      };
    }
    published.push(...input.Entries);
    return {
      FailedEntryCount: 0,
      Entries: input.Entries.map((_: unknown, i: number) => ({
        EventId: `ev-${published.length}-${i}`,
      })),
    };
  });
  sm.on(GetSecretValueCommand).callsFake(async (input) => {
    const v = secretValues.get(input.SecretId);
    if (v === undefined) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    }
    return { ARN: input.SecretId, SecretString: v };
  });
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag"' });
}

function context(id = crypto.randomUUID()): Context {
  return {
    awsRequestId: id,
    functionName: "receiver",
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
}

interface EventOptions {
  method?: string;
  path?: string;
  query?: string;
  base64?: boolean;
}

function urlEvent(
  provider: Provider,
  body: string | Buffer,
  headers: Record<string, string>,
  o: EventOptions = {},
): LambdaFunctionURLEvent {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: o.path ?? `/${provider}`,
    rawQueryString: o.query ?? "",
    headers: { host: DOMAIN, ...headers },
    requestContext: {
      accountId: "anonymous",
      apiId: "abcdefghij",
      domainName: DOMAIN,
      domainPrefix: "abcdefghij",
      http: {
        method: o.method ?? "POST",
        path: o.path ?? `/${provider}`,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: "test",
      },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: "21/Nov/2026:10:00:00 +0000",
      timeEpoch: NOW_S * 1000,
    },
    body: o.base64 ? raw.toString("base64") : raw.toString("utf8"),
    isBase64Encoded: !!o.base64,
  } as LambdaFunctionURLEvent;
}

describe("handlers/webhooks/receiver against dynalite", function () {
  let ddb: LocalDynamo;
  let streams: RelayStreams;
  let tableN = 0;
  let nowMs = NOW_S * 1000;
  const logs: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const logger: ReceiverLogger = {
    info: (message, extra) => logs.push({ level: "info", message, extra }),
    warn: (message, extra) => logs.push({ level: "warn", message, extra }),
    error: (message, extra) => logs.push({ level: "error", message, extra }),
  };

  function configFor(
    provider: Provider,
    table: string,
    extra: Partial<ReceiverConfig> = {},
  ): ReceiverConfig {
    return {
      provider,
      secretArn: arnOf(provider),
      idempotencyTable: table,
      idempotencyTtlSeconds: 3600,
      maxEntryBytes: 262144,
      toleranceSeconds: 300,
      payloadPrefix: `${provider}/`,
      ...extra,
    };
  }

  /**
   * A fresh deliveries table whose stream feeds a relay to BUS_ARN (with the mapping's retries
   * overridden by `maximumRetryAttempts`).
   */
  async function deliveriesTable(
    maxEntryBytes = 262144,
    o: { maximumRetryAttempts?: number } = {},
  ): Promise<string> {
    const table = `${TABLE}-${++tableN}`;
    await createIdempotencyTable(ddb.client, table);
    streams.feed(
      table,
      makeRelay({
        config: { eventBusArn: BUS_ARN, maxEntryBytes, deadLetterQueueUrl: DLQ_URL },
        eventBridge,
        sqs,
        publisher: { baseDelayMs: 1 },
      }),
      o,
    );
    return table;
  }

  /** Answers once the relay has handled what the call stored (the stream settled). */
  function settling<A extends unknown[], R>(h: (...a: A) => Promise<R>) {
    return async (...a: A): Promise<R> => {
      const r = await h(...a);
      await streams.settled();
      return r;
    };
  }

  /** A handler with a fresh deliveries table of its own. */
  async function receiver(
    provider: Provider,
    extra: Partial<ReceiverConfig> = {},
    o: { maximumRetryAttempts?: number } = {},
  ) {
    // The relay publishes to a bus of the receiver's limit, as the component configures both.
    const table = await deliveriesTable(extra.maxEntryBytes, o);
    const handler = makeHandler({
      config: configFor(provider, table, extra),
      secretsManager,
      dynamodb: streams.client,
      s3,
      logger,
      now: () => nowMs,
    });
    return { handler: settling(handler), table };
  }

  before(async () => {
    ddb = await startLocalDynamo();
    streams = new RelayStreams(ddb.client);
  });
  after(async () => {
    eb.restore();
    sm.restore();
    s3Mock.restore();
    sqsMock.restore();
    await ddb.close();
  });
  beforeEach(() => {
    installFakes();
    published = [];
    failEntriesWith = undefined;
    failCallsLeft = undefined;
    putEventsDelayMs = 0;
    nowMs = NOW_S * 1000;
    logs.length = 0;
    secretValues.clear();
    for (const p of Object.keys(SECRETS) as Provider[]) secretValues.set(arnOf(p), SECRETS[p]);
  });

  const githubBody = JSON.stringify({
    action: "opened",
    number: 7,
    repository: { full_name: "acme/app" },
  });
  const githubHeaders = (deliveryId: string, body = githubBody, secret = SECRETS.github) => ({
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/abc",
    "x-github-event": "pull_request",
    "x-github-delivery": deliveryId,
    "x-github-hook-id": "42",
    "x-hub-signature-256": signGithub(secret, body),
  });

  describe("routing", () => {
    it("answers 404 for another path and 405 (Allow: POST) for another method, without reading the secret", async () => {
      const { handler } = await receiver("github");
      const r404 = await handler(
        urlEvent("github", githubBody, githubHeaders("d-1"), { path: "/stripe" }),
        context(),
      );
      expect(r404).to.deep.include({ statusCode: 404, body: '{"error":"not found"}' });
      const r405 = await handler(urlEvent("github", "", {}, { method: "GET" }), context());
      expect(r405.statusCode).to.equal(405);
      expect(r405.headers.allow).to.equal("POST");
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(0);
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(0);
    });
  });

  describe("correlation id on log lines", () => {
    it("each request's lines carry its own id: the caller's, then the delivery id it is published with, else the request id", async () => {
      const lines: Array<{ message: string; correlation_id?: string }> = [];
      let keys: Record<string, string> = {};
      const at = (message: string) => lines.push({ message, ...keys });
      const correlated: ReceiverLogger = {
        info: at,
        warn: at,
        error: at,
        // Powertools Logger's contract: appended keys last until resetKeys.
        resetKeys: () => (keys = {}),
        setCorrelationId: (v: unknown) => (keys = { ...keys, correlation_id: String(v) }),
      };
      const table = await deliveriesTable();
      const handler = settling(
        makeHandler({
          config: configFor("github", table),
          secretsManager,
          dynamodb: streams.client,
          logger: correlated,
          now: () => nowMs,
        }),
      );
      const forged = {
        ...githubHeaders("d-forged"),
        "x-hub-signature-256": signGithub("wrong", githubBody),
        "x-correlation-id": "corr-forged-1",
      };
      expect(
        (await handler(urlEvent("github", githubBody, forged), context())).statusCode,
      ).to.equal(403);
      expect(
        (await handler(urlEvent("github", githubBody, githubHeaders("d-accepted")), context()))
          .statusCode,
      ).to.equal(200);
      const unsigned = urlEvent("github", githubBody, {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "d-3",
      });
      expect((await handler(unsigned, context())).statusCode).to.equal(401);
      expect(lines.map((l) => [l.message, l.correlation_id])).to.deep.equal([
        ["webhook rejected", "corr-forged-1"],
        ["webhook accepted", "d-accepted"],
        ["webhook rejected", unsigned.requestContext.requestId],
      ]);
      expect(JSON.parse(published[0].Detail!).correlationId).to.equal("d-accepted");
    });
  });

  describe("GitHub", () => {
    it("publishes one event with the delivery id as correlation id (an unsigned x-correlation-id is ignored), selected headers and payload", async () => {
      const { handler, table } = await receiver("github");
      const res = await handler(
        urlEvent("github", githubBody, {
          ...githubHeaders("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
          "x-correlation-id": "corr-123",
        }),
        context(),
      );
      expect(res).to.deep.equal({
        statusCode: 200,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
        body: JSON.stringify({
          status: "accepted",
          deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        }),
      });
      expect(published).to.have.length(1);
      const e = published[0];
      expect(e.EventBusName).to.equal(BUS_ARN);
      expect(e.Source).to.equal("switchyard.webhooks.github");
      expect(e.DetailType).to.equal("pull_request");
      expect(JSON.parse(e.Detail!)).to.deep.equal({
        provider: "github",
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        correlationId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        eventType: "pull_request",
        receivedAt: "2027-01-15T08:00:00.000Z",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/abc",
          "x-github-event": "pull_request",
          "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          "x-github-hook-id": "42",
        },
        payload: JSON.parse(githubBody),
      });
      // The stored delivery: its idempotency record and the event the relay published.
      const items = await scanTable(ddb.client, table);
      const bodyHash = crypto.createHash("sha256").update(githubBody).digest("hex");
      expect(items).to.deep.equal([
        {
          id: { S: deliveryItemId("github", `github:sha256:${bodyHash}`) },
          expiration: { N: String(NOW_S + 3600) },
          eventSource: { S: e.Source },
          detailType: { S: e.DetailType },
          detail: { S: e.Detail },
          deliveryId: { S: "72d3162e-cc78-11e3-81ab-4c9367dc0958" },
          correlationId: { S: "72d3162e-cc78-11e3-81ab-4c9367dc0958" },
        },
      ]);
      // The id Powertools idempotency gave the same delivery: remembered across the upgrade.
      expect(items[0].id.S).to.equal(
        `switchyard.webhooks.github#${crypto
          .createHash("md5")
          .update(JSON.stringify(`github:sha256:${bodyHash}`))
          .digest("base64")}`,
      );
    });

    it("answers a duplicate with 200 without publishing again", async () => {
      const { handler } = await receiver("github");
      const first = await handler(
        urlEvent("github", githubBody, githubHeaders("dup-1")),
        context(),
      );
      const second = await handler(
        urlEvent("github", githubBody, githubHeaders("dup-1")),
        context(),
      );
      expect(JSON.parse(first.body).status).to.equal("accepted");
      expect(second.statusCode).to.equal(200);
      expect(JSON.parse(second.body)).to.deep.equal({ status: "duplicate", deliveryId: "dup-1" });
      expect(published).to.have.length(1);
      // The correlation id falls back to the delivery id.
      expect(JSON.parse(published[0].Detail!).correlationId).to.equal("dup-1");
    });

    it("deduplicates on the signed body: a captured delivery resent under new X-GitHub-Delivery ids publishes nothing", async () => {
      const { handler } = await receiver("github");
      const first = await handler(
        urlEvent("github", githubBody, githubHeaders("orig-1")),
        context(),
      );
      expect(JSON.parse(first.body).status).to.equal("accepted");
      // 50 replays of the captured request, each with a fresh delivery id and a relabelled event.
      const replays = [];
      for (let i = 0; i < 50; i++) {
        const h = {
          ...githubHeaders(crypto.randomUUID()),
          "x-github-event": i % 2 ? "push" : "RecordVerificationRequested",
        };
        replays.push(await handler(urlEvent("github", githubBody, h), context()));
      }
      expect(replays.map((r) => [r.statusCode, JSON.parse(r.body).status])).to.deep.equal(
        Array(50).fill([200, "duplicate"]),
      );
      expect(published).to.have.length(1);
      expect(published[0].DetailType).to.equal("pull_request");
      // A different body is a different delivery, whatever its id.
      const other = JSON.stringify({ action: "closed", number: 7 });
      const res = await handler(
        urlEvent("github", other, githubHeaders("orig-1", other)),
        context(),
      );
      expect(JSON.parse(res.body).status).to.equal("accepted");
      expect(published).to.have.length(2);
    });

    it("accepts exactly one of 20 concurrent identical deliveries and publishes it once; the rest are duplicates", async () => {
      const { handler } = await receiver("github");
      putEventsDelayMs = 100;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          handler(urlEvent("github", githubBody, githubHeaders("conc-1")), context()),
        ),
      );
      expect(published).to.have.length(1);
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(1);
      // One conditional write wins; the others find the id held: no one is told to come back.
      expect(results.map((r) => r.statusCode)).to.deep.equal(Array(20).fill(200));
      const statuses = results.map((r) => JSON.parse(r.body).status).sort();
      expect(statuses).to.deep.equal(["accepted", ...Array(19).fill("duplicate")]);
      const again = await handler(
        urlEvent("github", githubBody, githubHeaders("conc-1")),
        context(),
      );
      expect(JSON.parse(again.body).status).to.equal("duplicate");
      expect(published).to.have.length(1);
    });

    it("accepts a delivery while the bus fails; the relay publishes it once the bus recovers, without a redelivery", async () => {
      const { handler, table } = await receiver("github");
      const invocations = streams.invocations.length;
      failEntriesWith = "InternalFailure";
      // The relay's first invocation fails all 4 of its calls; the retried batch's third call passes.
      failCallsLeft = 6;
      const res = await handler(
        urlEvent("github", githubBody, githubHeaders("retry-1")),
        context(),
      );
      expect(JSON.parse(res.body)).to.deep.equal({ status: "accepted", deliveryId: "retry-1" });
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(7);
      expect(streams.invocations.length - invocations).to.equal(2);
      expect(published).to.have.length(1);
      expect(JSON.parse(published[0].Detail!).deliveryId).to.equal("retry-1");
      expect(await scanTable(ddb.client, table)).to.have.length(1);
      const again = await handler(
        urlEvent("github", githubBody, githubHeaders("retry-1")),
        context(),
      );
      expect(JSON.parse(again.body).status).to.equal("duplicate");
      expect(published).to.have.length(1);
    });

    it("accepts a delivery the bus refuses for good (AccessDenied): the relay sends it whole to the hub's DLQ at once, and the item keeps the event", async () => {
      const { handler, table } = await receiver("github");
      const invocations = streams.invocations.length;
      const pointers = streams.onFailure.length;
      failEntriesWith = "AccessDeniedException";
      const res = await handler(
        urlEvent("github", githubBody, githubHeaders("denied-1")),
        context(),
      );
      expect(JSON.parse(res.body)).to.deep.equal({ status: "accepted", deliveryId: "denied-1" });
      expect(published).to.have.length(0);
      // Not retried, by the publisher or the mapping: one invocation, one call.
      expect(streams.invocations.length - invocations).to.equal(1);
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(1);
      expect(streams.onFailure.slice(pointers)).to.deep.equal([]);
      // The dead letter as EventBridge writes one: the event as its body, the bus as TARGET_ARN.
      const bodyHash = crypto.createHash("sha256").update(githubBody).digest("hex");
      const letters = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
      expect(letters.map((l) => ({ ...l, MessageBody: JSON.parse(l.MessageBody!) }))).to.deep.equal(
        [
          {
            QueueUrl: DLQ_URL,
            MessageBody: {
              version: "0",
              id: deliveryItemId("github", `github:sha256:${bodyHash}`),
              "detail-type": "pull_request",
              source: "switchyard.webhooks.github",
              time: "2027-01-15T08:00:00.000Z",
              resources: [],
              detail: {
                provider: "github",
                deliveryId: "denied-1",
                correlationId: "denied-1",
                eventType: "pull_request",
                receivedAt: "2027-01-15T08:00:00.000Z",
                headers: {
                  "content-type": "application/json",
                  "user-agent": "GitHub-Hookshot/abc",
                  "x-github-event": "pull_request",
                  "x-github-delivery": "denied-1",
                  "x-github-hook-id": "42",
                },
                payload: JSON.parse(githubBody),
              },
            },
            MessageAttributes: {
              TARGET_ARN: { DataType: "String", StringValue: BUS_ARN },
              ERROR_CODE: { DataType: "String", StringValue: "AccessDeniedException" },
              ERROR_MESSAGE: {
                DataType: "String",
                StringValue: "AccessDeniedException (injected)",
              },
              RETRY_ATTEMPTS: { DataType: "Number", StringValue: "0" },
            },
          },
        ],
      );
      const items = await scanTable(ddb.client, table);
      expect(items.map((i) => JSON.parse(i.detail.S).deliveryId)).to.deep.equal(["denied-1"]);
      // The provider's redelivery is a duplicate: the DLQ holds the one copy.
      const again = await handler(
        urlEvent("github", githubBody, githubHeaders("denied-1")),
        context(),
      );
      expect(JSON.parse(again.body).status).to.equal("duplicate");
      expect(sqsMock.commandCalls(SendMessageCommand)).to.have.length(1);
    });

    it("accepts a delivery while the bus fails past the mapping's retries: the on-failure destination gets a pointer, and the item keeps the event", async () => {
      // The component's 10,000 retries (RELAY_STREAM_SETTINGS) would be 40,004 calls here; two
      // end the same way.
      const maximumRetryAttempts = 2;
      const { handler, table } = await receiver("github", {}, { maximumRetryAttempts });
      const invocations = streams.invocations.length;
      const pointers = streams.onFailure.length;
      failEntriesWith = "InternalFailure";
      const res = await handler(urlEvent("github", githubBody, githubHeaders("down-1")), context());
      expect(JSON.parse(res.body)).to.deep.equal({ status: "accepted", deliveryId: "down-1" });
      expect(published).to.have.length(0);
      // The first invocation and maximumRetryAttempts more, each with the publisher's 4 calls.
      expect(streams.invocations.length - invocations).to.equal(maximumRetryAttempts + 1);
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(4 * (maximumRetryAttempts + 1));
      const failures = streams.onFailure.slice(pointers);
      expect(failures).to.have.length(1);
      expect(failures[0].requestContext.condition).to.equal("RetryAttemptsExhausted");
      expect(failures[0].DDBStreamBatchInfo.batchSize).to.equal(1);
      // A transient failure is not the relay's to dead-letter.
      expect(sqsMock.commandCalls(SendMessageCommand)).to.have.length(0);
      const items = await scanTable(ddb.client, table);
      expect(items.map((i) => JSON.parse(i.detail.S).deliveryId)).to.deep.equal(["down-1"]);
    });

    it("answers 503 (Retry-After) when DynamoDB throttles the write, and 500 when it refuses it for good, storing nothing", async () => {
      const table = await deliveriesTable();
      let fault: Error | undefined;
      const failing = {
        send: async (command: any) => {
          if (fault) throw fault;
          return streams.client.send(command);
        },
      };
      const handler = settling(
        makeHandler({
          config: configFor("github", table),
          secretsManager,
          dynamodb: failing,
          logger,
          now: () => nowMs,
        }),
      );
      const awsError = (name: string, status: number) =>
        Object.assign(new Error(`${name} (injected)`), {
          name,
          $metadata: { httpStatusCode: status },
        });
      fault = awsError("ProvisionedThroughputExceededException", 400);
      const throttled = await handler(
        urlEvent("github", githubBody, githubHeaders("ddb-1")),
        context(),
      );
      expect(throttled.statusCode).to.equal(503);
      expect(throttled.headers["retry-after"]).to.equal("5");
      fault = awsError("AccessDeniedException", 400);
      const denied = await handler(
        urlEvent("github", githubBody, githubHeaders("ddb-1")),
        context(),
      );
      expect(denied).to.deep.include({ statusCode: 500, body: '{"error":"internal error"}' });
      fault = Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
      const reset = await handler(
        urlEvent("github", githubBody, githubHeaders("ddb-1")),
        context(),
      );
      expect(reset.statusCode).to.equal(503);
      expect(await scanTable(ddb.client, table)).to.deep.equal([]);
      expect(published).to.have.length(0);
      // Once DynamoDB takes it, the sender's redelivery is accepted and published.
      fault = undefined;
      const retried = await handler(
        urlEvent("github", githubBody, githubHeaders("ddb-1")),
        context(),
      );
      expect(JSON.parse(retried.body).status).to.equal("accepted");
      expect(published).to.have.length(1);
    });

    it("answers 400 naming the contract for a signed delivery it refuses (a JSON array), publishing nothing, every time", async () => {
      expectRefusedEvents();
      const { handler } = await receiver("github");
      const body = "[1,2]";
      for (let i = 0; i < 2; i++) {
        const res = await handler(
          urlEvent("github", body, githubHeaders("array-1", body)),
          context(),
        );
        expect(res.statusCode).to.equal(400);
        expect(JSON.parse(res.body as string).error).to.match(
          /^the delivery does not fit its event contract: .*switchyard\.webhooks\.github@WebhookDelivery/,
        );
      }
      expect(eb.commandCalls(PutEventsCommand)).to.have.length(0);
      expect(published).to.have.length(0);
    });

    it("answers 401 without a signature, 403 for a tampered body or a wrong secret, and never echoes the signature", async () => {
      const { handler } = await receiver("github");
      const { ["x-hub-signature-256"]: sig, ...unsigned } = githubHeaders("s-1");
      const r401 = await handler(urlEvent("github", githubBody, unsigned), context());
      expect(r401).to.deep.include({ statusCode: 401, body: '{"error":"missing signature"}' });
      const r403 = await handler(
        urlEvent("github", githubBody.replace("7", "8"), githubHeaders("s-1")),
        context(),
      );
      expect(r403).to.deep.include({ statusCode: 403, body: '{"error":"invalid signature"}' });
      const wrong = await handler(
        urlEvent("github", githubBody, githubHeaders("s-1", githubBody, "wrong")),
        context(),
      );
      expect(wrong.statusCode).to.equal(403);
      for (const r of [r401, r403, wrong]) expect(r.body).to.not.contain(sig.slice(7, 20));
      expect(published).to.have.length(0);
    });

    it("answers 400 for a body that is not JSON and for a missing X-GitHub-Delivery", async () => {
      const { handler } = await receiver("github");
      const bad = "not json";
      const r1 = await handler(urlEvent("github", bad, githubHeaders("m-1", bad)), context());
      expect(r1).to.deep.include({
        statusCode: 400,
        body: '{"error":"GitHub delivery: the body is not valid JSON"}',
      });
      const { ["x-github-delivery"]: _d, ...noId } = githubHeaders("m-2");
      const r2 = await handler(urlEvent("github", githubBody, noId), context());
      expect(r2).to.deep.include({
        statusCode: 400,
        body: '{"error":"X-GitHub-Delivery header is missing"}',
      });
      expect(published).to.have.length(0);
    });

    it("verifies a base64-encoded form body (application/x-www-form-urlencoded with payload=)", async () => {
      const { handler } = await receiver("github");
      const form = `payload=${encodeURIComponent(githubBody)}`;
      const headers = {
        ...githubHeaders("form-1", form),
        "content-type": "application/x-www-form-urlencoded",
      };
      const res = await handler(urlEvent("github", form, headers, { base64: true }), context());
      expect(res.statusCode).to.equal(200);
      expect(JSON.parse(published[0].Detail!).payload).to.deep.equal(JSON.parse(githubBody));
    });
  });

  describe("secrets and rotation", () => {
    it("accepts the previous secret from the JSON secret during a rotation", async () => {
      secretValues.set(
        arnOf("github"),
        JSON.stringify({ current: "brand-new", previous: SECRETS.github }),
      );
      const { handler } = await receiver("github");
      expect(
        (await handler(urlEvent("github", githubBody, githubHeaders("rot-1")), context()))
          .statusCode,
      ).to.equal(200);
      expect(
        (
          await handler(
            urlEvent("github", githubBody, githubHeaders("rot-2", githubBody, "brand-new")),
            context(),
          )
        ).statusCode,
      ).to.equal(200);
      expect(logs.some((l) => l.message === "webhook signed with the previous secret")).to.equal(
        true,
      );
    });

    it("reads the secret once per TTL, and re-reads it early when a signature fails after a rotation", async () => {
      const { handler } = await receiver("github");
      await handler(urlEvent("github", githubBody, githubHeaders("ttl-1")), context());
      await handler(urlEvent("github", githubBody, githubHeaders("ttl-2")), context());
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(1);
      secretValues.set(
        arnOf("github"),
        JSON.stringify({ current: "rotated", previous: SECRETS.github }),
      );
      // Within 5 s of the read a mismatch does not re-read (forgeries cannot hammer Secrets Manager).
      nowMs += 1000;
      const early = await handler(
        urlEvent("github", githubBody, githubHeaders("ttl-3", githubBody, "rotated")),
        context(),
      );
      expect(early.statusCode).to.equal(403);
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(1);
      nowMs += 5000;
      const later = await handler(
        urlEvent("github", githubBody, githubHeaders("ttl-4", githubBody, "rotated")),
        context(),
      );
      expect(later.statusCode).to.equal(200);
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
      expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).to.deep.equal({
        SecretId: arnOf("github"),
      });
    });

    it("answers 503 when the secret cannot be read", async () => {
      secretValues.delete(arnOf("github"));
      const { handler } = await receiver("github");
      const res = await handler(
        urlEvent("github", githubBody, githubHeaders("nosecret")),
        context(),
      );
      expect(res.statusCode).to.equal(503);
      expect(published).to.have.length(0);
    });
  });

  describe("Stripe", () => {
    const body = JSON.stringify({
      id: "evt_1NG8Du2eZvKYlo2CUI79vXWy",
      object: "event",
      type: "invoice.paid",
      data: { object: { id: "in_1" } },
    });

    it("publishes with the event id as delivery id and the event type as detail type", async () => {
      const { handler } = await receiver("stripe");
      const res = await handler(
        urlEvent("stripe", body, {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signStripe(SECRETS.stripe, NOW_S, body),
        }),
        context(),
      );
      expect(JSON.parse(res.body)).to.deep.equal({
        status: "accepted",
        deliveryId: "evt_1NG8Du2eZvKYlo2CUI79vXWy",
      });
      expect(published[0]).to.deep.include({
        Source: "switchyard.webhooks.stripe",
        DetailType: "invoice.paid",
      });
      expect(JSON.parse(published[0].Detail!).headers).to.deep.equal({
        "content-type": "application/json; charset=utf-8",
      });
    });

    it("rejects a stale and a future timestamp with 403, and a signed body without id/type with 400", async () => {
      const { handler } = await receiver("stripe");
      const stale = await handler(
        urlEvent("stripe", body, {
          "stripe-signature": signStripe(SECRETS.stripe, NOW_S - 301, body),
        }),
        context(),
      );
      const future = await handler(
        urlEvent("stripe", body, {
          "stripe-signature": signStripe(SECRETS.stripe, NOW_S + 301, body),
        }),
        context(),
      );
      expect([stale.statusCode, future.statusCode]).to.deep.equal([403, 403]);
      const noType = JSON.stringify({ id: "evt_2" });
      const r400 = await handler(
        urlEvent("stripe", noType, {
          "stripe-signature": signStripe(SECRETS.stripe, NOW_S, noType),
        }),
        context(),
      );
      expect(r400.statusCode).to.equal(400);
      expect(published).to.have.length(0);
      expect(logs.filter((l) => l.extra.status === 403).map((l) => l.extra.reason)).to.deep.equal([
        "Stripe-Signature timestamp is older than 300 s",
        "Stripe-Signature timestamp is more than 300 s in the future",
      ]);
    });
  });

  describe("Standard Webhooks", () => {
    it("accepts the library vector (webhook-id is the delivery id, payload type the detail type)", async () => {
      nowMs = 1614265330 * 1000;
      const payload = '{"test": 2432232314}';
      const { handler } = await receiver("standard");
      const headers = {
        "content-type": "application/json",
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      };
      const res = await handler(urlEvent("standard", payload, headers), context());
      expect(JSON.parse(res.body)).to.deep.equal({
        status: "accepted",
        deliveryId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      });
      expect(published[0].DetailType).to.equal("webhook");
      const typed = JSON.stringify({
        type: "invoice.created",
        timestamp: "2021-02-21T17:02:10Z",
        data: {},
      });
      const h2 = {
        ...headers,
        "webhook-id": "msg_2",
        "webhook-signature": signStandard(SECRETS.standard, "msg_2", 1614265330, typed),
      };
      await handler(urlEvent("standard", typed, h2), context());
      expect(published[1].DetailType).to.equal("invoice.created");
      // Five minutes and one second later the same request is a replay.
      nowMs = (1614265330 + 301) * 1000;
      const replay = await handler(
        urlEvent("standard", payload, { ...headers, "webhook-id": "msg_3" }),
        context(),
      );
      expect(replay.statusCode).to.equal(403);
    });
  });

  describe("generic HMAC, headers scheme (the default)", () => {
    const signed = (
      body: string,
      h: { id: string; timestamp?: number; event?: string; correlationId?: string },
    ) => ({
      "content-type": "application/json",
      ...hmacRequestHeaders(SECRETS.hmac, { timestamp: NOW_S, ...h }, body),
    });

    it("publishes with the signed id, event type and correlation id; a redelivery is a duplicate", async () => {
      const { handler } = await receiver("hmac");
      const body = JSON.stringify({ type: "order.created", id: 7 });
      const h = signed(body, { id: "wh-9", event: "order.custom", correlationId: "corr-signed-1" });
      const a = await handler(urlEvent("hmac", body, h), context());
      expect(JSON.parse(a.body)).to.deep.equal({ status: "accepted", deliveryId: "wh-9" });
      const b = await handler(urlEvent("hmac", body, h), context());
      expect(JSON.parse(b.body).status).to.equal("duplicate");
      expect(published.map((e) => e.DetailType)).to.deep.equal(["order.custom"]);
      expect(JSON.parse(published[0].Detail!)).to.deep.include({
        deliveryId: "wh-9",
        correlationId: "corr-signed-1",
        eventType: "order.custom",
      });
      // Without X-Webhook-Event the body's type names the event.
      const c = await handler(urlEvent("hmac", body, signed(body, { id: "wh-10" })), context());
      expect(c.statusCode).to.equal(200);
      expect(published[1].DetailType).to.equal("order.created");
    });

    it("refuses a captured delivery resent with a new id, a fresh timestamp, another event type or correlation id", async () => {
      const { handler } = await receiver("hmac");
      const body = JSON.stringify({ recordId: "r-1", recordVersion: 1 });
      const captured = signed(body, { id: "wh-1", event: "record.noted" });
      expect((await handler(urlEvent("hmac", body, captured), context())).statusCode).to.equal(200);
      nowMs += 60_000;
      const attempts = [
        { ...captured, "x-webhook-id": "wh-1-replayed" },
        { ...captured, "x-webhook-timestamp": String(NOW_S + 60) },
        { ...captured, "x-webhook-id": "wh-2", "x-webhook-timestamp": String(NOW_S + 60) },
        { ...captured, "x-webhook-event": "RecordVerificationRequested" },
        { ...captured, "x-correlation-id": "attacker-chosen" },
      ];
      for (const h of attempts) {
        const res = await handler(urlEvent("hmac", body, h), context());
        expect(res).to.deep.include({ statusCode: 403, body: '{"error":"invalid signature"}' });
      }
      // Resent as captured: a duplicate, not a second event.
      expect(
        JSON.parse((await handler(urlEvent("hmac", body, captured), context())).body).status,
      ).to.equal("duplicate");
      expect(published.map((e) => e.DetailType)).to.deep.equal(["record.noted"]);
    });

    it("publishes a correlation id derived from a delivery id that a transformer could not carry", async () => {
      const { handler } = await receiver("hmac");
      const body = JSON.stringify({ type: "order.created", id: 8 });
      const deliveryId = 'wh-"quoted"\\id';
      expect(
        (await handler(urlEvent("hmac", body, signed(body, { id: deliveryId })), context()))
          .statusCode,
      ).to.equal(200);
      const expected = `delivery-${crypto.createHash("sha256").update(`hmac:${deliveryId}`).digest("hex").slice(0, 40)}`;
      const detail = JSON.parse(published[0].Detail!);
      expect(detail.deliveryId).to.equal(deliveryId);
      expect(detail.correlationId).to.equal(expected);
      expect(
        correlationIdFrom({ source: published[0].Source, "detail-type": "x", detail }),
      ).to.equal(expected);
    });
  });

  describe("generic HMAC, body scheme (opt-in)", () => {
    const bodyHeaders = (body: string, extra: Record<string, string> = {}) => ({
      "content-type": "application/json",
      "x-webhook-signature": signHmacBody(SECRETS.hmac, body),
      "x-webhook-timestamp": String(NOW_S),
      ...extra,
    });

    it("trusts no header: the body hash is the delivery id, the body's type the event, X-Correlation-Id ignored", async () => {
      const { handler } = await receiver("hmac", { hmacSignedContent: "body" });
      const body = JSON.stringify({ type: "order.created", id: 7 });
      const hash = crypto.createHash("sha256").update(body).digest("hex");
      const a = await handler(
        urlEvent(
          "hmac",
          body,
          bodyHeaders(body, {
            "x-webhook-id": "wh-1",
            "x-webhook-event": "RecordVerificationRequested",
            "x-correlation-id": "corr-x",
          }),
        ),
        context(),
      );
      expect(JSON.parse(a.body)).to.deep.equal({
        status: "accepted",
        deliveryId: `sha256:${hash}`,
      });
      const detail = JSON.parse(published[0].Detail!);
      expect(published[0].DetailType).to.equal("order.created");
      expect(detail).to.deep.include({
        deliveryId: `sha256:${hash}`,
        correlationId: `sha256:${hash}`,
      });
      expect(detail.headers).to.deep.equal({
        "content-type": "application/json",
        "x-webhook-timestamp": String(NOW_S),
      });
      // Resent under new ids and a fresh timestamp within the idempotency TTL: one delivery.
      nowMs += 60_000;
      for (const id of ["wh-2", "wh-3"]) {
        const r = await handler(
          urlEvent(
            "hmac",
            body,
            bodyHeaders(body, { "x-webhook-id": id, "x-webhook-timestamp": String(NOW_S + 60) }),
          ),
          context(),
        );
        expect(JSON.parse(r.body).status).to.equal("duplicate");
      }
      expect(published).to.have.length(1);
    });
  });

  describe("Twilio", () => {
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+14158675309",
      Digits: "1234",
      From: "+14158675309",
      To: "+18005551212",
    };
    const form = new URLSearchParams(params).toString();

    it("verifies the library vector through a configured public URL, with a base64 form body, and answers TwiML", async () => {
      const { handler } = await receiver("twilio", {
        publicUrl: "https://mycompany.com/myapp.php",
      });
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        "i-twilio-idempotency-token": "idem-token-1",
      };
      const res = await handler(
        urlEvent("twilio", form, headers, { base64: true, query: "foo=1&bar=2" }),
        context(),
      );
      expect(res).to.deep.equal({
        statusCode: 200,
        headers: { "content-type": "text/xml", "cache-control": "no-store" },
        body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
      });
      const detail = JSON.parse(published[0].Detail!);
      expect(detail.deliveryId).to.equal("idem-token-1");
      expect(detail.payload).to.deep.equal(params);
      expect(published[0].DetailType).to.equal("webhook");
    });

    it("rebuilds the signed URL from the Function URL request, and accepts JSON bodies with bodySHA256", async () => {
      const { handler } = await receiver("twilio");
      const url = `https://${DOMAIN}/twilio?x=1`;
      const status = { ...params, CallStatus: "completed" };
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signTwilio(SECRETS.twilio, url, status),
      };
      const ok = await handler(
        urlEvent("twilio", new URLSearchParams(status).toString(), headers, {
          base64: true,
          query: "x=1",
        }),
        context(),
      );
      expect(ok.statusCode).to.equal(200);
      expect(published[0].DetailType).to.equal("call.completed");
      const wrongQuery = await handler(
        urlEvent("twilio", new URLSearchParams(status).toString(), headers, {
          base64: true,
          query: "x=2",
        }),
        context(),
      );
      expect(wrongQuery.statusCode).to.equal(403);

      const json = '{"EventType":"onMessageAdded","Body":"hi"}';
      const hash = crypto.createHash("sha256").update(json).digest("hex");
      const jsonUrl = `https://${DOMAIN}/twilio?bodySHA256=${hash}`;
      const res = await handler(
        urlEvent(
          "twilio",
          json,
          {
            "content-type": "application/json",
            "x-twilio-signature": signTwilio(SECRETS.twilio, jsonUrl, {}),
          },
          { query: `bodySHA256=${hash}` },
        ),
        context(),
      );
      expect(res.statusCode).to.equal(200);
      expect(published[1].DetailType).to.equal("onMessageAdded");
      expect(JSON.parse(published[1].Detail!).payload).to.deep.equal({
        EventType: "onMessageAdded",
        Body: "hi",
      });
    });
  });

  describe("Twilio replays", () => {
    it("deduplicates on the signed content: a new I-Twilio-Idempotency-Token, reordered or repeated params publish nothing", async () => {
      const { handler } = await receiver("twilio");
      const url = `https://${DOMAIN}/twilio`;
      const status = { MessageSid: "SM1", MessageStatus: "delivered", To: "+15005550006" };
      const headers = (token: string) => ({
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signTwilio(SECRETS.twilio, url, status),
        "i-twilio-idempotency-token": token,
      });
      const first = await handler(
        urlEvent("twilio", new URLSearchParams(status).toString(), headers("tok-1")),
        context(),
      );
      expect(first.statusCode).to.equal(200);
      // The same signature verifies these bodies too (Twilio signs params sorted and deduplicated).
      const reordered = "To=%2B15005550006&MessageStatus=delivered&MessageSid=SM1";
      const repeated = `${new URLSearchParams(status).toString()}&MessageSid=SM1`;
      for (const [body, token] of [
        [reordered, "tok-2"],
        [repeated, "tok-3"],
        [new URLSearchParams(status).toString(), "tok-4"],
      ]) {
        const res = await handler(urlEvent("twilio", body, headers(token)), context());
        expect(res.statusCode).to.equal(200);
      }
      expect(published).to.have.length(1);
      expect(JSON.parse(published[0].Detail!).deliveryId).to.equal("tok-1");
    });
  });

  describe("source address allowlist", () => {
    it("refuses an address outside the blocks with 403 before anything else, and accepts one inside (IPv4 and IPv6)", async () => {
      const { handler } = await receiver("github", {
        allowedCidrs: ["192.30.252.0/22", "2a0a:a440::/29"],
      });
      const at = (ip: string, id: string) => {
        const e = urlEvent("github", githubBody, githubHeaders(id));
        e.requestContext.http.sourceIp = ip;
        return e;
      };
      const refused = await handler(at("192.0.2.1", "ip-1"), context());
      expect(refused).to.deep.include({
        statusCode: 403,
        body: '{"error":"source address 192.0.2.1 is not allowed"}',
      });
      // Before any other work: not even the path or the secret is looked at.
      const elsewhere = at("203.0.113.9", "ip-2");
      elsewhere.rawPath = "/nowhere";
      expect((await handler(elsewhere, context())).statusCode).to.equal(403);
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(0);
      expect((await handler(at("192.30.255.254", "ip-3"), context())).statusCode).to.equal(200);
      expect((await handler(at("2a0a:a447:ffff::1", "ip-4"), context())).statusCode).to.equal(200);
      expect((await handler(at("2a0a:a448::1", "ip-5"), context())).statusCode).to.equal(403);
      expect(published).to.have.length(1);
      expect(
        logs.filter((l) => l.message === "webhook rejected").map((l) => l.extra.sourceIp),
      ).to.deep.equal(["192.0.2.1", "203.0.113.9", "2a0a:a448::1"]);
    });
  });

  describe("payloads over the bus entry limit", () => {
    const big = JSON.stringify({ blob: "x".repeat(3000) });
    const headers = (id: string) => githubHeaders(id, big);

    it("answers 413 when payload storage is disabled, without storing or publishing the delivery", async () => {
      const { handler, table } = await receiver("github", { maxEntryBytes: 2048 });
      const res = await handler(urlEvent("github", big, headers("big-1")), context());
      expect(res).to.deep.include({
        statusCode: 413,
        body: '{"error":"payload too large: events are limited to 2048 bytes"}',
      });
      expect(published).to.have.length(0);
      expect(await scanTable(ddb.client, table)).to.deep.equal([]);
    });

    it("stores an entry in its DynamoDB item only up to 400 KB less 4 KB, whatever the bus limit", async () => {
      const { handler, table } = await receiver("github", { maxEntryBytes: 1048576 });
      const huge = JSON.stringify({ blob: "y".repeat(MAX_STORED_ENTRY_BYTES) });
      const res = await handler(urlEvent("github", huge, githubHeaders("huge-1", huge)), context());
      expect(res).to.deep.include({
        statusCode: 413,
        body: `{"error":"payload too large: events are limited to ${MAX_STORED_ENTRY_BYTES} bytes"}`,
      });
      expect(MAX_STORED_ENTRY_BYTES).to.equal(405504);
      // Just under the limit: stored whole and published as is.
      const fits = JSON.stringify({ blob: "z".repeat(MAX_STORED_ENTRY_BYTES - 2000) });
      const ok = await handler(urlEvent("github", fits, githubHeaders("fits-1", fits)), context());
      expect(ok.statusCode).to.equal(200);
      expect(JSON.parse(published[0].Detail!).payload.blob).to.have.length(
        MAX_STORED_ENTRY_BYTES - 2000,
      );
      expect(await scanTable(ddb.client, table)).to.have.length(1);
    });

    it("stores the exact body in S3 below the provider prefix and publishes a reference", async () => {
      const { handler } = await receiver("github", {
        maxEntryBytes: 2048,
        payloadBucket: "payloads-bucket",
      });
      const res = await handler(urlEvent("github", big, headers("big-2")), context());
      expect(res.statusCode).to.equal(200);
      const puts = s3Mock.commandCalls(PutObjectCommand);
      expect(puts).to.have.length(1);
      // Named by the idempotency key: the provider and the digest of the signed body.
      const bodyHash = crypto.createHash("sha256").update(big).digest("hex");
      const key = `github/${crypto.createHash("sha256").update(`github:sha256:${bodyHash}`).digest("hex")}`;
      expect(puts[0].args[0].input).to.deep.equal({
        Bucket: "payloads-bucket",
        Key: key,
        Body: Buffer.from(big),
        ContentType: "application/json",
      });
      const detail = JSON.parse(published[0].Detail!);
      expect(detail.payload).to.equal(undefined);
      expect(detail.payloadRef).to.deep.equal({
        bucket: "payloads-bucket",
        key,
        bytes: Buffer.byteLength(big),
        sha256: crypto.createHash("sha256").update(big).digest("hex"),
        contentType: "application/json",
      });
      // A redelivery publishes nothing again. Its body is written before its delivery is, so it
      // rewrites the same bytes to the same key: the event never names an object not yet stored.
      const dup = await handler(urlEvent("github", big, headers("big-2")), context());
      expect(JSON.parse(dup.body).status).to.equal("duplicate");
      const again = s3Mock.commandCalls(PutObjectCommand);
      expect(again).to.have.length(2);
      expect(again[1].args[0].input).to.deep.equal(puts[0].args[0].input);
      expect(published).to.have.length(1);
    });
  });

  it("never logs bodies, secrets or signatures", async () => {
    const { handler } = await receiver("github");
    const secretBody = JSON.stringify({ token: "body-marker-8f2e" });
    await handler(urlEvent("github", secretBody, githubHeaders("log-1", secretBody)), context());
    await handler(
      urlEvent("github", secretBody, githubHeaders("log-2", secretBody, "wrong-secret")),
      context(),
    );
    await handler(
      urlEvent("github", "not-json-marker", githubHeaders("log-3", "not-json-marker")),
      context(),
    );
    const text = JSON.stringify(logs);
    expect(logs.length).to.be.at.least(3);
    for (const forbidden of [
      "body-marker-8f2e",
      "not-json-marker",
      SECRETS.github,
      "wrong-secret",
      signGithub(SECRETS.github, secretBody).slice(7),
    ]) {
      expect(text).to.not.contain(forbidden);
    }
  });

  describe("configuration from the environment", () => {
    const env = {
      WEBHOOK_PROVIDER: "github",
      WEBHOOK_SECRET_ARN: "arn:s",
      IDEMPOTENCY_TABLE: "t",
      IDEMPOTENCY_TTL_SECONDS: "259200",
      MAX_ENTRY_BYTES: "262144",
      TOLERANCE_SECONDS: "300",
    };
    it("reads every variable and defaults the payload prefix", () => {
      expect(readReceiverConfig(env)).to.deep.equal({
        provider: "github",
        secretArn: "arn:s",
        idempotencyTable: "t",
        idempotencyTtlSeconds: 259200,
        maxEntryBytes: 262144,
        toleranceSeconds: 300,
        payloadBucket: undefined,
        payloadPrefix: "github/",
        publicUrl: undefined,
        allowedCidrs: undefined,
        hmacSignedContent: "headers",
      });
      expect(
        readReceiverConfig({
          ...env,
          ALLOWED_SOURCE_CIDRS: "192.30.252.0/22, 2a0a:a440::/29",
          HMAC_SIGNED_CONTENT: "body",
        }),
      ).to.deep.include({
        allowedCidrs: ["192.30.252.0/22", "2a0a:a440::/29"],
        hmacSignedContent: "body",
      });
      expect(() => readReceiverConfig({ ...env, HMAC_SIGNED_CONTENT: "all" })).to.throw(
        'HMAC_SIGNED_CONTENT must be one of headers, body, got "all"',
      );
    });
    it("fails naming a missing or bad variable", () => {
      expect(() => readReceiverConfig({ ...env, WEBHOOK_SECRET_ARN: undefined })).to.throw(
        "WEBHOOK_SECRET_ARN is not set",
      );
      expect(() => readReceiverConfig({ ...env, WEBHOOK_PROVIDER: "gitlab" })).to.throw(
        'WEBHOOK_PROVIDER must be one of github, twilio, stripe, standard, hmac, got "gitlab"',
      );
      expect(() => readReceiverConfig({ ...env, MAX_ENTRY_BYTES: "lots" })).to.throw(
        'MAX_ENTRY_BYTES must be an integer >= 1, got "lots"',
      );
    });
  });
});
