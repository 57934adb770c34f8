// The bus's event journal (local/journal.ts): entries in order with their event's fields, `since`
// paging, a bounded size, and listeners that see each entry as it is recorded.
import { expect } from "chai";
import { EventJournal, JournalEntry } from "../../local/journal";

const event = (id: string, detail: object = {}) => ({
  id,
  time: "2026-11-30T10:00:00Z",
  source: "switchyard.records",
  "detail-type": "RecordCreated",
  detail,
});

describe("local: the bus's event journal", () => {
  it("records each entry with a seq, the event's fields and its correlation id when present", () => {
    const j = new EventJournal();
    j.record("hub", event("e1", { correlationId: "c-1" }), {
      kind: "put",
      outcome: "matched",
      rules: ["r"],
    });
    j.record("hub", event("e2", { metadata: { correlationId: "c-2" } }), {
      kind: "put",
      outcome: "unmatched",
      rules: [],
    });
    j.record("hub", event("e3", { correlationId: 'bad"id' }), {
      kind: "delivery",
      outcome: "retrying",
      rule: "r",
      target: "t",
      targetArn: "arn:aws:sqs:eu-west-1:123456789012:q",
      attempt: 1,
      error: { code: "500", message: "down" },
    });
    const [a, b, c] = j.since(0);
    expect(a).to.deep.include({
      seq: 1,
      kind: "put",
      eventId: "e1",
      correlationId: "c-1",
      bus: "hub",
      source: "switchyard.records",
      detailType: "RecordCreated",
      eventTime: "2026-11-30T10:00:00Z",
      rules: ["r"],
    });
    expect(b.correlationId).to.equal("c-2");
    // An id an input transformer could not carry is not a correlation id.
    expect(c).to.not.have.property("correlationId");
    expect(c).to.deep.include({ seq: 3, outcome: "retrying", attempt: 1 });
    expect(j.since(2).map((e) => e.eventId)).to.deep.equal(["e3"]);
    expect(j.since(3)).to.deep.equal([]);
    expect(j.lastSeq).to.equal(3);
  });

  it("keeps the latest entries up to its capacity and tells listeners of each new one", () => {
    const j = new EventJournal(2);
    const heard: JournalEntry[] = [];
    const stop = j.subscribe((e) => heard.push(e));
    for (const id of ["a", "b", "c"])
      j.record("hub", event(id), { kind: "put", outcome: "unmatched", rules: [] });
    stop();
    j.record("hub", event("d"), { kind: "put", outcome: "unmatched", rules: [] });
    expect(j.since(0).map((e) => [e.seq, e.eventId])).to.deep.equal([
      [3, "c"],
      [4, "d"],
    ]);
    expect(heard.map((e) => e.eventId)).to.deep.equal(["a", "b", "c"]);
  });
});
