import { expect } from "chai";
import { randomBytes } from "crypto";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import { startMotoServer, MotoServer } from "../../../local/motoServer";
import { makeDispatcher } from "../../../handlers/outbound/dispatcher";
import { makeAttemptLog } from "../../../handlers/outbound/attemptLog";
import { messageIdOf } from "../../../handlers/outbound/message";
import type { Resolver } from "../../../handlers/outbound/address";
import { OUTBOUND_DETAIL_TYPES, OUTBOUND_SOURCE } from "../../../lib/contracts";
import {
  busEvent,
  createAttemptTable,
  createQueue,
  credentials,
  recordingEvents,
  REGION,
  secretStore,
  settings,
  sqsEvent,
  sqsRecord,
  startDynalite,
  startSubscriber,
} from "./outboundBed";

const secret = () => `whsec_${randomBytes(24).toString("base64")}`;
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:outbound-shop";
/** The subscriber's name resolves to this machine (the test's resolver), as a public name would. */
const localResolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];

describe("outbound dispatcher against moto SQS, dynalite and a local subscriber", function () {
  this.timeout(60000);
  let moto: MotoServer;
  let sqs: SQSClient;
  let db: Awaited<ReturnType<typeof startDynalite>>;
  let sub: Awaited<ReturnType<typeof startSubscriber>>;
  let tableSeq = 0;

  before(async () => {
    [moto, db, sub] = await Promise.all([startMotoServer(), startDynalite(), startSubscriber()]);
    sqs = new SQSClient({ endpoint: moto.url, region: REGION, credentials });
  });
  after(async () => {
    sqs?.destroy();
    await Promise.all([moto?.stop(), db?.close(), sub?.close()]);
  });

  /** A fresh subscription (its own table, queues and secret) and a dispatcher for it. */
  async function bed(
    o: {
      secretValue?: string;
      url?: string;
      over?: Parameters<typeof settings>[0];
      resolve?: Resolver;
    } = {},
  ) {
    const n = ++tableSeq;
    const table = `attempts-${n}`;
    await createAttemptTable(db.client, table);
    const queue = await createQueue(sqs, `shop-${n}`);
    const dlq = await createQueue(sqs, `shop-${n}-dlq`);
    const secrets = secretStore({ [SECRET_ARN]: o.secretValue ?? secret() });
    const events = recordingEvents();
    sub.received.length = 0;
    const handler = makeDispatcher({
      settings: settings({
        subscriptions: [
          {
            name: "shop",
            url: o.url ?? `http://subscriber.test:${sub.port}/hooks`,
            headers: { "x-tenant": "acme" },
          },
        ],
        ...o.over,
      }),
      resources: {
        shop: { queueArn: queue.arn, queueUrl: queue.url, dlqUrl: dlq.url, secretArn: SECRET_ARN },
      },
      table,
      busName: "hub",
      sqs,
      doc: db.doc,
      events,
      secrets,
      resolve: o.resolve ?? localResolver,
    });
    const log = makeAttemptLog({ doc: db.doc, table, ttlDays: 30 });
    /** Sends an event to the queue and receives it, as the event source mapping does. */
    const receive = async (event: unknown, visibility = 30) => {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event) }),
      );
      const m = (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 1,
            VisibilityTimeout: visibility,
            WaitTimeSeconds: 1,
          }),
        )
      ).Messages![0];
      return sqsRecord({
        body: m.Body!,
        queueArn: queue.arn,
        receiptHandle: m.ReceiptHandle!,
        messageId: m.MessageId!,
      });
    };
    /** What the event source mapping does with the handler's answer: deletes what did not fail. */
    const run = async (...records: ReturnType<typeof sqsRecord>[]) => {
      const out = await handler(sqsEvent(...records));
      const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of records)
        if (!failed.has(r.messageId))
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: r.receiptHandle }),
          );
      return out;
    };
    const visibleNow = async (url = queue.url) =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 0,
          }),
        )
      ).Messages ?? [];
    return { handler, log, queue, dlq, secrets, events, receive, run, visibleNow };
  }

  it("POSTs the event signed per Standard Webhooks, logs the attempt and lets the message be deleted", async () => {
    const key = secret();
    const b = await bed({ secretValue: key });
    sub.respond = () => ({ status: 200, body: "thanks" });
    const event = busEvent({ orderId: "o-42" });
    const out = await b.run(await b.receive(event));
    expect(out.batchItemFailures).to.deep.equal([]);
    expect(sub.received).to.have.length(1);
    const got = sub.received[0];
    const id = messageIdOf(event.id);
    expect(got.headers["webhook-id"]).to.equal(id);
    expect(got.headers["content-type"]).to.equal("application/json");
    expect(got.headers["x-tenant"]).to.equal("acme");
    expect(JSON.parse(got.body)).to.deep.equal({
      type: "OrderPlaced",
      timestamp: "2026-12-05T10:00:00Z",
      data: { orderId: "o-42" },
    });
    // the independent verifier (the standardwebhooks package) accepts it
    const verified = new Webhook(key).verify(got.body, got.headers as Record<string, string>);
    expect(verified).to.deep.equal(JSON.parse(got.body));
    const items = await b.log.messageItems(id);
    const delivery = items.find((i) => i.kind === "delivery") as any;
    expect(delivery).to.include({
      status: "succeeded",
      attempts: 1,
      subscription: "shop",
      lastStatusCode: 200,
    });
    expect(JSON.parse(delivery.event)).to.deep.equal(event);
    const attempt = items.find((i) => i.kind === "attempt") as any;
    expect(attempt).to.include({
      outcome: "success",
      statusCode: 200,
      response: "thanks",
      attempt: 1,
      messageId: id,
    });
    expect(attempt.latencyMs).to.be.a("number");
    expect(await b.visibleNow()).to.have.length(0);
  });

  it("signs with the current and the previous secret during a rotation: each verifies alone", async () => {
    const current = secret();
    const previous = secret();
    const b = await bed({ secretValue: JSON.stringify({ current, previous }) });
    sub.respond = () => ({ status: 204 });
    await b.run(await b.receive(busEvent()));
    const got = sub.received[0];
    const sigs = String(got.headers["webhook-signature"]).split(" ");
    expect(sigs).to.have.length(2);
    expect(sigs.every((s) => s.startsWith("v1,"))).to.equal(true);
    for (const key of [current, previous])
      expect(() =>
        new Webhook(key).verify(got.body, got.headers as Record<string, string>),
      ).not.to.throw();
    expect(() =>
      new Webhook(secret()).verify(got.body, got.headers as Record<string, string>),
    ).to.throw();
  });

  for (const [kind, respond, over, expected] of [
    [
      "a 5xx",
      () => ({ status: 503, body: "down" }),
      {},
      { failure: "status", statusCode: 503, response: "down" },
    ],
    ["a 4xx", () => ({ status: 410, body: "gone" }), {}, { failure: "status", statusCode: 410 }],
    [
      "a redirect (not followed)",
      () => ({ status: 302 }),
      {},
      { failure: "status", statusCode: 302 },
    ],
    ["a timeout", () => ({ hang: true }), { requestTimeoutMs: 300 }, { failure: "timeout" }],
    [
      "an oversized response",
      () => ({ status: 200, body: "x".repeat(5000) }),
      { maxResponseBytes: 1000 },
      { failure: "response-too-large", statusCode: 200 },
    ],
  ] as const) {
    it(`counts ${kind} as a failed attempt and waits the schedule's next delay on the queue`, async () => {
      const b = await bed({ over: over as any });
      sub.respond = respond as any;
      const event = busEvent();
      const record = await b.receive(event);
      const out = await b.run(record);
      expect(out.batchItemFailures).to.deep.equal([{ itemIdentifier: record.messageId }]);
      const items = await b.log.messageItems(messageIdOf(event.id));
      const attempt = items.find((i) => i.kind === "attempt") as any;
      expect(attempt).to.deep.include({ outcome: "failure", ...expected });
      const delivery = items.find((i) => i.kind === "delivery") as any;
      expect(delivery).to.include({ status: "retrying", attempts: 1 });
      expect(delivery.leaseOwner).to.equal(undefined);
      // the second attempt waits 5 s: invisible now
      expect(await b.visibleNow()).to.have.length(0);
    });
  }

  it("counts a refused connection as a failed attempt", async () => {
    const b = await bed({ url: "http://subscriber.test:1/hooks" });
    const event = busEvent();
    const out = await b.run(await b.receive(event));
    expect(out.batchItemFailures).to.have.length(1);
    const attempt = (await b.log.messageItems(messageIdOf(event.id))).find(
      (i) => i.kind === "attempt",
    ) as any;
    expect(attempt).to.include({ outcome: "failure", failure: "connection" });
    expect(attempt.error).to.match(/ECONNREFUSED/);
  });

  it("POSTs a message delivered twice concurrently once, and drops a later duplicate", async () => {
    const b = await bed();
    sub.respond = () => ({ status: 200, delayMs: 300 });
    const event = busEvent();
    const first = await b.receive(event, 0);
    // the same SQS message received again (at-least-once), with another receipt handle
    const again = await b.receive(event, 0);
    const twin = { ...again, body: first.body };
    const [a, c] = await Promise.all([b.handler(sqsEvent(first)), b.handler(sqsEvent(twin))]);
    expect(sub.received).to.have.length(1);
    // one was delivered, the other left for after the lease (then found delivered)
    expect([a.batchItemFailures.length, c.batchItemFailures.length].sort()).to.deep.equal([0, 1]);
    const later = await b.handler(sqsEvent({ ...first, messageId: "dup" }));
    expect(later.batchItemFailures).to.deep.equal([]);
    expect(sub.received).to.have.length(1);
    const attempts = (await b.log.messageItems(messageIdOf(event.id))).filter(
      (i) => i.kind === "attempt",
    );
    expect(attempts).to.have.length(1);
  });

  describe("refuses endpoints that are not public (checked at delivery, on the resolved address)", () => {
    for (const [what, url, resolve] of [
      ["a private address", "https://10.1.2.3/hooks", undefined],
      ["a loopback address", "https://127.0.0.1/hooks", undefined],
      ["an IPv6 loopback address", "https://[::1]/hooks", undefined],
      ["a link-local address", "https://169.254.10.20/hooks", undefined],
      ["the metadata service", "https://169.254.169.254/latest/meta-data/", undefined],
      [
        "the metadata service as an IPv4-mapped IPv6 address",
        "https://[::ffff:169.254.169.254]/",
        undefined,
      ],
      [
        "a name resolving to a private address",
        "https://hooks.example.com/x",
        (async () => [{ address: "192.168.1.20", family: 4 }]) as Resolver,
      ],
      [
        "a name with one private answer among public ones",
        "https://hooks.example.com/x",
        (async () => [
          { address: "93.184.216.34", family: 4 },
          { address: "10.0.0.7", family: 4 },
        ]) as Resolver,
      ],
      [
        "a name resolving to the IPv6 metadata address",
        "https://hooks.example.com/x",
        (async () => [{ address: "fd00:ec2::254", family: 6 }]) as Resolver,
      ],
    ] as const) {
      it(`${what}: no connection, a failed attempt`, async () => {
        let resolved = 0;
        const r: Resolver = async (h) => {
          resolved++;
          return resolve ? resolve(h) : [{ address: "127.0.0.1", family: 4 }];
        };
        const b = await bed({ url, resolve: r, over: { allowHttp: false } });
        const event = busEvent();
        const out = await b.run(await b.receive(event));
        expect(out.batchItemFailures).to.have.length(1);
        const attempt = (await b.log.messageItems(messageIdOf(event.id))).find(
          (i) => i.kind === "attempt",
        ) as any;
        expect(attempt).to.include({ outcome: "failure", failure: "blocked-address" });
        expect(sub.received).to.have.length(0);
        expect(resolved).to.equal(resolve ? 1 : 0);
      });
    }

    it("http:// is refused unless the stack is the local run", async () => {
      const b = await bed({ over: { allowHttp: false } });
      const event = busEvent();
      await b.run(await b.receive(event));
      const attempt = (await b.log.messageItems(messageIdOf(event.id))).find(
        (i) => i.kind === "attempt",
      ) as any;
      expect(attempt).to.include({ failure: "invalid-url" });
      expect(sub.received).to.have.length(0);
    });

    it("connects to the address the check resolved, not to a second resolution", async () => {
      // subscriber.test exists only in the injected resolver: the POST reaching the local subscriber
      // proves the socket used the checked answer.
      let calls = 0;
      const b = await bed({
        resolve: async () => (calls++, [{ address: "127.0.0.1", family: 4 }]),
      });
      sub.respond = () => ({ status: 200 });
      const out = await b.run(await b.receive(busEvent()));
      expect(out.batchItemFailures).to.deep.equal([]);
      expect(sub.received).to.have.length(1);
      expect(calls).to.equal(1);
    });
  });

  it("does not deliver a subscription's own operational events back to it", async () => {
    const b = await bed();
    const own = {
      ...busEvent(
        { subscription: "shop", messageId: "msg_x" },
        OUTBOUND_DETAIL_TYPES.attemptExhausted,
      ),
      source: OUTBOUND_SOURCE,
    };
    const out = await b.run(await b.receive(own));
    expect(out.batchItemFailures).to.deep.equal([]);
    expect(sub.received).to.have.length(0);
  });

  it("sends an unreadable message to the subscription's DLQ without POSTing", async () => {
    const b = await bed();
    const out = await b.run(await b.receive("not an event"));
    expect(out.batchItemFailures).to.deep.equal([]);
    const dead = await b.visibleNow(b.dlq.url);
    expect(dead).to.have.length(1);
    expect(JSON.parse(dead[0].Body!)).to.include({
      subscription: "shop",
      error: "message body is not an EventBridge event (id, source, detail-type)",
    });
    expect(sub.received).to.have.length(0);
  });
});
