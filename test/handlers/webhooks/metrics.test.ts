// The business metrics (EMF) the receiver and the relay emit per invocation, captured from stdout
// exactly as Lambda would ship them to CloudWatch: makeHandler and makeRelay with real Powertools
// Metrics from handlers/lib/telemetry.ts, the deliveries table in dynalite with its stream feeding
// the relay (RelayStreams), EventBridge, Secrets Manager and SQS (the hub's DLQ) behind
// aws-sdk-client-mock on client instances. The receiver counts the deliveries; the relay counts the publishing.
import { expect } from "chai";
import * as crypto from "crypto";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  makeHandler,
  ReceiverConfig,
  ReceiverLogger,
  signatureRejectionReason,
} from "../../../handlers/webhooks/receiver";
import { makeRelay } from "../../../handlers/webhooks/relay";
import { deliveryItemId } from "../../../handlers/webhooks/outbox";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { makeMetrics, WEBHOOK_SERVICE } from "../../../handlers/lib/telemetry";
import { signGithub } from "../../../handlers/webhooks/providers/github";
import { HMAC_HEADERS, hmacRequestHeaders } from "../../../handlers/webhooks/providers/hmac";
import { Provider, PROVIDER_MODULES, PROVIDER_SPECS } from "../../../handlers/webhooks/providers";
import { STANDARD_HEADERS, signStandard } from "../../../handlers/webhooks/providers/standard";
import { signStripe } from "../../../handlers/webhooks/providers/stripe";
import { LocalDynamo, mockInstance, startLocalDynamo } from "../../support/aws";
import { createIdempotencyTable, RelayStreams } from "./localServices";
import { count, emfOf, metricsOf } from "../emf";

const NOW_S = 1_800_000_000;
const BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-test";
const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/switchyard-test-dlq";
const DOMAIN = "abcdefghij.lambda-url.eu-west-1.on.aws";
const region = "eu-west-1";
const credentials = { accessKeyId: "x", secretAccessKey: "x" };
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
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:metrics-${p}-AbCdEf`;

const eventBridge = new EventBridgeClient({ region, credentials });
const secretsManager = new SecretsManagerClient({ region, credentials });
const sqs = new SQSClient({ region, credentials });
const eb = mockInstance(eventBridge);
const sm = mockInstance(secretsManager);
const sqsMock = mockInstance(sqs);

/** Per-entry error codes PutEvents answers, one per call, before it accepts again. */
let entryErrors: string[] = [];
let secretMissing = false;

function installFakes() {
  eb.reset();
  sm.reset();
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "00000000-0000-4000-8000-000000000001" });
  eb.on(PutEventsCommand).callsFake(async (input) => {
    const code = entryErrors.shift();
    if (code) {
      return {
        FailedEntryCount: input.Entries.length,
        Entries: input.Entries.map(() => ({ ErrorCode: code, ErrorMessage: `${code} (injected)` })),
      };
    }
    return {
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: crypto.randomUUID() })),
    };
  });
  sm.on(GetSecretValueCommand).callsFake(async (input) => {
    const p = (Object.keys(SECRETS) as Provider[]).find((x) => arnOf(x) === input.SecretId);
    if (!p || secretMissing) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    }
    return { ARN: input.SecretId, SecretString: SECRETS[p] };
  });
}

function context(): Context {
  return {
    awsRequestId: crypto.randomUUID(),
    functionName: "receiver",
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
}

function urlEvent(
  provider: Provider,
  body: string,
  headers: Record<string, string>,
  o: { method?: string; path?: string } = {},
) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: o.path ?? `/${provider}`,
    rawQueryString: "",
    headers: { host: DOMAIN, ...headers },
    requestContext: {
      domainName: DOMAIN,
      http: {
        method: o.method ?? "POST",
        path: o.path ?? `/${provider}`,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: "t",
      },
      requestId: crypto.randomUUID(),
      timeEpoch: NOW_S * 1000,
    },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}

/** What one relay invocation emits: its publishing counts with the service dimension, nothing else. */
const relayBlob = (values: {
  EventsPublished: number;
  PublishRetries: number;
  EventsPublishFailed?: number;
}) => ({
  namespace: "Switchyard",
  dimensions: [["service"]],
  metrics: count(
    "EventsPublished",
    "PublishRetries",
    ...(values.EventsPublishFailed === undefined ? [] : ["EventsPublishFailed"]),
  ),
  values: { service: "switchyard-webhooks", ...values },
});

/** What a rejection emits: WebhookRejected 1 with the service and reason dimensions, provider as metadata. */
const rejection = (reason: string, provider: Provider) => ({
  namespace: "Switchyard",
  dimensions: [["service", "reason"]],
  metrics: count("WebhookRejected"),
  values: { service: "switchyard-webhooks", reason, provider, WebhookRejected: 1 },
});

describe("handlers/webhooks/receiver business metrics (EMF)", function () {
  let ddb: LocalDynamo;
  let tableN = 0;
  const logs: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const logger: ReceiverLogger = {
    info: (message, extra) => logs.push({ level: "info", message, extra }),
    warn: (message, extra) => logs.push({ level: "warn", message, extra }),
    error: (message, extra) => logs.push({ level: "error", message, extra }),
  };

  /**
   * A receiver with its own deliveries table; given `streams`, the table's stream feeds a relay
   * (with the mapping's retries overridden by `maximumRetryAttempts`).
   */
  async function receiver(
    provider: Provider,
    extra: Partial<ReceiverConfig> = {},
    o: { metrics?: Metrics; streams?: RelayStreams; maximumRetryAttempts?: number } = {},
  ) {
    const { metrics = makeMetrics(WEBHOOK_SERVICE), streams } = o;
    const table = `metrics-idempotency-${++tableN}`;
    await createIdempotencyTable(ddb.client, table);
    if (streams) {
      streams.feed(
        table,
        makeRelay({
          config: { eventBusArn: BUS_ARN, maxEntryBytes: 262144, deadLetterQueueUrl: DLQ_URL },
          eventBridge,
          sqs,
          metrics: makeMetrics(WEBHOOK_SERVICE),
          publisher: { baseDelayMs: 1 },
        }),
        { maximumRetryAttempts: o.maximumRetryAttempts },
      );
    }
    return makeHandler({
      config: {
        provider,
        secretArn: arnOf(provider),
        idempotencyTable: table,
        idempotencyTtlSeconds: 3600,
        maxEntryBytes: 262144,
        toleranceSeconds: 300,
        payloadPrefix: `${provider}/`,
        ...extra,
      },
      secretsManager,
      dynamodb: streams ? streams.client : ddb.client,
      logger,
      metrics,
      now: () => NOW_S * 1000,
    });
  }

  /** A receiver whose deliveries the relay publishes through the table's stream. */
  async function relayed(
    provider: Provider,
    extra: Partial<ReceiverConfig> = {},
    o: { maximumRetryAttempts?: number } = {},
  ) {
    const streams = new RelayStreams(ddb.client);
    return { streams, handler: await receiver(provider, extra, { ...o, streams }) };
  }

  /** The entries PutEvents was called with, in order (accepted or not). */
  const putEntries = () =>
    eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries);

  before(async () => {
    ddb = await startLocalDynamo();
  });
  after(async () => {
    eb.restore();
    sm.restore();
    sqsMock.restore();
    await ddb.close();
  });
  beforeEach(() => {
    installFakes();
    entryErrors = [];
    secretMissing = false;
    logs.length = 0;
  });

  const githubBody = JSON.stringify({ action: "opened", number: 7 });
  const github = (deliveryId: string, secret = SECRETS.github, body = githubBody) =>
    urlEvent("github", body, {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signGithub(secret, body),
    });
  const stripeBody = JSON.stringify({ id: "evt_metrics_1", type: "invoice.paid" });
  const stripe = (t: number) =>
    urlEvent("stripe", stripeBody, {
      "stripe-signature": signStripe(SECRETS.stripe, t, stripeBody),
    });

  it("an accepted delivery: the receiver's one blob has WebhookAccepted 1 and no publishing metric; the relay's blob counts the publish", async () => {
    const { handler, streams } = await relayed("github");
    const { result, blobs } = await emfOf(() => handler(github("acc-1"), context()));
    expect(JSON.parse(result.body).status).to.equal("accepted");
    expect(blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted"),
        values: { service: "switchyard-webhooks", provider: "github", WebhookAccepted: 1 },
      },
    ]);
    const relay = await emfOf(() => streams.settled());
    expect(relay.blobs.map(metricsOf)).to.deep.equal([
      relayBlob({ EventsPublished: 1, PublishRetries: 0 }),
    ]);
    expect(putEntries().map((e: any) => JSON.parse(e.Detail).deliveryId)).to.deep.equal(["acc-1"]);
  });

  it("a duplicate: WebhookDuplicate 1 and no publishing metric; the metrics do not carry over between invocations", async () => {
    const { handler, streams } = await relayed("github");
    const first = await emfOf(() => handler(github("dup-1"), context()));
    // The relay's blob is read here, so it is not written to the test run's output.
    const relay = await emfOf(() => streams.settled());
    expect(relay.blobs.map(metricsOf)).to.deep.equal([
      relayBlob({ EventsPublished: 1, PublishRetries: 0 }),
    ]);
    const second = await emfOf(async () => {
      const answer = await handler(github("dup-1"), context());
      await streams.settled();
      return answer;
    });
    expect(first.blobs.map((b) => metricsOf(b).values.WebhookAccepted)).to.deep.equal([1]);
    expect(JSON.parse(second.result.body).status).to.equal("duplicate");
    // Nothing was stored again: the relay ran for the first delivery only.
    expect(streams.invocations).to.have.length(1);
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(1);
    expect(second.blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookDuplicate"),
        values: { service: "switchyard-webhooks", provider: "github", WebhookDuplicate: 1 },
      },
    ]);
  });

  it("a wrong or missing signature: WebhookRejected 1 with reason=signature, nothing else", async () => {
    const handler = await receiver("github");
    const forged = await emfOf(() => handler(github("sig-1", "guess"), context()));
    expect(forged.result.statusCode).to.equal(403);
    expect(forged.blobs.map(metricsOf)).to.deep.equal([rejection("signature", "github")]);
    const unsigned = github("sig-2");
    delete unsigned.headers!["x-hub-signature-256"];
    const missing = await emfOf(() => handler(unsigned, context()));
    expect(missing.result.statusCode).to.equal(401);
    expect(missing.blobs.map(metricsOf)).to.deep.equal([rejection("signature", "github")]);
  });

  it("a stale or future Stripe timestamp: WebhookRejected 1 with reason=timestamp", async () => {
    const handler = await receiver("stripe");
    for (const t of [NOW_S - 301, NOW_S + 301]) {
      const { result, blobs } = await emfOf(() => handler(stripe(t), context()));
      expect(result.statusCode).to.equal(403);
      expect(blobs.map(metricsOf)).to.deep.equal([rejection("timestamp", "stripe")]);
    }
    // Inside the window the same request is accepted.
    const ok = await emfOf(() => handler(stripe(NOW_S - 299), context()));
    expect(ok.blobs.map((b) => metricsOf(b).values.WebhookAccepted)).to.deep.equal([1]);
  });

  it("tells timestamp from signature failures for every provider with a signed timestamp", async () => {
    const body = '{"type":"ping"}';
    const hmacEvent = (ts: string, secret = SECRETS.hmac) =>
      urlEvent("hmac", body, {
        ...hmacRequestHeaders(secret, { id: "wh-1", timestamp: ts }, body),
        [HMAC_HEADERS.timestamp]: ts,
      });
    const standardEvent = (ts: number | string, secret = SECRETS.standard) =>
      urlEvent("standard", body, {
        [STANDARD_HEADERS.id]: "msg_1",
        [STANDARD_HEADERS.timestamp]: String(ts),
        [STANDARD_HEADERS.signature]: signStandard(secret, "msg_1", Number(ts) || 0, body),
      });
    const cases: Array<[Provider, LambdaFunctionURLEvent, number, string]> = [
      ["hmac", hmacEvent(String(NOW_S - 301)), 403, "timestamp"],
      ["hmac", hmacEvent(String(NOW_S + 301)), 403, "timestamp"],
      ["hmac", hmacEvent("yesterday"), 403, "timestamp"],
      ["hmac", hmacEvent(String(NOW_S), "wrong"), 403, "signature"],
      ["standard", standardEvent(NOW_S - 301), 403, "timestamp"],
      ["standard", standardEvent(NOW_S + 301), 403, "timestamp"],
      ["standard", standardEvent(NOW_S, "whsec_d3Jvbmc="), 403, "signature"],
      [
        "stripe",
        urlEvent("stripe", stripeBody, { "stripe-signature": `t=${NOW_S},v1=${"0".repeat(64)}` }),
        403,
        "signature",
      ],
      [
        "stripe",
        urlEvent("stripe", stripeBody, { "stripe-signature": `t=soon,v1=${"0".repeat(64)}` }),
        403,
        "timestamp",
      ],
    ];
    const handlers = new Map<Provider, Awaited<ReturnType<typeof receiver>>>();
    for (const [provider, event, status, reason] of cases) {
      if (!handlers.has(provider)) handlers.set(provider, await receiver(provider));
      const { result, blobs } = await emfOf(() => handlers.get(provider)!(event, context()));
      expect([provider, result.statusCode]).to.deep.equal([provider, status]);
      expect(blobs.map(metricsOf), `${provider} ${reason}`).to.deep.equal([
        rejection(reason, provider),
      ]);
    }
  });

  it("maps a verdict's status and wording to the reason (401 is always signature)", () => {
    const req = {
      body: Buffer.from("{}"),
      url: "https://x/stripe",
      nowSeconds: NOW_S,
      toleranceSeconds: 300,
    };
    const verdict = (headers: Record<string, string>) => {
      const v = PROVIDER_SPECS.stripe.verify({ ...req, headers }, [SECRETS.stripe]);
      if (v.ok) throw new Error("expected a refusal");
      return v;
    };
    expect(
      signatureRejectionReason(
        verdict({ "stripe-signature": signStripe(SECRETS.stripe, NOW_S - 400, "{}") }),
      ),
    ).to.equal("timestamp");
    expect(
      signatureRejectionReason(verdict({ "stripe-signature": signStripe("other", NOW_S, "{}") })),
    ).to.equal("signature");
    expect(signatureRejectionReason(verdict({}))).to.equal("signature");
    expect(
      signatureRejectionReason({ status: 401, reason: "x-webhook-timestamp header is missing" }),
    ).to.equal("signature");
  });

  it("maps 400, 404, 405 and 413 to malformed, unknown-provider, method and too-large", async () => {
    const { handler, streams } = await relayed("github", { maxEntryBytes: 1024 });
    const big = JSON.stringify({ blob: "x".repeat(2000) });
    const cases: Array<[LambdaFunctionURLEvent, number, string]> = [
      [github("m-1", SECRETS.github, "not json"), 400, "malformed"],
      [github("\u0001bad"), 400, "malformed"],
      [urlEvent("github", githubBody, {}, { path: "/gitlab" }), 404, "unknown-provider"],
      [urlEvent("github", "", {}, { method: "GET" }), 405, "method"],
      [github("big-1", SECRETS.github, big), 413, "too-large"],
    ];
    for (const [event, status, reason] of cases) {
      const { result, blobs } = await emfOf(() => handler(event, context()));
      expect(result.statusCode).to.equal(status);
      expect(blobs.map(metricsOf), reason).to.deep.equal([rejection(reason, "github")]);
    }
    // Nothing was stored, so the relay neither ran nor published.
    const relay = await emfOf(() => streams.settled());
    expect(relay.blobs).to.deep.equal([]);
    expect(streams.invocations).to.have.length(0);
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(0);
  });

  it("a publish whose entry failed once and was retried: the relay counts PublishRetries 1, EventsPublished 1; accepted", async () => {
    const { handler, streams } = await relayed("github");
    entryErrors = ["ThrottlingException"];
    const { result, blobs } = await emfOf(async () => {
      const answer = await handler(github("retry-1"), context());
      await streams.settled();
      return answer;
    });
    expect(JSON.parse(result.body).status).to.equal("accepted");
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(2);
    // The receiver's blob first (flushed as it answers), then the relay's.
    expect(blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted"),
        values: { service: "switchyard-webhooks", provider: "github", WebhookAccepted: 1 },
      },
      relayBlob({ EventsPublished: 1, PublishRetries: 1 }),
    ]);
    // The publisher's retry succeeded: the relay's one invocation reported no failure.
    expect(streams.invocations).to.have.length(1);
    expect(streams.onFailure).to.deep.equal([]);
  });

  it("a publish that fails transiently: the relay counts EventsPublishFailed per invocation, to the end of the mapping's retries; the receiver's answer and metric are unchanged", async () => {
    // The component's 10,000 retries (RELAY_STREAM_SETTINGS) would be 40,004 calls here; two end
    // the same way.
    const maximumRetryAttempts = 2;
    const { handler, streams } = await relayed("github", {}, { maximumRetryAttempts });
    const accepted = {
      service: "switchyard-webhooks",
      provider: "github",
      WebhookAccepted: 1,
    };
    // Every attempt of the publisher fails: the record is reported failed and the mapping retries it.
    entryErrors = ["InternalFailure", "InternalFailure", "InternalFailure", "InternalFailure"];
    const transient = await emfOf(async () => {
      const answer = await handler(github("fail-1"), context());
      await streams.settled();
      return answer;
    });
    expect(transient.result.statusCode).to.equal(200);
    expect(JSON.parse(transient.result.body).status).to.equal("accepted");
    expect(transient.blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted"),
        values: accepted,
      },
      relayBlob({ EventsPublished: 0, PublishRetries: 3, EventsPublishFailed: 1 }),
      // The mapping's retry of the failed record publishes it, counted once.
      relayBlob({ EventsPublished: 1, PublishRetries: 0 }),
    ]);
    expect(streams.invocations).to.have.length(2);
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(5);

    // Failing on every call: each of the mapping's invocations counts its failure, then the
    // record's pointer goes to the on-failure destination.
    const attempts = maximumRetryAttempts + 1;
    entryErrors = Array.from({ length: 4 * attempts }, () => "InternalFailure");
    const exhausted = await emfOf(async () => {
      // Another delivery: GitHub deliveries are told apart by their signed body.
      const body = JSON.stringify({ action: "closed", number: 8 });
      const answer = await handler(github("fail-2", SECRETS.github, body), context());
      await streams.settled();
      return answer;
    });
    expect(exhausted.result.statusCode).to.equal(200);
    expect(JSON.parse(exhausted.result.body).status).to.equal("accepted");
    expect(exhausted.blobs.map((b) => metricsOf(b).values)).to.deep.equal([
      accepted,
      ...Array.from({ length: attempts }, () => ({
        service: "switchyard-webhooks",
        EventsPublished: 0,
        PublishRetries: 3,
        EventsPublishFailed: 1,
      })),
    ]);
    expect(streams.invocations).to.have.length(2 + attempts);
    expect(streams.onFailure.map((m) => m.DDBStreamBatchInfo.batchSize)).to.deep.equal([1]);
    expect(entryErrors).to.deep.equal([]);
    // A transient failure is never dead-lettered by the relay.
    expect(sqsMock.commandCalls(SendMessageCommand)).to.have.length(0);

    // The provider's redelivery of either is a duplicate: nothing more is stored or published.
    const again = await emfOf(async () => {
      const answer = await handler(github("fail-1"), context());
      await streams.settled();
      return answer;
    });
    expect(JSON.parse(again.result.body).status).to.equal("duplicate");
    expect(again.blobs.map((b) => metricsOf(b).values)).to.deep.equal([
      { service: "switchyard-webhooks", provider: "github", WebhookDuplicate: 1 },
    ]);
    expect(streams.invocations).to.have.length(2 + attempts);
  });

  it("a publish the bus refuses for good: the relay's one invocation counts EventsPublishFailed and dead-letters the delivery; the receiver's answer and metric are unchanged", async () => {
    const { handler, streams } = await relayed("github");
    entryErrors = ["AccessDeniedException"];
    const denied = await emfOf(async () => {
      const answer = await handler(github("denied-1"), context());
      await streams.settled();
      return answer;
    });
    expect(denied.result.statusCode).to.equal(200);
    expect(JSON.parse(denied.result.body).status).to.equal("accepted");
    expect(denied.blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted"),
        values: { service: "switchyard-webhooks", provider: "github", WebhookAccepted: 1 },
      },
      relayBlob({ EventsPublished: 0, PublishRetries: 0, EventsPublishFailed: 1 }),
    ]);
    // Not retried by the publisher nor by the mapping: the relay sent it to the DLQ itself.
    expect(streams.invocations).to.have.length(1);
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(1);
    expect(streams.onFailure).to.deep.equal([]);
    const bodyHash = crypto.createHash("sha256").update(githubBody).digest("hex");
    // The event as the receiver stored it and the bus refused it.
    const detail = JSON.parse(putEntries()[0]!.Detail!);
    expect(detail.deliveryId).to.equal("denied-1");
    const letters = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(letters.map((l) => ({ ...l, MessageBody: JSON.parse(l.MessageBody!) }))).to.deep.equal([
      {
        QueueUrl: DLQ_URL,
        MessageBody: {
          version: "0",
          id: deliveryItemId("github", `github:sha256:${bodyHash}`),
          "detail-type": "pull_request",
          source: "switchyard.webhooks.github",
          time: "2027-01-15T08:00:00.000Z",
          resources: [],
          detail,
        },
        MessageAttributes: {
          TARGET_ARN: { DataType: "String", StringValue: BUS_ARN },
          ERROR_CODE: { DataType: "String", StringValue: "AccessDeniedException" },
          ERROR_MESSAGE: { DataType: "String", StringValue: "AccessDeniedException (injected)" },
          RETRY_ATTEMPTS: { DataType: "Number", StringValue: "0" },
        },
      },
    ]);
  });

  it("emits nothing when the secret cannot be read (503), and no Powertools warning either", async () => {
    const handler = await receiver("github");
    secretMissing = true;
    const stderr: string[] = [];
    const write = process.stderr.write;
    (process.stderr as any).write = (chunk: any) => (stderr.push(String(chunk)), true);
    try {
      const { result, blobs } = await emfOf(() => handler(github("nosecret-1"), context()));
      expect(result.statusCode).to.equal(503);
      expect(blobs).to.deep.equal([]);
    } finally {
      process.stderr.write = write;
    }
    expect(stderr.join("")).to.not.contain("No application metrics");
  });

  it("20 concurrent identical deliveries: one accepted, 19 duplicates and one publish counted, never mixed in one blob", async () => {
    const { handler, streams } = await relayed("github");
    const { result, blobs } = await emfOf(async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => handler(github("conc-1"), context())),
      );
      await streams.settled();
      return answers;
    });
    const statuses = result.map((r) => [r.statusCode, JSON.parse(r.body).status]);
    expect(statuses.filter(([, s]) => s === "accepted")).to.deep.equal([[200, "accepted"]]);
    expect(statuses.filter(([, s]) => s === "duplicate")).to.deep.equal(
      Array.from({ length: 19 }, () => [200, "duplicate"]),
    );
    const values = blobs.map((b) => metricsOf(b).values);
    expect(values.filter((v) => "WebhookAccepted" in v)).to.deep.equal([
      { service: "switchyard-webhooks", provider: "github", WebhookAccepted: 1 },
    ]);
    const duplicates = values.filter((v) => "WebhookDuplicate" in v);
    expect(duplicates).to.have.length(19);
    for (const v of duplicates)
      expect(v).to.deep.equal({
        service: "switchyard-webhooks",
        provider: "github",
        WebhookDuplicate: 1,
      });
    // One stored delivery, so one relay invocation and one publish.
    expect(values.filter((v) => "EventsPublished" in v)).to.deep.equal([
      { service: "switchyard-webhooks", EventsPublished: 1, PublishRetries: 0 },
    ]);
    expect(blobs).to.have.length(1 + 19 + 1);
    expect(streams.invocations.map((e) => e.Records.length)).to.deep.equal([1]);
    expect(putEntries()).to.have.length(1);
  });

  it("never fails or changes an answer when the metrics fail; logs the fault and does not carry counts over", async () => {
    const metrics = makeMetrics(WEBHOOK_SERVICE);
    const handler = await receiver("github", {}, { metrics });
    const realFlush = metrics.publishStoredMetrics.bind(metrics);
    metrics.publishStoredMetrics = () => {
      throw new Error("stdout closed");
    };
    const flushFails = await emfOf(() => handler(github("mf-1"), context()));
    expect(flushFails.result).to.deep.include({ statusCode: 200 });
    expect(JSON.parse(flushFails.result.body).status).to.equal("accepted");
    expect(flushFails.blobs).to.deep.equal([]);
    expect(logs.find((l) => l.message === "webhook metrics not flushed")?.extra).to.deep.equal({
      error: { name: "Error", message: "stdout closed" },
    });
    metrics.publishStoredMetrics = realFlush;

    const realSingle = metrics.singleMetric.bind(metrics);
    metrics.singleMetric = () => {
      throw new Error("no single metric");
    };
    const recordFails = await emfOf(() => handler(github("mf-2", "guess"), context()));
    expect(recordFails.result).to.deep.include({
      statusCode: 403,
      body: '{"error":"invalid signature"}',
    });
    expect(recordFails.blobs).to.deep.equal([]);
    expect(logs.find((l) => l.message === "webhook metrics not recorded")?.extra).to.deep.equal({
      error: { name: "Error", message: "no single metric" },
    });
    metrics.singleMetric = realSingle;

    // The next invocation (another delivery: GitHub deliveries are told apart by their signed body) emits only its own counts.
    const next = await emfOf(() =>
      handler(
        github("mf-3", SECRETS.github, JSON.stringify({ action: "closed", number: 3 })),
        context(),
      ),
    );
    expect(next.blobs.map((b) => metricsOf(b).values)).to.deep.equal([
      { service: "switchyard-webhooks", provider: "github", WebhookAccepted: 1 },
    ]);
  });
});
