// Asynchronous invocations in the local Lambda as Lambda runs them: a failing function (its own
// sandbox process) retried per its event invoke config, then its invocation record sent to the
// on-failure destination and the event to its dead-letter queue; a success to the on-success
// destination; an event past its maximum age discarded. The record's shape is Lambda's
// ("Capturing records of Lambda asynchronous invocations", Lambda developer guide: version,
// timestamp, requestContext, requestPayload, responseContext, responsePayload).
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { LocalFunction, LocalLambdas } from "../../local/lambdas";

const REGION = "eu-west-1";

/** Fails `event.failTimes` times in this sandbox, then answers. */
const FLAKY = `let calls = 0;
exports.handler = async (event) => {
  calls++;
  if (calls <= event.failTimes) throw new Error("boom " + event.id + " call " + calls);
  return { ok: event.id, calls };
};`;

const fn = (name: string, extra: Partial<LocalFunction> = {}): LocalFunction => ({
  name,
  arn: `arn:aws:lambda:${REGION}:123456789012:function:${name}`,
  archive: new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(FLAKY) }),
  environment: {},
  timeoutSeconds: 5,
  ...extra,
});

const ON_FAILURE = "arn:aws:sqs:eu-west-1:123456789012:failures";
const ON_SUCCESS = "arn:aws:events:eu-west-1:123456789012:event-bus/results";
const DLQ = "arn:aws:sqs:eu-west-1:123456789012:dead-letters";

describe("local Lambda: asynchronous invocations, retries and destinations", function () {
  this.timeout(60_000);
  const lines: string[] = [];
  const sent: { arn: string; record: any; success: boolean }[] = [];
  const deadLetters: { arn: string; event: unknown; attributes: any }[] = [];
  const delays: number[] = [];
  let lambdas: LocalLambdas;

  before(() => {
    lambdas = new LocalLambdas(
      new Map(
        [
          fn("defaults", { deadLetterTarget: DLQ }),
          fn("configured", {
            asyncConfig: { maximumRetryAttempts: 1, onFailure: ON_FAILURE, onSuccess: ON_SUCCESS },
          }),
          fn("aging", {
            asyncConfig: {
              maximumRetryAttempts: 2,
              maximumEventAgeInSeconds: 60,
              onFailure: ON_FAILURE,
            },
          }),
          fn("unrouted"),
        ].map((f) => [f.name, f]),
      ),
      {
        endpointUrl: "http://127.0.0.1:9",
        region: REGION,
        log: (l) => lines.push(l),
        sendToDestination: async (arn, record, success) => void sent.push({ arn, record, success }),
        sendToDeadLetter: async (arn, event, attributes) =>
          void deadLetters.push({ arn, event, attributes }),
        // 1 and 2 minutes at speed 0.001 (as --speed scales them).
        asyncRetryDelayMs: (attempt) => {
          delays.push(attempt);
          return (attempt === 0 ? 60_000 : 120_000) * 0.001;
        },
        eventAgeMs: (seconds) => seconds * 1000 * 0.001,
      },
    );
  });
  after(() => lambdas.stop());
  beforeEach(() => {
    sent.length = 0;
    deadLetters.length = 0;
    delays.length = 0;
  });

  it("retries twice by default, then sends the event to the dead-letter queue with Lambda's attributes", async () => {
    const requestId = lambdas.invokeAsync("defaults", { id: "d1", failTimes: 99 });
    await lambdas.drain();
    expect(delays).to.deep.equal([0, 1]);
    expect(
      lines.filter((l) => /function defaults failed \(async, attempt \d\/3\)/.test(l)),
    ).to.have.length(3);
    expect(sent).to.deep.equal([]);
    expect(deadLetters).to.deep.equal([
      {
        arn: DLQ,
        event: { id: "d1", failTimes: 99 },
        attributes: {
          RequestID: { DataType: "String", StringValue: requestId },
          ErrorCode: { DataType: "Number", StringValue: "200" },
          ErrorMessage: { DataType: "String", StringValue: "boom d1 call 3" },
        },
      },
    ]);
  });

  it("sends a RetriesExhausted invocation record to the on-failure destination after maximumRetryAttempts", async () => {
    const requestId = lambdas.invokeAsync("configured", { id: "c1", failTimes: 99 });
    await lambdas.drain();
    expect(sent).to.have.length(1);
    const { arn, record, success } = sent[0];
    expect([arn, success]).to.deep.equal([ON_FAILURE, false]);
    expect(Object.keys(record)).to.deep.equal([
      "version",
      "timestamp",
      "requestContext",
      "requestPayload",
      "responseContext",
      "responsePayload",
    ]);
    expect(record.version).to.equal("1.0");
    expect(new Date(record.timestamp).toISOString()).to.equal(record.timestamp);
    expect(record.requestContext).to.deep.equal({
      requestId,
      functionArn: `arn:aws:lambda:${REGION}:123456789012:function:configured:$LATEST`,
      condition: "RetriesExhausted",
      approximateInvokeCount: 2,
    });
    expect(record.requestPayload).to.deep.equal({ id: "c1", failTimes: 99 });
    expect(record.responseContext).to.deep.equal({
      statusCode: 200,
      executedVersion: "$LATEST",
      functionError: "Unhandled",
    });
    expect(Object.keys(record.responsePayload)).to.deep.equal([
      "errorType",
      "errorMessage",
      "trace",
    ]);
    expect(record.responsePayload.errorType).to.equal("Error");
    expect(record.responsePayload.errorMessage).to.equal("boom c1 call 2");
    expect(record.responsePayload.trace[0]).to.equal("Error: boom c1 call 2");
    expect(deadLetters).to.deep.equal([]);
  });

  it("sends a Success record to the on-success destination once a retry succeeds", async () => {
    // The sandbox counts calls: this one already failed twice above, so fail once more, then pass.
    const requestId = lambdas.invokeAsync("configured", { id: "c2", failTimes: 3 });
    await lambdas.drain();
    expect(sent).to.have.length(1);
    const { arn, record, success } = sent[0];
    expect([arn, success]).to.deep.equal([ON_SUCCESS, true]);
    expect(record.requestContext).to.deep.equal({
      requestId,
      functionArn: `arn:aws:lambda:${REGION}:123456789012:function:configured:$LATEST`,
      condition: "Success",
      approximateInvokeCount: 2,
    });
    expect(record.responseContext).to.deep.equal({ statusCode: 200, executedVersion: "$LATEST" });
    expect(record.responsePayload).to.deep.equal({ ok: "c2", calls: 4 });
  });

  it("discards an event older than maximumEventAgeInSeconds instead of retrying it (EventAgeExceeded)", async () => {
    // 60 s of age is 60 ms here; the first retry waits 60 ms: the event is too old by then.
    lambdas.invokeAsync("aging", { id: "a1", failTimes: 99 });
    await lambdas.drain();
    expect(lines.filter((l) => /function aging failed/.test(l))).to.have.length(1);
    expect(sent).to.have.length(1);
    expect(sent[0].record.requestContext).to.include({
      condition: "EventAgeExceeded",
      approximateInvokeCount: 1,
    });
    expect(sent[0].record.responsePayload.errorMessage).to.equal("boom a1 call 1");
  });

  it("drops an exhausted event without destinations, and says so", async () => {
    lambdas.invokeAsync("unrouted", { id: "u1", failTimes: 99 });
    await lambdas.drain();
    expect(sent).to.deep.equal([]);
    expect(deadLetters).to.deep.equal([]);
    expect(
      lines.some((l) => /function unrouted dropped async event after 3 attempts/.test(l)),
    ).to.equal(true);
  });
});
