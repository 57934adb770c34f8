// The retry schedule run to its end on a fake clock: an in-memory SQS (visibility timeouts on the
// fake clock, as the event source mapping sees them), the real attempt log on dynalite and a
// subscriber that always fails.
import { expect } from "chai";
import { Webhook } from "standardwebhooks";
import { randomBytes } from "crypto";
import { makeDispatcher } from "../../../handlers/outbound/dispatcher";
import { makeAttemptLog } from "../../../handlers/outbound/attemptLog";
import { messageIdOf } from "../../../handlers/outbound/message";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../../../handlers/outbound/settings";
import { OUTBOUND_DETAIL_TYPES, OUTBOUND_SOURCE } from "../../../lib/contracts";
import {
  busEvent,
  createAttemptTable,
  fakeSqs,
  recordingEvents,
  secretStore,
  settings,
  sqsEvent,
  sqsRecord,
  startDynalite,
  startSubscriber,
} from "./outboundBed";

const QUEUE = { arn: "arn:aws:sqs:us-east-1:123456789012:shop", url: "https://sqs.local/shop" };
const DLQ_URL = "https://sqs.local/shop-dlq";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop";

describe("outbound retry schedule on a fake clock", function () {
  this.timeout(60000);
  let db: Awaited<ReturnType<typeof startDynalite>>;
  let sub: Awaited<ReturnType<typeof startSubscriber>>;
  let n = 0;

  before(async () => {
    [db, sub] = await Promise.all([startDynalite(), startSubscriber()]);
  });
  after(async () => {
    await Promise.all([db?.close(), sub?.close()]);
  });

  async function bed(over: Parameters<typeof settings>[0] = {}, rateLimitPerSecond?: number) {
    const table = `sched-${++n}`;
    await createAttemptTable(db.client, table);
    const clock = { now: Date.parse("2026-12-05T10:00:00Z") };
    const sqs = fakeSqs(clock);
    const events = recordingEvents();
    const key = `whsec_${randomBytes(24).toString("base64")}`;
    sub.received.length = 0;
    const handler = makeDispatcher({
      settings: settings({
        subscriptions: [
          {
            name: "shop",
            url: `http://subscriber.test:${sub.port}/`,
            ...(rateLimitPerSecond ? { rateLimitPerSecond } : {}),
          },
        ],
        ...over,
      }),
      resources: {
        shop: { queueArn: QUEUE.arn, queueUrl: QUEUE.url, dlqUrl: DLQ_URL, secretArn: SECRET_ARN },
      },
      table,
      busName: "hub",
      sqs,
      doc: db.doc,
      events,
      secrets: secretStore({ [SECRET_ARN]: key }),
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
      now: () => clock.now,
    });
    /** One poll of the event source mapping at the fake time: handler, then deletes. */
    const poll = async () => {
      const msgs = sqs.receive(QUEUE.url, 60);
      if (msgs.length === 0) return undefined;
      const records = msgs.map((m) =>
        sqsRecord({ body: m.body, queueArn: QUEUE.arn, receiptHandle: m.handle, messageId: m.id }),
      );
      const out = await handler(sqsEvent(...records));
      const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of msgs) if (!failed.has(m.id)) sqs.delete(QUEUE.url, m.id);
      return out;
    };
    const log = makeAttemptLog({ doc: db.doc, table, ttlDays: 30 });
    return { clock, sqs, events, handler, poll, log, key };
  }

  it("attempts immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; then the DLQ and AttemptExhausted", async () => {
    const b = await bed();
    sub.respond = () => ({ status: 500, body: "boom" });
    const event = busEvent({ orderId: "o-7" });
    b.sqs.enqueue(QUEUE.url, JSON.stringify(event));
    const start = b.clock.now;
    const attemptTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const next = b.sqs.nextVisibleAt(QUEUE.url);
      if (next === undefined) break;
      b.clock.now = Math.max(b.clock.now, next);
      const before = sub.received.length;
      await b.poll();
      if (sub.received.length > before) attemptTimes.push(b.clock.now - start);
    }
    const expected = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce<number[]>(
      (acc, d, i) => [...acc, (i === 0 ? 0 : acc[i - 1]) + d * 1000],
      [],
    );
    expect(attemptTimes).to.deep.equal(expected);
    expect(b.sqs.visibilityChanges.map((c) => c.seconds)).to.deep.equal(
      DEFAULT_RETRY_SCHEDULE_SECONDS.slice(1),
    );
    expect(sub.received).to.have.length(8);
    // every attempt carries the same message id, signed at its own (fake) time
    const id = messageIdOf(event.id);
    for (const [i, r] of sub.received.entries()) {
      expect(r.headers["webhook-id"]).to.equal(id);
      expect(Number(r.headers["webhook-timestamp"])).to.equal((start + expected[i]) / 1000);
    }
    // the message left its queue for the DLQ
    expect(b.sqs.queues.get(QUEUE.url)).to.deep.equal([]);
    const dead = b.sqs.queues.get(DLQ_URL)!;
    expect(dead).to.have.length(1);
    const body = JSON.parse(dead[0].body);
    expect(body).to.deep.include({
      subscription: "shop",
      messageId: id,
      attempts: 8,
      lastStatusCode: 500,
    });
    expect(body.event).to.deep.equal(event);
    expect(b.events.entries).to.have.length(1);
    const exhausted = b.events.entries[0];
    expect(exhausted).to.include({
      Source: OUTBOUND_SOURCE,
      DetailType: OUTBOUND_DETAIL_TYPES.attemptExhausted,
      EventBusName: "hub",
    });
    expect(JSON.parse(exhausted.Detail)).to.deep.equal({
      subscription: "shop",
      messageId: id,
      eventId: event.id,
      eventSource: "shop.orders",
      eventDetailType: "OrderPlaced",
      attempts: 8,
      lastStatusCode: 500,
      lastError: "HTTP 500",
      dlqUrl: DLQ_URL,
    });
    const items = await b.log.messageItems(id);
    expect(items.filter((i) => i.kind === "attempt")).to.have.length(8);
    expect(items.find((i) => i.kind === "delivery")).to.include({
      status: "exhausted",
      attempts: 8,
    });
  });

  it("follows a configured schedule, and a success ends it", async () => {
    const b = await bed({ retryScheduleSeconds: [0, 60, 600] });
    sub.respond = (k) => (k < 3 ? { status: 502 } : { status: 200 });
    b.sqs.enqueue(QUEUE.url, JSON.stringify(busEvent()));
    for (let i = 0; i < 10; i++) {
      const next = b.sqs.nextVisibleAt(QUEUE.url);
      if (next === undefined) break;
      b.clock.now = Math.max(b.clock.now, next);
      await b.poll();
    }
    expect(b.sqs.visibilityChanges.map((c) => c.seconds)).to.deep.equal([60, 600]);
    expect(sub.received).to.have.length(3);
    expect(b.events.entries).to.deep.equal([]);
    expect(b.sqs.queues.get(DLQ_URL) ?? []).to.deep.equal([]);
    const r = sub.received[2];
    expect(() => new Webhook(b.key).verify(r.body, r.headers as Record<string, string>)).to.throw(
      /timestamp/i,
    ); // signed at the fake time (2026-12-05), too old for a real clock's tolerance
  });

  it("disables an endpoint that failed every attempt for disableAfterSeconds, announces it once, and parks its messages", async () => {
    const b = await bed({ disableAfterSeconds: 600, parkSeconds: 1800 });
    sub.respond = () => ({ status: 503 });
    b.sqs.enqueue(QUEUE.url, JSON.stringify(busEvent()));
    b.sqs.enqueue(QUEUE.url, JSON.stringify(busEvent()));
    await b.poll(); // two first attempts fail at t0
    b.clock.now += 301_000;
    await b.poll(); // retries (after 5 s) at t0 + 301 s
    b.clock.now += 300_000;
    await b.poll(); // the 5 min retries at t0 + 601 s: failing for 10 min → disabled
    const disabled = b.events.entries.filter(
      (e) => e.DetailType === OUTBOUND_DETAIL_TYPES.endpointDisabled,
    );
    expect(disabled).to.have.length(1);
    expect(JSON.parse(disabled[0].Detail)).to.include({ subscription: "shop" });
    const posts = sub.received.length;
    expect(posts).to.equal(6);
    // a new message for the disabled endpoint is parked: no POST, invisible for parkSeconds
    b.sqs.enqueue(QUEUE.url, JSON.stringify(busEvent()));
    const changesBefore = b.sqs.visibilityChanges.length;
    await b.poll();
    expect(sub.received.length).to.equal(posts);
    expect(b.sqs.visibilityChanges.slice(changesBefore).map((c) => c.seconds)).to.deep.equal([
      1800,
    ]);
    // enabled again (the recovery command's `enable`), the parked message is delivered
    await b.log.enableEndpoint("shop");
    sub.respond = () => ({ status: 200 });
    b.clock.now += 1800_000;
    await b.poll();
    expect(sub.received.length).to.be.greaterThan(posts);
    expect((await b.log.getEndpoint("shop"))!.disabledAt).to.equal(undefined);
  });

  it("holds an early duplicate of a message to the schedule: no attempt before the next one is due", async () => {
    const b = await bed();
    sub.respond = () => ({ status: 500 });
    const body = JSON.stringify(busEvent());
    b.sqs.enqueue(QUEUE.url, body);
    await b.poll(); // attempt 1 fails at t0: attempt 2 is due at t0 + 5 s
    b.clock.now += 1000;
    b.sqs.enqueue(QUEUE.url, body); // SQS delivers a copy at t0 + 1 s
    const out = await b.poll();
    expect(out!.batchItemFailures).to.have.length(1);
    expect(sub.received).to.have.length(1);
    // the first change is the original's 5 s; the copy waits until attempt 2 is due (4 s, + 1)
    expect(b.sqs.visibilityChanges.map((c) => c.seconds)).to.deep.equal([5, 5]);
    b.clock.now += 4000;
    await b.poll(); // t0 + 5 s: the original makes attempt 2
    expect(sub.received).to.have.length(2);
    const delivery = (await b.log.messageItems(String(sub.received[0].headers["webhook-id"]))).find(
      (i) => i.kind === "delivery",
    );
    expect(delivery).to.include({ attempts: 2, status: "retrying" });
  });

  it("keeps to the subscription's rate limit across a batch: the excess waits without using an attempt", async () => {
    const b = await bed({}, 2);
    sub.respond = () => ({ status: 200 });
    for (let i = 0; i < 5; i++) b.sqs.enqueue(QUEUE.url, JSON.stringify(busEvent()));
    const out = await b.poll();
    expect(sub.received).to.have.length(2);
    expect(out!.batchItemFailures).to.have.length(3);
    for (const c of b.sqs.visibilityChanges) expect(c.seconds).to.be.within(1, 3);
    b.clock.now += 3000;
    await b.poll();
    b.clock.now += 3000;
    await b.poll();
    expect(sub.received).to.have.length(5);
    for (const r of sub.received) {
      const items = await b.log.messageItems(String(r.headers["webhook-id"]));
      expect(items.find((i) => i.kind === "delivery")).to.include({
        attempts: 1,
        status: "succeeded",
      });
    }
  });
});
