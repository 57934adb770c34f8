import { expect } from "chai";
import {
  AccessDeniedException,
  EventBridgeClient,
  InternalException,
  PutEventsCommand,
  PutEventsRequestEntry,
  ThrottlingException,
} from "@aws-sdk/client-eventbridge";
import { mockInstance } from "../../support/aws";
import {
  entrySize,
  makePublisher as makeSharedPublisher,
  PublishEntry,
  PublisherOptions,
  toBatches,
} from "../../../handlers/lib/publisher";
import { EventContract, SWITCHYARD_CONTRACTS } from "../../../lib/eventSchemas";
import { OUTBOUND_DETAIL_TYPES, OUTBOUND_SOURCE } from "../../../lib/contracts";

const client = new EventBridgeClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
// Mock this instance only: mocking the class would replace every EventBridgeClient of the process.
const eb = mockInstance(client);

/** The contracts of this file's made-up events, which carry any detail object. */
const TEST_CONTRACTS: EventContract[] = ["Item", "d", "myDetailType"].map((detailType) => ({
  source:
    detailType === "Item" ? "test.publisher" : detailType === "d" ? "s" : "com.mycompany.myapp",
  detailType,
  typeName: detailType,
  description: "A test event.",
  publishedBy: "the publisher's tests",
  detail: { type: "object" },
}));

/** The shared publisher, checking this file's made-up events against their test contracts. */
const makePublisher = (o: PublisherOptions) =>
  makeSharedPublisher({ contracts: TEST_CONTRACTS, ...o });

function entry(i: number, detail: object = { i }): PublishEntry {
  return { Source: "test.publisher", DetailType: "Item", Detail: JSON.stringify(detail) };
}

/** The Java reference code of "Calculating Amazon EventBridge PutEvents event entry size", transcribed. */
function awsReferenceSize(e: PutEventsRequestEntry): number {
  let size = 0;
  if (e.Time != null) size += 14;
  size += new TextEncoder().encode(e.Source!).length;
  size += new TextEncoder().encode(e.DetailType!).length;
  if (e.Detail != null) size += new TextEncoder().encode(e.Detail).length;
  if (e.Resources != null)
    for (const r of e.Resources) if (r != null) size += new TextEncoder().encode(r).length;
  return size;
}

/** Every Entries array EventBridge received, in order. */
function sentBatches(): PutEventsRequestEntry[][] {
  return eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
}

const throttle = () =>
  new ThrottlingException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });

describe("handlers/lib/publisher", () => {
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  beforeEach(() => {
    eb.reset();
    slept.length = 0;
  });
  after(() => eb.restore());

  describe("entrySize", () => {
    it("counts UTF-8 bytes of Source, DetailType, Detail, each Resource, and 14 for Time, as AWS's reference code does", () => {
      const cases: PublishEntry[] = [
        {
          Source: "com.mycompany.myapp",
          DetailType: "myDetailType",
          Detail: '{ "key1": "value1", "key2": "value2" }',
        },
        {
          Source: "com.mycompany.myapp",
          DetailType: "myDetailType",
          Detail: '{ "key1": "value1", "key2": "value2" }',
          Resources: ["resource1", "resource2"],
          Time: new Date("2026-11-21T10:00:00Z"),
        },
        {
          Source: "s",
          DetailType: "é€",
          Detail: '{"emoji":"😀"}',
          Resources: ["ä"],
          TraceHeader: "Root=1-abc",
        },
      ];
      // By hand: 19 + 12 + 38; + 9 + 9 + 14; 1 + (2+3) + (10+4+2) + 2 (TraceHeader not counted).
      expect(cases.map(entrySize)).to.deep.equal([69, 101, 24]);
      expect(cases.map(entrySize)).to.deep.equal(cases.map((c) => awsReferenceSize(c)));
    });
  });

  describe("publish", () => {
    it("sends every entry to the bus in batches of at most 10", async () => {
      eb.on(PutEventsCommand).callsFake((input) => ({
        FailedEntryCount: 0,
        Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
      }));
      const entries = Array.from({ length: 23 }, (_, i) => entry(i));
      const r = await makePublisher({ client, busName: "hub", sleep }).publish(entries);
      expect(r).to.deep.equal({ delivered: 23, failed: [], calls: 3, retries: 0 });
      expect(sentBatches().map((b) => b.length)).to.deep.equal([10, 10, 3]);
      const sent = sentBatches().flat();
      expect(sent.map((e) => JSON.parse(e.Detail!).i)).to.deep.equal(entries.map((_, i) => i));
      expect(sent.every((e) => e.EventBusName === "hub" && e.Source === "test.publisher")).to.equal(
        true,
      );
    });

    it("ends with all 25 entries delivered or reported under per-entry and whole-call failures", async () => {
      // Call 1: whole-call throttling. Later calls: the first time an item is seen (after call 1),
      // items 2 and 7 get ThrottlingException, 13 InternalException, 21 InternalFailure (all
      // retryable), item 5 MalformedDetail (permanent); item 17 is throttled on every attempt.
      const seen = new Map<number, number>();
      let call = 0;
      eb.on(PutEventsCommand).callsFake((input) => {
        call++;
        if (call === 1) throw throttle();
        let failed = 0;
        const answers = input.Entries.map((e: PutEventsRequestEntry) => {
          const i = JSON.parse(e.Detail!).i as number;
          const n = (seen.get(i) ?? 0) + 1;
          seen.set(i, n);
          const fail = (code: string) => {
            failed++;
            return { ErrorCode: code, ErrorMessage: `${code} for ${i}` };
          };
          if (i === 5) return fail("MalformedDetail");
          if (i === 17) return fail("ThrottlingException");
          if (n === 1 && (i === 2 || i === 7)) return fail("ThrottlingException");
          if (n === 1 && i === 13) return fail("InternalException");
          if (n === 1 && i === 21) return fail("InternalFailure");
          return { EventId: `ev-${i}-${n}` };
        });
        return { FailedEntryCount: failed, Entries: answers };
      });
      const entries = Array.from({ length: 25 }, (_, i) => entry(i));
      const r = await makePublisher({ client, busName: "hub", sleep, maxAttempts: 4 }).publish(
        entries,
      );

      expect(r.delivered).to.equal(23);
      expect(
        r.failed.map((f) => [JSON.parse(f.entry.Detail).i, f.errorCode, f.errorMessage]),
      ).to.deep.equal([
        [5, "MalformedDetail", "MalformedDetail for 5"],
        [17, "ThrottlingException", "ThrottlingException for 17"],
      ]);
      expect(r.delivered + r.failed.length).to.equal(25);
      // Each item is accepted at most once: no duplicates on the bus.
      const accepted = new Set<number>();
      const batches = sentBatches();
      expect(batches.every((b) => b.length <= 10)).to.equal(true);
      // Batch 1 is throttled whole and resent whole; each retry carries only the retryable failures.
      expect(batches.map((b) => b.map((e) => JSON.parse(e.Detail!).i))).to.deep.equal([
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [2, 7],
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
        [13, 17],
        [17],
        [17],
        [20, 21, 22, 23, 24],
        [21],
      ]);
      for (const [i, n] of seen) {
        if (i === 5 || i === 17) continue;
        accepted.add(i);
        expect(n, `item ${i} sent after it was accepted`).to.be.at.most(2);
      }
      expect(accepted.size).to.equal(23);
      expect(r.calls).to.equal(9);
      expect(r.retries).to.equal(6);
      expect(slept).to.have.length(6);
    });

    it("backs off exponentially with full jitter", async () => {
      eb.on(PutEventsCommand).rejects(throttle());
      const random = Math.random;
      Math.random = () => 0.999;
      try {
        const r = await makePublisher({
          client,
          busName: "hub",
          sleep,
          maxAttempts: 5,
          baseDelayMs: 100,
        }).publish([entry(1)]);
        expect(r.failed[0].errorCode).to.equal("ThrottlingException");
        expect(r.delivered).to.equal(0);
      } finally {
        Math.random = random;
      }
      expect(slept).to.deep.equal([99, 199, 399, 799]);
    });

    it("retries 5xx whole-call errors and reports non-retryable ones at once", async () => {
      eb.on(PutEventsCommand)
        .rejectsOnce(new InternalException({ message: "oops", $metadata: { httpStatusCode: 500 } }))
        .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: "a" }] })
        .rejects(
          new AccessDeniedException({ message: "not allowed", $metadata: { httpStatusCode: 400 } }),
        );
      const p = makePublisher({ client, busName: "hub", sleep });
      expect(await p.publish([entry(1)])).to.deep.equal({
        delivered: 1,
        failed: [],
        calls: 2,
        retries: 1,
      });
      const r = await p.publish([entry(2), entry(3)]);
      expect(r.calls).to.equal(1);
      expect(r.failed.map((f) => [f.errorCode, f.errorMessage])).to.deep.equal([
        ["AccessDeniedException", "not allowed"],
        ["AccessDeniedException", "not allowed"],
      ]);
    });

    it("batches by summed entry size and reports an entry larger than the limit without calling AWS", async () => {
      eb.on(PutEventsCommand).callsFake((input) => ({
        FailedEntryCount: 0,
        Entries: input.Entries.map(() => ({ EventId: "x" })),
      }));
      const big = (i: number, bytes: number) => {
        const e = entry(i, { i, pad: "" });
        const pad = bytes - entrySize(e);
        return entry(i, { i, pad: "p".repeat(pad) });
      };
      const entries = [big(0, 400), big(1, 400), big(2, 300), big(3, 1001), big(4, 1000), entry(5)];
      expect(entries.map(entrySize)).to.deep.equal([400, 400, 300, 1001, 1000, 25]);
      const r = await makePublisher({ client, busName: "hub", sleep, maxEntryBytes: 1000 }).publish(
        entries,
      );
      expect(r.delivered).to.equal(5);
      expect(r.failed).to.have.length(1);
      expect(r.failed[0]).to.deep.include({
        errorCode: "EntryTooLarge",
        errorMessage: "entry is 1001 bytes, more than the bus limit of 1000 bytes",
      });
      expect(JSON.parse(r.failed[0].entry.Detail).i).to.equal(3);
      const batches = sentBatches();
      expect(batches.map((b) => b.map((e) => JSON.parse(e.Detail!).i))).to.deep.equal([
        [0, 1],
        [2],
        [4],
        [5],
      ]);
      for (const b of batches) {
        expect(b.reduce((n, e) => n + entrySize(e as PublishEntry), 0)).to.be.at.most(1000);
      }
    });

    it("passes Resources, Time and TraceHeader through", async () => {
      eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "a" }] });
      const time = new Date("2026-11-21T10:00:00Z");
      await makePublisher({
        client,
        busName: "arn:aws:events:eu-west-1:1:event-bus/hub",
        sleep,
      }).publish([
        {
          Source: "s",
          DetailType: "d",
          Detail: "{}",
          Resources: ["arn:r"],
          Time: time,
          TraceHeader: "Root=1",
        },
      ]);
      expect(sentBatches()).to.deep.equal([
        [
          {
            EventBusName: "arn:aws:events:eu-west-1:1:event-bus/hub",
            Source: "s",
            DetailType: "d",
            Detail: "{}",
            Resources: ["arn:r"],
            Time: time,
            TraceHeader: "Root=1",
          },
        ],
      ]);
    });

    describe("event contracts (lib/eventSchemas)", () => {
      const disabled = (detail: object): PublishEntry => ({
        Source: OUTBOUND_SOURCE,
        DetailType: OUTBOUND_DETAIL_TYPES.endpointDisabled,
        Detail: JSON.stringify(detail),
      });
      const good = {
        subscription: "crm",
        url: "https://crm.example.com/hooks",
        failingSince: "2026-11-21T10:00:00.000Z",
        disabledAt: "2026-11-22T10:00:00.000Z",
      };
      const stripe: PublishEntry = {
        Source: "switchyard.webhooks.stripe",
        DetailType: "invoice.paid",
        Detail: JSON.stringify({
          provider: "stripe",
          deliveryId: "evt_1",
          correlationId: "evt_1",
          eventType: "invoice.paid",
          receivedAt: "2026-11-21T10:00:00.000Z",
          headers: { "content-type": "application/json" },
          payload: { id: "evt_1", type: "invoice.paid" },
        }),
      };
      const nonConforming = disabled({ ...good, disabledAt: "yesterday", extra: 1 });
      const unknown: PublishEntry = { Source: "acme.billing", DetailType: "Invoice", Detail: "{}" };
      const notJson = { ...disabled(good), Detail: "{not json" };
      const echo = () =>
        eb.on(PutEventsCommand).callsFake((input) => ({
          FailedEntryCount: 0,
          Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
        }));

      it("refuses a non-conforming entry, an unknown contract and a non-JSON detail, each with its reason, and sends the rest", async () => {
        echo();
        const entries = [disabled(good), nonConforming, stripe, unknown, notJson];
        // The default contracts: SWITCHYARD_CONTRACTS, the ones every handler's publisher uses.
        const r = await makeSharedPublisher({ client, busName: "hub", sleep }).publish(entries);
        expect(r).to.deep.equal({
          delivered: 2,
          calls: 1,
          retries: 0,
          failed: [
            {
              entry: nonConforming,
              errorCode: "SchemaViolation",
              errorMessage:
                "detail does not conform to switchyard.outbound@Switchyard.Outbound.EndpointDisabled: " +
                "$.detail.disabledAt: must be an RFC 3339 date-time; $.detail.extra: is not allowed",
            },
            {
              entry: unknown,
              errorCode: "UnknownContract",
              errorMessage:
                'no event contract names source "acme.billing" with detail-type "Invoice" (lib/eventSchemas)',
            },
            {
              entry: notJson,
              errorCode: "MalformedDetail",
              errorMessage: "detail is not valid JSON",
            },
          ],
        });
        expect(sentBatches()).to.deep.equal([
          [
            { EventBusName: "hub", ...disabled(good) },
            { EventBusName: "hub", ...stripe },
          ],
        ]);
      });

      it("calls EventBridge not at all when every entry is refused, and never retries a refusal", async () => {
        echo();
        const r = await makeSharedPublisher({ client, busName: "hub", sleep }).publish([
          nonConforming,
          unknown,
        ]);
        expect(r.failed.map((f) => f.errorCode)).to.deep.equal([
          "SchemaViolation",
          "UnknownContract",
        ]);
        expect(r).to.include({ delivered: 0, calls: 0, retries: 0 });
        expect(sentBatches()).to.deep.equal([]);
        expect(slept).to.deep.equal([]);
      });

      it("passes an uncontracted entry through when its caller asks, and still refuses a contracted one that breaks its schema", async () => {
        echo();
        const r = await makeSharedPublisher({
          client,
          busName: "hub",
          sleep,
          unknownContracts: "pass-through",
        }).publish([unknown, nonConforming]);
        expect(r.delivered).to.equal(1);
        expect(r.failed.map((f) => f.entry)).to.deep.equal([nonConforming]);
        expect(sentBatches()).to.deep.equal([[{ EventBusName: "hub", ...unknown }]]);
      });

      it("checks against the caller's contracts when it names them, and refuses two claims on one source", () => {
        expect(() =>
          makeSharedPublisher({
            client,
            busName: "hub",
            contracts: [...SWITCHYARD_CONTRACTS, { ...TEST_CONTRACTS[0], source: OUTBOUND_SOURCE }],
          }),
        ).not.to.throw();
        const any = { ...TEST_CONTRACTS[0], detailType: undefined, typeName: "Any" };
        expect(() =>
          makeSharedPublisher({
            client,
            busName: "hub",
            contracts: [any, { ...any, typeName: "Other" }],
          }),
        ).to.throw(
          'event contracts test.publisher@Any and test.publisher@Other both claim every detail-type of source "test.publisher"',
        );
      });
    });

    it("packs batches in order: 10 entries or the size limit, whichever comes first", () => {
      expect(toBatches([1, 2, 3, 4, 5], (n) => n, 5)).to.deep.equal([[1, 2], [3], [4], [5]]);
      expect(
        toBatches(
          Array.from({ length: 12 }, () => 1),
          (n) => n,
          100,
        ).map((b) => b.length),
      ).to.deep.equal([10, 2]);
      expect(toBatches([], (n: number) => n, 5)).to.deep.equal([]);
    });
  });
});
