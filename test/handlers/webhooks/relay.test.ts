// The webhook relay (makeRelay) given DynamoDB stream batches as Lambda hands them over: records
// built by hand with the stored delivery's layout (handlers/webhooks/outbox.ts), EventBridge and
// SQS (the hub's DLQ) behind aws-sdk-client-mock on client instances. The last tests run it behind
// the deliveries table's stream mapping (RelayStreams: local/streams.ts with the component's
// settings) against dynalite.
import { expect } from "chai";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { BatchWriteItemCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { makeRelay, readRelayConfig, sqsText } from "../../../handlers/webhooks/relay";
import { deliveryItemId, storeDeliveryInput } from "../../../handlers/webhooks/outbox";
import { makeMetrics, WEBHOOK_SERVICE } from "../../../handlers/lib/telemetry";
import { eventSource } from "../../../lib/contracts";
import { LocalDynamo, mockInstance, startLocalDynamo } from "../../support/aws";
import { expectRefusedEvents } from "../../support/publishedEvents";
import { createIdempotencyTable, RelayStreams, scanTable } from "./localServices";
import { emfOf } from "../emf";

const BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-test";
const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/switchyard-test-dlq";
const NOW_S = 1_800_000_000;
const STREAM_ARN =
  "arn:aws:dynamodb:eu-west-1:123456789012:table/relay-test/stream/2026-12-06T00:00:00.000";
/** Marks every payload, so a log line that carries one is found. */
const PAYLOAD_MARKER = "payload-only-the-bus-may-see";

const eventBridge = new EventBridgeClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const eb = mockInstance(eventBridge);
const sqs = new SQSClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const sqsMock = mockInstance(sqs);

/** The error code PutEvents answers for an entry of this delivery id (undefined = accepted). */
let entryError: (deliveryId: string) => string | undefined = () => undefined;
/** The ErrorMessage PutEvents answers with a refused entry's code. */
let entryErrorMessage: (code: string) => string = (code) => `${code} (injected)`;
/** When set, every PutEvents call is rejected with it. */
let callError: Error | undefined;
/** When set, every SQS SendMessage (a dead letter) is rejected with it. */
let sendMessageError: Error | undefined;
/** The delivery ids of the entries PutEvents accepted, in order. */
let published: string[] = [];

function installFakes() {
  eb.reset();
  sqsMock.reset();
  eb.on(PutEventsCommand).callsFake(async (input) => {
    if (callError) throw callError;
    const ids = input.Entries.map((e: any) => JSON.parse(e.Detail).deliveryId as string);
    const codes = ids.map((id: string) => entryError(id));
    published.push(...ids.filter((_: string, i: number) => !codes[i]));
    return {
      FailedEntryCount: codes.filter(Boolean).length,
      Entries: codes.map((code: string | undefined, i: number) =>
        code ? { ErrorCode: code, ErrorMessage: entryErrorMessage(code) } : { EventId: `ev-${i}` },
      ),
    };
  });
  sqsMock.on(SendMessageCommand).callsFake(async () => {
    if (sendMessageError) throw sendMessageError;
    return { MessageId: "00000000-0000-4000-8000-000000000001" };
  });
}

const awsError = (name: string, message: string, httpStatusCode: number) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

/** Every PutEvents call's entries, in order. */
const calls = () => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries as any[]);
/** The delivery ids of each PutEvents call's entries, in order. */
const callIds = () => calls().map((entries) => entries.map((e) => JSON.parse(e.Detail).deliveryId));
/** The delivery ids of every entry handed to PutEvents, in order. */
const sentIds = () => callIds().flat();

/** Every dead letter the relay sent (SendMessage inputs, the body parsed), in order. */
const deadLetters = () =>
  sqsMock.commandCalls(SendMessageCommand).map((c) => {
    const input = c.args[0].input;
    return { ...input, MessageBody: JSON.parse(input.MessageBody!) };
  });

/** The detail a github receiver stores for a delivery. */
function detailOf(deliveryId: string, note = PAYLOAD_MARKER) {
  return {
    provider: "github",
    deliveryId,
    correlationId: `corr-${deliveryId}`,
    eventType: "pull_request",
    receivedAt: new Date(NOW_S * 1000).toISOString(),
    headers: { "x-github-event": "pull_request" },
    payload: { action: "opened", note },
  };
}

/** The dead letter of a delivery refused for good (body parsed), as EventBridge writes one. */
function deadLetterOf(
  deliveryId: string,
  errorCode: string,
  o: { errorMessage?: string; detail?: unknown } = {},
) {
  return {
    QueueUrl: DLQ_URL,
    MessageBody: {
      version: "0",
      // The stored item's id: a redrive publishes the delivery under it once.
      id: deliveryItemId("github", `github:${deliveryId}`),
      "detail-type": "pull_request",
      source: "switchyard.webhooks.github",
      time: "2027-01-15T08:00:00.000Z",
      resources: [],
      detail: o.detail ?? detailOf(deliveryId),
    },
    MessageAttributes: {
      TARGET_ARN: { DataType: "String", StringValue: BUS_ARN },
      ERROR_CODE: { DataType: "String", StringValue: errorCode },
      ERROR_MESSAGE: {
        DataType: "String",
        StringValue: o.errorMessage ?? `${errorCode} (injected)`,
      },
      RETRY_ATTEMPTS: { DataType: "Number", StringValue: "0" },
    },
  };
}

/** The item a github receiver stores for a delivery (what its stream record's NewImage holds). */
function deliveryImage(deliveryId: string, detail: unknown = detailOf(deliveryId)) {
  const correlationId = `corr-${deliveryId}`;
  return storeDeliveryInput(
    "relay-test",
    {
      id: deliveryItemId("github", `github:${deliveryId}`),
      expiresAt: NOW_S + 3600,
      entry: {
        Source: eventSource("github"),
        DetailType: "pull_request",
        Detail: typeof detail === "string" ? detail : JSON.stringify(detail),
      },
      deliveryId,
      correlationId,
    },
    NOW_S,
  ).Item;
}

let seq = 0;
const nextSequenceNumber = () => String(100000000000000000000n + BigInt(++seq));

/** A stream record as Lambda hands it to the relay (a NEW_IMAGE stream unless an old image is given). */
function record(
  eventName: "INSERT" | "MODIFY" | "REMOVE",
  images: { newImage?: Record<string, any>; oldImage?: Record<string, any> },
): DynamoDBRecord {
  const image = images.newImage ?? images.oldImage!;
  return {
    eventID: `event-${seq}`,
    eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    dynamodb: {
      ApproximateCreationDateTime: NOW_S,
      Keys: { id: image.id },
      ...(images.newImage ? { NewImage: images.newImage } : {}),
      ...(images.oldImage ? { OldImage: images.oldImage } : {}),
      SequenceNumber: nextSequenceNumber(),
      SizeBytes: JSON.stringify(image).length,
      StreamViewType: images.oldImage ? "NEW_AND_OLD_IMAGES" : "NEW_IMAGE",
    },
    eventSourceARN: STREAM_ARN,
  } as DynamoDBRecord;
}

const inserted = (deliveryId: string) => record("INSERT", { newImage: deliveryImage(deliveryId) });
const modified = (deliveryId: string) => record("MODIFY", { newImage: deliveryImage(deliveryId) });
const batch = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const sequenceNumbers = (records: DynamoDBRecord[]) =>
  records.map((r) => r.dynamodb!.SequenceNumber!);
/** The batch response that reports these records failed. */
const reported = (records: DynamoDBRecord[]) => ({
  batchItemFailures: sequenceNumbers(records).map((itemIdentifier) => ({ itemIdentifier })),
});

interface LogLine {
  level: string;
  message: string;
  extra: Record<string, unknown>;
}

function relayWith(
  o: { logs?: LogLine[]; metrics?: ReturnType<typeof makeMetrics>; maxEntryBytes?: number } = {},
) {
  const push =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      o.logs?.push({ level, message, extra: Object.assign({}, ...extra) });
  return makeRelay({
    config: {
      eventBusArn: BUS_ARN,
      maxEntryBytes: o.maxEntryBytes ?? 262144,
      deadLetterQueueUrl: DLQ_URL,
    },
    eventBridge,
    sqs,
    logger: { info: push("info"), error: push("error") },
    metrics: o.metrics,
    // The publisher's retries without their backoff.
    publisher: { sleep: async () => undefined },
  });
}

describe("handlers/webhooks/relay sqsText (ERROR_MESSAGE as SQS accepts it)", () => {
  it("cuts by characters, never inside a surrogate pair, and drops what SQS refuses", () => {
    // 999 letters then an emoji (two UTF-16 units): the cut at 1000 keeps the whole emoji.
    expect(sqsText(`${"a".repeat(999)}😀b`, 1000)).to.equal(`${"a".repeat(999)}😀`);
    // A lone surrogate, NUL, a control character and U+FFFE are not allowed; tab, LF, CR are.
    expect(sqsText("x\ud800y\u0000\u0007z\ufffe\t\n\r!", 100)).to.equal("xyz\t\n\r!");
    expect(sqsText("short", 1000)).to.equal("short");
  });
});

describe("handlers/webhooks/relay", function () {
  beforeEach(() => {
    installFakes();
    entryError = () => undefined;
    entryErrorMessage = (code) => `${code} (injected)`;
    callError = undefined;
    sendMessageError = undefined;
    published = [];
  });
  after(() => {
    eb.restore();
    sqsMock.restore();
  });

  it("publishes INSERT and MODIFY deliveries in stream order, in calls of at most 10 entries", async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `d-${i + 1}`);
    const records = ids.map((id, i) => (i % 3 === 2 ? modified(id) : inserted(id)));
    const result = await relayWith()(batch(...records));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(calls().map((entries) => entries.length)).to.deep.equal([10, 10, 3]);
    expect(sentIds()).to.deep.equal(ids);
    expect(published).to.deep.equal(ids);
    // Each entry is the stored event, on the configured bus (named by its ARN).
    expect(calls()[0][0]).to.deep.equal({
      EventBusName: BUS_ARN,
      Source: "switchyard.webhooks.github",
      DetailType: "pull_request",
      Detail: records[0].dynamodb!.NewImage!.detail.S,
    });
    expect(deadLetters()).to.deep.equal([]);
  });

  it("skips REMOVE records and images that are not stored deliveries", async () => {
    const logs: LogLine[] = [];
    // What Powertools idempotency stored for a delivery before the outbox (an earlier deployment).
    const idempotencyRecord = {
      id: { S: deliveryItemId("github", "github:old-1") },
      expiration: { N: String(NOW_S + 60) },
      status: { S: "COMPLETED" },
      data: { S: '{"statusCode":200}' },
    };
    const records = [
      inserted("s-1"),
      // The TTL forgetting a delivery (with its old image, as a NEW_AND_OLD_IMAGES stream has it).
      record("REMOVE", { oldImage: deliveryImage("s-0") }),
      record("INSERT", { newImage: idempotencyRecord }),
      record("MODIFY", { newImage: { ...idempotencyRecord, status: { S: "INPROGRESS" } } }),
      modified("s-2"),
    ];
    const result = await relayWith({ logs })(batch(...records));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(sentIds()).to.deep.equal(["s-1", "s-2"]);
    expect(
      logs
        .filter((l) => l.message === "stream record is not a stored delivery")
        .map((l) => l.extra),
    ).to.deep.equal([
      { eventName: "INSERT", sequenceNumber: records[2].dynamodb!.SequenceNumber },
      { eventName: "MODIFY", sequenceNumber: records[3].dynamodb!.SequenceNumber },
    ]);

    // A batch with nothing to publish makes no call at all.
    eb.resetHistory();
    const none = await relayWith()(
      batch(
        record("REMOVE", { oldImage: deliveryImage("s-3") }),
        record("INSERT", { newImage: idempotencyRecord }),
      ),
    );
    expect(none).to.deep.equal({ batchItemFailures: [] });
    expect(calls()).to.deep.equal([]);
    expect(deadLetters()).to.deep.equal([]);
  });

  it("when an entry fails after the publisher's retries, reports it and every later record failed, and publishes nothing after it", async () => {
    const ids = Array.from({ length: 13 }, (_, i) => `f-${i + 1}`);
    const records = ids.map(inserted);
    entryError = (id) => (id === "f-4" ? "InternalFailure" : undefined);
    const result = await relayWith()(batch(...records));
    expect(result).to.deep.equal(reported(records.slice(3)));
    // The first ten in one call, then f-4 alone on each of the publisher's retries (4 attempts);
    // the records after the first ten are never sent.
    expect(callIds()).to.deep.equal([ids.slice(0, 10), ["f-4"], ["f-4"], ["f-4"]]);

    // A failure in a later call, with a code the relay does not know (so transient) and the
    // publisher does not retry: the calls before it stand, the records from it on are reported.
    eb.resetHistory();
    entryError = (id) => (id === "f-12" ? "SomeNewErrorCode" : undefined);
    const later = await relayWith()(batch(...records));
    expect(later).to.deep.equal(reported(records.slice(11)));
    expect(calls().map((entries) => entries.length)).to.deep.equal([10, 3]);
    // A transient failure is Lambda's to retry: nothing goes to the DLQ.
    expect(deadLetters()).to.deep.equal([]);
  });

  it("a transient failure of the first call leaves the later calls unmade, whatever their records", async () => {
    const records = Array.from({ length: 12 }, (_, i) => inserted(`c-${i + 1}`));
    callError = awsError("ServiceUnavailableException", "Service is unavailable", 503);
    const result = await relayWith()(batch(...records));
    expect(result).to.deep.equal(reported(records));
    // The publisher's 4 attempts of the first ten, none of the last two.
    expect(calls().map((entries) => entries.length)).to.deep.equal([10, 10, 10, 10]);
    expect(deadLetters()).to.deep.equal([]);
  });

  it("a call refused for good (the role may not publish to the bus) dead-letters each of its entries, and the later calls are made", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `a-${i + 1}`);
    const message = "User is not authorized to perform: events:PutEvents";
    callError = awsError("AccessDeniedException", message, 400);
    const result = await relayWith()(batch(...ids.map(inserted)));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    // Not retried: one call per ten.
    expect(calls().map((entries) => entries.length)).to.deep.equal([10, 2]);
    expect(deadLetters()).to.deep.equal(
      ids.map((id) => deadLetterOf(id, "AccessDeniedException", { errorMessage: message })),
    );
  });

  it("sends a delivery refused for good whole to the hub's DLQ, as EventBridge writes a dead letter, and publishes the ones around it", async () => {
    const records = [inserted("p-1"), inserted("p-2"), inserted("p-3")];
    entryError = (id) => (id === "p-2" ? "AccessDeniedException" : undefined);
    const result = await relayWith()(batch(...records));
    // The refused record is handled: nothing is reported, so Lambda moves past the batch.
    expect(result).to.deep.equal({ batchItemFailures: [] });
    // One call, not retried, of which EventBridge accepted the first and third entries.
    expect(callIds()).to.deep.equal([["p-1", "p-2", "p-3"]]);
    expect(published).to.deep.equal(["p-1", "p-3"]);
    expect(deadLetters()).to.deep.equal([deadLetterOf("p-2", "AccessDeniedException")]);
  });

  it("dead-letters every per-entry code a retry cannot change", async () => {
    const relay = relayWith();
    const codes = [
      "AccessDeniedException",
      "NotAuthorized",
      "ResourceNotFoundException",
      "ValidationException",
      "InvalidArgument",
    ];
    for (const code of codes) {
      eb.resetHistory();
      sqsMock.resetHistory();
      entryError = () => code;
      expect(await relay(batch(inserted(`code-${code}`))), code).to.deep.equal({
        batchItemFailures: [],
      });
      expect(calls(), code).to.have.length(1);
      expect(deadLetters(), code).to.deep.equal([deadLetterOf(`code-${code}`, code)]);
    }
  });

  it("when the dead letter cannot be sent, reports the refused record and every later one failed, and makes no later call", async () => {
    const logs: LogLine[] = [];
    const relay = relayWith({ logs });
    const ids = Array.from({ length: 12 }, (_, i) => `q-${i + 1}`);
    const records = ids.map(inserted);
    entryError = (id) => (id === "q-2" ? "AccessDeniedException" : undefined);
    sendMessageError = awsError("QueueDoesNotExist", "The specified queue does not exist.", 400);
    const result = await relay(batch(...records));
    expect(result).to.deep.equal(reported(records.slice(1)));
    // The first call only: q-11 and q-12 are not sent. q-3 to q-10 were published.
    expect(callIds()).to.deep.equal([ids.slice(0, 10)]);
    expect(deadLetters()).to.deep.equal([deadLetterOf("q-2", "AccessDeniedException")]);
    expect(logs.filter((l) => l.level === "error")).to.deep.equal([
      {
        level: "error",
        message: "webhook not published, and not sent to the DLQ",
        extra: {
          deliveryId: "q-2",
          correlationId: "corr-q-2",
          errorCode: "AccessDeniedException",
          error: "AccessDeniedException (injected)",
          dlqError: "QueueDoesNotExist: The specified queue does not exist.",
        },
      },
    ]);

    // Lambda's retry of the reported records, once the queue takes messages again, in the same
    // environment: q-3 to q-10 are remembered as published and not sent again.
    eb.resetHistory();
    sqsMock.resetHistory();
    sendMessageError = undefined;
    expect(await relay(batch(...records.slice(1)))).to.deep.equal({ batchItemFailures: [] });
    expect(callIds()).to.deep.equal([["q-2", "q-11", "q-12"]]);
    expect(deadLetters()).to.deep.equal([deadLetterOf("q-2", "AccessDeniedException")]);
    // A fresh environment (a cold start) remembers nothing: it publishes them again, and consumers
    // deduplicate on the delivery id, as for any at-least-once delivery.
    eb.resetHistory();
    sqsMock.resetHistory();
    entryError = () => undefined;
    expect(await relayWith({ logs: [] })(batch(...records.slice(1)))).to.deep.equal({
      batchItemFailures: [],
    });
    expect(callIds()).to.deep.equal([ids.slice(1, 11), ids.slice(11)]);
    // The same environment again: every record of the batch was handled, nothing is sent.
    eb.resetHistory();
    expect(await relay(batch(...records))).to.deep.equal({ batchItemFailures: [] });
    expect(callIds()).to.deep.equal([]);
  });

  it("dead-letters an entry over the relay's bus limit (EntryTooLarge) without sending it, and publishes the rest", async () => {
    const big = detailOf("big-2", "x".repeat(2000));
    const records = [
      inserted("big-1"),
      record("INSERT", { newImage: deliveryImage("big-2", big) }),
      inserted("big-3"),
    ];
    // EventBridge's entry size: source, detail-type and detail, in UTF-8 bytes.
    const size = Buffer.byteLength(`switchyard.webhooks.githubpull_request${JSON.stringify(big)}`);
    const result = await relayWith({ maxEntryBytes: 1024 })(batch(...records));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(callIds()).to.deep.equal([["big-1", "big-3"]]);
    expect(published).to.deep.equal(["big-1", "big-3"]);
    expect(deadLetters()).to.deep.equal([
      deadLetterOf("big-2", "EntryTooLarge", {
        errorMessage: `entry is ${size} bytes, more than the bus limit of 1024 bytes`,
        detail: big,
      }),
    ]);
  });

  it("dead-letters a stored delivery its event contract refuses, with the publisher's code and the detail as stored", async () => {
    // An item an earlier deployment stored, refused by the publisher on purpose here.
    expectRefusedEvents();
    const records = [
      record("INSERT", { newImage: deliveryImage("bad-1", "not json") }),
      inserted("bad-2"),
    ];
    const before = Date.now();
    const result = await relayWith()(batch(...records));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(callIds()).to.deep.equal([["bad-2"]]);
    const letters = deadLetters();
    expect(letters).to.have.length(1);
    const { time, ...body } = letters[0].MessageBody;
    const expected = deadLetterOf("bad-1", "MalformedDetail", {
      errorMessage: "detail is not valid JSON",
      detail: "not json",
    });
    const { time: _receivedAt, ...expectedBody } = expected.MessageBody;
    expect({ ...letters[0], MessageBody: body }).to.deep.equal({
      ...expected,
      MessageBody: expectedBody,
    });
    // Without a receivedAt in the detail, the time is when it was dead-lettered.
    expect(Date.parse(time)).to.be.within(before, Date.now());
  });

  it("puts at most the first 1000 characters of the bus's error message in ERROR_MESSAGE, and the code when there is none", async () => {
    const relay = relayWith();
    const cases: Array<[string, string]> = [
      ["m".repeat(999), "m".repeat(999)],
      ["m".repeat(1000), "m".repeat(1000)],
      ["n".repeat(1001), "n".repeat(1000)],
      [`${"a".repeat(1000)}${"b".repeat(4000)}`, "a".repeat(1000)],
      ["", "AccessDeniedException"],
    ];
    entryError = () => "AccessDeniedException";
    for (const [i, [message, expected]] of cases.entries()) {
      sqsMock.resetHistory();
      entryErrorMessage = () => message;
      expect(await relay(batch(inserted(`t-${i}`)))).to.deep.equal({ batchItemFailures: [] });
      expect(deadLetters(), `message of ${message.length}`).to.deep.equal([
        deadLetterOf(`t-${i}`, "AccessDeniedException", { errorMessage: expected }),
      ]);
    }
  });

  it('logs "webhook published" / "webhook not published" with the delivery and correlation ids, never the detail or payload', async () => {
    const logs: LogLine[] = [];
    const records = [inserted("l-1"), inserted("l-2"), inserted("l-3"), inserted("l-4")];
    entryError = (id) =>
      ({ "l-2": "AccessDeniedException", "l-4": "InternalFailure" })[id] ?? undefined;
    await relayWith({ logs })(batch(...records));
    expect(logs).to.deep.equal([
      {
        level: "info",
        message: "webhook published",
        extra: { deliveryId: "l-1", correlationId: "corr-l-1", eventType: "pull_request" },
      },
      {
        level: "error",
        message: "webhook not published: sent to the DLQ",
        extra: {
          deliveryId: "l-2",
          correlationId: "corr-l-2",
          errorCode: "AccessDeniedException",
          error: "AccessDeniedException (injected)",
        },
      },
      {
        level: "info",
        message: "webhook published",
        extra: { deliveryId: "l-3", correlationId: "corr-l-3", eventType: "pull_request" },
      },
      {
        level: "error",
        message: "webhook not published",
        extra: {
          deliveryId: "l-4",
          correlationId: "corr-l-4",
          sequenceNumber: records[3].dynamodb!.SequenceNumber,
          errorCode: "InternalFailure",
          error: "InternalFailure (injected)",
        },
      },
    ]);
    const logged = JSON.stringify(logs);
    expect(logged).to.not.contain(PAYLOAD_MARKER);
    expect(logged).to.not.contain("receivedAt");
    // The DLQ, unlike the logs, holds the delivery whole.
    expect(JSON.stringify(deadLetters())).to.contain(PAYLOAD_MARKER);
  });

  it("reads EVENT_BUS_ARN, MAX_ENTRY_BYTES and DEAD_LETTER_QUEUE_URL, and throws naming a missing or bad one", () => {
    const env = {
      EVENT_BUS_ARN: BUS_ARN,
      MAX_ENTRY_BYTES: "262144",
      DEAD_LETTER_QUEUE_URL: DLQ_URL,
    };
    expect(readRelayConfig(env)).to.deep.equal({
      eventBusArn: BUS_ARN,
      maxEntryBytes: 262144,
      deadLetterQueueUrl: DLQ_URL,
    });
    for (const name of Object.keys(env)) {
      for (const missing of [undefined, ""]) {
        expect(() => readRelayConfig({ ...env, [name]: missing }), name).to.throw(
          new RegExp(`^${name} is not set$`),
        );
      }
    }
    for (const bad of ["0", "-1", "1.5", "lots"]) {
      expect(() => readRelayConfig({ ...env, MAX_ENTRY_BYTES: bad }), bad).to.throw(
        `MAX_ENTRY_BYTES must be an integer >= 1, got "${bad}"`,
      );
    }
  });

  it("counts dead-lettered and failed entries in EventsPublishFailed, beside the published ones and the retries", async () => {
    const metrics = makeMetrics(WEBHOOK_SERVICE);
    const relay = relayWith({ metrics });
    const records = [inserted("k-1"), inserted("k-2"), inserted("k-3")];
    entryError = (id) =>
      ({ "k-2": "AccessDeniedException", "k-3": "InternalFailure" })[id] ?? undefined;
    const mixed = await emfOf(() => relay(batch(...records)));
    expect(mixed.result).to.deep.equal(reported(records.slice(2)));
    expect(mixed.blobs.map(({ _aws, ...v }) => [_aws.CloudWatchMetrics[0], v])).to.deep.equal([
      [
        {
          Namespace: "Switchyard",
          Dimensions: [["service"]],
          Metrics: [
            { Name: "EventsPublished", Unit: "Count" },
            { Name: "PublishRetries", Unit: "Count" },
            { Name: "EventsPublishFailed", Unit: "Count" },
          ],
        },
        {
          service: "switchyard-webhooks",
          // k-1; k-3 retried 3 times by the publisher; k-2 dead-lettered and k-3 failed.
          EventsPublished: 1,
          PublishRetries: 3,
          EventsPublishFailed: 2,
        },
      ],
    ]);

    // Only dead-lettered: the batch is handled, and the refusal still counts as a failure.
    entryError = (id) => (id === "k-5" ? "AccessDeniedException" : undefined);
    const deadLettered = await emfOf(() => relay(batch(inserted("k-4"), inserted("k-5"))));
    expect(deadLettered.result).to.deep.equal({ batchItemFailures: [] });
    expect(deadLettered.blobs.map(({ _aws, ...v }) => v)).to.deep.equal([
      {
        service: "switchyard-webhooks",
        EventsPublished: 1,
        PublishRetries: 0,
        EventsPublishFailed: 1,
      },
    ]);
  });

  it("a metrics fault never changes the batch response: it is logged, and no counts carry over", async () => {
    const logs: LogLine[] = [];
    const metrics = makeMetrics(WEBHOOK_SERVICE);
    const relay = relayWith({ logs, metrics });
    const realFlush = metrics.publishStoredMetrics.bind(metrics);
    metrics.publishStoredMetrics = () => {
      throw new Error("stdout closed");
    };
    entryError = (id) => (id === "m-1" ? "InternalFailure" : undefined);
    const failing = batch(inserted("m-1"));
    const flushFails = await emfOf(() => relay(failing));
    expect(flushFails.result).to.deep.equal(reported(failing.Records));
    expect(flushFails.blobs).to.deep.equal([]);
    expect(
      logs.find((l) => l.message === "webhook relay metrics not flushed")?.extra,
    ).to.deep.equal({ error: "stdout closed" });
    metrics.publishStoredMetrics = realFlush;

    const next = await emfOf(() => relay(batch(inserted("m-2"))));
    expect(next.result).to.deep.equal({ batchItemFailures: [] });
    expect(
      next.blobs.map(({ _aws, ...values }) => ({
        dimensions: _aws.CloudWatchMetrics[0].Dimensions,
        values,
      })),
    ).to.deep.equal([
      {
        dimensions: [["service"]],
        values: { service: "switchyard-webhooks", EventsPublished: 1, PublishRetries: 0 },
      },
    ]);
  });

  describe("behind the deliveries table's stream mapping", function () {
    let ddb: LocalDynamo;
    before(async () => {
      ddb = await startLocalDynamo();
    });
    after(async () => {
      await ddb.close();
    });

    /** Stores the deliveries in one write, so their records reach the relay in one batch. */
    async function store(streams: RelayStreams, table: string, ids: string[]) {
      await streams.client.send(
        new BatchWriteItemCommand({
          RequestItems: { [table]: ids.map((id) => ({ PutRequest: { Item: deliveryImage(id) } })) },
        }),
      );
      await streams.settled();
    }

    it("a batch whose middle delivery the bus refuses for good: one invocation, the first and third published, the middle in the DLQ, nothing on-failure", async () => {
      const table = "relay-refused";
      await createIdempotencyTable(ddb.client, table);
      const streams = new RelayStreams(ddb.client);
      const relay = relayWith();
      const answers: unknown[] = [];
      streams.feed(table, async (event) => {
        const answer = await relay(event);
        answers.push(answer);
        return answer;
      });
      entryError = (id) => (id === "e-2" ? "AccessDeniedException" : undefined);
      const ids = ["e-1", "e-2", "e-3"];
      await store(streams, table, ids);

      expect(streams.invocations).to.have.length(1);
      const records: DynamoDBRecord[] = streams.invocations[0].Records;
      expect(records.map((r) => [r.eventName, r.dynamodb!.NewImage!.deliveryId.S])).to.deep.equal(
        ids.map((id) => ["INSERT", id]),
      );
      expect(answers).to.deep.equal([{ batchItemFailures: [] }]);
      expect(published).to.deep.equal(["e-1", "e-3"]);
      expect(deadLetters()).to.deep.equal([deadLetterOf("e-2", "AccessDeniedException")]);
      expect(streams.onFailure).to.deep.equal([]);
    });

    it("a bus failing transiently past the mapping's retries: maximumRetryAttempts+1 invocations, one on-failure pointer to the records, the items kept", async () => {
      const table = "relay-unavailable";
      await createIdempotencyTable(ddb.client, table);
      const streams = new RelayStreams(ddb.client);
      // The component's 10,000 retries (RELAY_STREAM_SETTINGS) would be 40,004 calls here; two
      // end the same way.
      const maximumRetryAttempts = 2;
      streams.feed(table, relayWith(), { maximumRetryAttempts });
      entryError = () => "InternalFailure";
      const ids = ["u-1", "u-2", "u-3"];
      await store(streams, table, ids);

      const attempts = maximumRetryAttempts + 1;
      expect(streams.invocations).to.have.length(attempts);
      const first: DynamoDBRecord[] = streams.invocations[0].Records;
      expect(first.map((r) => [r.eventName, r.dynamodb!.NewImage!.deliveryId.S])).to.deep.equal(
        ids.map((id) => ["INSERT", id]),
      );
      const seqs = sequenceNumbers(first);
      for (const invocation of streams.invocations)
        expect(sequenceNumbers(invocation.Records)).to.deep.equal(seqs);
      // Each invocation: the publisher's 4 attempts of the three entries.
      expect(calls()).to.have.length(4 * attempts);
      expect(published).to.deep.equal([]);
      expect(deadLetters()).to.deep.equal([]);
      expect(streams.onFailure).to.have.length(1);
      const message = streams.onFailure[0];
      expect(message.requestContext.condition).to.equal("RetryAttemptsExhausted");
      expect(message.DDBStreamBatchInfo).to.deep.include({
        startSequenceNumber: seqs[0],
        endSequenceNumber: seqs[2],
        batchSize: 3,
        streamArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${table}/stream/2026-12-06T00:00:00.000`,
      });
      // The pointer names records, not events: the items still hold them until their TTL.
      const items = await scanTable(ddb.client, table);
      expect(items.map((i) => JSON.parse(i.detail.S).deliveryId).sort()).to.deep.equal(ids);
    });
  });
});
