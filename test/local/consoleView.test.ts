// The console's view (local/console/view.ts) of journal entries, without a browser: one row per
// event with its rules and each target's latest outcome, a dead letter's row removed once its
// message is deleted, rows hidden by a filter that does not name them, every value escaped, and
// tables bounded. The journal's facts from log records and messages (local/journalFacts.ts).
import { expect } from "chai";
import { EventJournal } from "../../local/journal";
import { ConsoleView, esc, ITEMS_PER_SECTION } from "../../local/console/view";
import { eventOfMessage, factOfLogRecord, webhookFact } from "../../local/journalFacts";
import { OUTBOUND_SERVICE, OUTCOME_LOG_MESSAGES, SERVICES } from "../../lib/contracts";

const event = (id: string, detail: object = {}, detailType = "RecordCreated") => ({
  id,
  time: "2026-11-30T10:00:00Z",
  source: "switchyard.records",
  "detail-type": detailType,
  detail,
});

describe("local: the console's view of the journal", () => {
  it("folds an event's put and its targets' outcomes into one row, latest outcome per target", () => {
    const j = new EventJournal();
    const view = new ConsoleView();
    j.subscribe((e) => view.apply(e));
    j.record("hub", event("e1", { correlationId: "c-1" }), {
      kind: "put",
      outcome: "matched",
      rules: ["hub-records"],
    });
    const delivery = (outcome: "retrying" | "dead-lettered", attempt: number) =>
      j.record("hub", event("e1", { correlationId: "c-1" }), {
        kind: "delivery",
        outcome,
        rule: "hub-records",
        target: "records-api",
        targetArn: "arn:aws:events:eu-west-1:1:api-destination/x",
        attempt,
        error: { code: "500", message: "down" },
      });
    delivery("retrying", 1);
    delivery("dead-lettered", 2);
    const rows = view.rows("events");
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include('data-ids="e1 c-1"');
    expect(rows[0]).to.include("<li>hub-records</li>");
    expect(rows[0]).to.include('class="badge dead-lettered"');
    expect(rows[0]).not.to.include("retrying");
  });

  it("removes a dead letter's row when its message is deleted, and keeps the queue's depth", () => {
    const view = new ConsoleView(["hub-dlq"]);
    const j = new EventJournal();
    j.subscribe((e) => view.apply(e));
    j.note({
      kind: "queue",
      queue: "hub-dlq",
      change: "sent",
      messageId: "m1",
      depth: 1,
      eventId: "e1",
      deadLetter: { ruleArn: "arn:aws:events:eu-west-1:1:rule/hub/hub-records", errorCode: "500" },
    });
    expect(view.rows("deadLetters")).to.have.length(1);
    expect(view.rows("deadLetters")[0]).to.include('name="id" value="m1"');
    expect(view.rows("queues")[0]).to.include('<td class="depth">1</td>');
    const updates = view.apply({
      seq: 99,
      at: "2026-11-30T10:00:01.000Z",
      kind: "queue",
      queue: "hub-dlq",
      change: "deleted",
      messageId: "m1",
      depth: 0,
      eventId: "e1",
    });
    expect(updates.filter((u) => u.section === "deadLetters")).to.deep.equal([
      { section: "deadLetters", id: "row-2" },
    ]);
    expect(view.rows("deadLetters")).to.deep.equal([]);
    expect(view.rows("queues")[0]).to.include('<td class="depth">0</td>');
  });

  it("escapes every value it renders, and hides the rows a filter does not name", () => {
    const j = new EventJournal();
    const view = new ConsoleView();
    j.subscribe((e) => view.apply(e));
    j.record("hub", event("e1", { note: "<script>x()</script>" }, '<img src=x onerror="y">'), {
      kind: "put",
      outcome: "unmatched",
      rules: [],
    });
    j.record("hub", event("e2"), { kind: "put", outcome: "unmatched", rules: [] });
    const [second, first] = view.rows("events", "e1");
    expect(first).not.to.match(/<script|<img/);
    expect(first).to.include("&lt;img src=x onerror=&quot;y&quot;&gt;");
    expect(first).to.include("&lt;script&gt;x()&lt;/script&gt;");
    expect(first).not.to.include(" hidden>");
    expect(second).to.include(" hidden>");
    expect(esc(`&<>"'`)).to.equal("&amp;&lt;&gt;&quot;&#39;");
  });

  it(`keeps at most ${ITEMS_PER_SECTION} rows a table, removing the oldest from the page`, () => {
    const view = new ConsoleView();
    const j = new EventJournal();
    let removed = 0;
    j.subscribe((e) => (removed += view.apply(e).filter((u) => u.html === undefined).length));
    for (let i = 0; i < ITEMS_PER_SECTION + 5; i++)
      j.record("hub", event(`e${i}`), { kind: "put", outcome: "unmatched", rules: [] });
    expect(view.rows("events")).to.have.length(ITEMS_PER_SECTION);
    expect(removed).to.equal(5);
    expect(view.rows("events").at(-1)).to.include('data-ids="e5"');
  });
});

describe("local: the journal's facts from log records and messages", () => {
  const record = (fields: object) => JSON.stringify({ level: "INFO", ...fields });

  it("reads a webhook verdict from the invocation's records and links the event it put", () => {
    const M = OUTCOME_LOG_MESSAGES;
    const accepted = webhookFact({
      provider: "github",
      function: "fn",
      status: 200,
      logLines: [record({ message: M.webhookAccepted, deliveryId: "d1", correlationId: "c1" })],
      putsSince: [
        {
          seq: 1,
          at: "t",
          kind: "put",
          eventId: "e1",
          eventTime: "t",
          correlationId: "c1",
          bus: "hub",
          source: "s",
          detailType: "d",
          outcome: "matched",
          rules: [],
        },
      ],
    });
    expect(accepted).to.deep.include({
      verdict: "accepted",
      deliveryId: "d1",
      correlationId: "c1",
      eventId: "e1",
    });
    const duplicate = webhookFact({
      provider: "github",
      function: "fn",
      status: 200,
      logLines: [record({ message: M.webhookDuplicate, deliveryId: "d1" })],
      putsSince: [],
    });
    expect(duplicate.verdict).to.equal("duplicate");
    const refused = webhookFact({
      provider: "github",
      function: "fn",
      status: 403,
      responseBody: '{"error":"invalid signature"}',
      logLines: [record({ message: M.webhookRejected, reason: "signature does not match" })],
      putsSince: [],
    });
    expect(refused).to.deep.include({ verdict: "refused", reason: "signature does not match" });
    const failed = webhookFact({
      provider: "github",
      function: "fn",
      status: 503,
      responseBody: '{"error":"temporarily unavailable"}',
      logLines: ["not json"],
      putsSince: [],
    });
    expect(failed).to.deep.include({ verdict: "failed", reason: "temporarily unavailable" });
  });

  it("reads outbound attempts and ingress refusals; other records state nothing", () => {
    const M = OUTCOME_LOG_MESSAGES;
    expect(
      factOfLogRecord(
        record({
          service: OUTBOUND_SERVICE,
          message: M.outboundAttemptFailed,
          subscription: "crm",
          messageId: "msg_1",
          eventId: "e1",
          attempt: 2,
          statusCode: 500,
        }),
      ),
    ).to.deep.equal({
      kind: "outbound",
      subscription: "crm",
      messageId: "msg_1",
      outcome: "failed",
      eventId: "e1",
      attempt: 2,
      statusCode: 500,
    });
    expect(
      factOfLogRecord(
        record({
          service: SERVICES.tenantIngress,
          message: M.ingressRejected,
          status: 401,
          code: "unknown-key",
          reason: "no such key",
          tenant: "demo",
          eventId: "e2",
          correlation_id: "c2",
        }),
      ),
    ).to.deep.equal({
      kind: "ingress-refusal",
      status: 401,
      code: "unknown-key",
      reason: "no such key",
      tenant: "demo",
      eventId: "e2",
      correlationId: "c2",
    });
    expect(factOfLogRecord(record({ service: OUTBOUND_SERVICE, message: "other" }))).to.equal(
      undefined,
    );
    expect(factOfLogRecord("plain text")).to.equal(undefined);
  });

  it("finds the event a queued message carries", () => {
    const ev = { id: "e1", detail: { correlationId: "c1" } };
    expect(eventOfMessage(JSON.stringify(ev))).to.deep.equal({
      eventId: "e1",
      correlationId: "c1",
    });
    expect(eventOfMessage(JSON.stringify({ messageId: "m", event: ev }))).to.deep.equal({
      eventId: "e1",
      correlationId: "c1",
    });
    expect(eventOfMessage("not json")).to.deep.equal({});
  });
});
