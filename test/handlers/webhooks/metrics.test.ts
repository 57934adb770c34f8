// The business metrics (EMF) the receiver emits per invocation, captured from stdout exactly as
// Lambda would ship them to CloudWatch: makeHandler with a real Powertools Metrics from
// handlers/lib/telemetry.ts, DynamoDB idempotency against dynalite, EventBridge and Secrets Manager
// behind aws-sdk-client-mock on client instances.
import { expect } from "chai";
import * as crypto from "crypto";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  makeHandler,
  ReceiverConfig,
  ReceiverLogger,
  signatureRejectionReason,
} from "../../../handlers/webhooks/receiver";
import { makeMetrics, WEBHOOK_SERVICE } from "../../../handlers/lib/telemetry";
import { signGithub } from "../../../handlers/webhooks/providers/github";
import { HMAC_HEADERS, hmacRequestHeaders } from "../../../handlers/webhooks/providers/hmac";
import { Provider, PROVIDER_MODULES, PROVIDER_SPECS } from "../../../handlers/webhooks/providers";
import { STANDARD_HEADERS, signStandard } from "../../../handlers/webhooks/providers/standard";
import { signStripe } from "../../../handlers/webhooks/providers/stripe";
import { LocalDynamo, mockInstance, startLocalDynamo } from "../../support/aws";
import { createIdempotencyTable } from "./localServices";
import { Blob, count, metricsOf } from "../emf";

const NOW_S = 1_800_000_000;
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
const eb = mockInstance(eventBridge);
const sm = mockInstance(secretsManager);

/** Per-entry error codes PutEvents answers, one per call, before it accepts again. */
let entryErrors: string[] = [];
let putEventsDelayMs = 0;
let secretMissing = false;

function installFakes() {
  eb.reset();
  sm.reset();
  eb.on(PutEventsCommand).callsFake(async (input) => {
    if (putEventsDelayMs) await new Promise((r) => setTimeout(r, putEventsDelayMs));
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

/** Runs `fn` and returns the EMF blobs written to stdout meanwhile (other stdout lines are kept out). */
async function emfOf<T>(fn: () => Promise<T>): Promise<{ result: T; blobs: Blob[] }> {
  const lines: string[] = [];
  const write = process.stdout.write;
  (process.stdout as any).write = (chunk: any) => {
    lines.push(
      ...String(chunk)
        .split("\n")
        .filter((l) => l.trim() !== ""),
    );
    return true;
  };
  let result: T;
  try {
    result = await fn();
  } finally {
    process.stdout.write = write;
  }
  const blobs = lines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((b) => b._aws);
  return { result, blobs };
}

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

  async function receiver(
    provider: Provider,
    extra: Partial<ReceiverConfig> = {},
    metrics = makeMetrics(WEBHOOK_SERVICE),
  ) {
    const table = `metrics-idempotency-${++tableN}`;
    await createIdempotencyTable(ddb.client, table);
    return makeHandler({
      config: {
        provider,
        secretArn: arnOf(provider),
        idempotencyTable: table,
        idempotencyTtlSeconds: 3600,
        eventBusName: "switchyard-test",
        maxEntryBytes: 262144,
        toleranceSeconds: 300,
        payloadPrefix: `${provider}/`,
        ...extra,
      },
      eventBridge,
      secretsManager,
      dynamodb: ddb.client,
      logger,
      metrics,
      now: () => NOW_S * 1000,
      publishBaseDelayMs: 1,
    });
  }

  before(async () => {
    ddb = await startLocalDynamo();
  });
  after(async () => {
    eb.restore();
    sm.restore();
    await ddb.close();
  });
  beforeEach(() => {
    installFakes();
    entryErrors = [];
    putEventsDelayMs = 0;
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

  it("an accepted delivery: one blob with WebhookAccepted 1, EventsPublished 1, PublishRetries 0", async () => {
    const handler = await receiver("github");
    const { result, blobs } = await emfOf(() => handler(github("acc-1"), context()));
    expect(JSON.parse(result.body).status).to.equal("accepted");
    expect(blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted", "EventsPublished", "PublishRetries"),
        values: {
          service: "switchyard-webhooks",
          provider: "github",
          WebhookAccepted: 1,
          EventsPublished: 1,
          PublishRetries: 0,
        },
      },
    ]);
  });

  it("a duplicate: WebhookDuplicate 1 and no publishing metric; the metrics do not carry over between invocations", async () => {
    const handler = await receiver("github");
    const first = await emfOf(() => handler(github("dup-1"), context()));
    const second = await emfOf(() => handler(github("dup-1"), context()));
    expect(first.blobs.map((b) => metricsOf(b).values.WebhookAccepted)).to.deep.equal([1]);
    expect(JSON.parse(second.result.body).status).to.equal("duplicate");
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
    const handler = await receiver("github", { maxEntryBytes: 1024 });
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
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(0);
  });

  it("a publish whose entry failed once and was retried: PublishRetries 1, EventsPublished 1, accepted", async () => {
    const handler = await receiver("github");
    entryErrors = ["ThrottlingException"];
    const { result, blobs } = await emfOf(() => handler(github("retry-1"), context()));
    expect(JSON.parse(result.body).status).to.equal("accepted");
    expect(eb.commandCalls(PutEventsCommand)).to.have.length(2);
    expect(blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("WebhookAccepted", "EventsPublished", "PublishRetries"),
        values: {
          service: "switchyard-webhooks",
          provider: "github",
          WebhookAccepted: 1,
          EventsPublished: 1,
          PublishRetries: 1,
        },
      },
    ]);
  });

  it("a publish that fails after all retries (503) or for good (500): EventsPublishFailed, no delivery metric", async () => {
    const handler = await receiver("github");
    entryErrors = ["InternalFailure", "InternalFailure", "InternalFailure", "InternalFailure"];
    const transient = await emfOf(() => handler(github("fail-1"), context()));
    expect(transient.result.statusCode).to.equal(503);
    expect(transient.blobs.map(metricsOf)).to.deep.equal([
      {
        namespace: "Switchyard",
        dimensions: [["service"]],
        metrics: count("EventsPublished", "PublishRetries", "EventsPublishFailed"),
        values: {
          service: "switchyard-webhooks",
          provider: "github",
          EventsPublished: 0,
          PublishRetries: 3,
          EventsPublishFailed: 1,
        },
      },
    ]);
    entryErrors = ["AccessDeniedException"];
    const denied = await emfOf(() => handler(github("fail-2"), context()));
    expect(denied.result.statusCode).to.equal(500);
    expect(denied.blobs.map((b) => metricsOf(b).values)).to.deep.equal([
      {
        service: "switchyard-webhooks",
        provider: "github",
        EventsPublished: 0,
        PublishRetries: 0,
        EventsPublishFailed: 1,
      },
    ]);
    // The provider's redelivery of the transient failure is accepted and counted once.
    const again = await emfOf(() => handler(github("fail-1"), context()));
    expect(again.blobs.map((b) => metricsOf(b).values)).to.deep.equal([
      {
        service: "switchyard-webhooks",
        provider: "github",
        WebhookAccepted: 1,
        EventsPublished: 1,
        PublishRetries: 0,
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

  it("20 concurrent identical deliveries: one accepted and one publish counted, never mixed in one blob", async () => {
    const handler = await receiver("github");
    putEventsDelayMs = 100;
    const { result, blobs } = await emfOf(() =>
      Promise.all(Array.from({ length: 20 }, () => handler(github("conc-1"), context()))),
    );
    const values = blobs.map((b) => metricsOf(b).values);
    expect(values.filter((v) => "WebhookAccepted" in v)).to.deep.equal([
      {
        service: "switchyard-webhooks",
        provider: "github",
        WebhookAccepted: 1,
        EventsPublished: 1,
        PublishRetries: 0,
      },
    ]);
    const duplicates = result.filter(
      (r) => r.statusCode === 200 && JSON.parse(r.body).status === "duplicate",
    ).length;
    expect(values.filter((v) => "WebhookDuplicate" in v)).to.have.length(duplicates);
    for (const v of values.filter((x) => "WebhookDuplicate" in x))
      expect(v).to.deep.equal({
        service: "switchyard-webhooks",
        provider: "github",
        WebhookDuplicate: 1,
      });
    // The in-progress ones (503) emit nothing.
    expect(blobs).to.have.length(1 + duplicates);
  });

  it("never fails or changes an answer when the metrics fail; logs the fault and does not carry counts over", async () => {
    const metrics = makeMetrics(WEBHOOK_SERVICE);
    const handler = await receiver("github", {}, metrics);
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
      {
        service: "switchyard-webhooks",
        provider: "github",
        WebhookAccepted: 1,
        EventsPublished: 1,
        PublishRetries: 0,
      },
    ]);
  });
});
