import { expect } from "chai";
import { settle, setupMocks, valueOf } from "../../mocks";

setupMocks();
import { functionArchives, SwitchyardFunction } from "../../../components/lambda";
import { LambdaHost, materialize } from "../../../local/artifacts";
import { stdoutLinesOf } from "../emf";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  correlate,
  correlationIdFrom,
  CORRELATION_HEADER,
  makeLogger,
  makeMetrics,
  makeTelemetry,
  METRIC,
  METRICS_NAMESPACE,
  recordAccepted,
  recordDuplicate,
  recordPublish,
  recordRejected,
  REJECTION_REASONS,
} from "../../../handlers/lib/telemetry";

/** The JSON lines Powertools writes to stdout while `fn` runs. */
const capture = (fn: () => void): any[] => stdoutLinesOf(fn).map((l) => JSON.parse(l));

const fixed = () => "generated-id";

describe("telemetry: correlation ids", () => {
  it("reads the x-correlation-id header of a Function URL event, whatever its case", () => {
    expect(
      correlationIdFrom(
        { headers: { "X-Correlation-Id": "abc-123" }, requestContext: { requestId: "r1" } },
        fixed,
      ),
    ).to.equal("abc-123");
    expect(correlationIdFrom({ headers: { [CORRELATION_HEADER]: "abc-124" } }, fixed)).to.equal(
      "abc-124",
    );
  });

  it("falls back to x-request-id, then to the request id of an HTTP event", () => {
    expect(
      correlationIdFrom(
        { headers: { "x-request-id": "req-9" }, requestContext: { requestId: "r1" } },
        fixed,
      ),
    ).to.equal("req-9");
    // API Gateway REST sends headers: null when there are none.
    expect(
      correlationIdFrom({ headers: null, requestContext: { requestId: "c0ffee-1" } }, fixed),
    ).to.equal("c0ffee-1");
  });

  it("reads a bus event's detail.correlationId, then detail.metadata.correlationId, then the event id", () => {
    const ev = (detail: object) => ({ id: "ev-1", source: "s", "detail-type": "T", detail });
    expect(
      correlationIdFrom(
        ev({ correlationId: "corr-1", metadata: { correlationId: "corr-2" } }),
        fixed,
      ),
    ).to.equal("corr-1");
    expect(correlationIdFrom(ev({ metadata: { correlationId: "corr-2" } }), fixed)).to.equal(
      "corr-2",
    );
    expect(correlationIdFrom(ev({}), fixed)).to.equal("ev-1");
  });

  it("reads a workflow input's correlationId and a plain headers map", () => {
    expect(correlationIdFrom({ correlationId: "wf-1", recordId: "r" }, fixed)).to.equal("wf-1");
    expect(correlationIdFrom({ "X-Request-Id": "h-1" }, fixed)).to.equal("h-1");
  });

  it("replaces ids that would break an input transformer's JSON, or are too long, with a new one", () => {
    expect(correlationIdFrom({ headers: { "x-correlation-id": 'a"b' } }, fixed)).to.equal(
      "generated-id",
    );
    expect(correlationIdFrom({ headers: { "x-correlation-id": "a\\b" } }, fixed)).to.equal(
      "generated-id",
    );
    expect(correlationIdFrom({ headers: { "x-correlation-id": "a".repeat(129) } }, fixed)).to.equal(
      "generated-id",
    );
    expect(correlationIdFrom({ headers: { "x-correlation-id": "a".repeat(128) } }, fixed)).to.equal(
      "a".repeat(128),
    );
    expect(correlationIdFrom(undefined, fixed)).to.equal("generated-id");
    expect(correlationIdFrom({ headers: {} })).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe("telemetry: logger and EMF metrics", () => {
  it("logs JSON with the service and the correlation id, at the LOG_LEVEL", () => {
    const logger = makeLogger("webhooks", { logLevel: "info" });
    const lines = capture(() => {
      logger.setCorrelationId("corr-7");
      logger.debug("hidden");
      logger.info("delivery accepted", { provider: "github" });
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      level: "INFO",
      message: "delivery accepted",
      service: "webhooks",
      correlation_id: "corr-7",
      provider: "github",
    });
  });

  it("correlate: each invocation's lines carry its id only, the logger's persistent keys stay", () => {
    const logger = new Logger({ serviceName: "webhooks", persistentKeys: { provider: "github" } });
    const lines = capture(() => {
      correlate(logger, "corr-a");
      logger.appendKeys({ deliveryId: "d-a" });
      logger.info("first");
      correlate(logger, "corr-b");
      logger.info("second");
    });
    expect(lines[0]).to.include({
      message: "first",
      correlation_id: "corr-a",
      deliveryId: "d-a",
      provider: "github",
    });
    expect(lines[1]).to.include({
      message: "second",
      correlation_id: "corr-b",
      provider: "github",
    });
    expect(lines[1]).to.not.have.property("deliveryId");
    expect(correlate(undefined, "x")).to.equal("x");
  });

  it("emits accepted, duplicate and publish counts in one EMF blob with the service dimension", () => {
    const metrics = makeMetrics("webhooks");
    const [emf] = capture(() => {
      recordAccepted(metrics);
      recordDuplicate(metrics);
      recordPublish(metrics, { delivered: 12, retries: 2, failed: [] });
      metrics.publishStoredMetrics();
    });
    expect(emf._aws.CloudWatchMetrics).to.deep.equal([
      {
        Namespace: "Switchyard",
        Dimensions: [["service"]],
        Metrics: [
          { Name: "WebhookAccepted", Unit: "Count" },
          { Name: "WebhookDuplicate", Unit: "Count" },
          { Name: "EventsPublished", Unit: "Count" },
          { Name: "PublishRetries", Unit: "Count" },
        ],
      },
    ]);
    expect(emf).to.include({
      service: "webhooks",
      WebhookAccepted: 1,
      WebhookDuplicate: 1,
      EventsPublished: 12,
      PublishRetries: 2,
    });
  });

  it("counts events that could not be published", () => {
    const metrics = makeMetrics("ingest");
    const [emf] = capture(() => {
      recordPublish(metrics, { delivered: 8, retries: 3, failed: [{}, {}] });
      metrics.publishStoredMetrics();
    });
    expect(emf).to.include({
      service: "ingest",
      EventsPublished: 8,
      PublishRetries: 3,
      EventsPublishFailed: 2,
    });
  });

  it("emits a rejection at once with its reason, without putting the reason on other metrics", () => {
    const { metrics } = makeTelemetry("webhooks");
    const lines = capture(() => {
      recordAccepted(metrics);
      recordRejected(metrics, REJECTION_REASONS.timestamp, "stripe");
      metrics.publishStoredMetrics();
    });
    expect(lines).to.have.length(2);
    const [rejected, rest] = lines;
    expect(rejected._aws.CloudWatchMetrics[0]).to.deep.equal({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [["service", "reason"]],
      Metrics: [{ Name: METRIC.deliveryRejected, Unit: "Count" }],
    });
    expect(rejected).to.include({
      service: "webhooks",
      reason: "timestamp",
      provider: "stripe",
      WebhookRejected: 1,
    });
    expect(rest._aws.CloudWatchMetrics[0].Dimensions).to.deep.equal([["service"]]);
    expect(rest).to.not.have.property("reason");
  });
});

describe("telemetry in a bundled Lambda artifact", () => {
  let host: LambdaHost | undefined;
  after(async () => host?.stop());

  it("builds the logger and metrics at cold start and carries the caller's correlation id", async () => {
    const fn = new SwitchyardFunction("telemetry-probe", {
      logRetentionDays: 1,
      grants: [],
      handler: { module: "test/fixtures/telemetryProbe", factory: "createTelemetryProbe" },
    });
    await valueOf(fn.function.arn);
    await settle();
    host = await LambdaHost.start(await materialize(functionArchives.get("telemetry-probe")!), {
      timeoutSeconds: 5,
    });
    const out = await host.invoke({
      headers: { "x-correlation-id": "from-caller-1" },
      requestContext: { requestId: "r" },
    });
    expect(out).to.deep.equal({ correlationId: "from-caller-1" });
    const lines = host.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.message === "handled")).to.include({
      service: "probe",
      correlation_id: "from-caller-1",
    });
    expect(lines.find((l) => l._aws)).to.include({ service: "probe", WebhookAccepted: 1 });
  });
});
