// Publisher efficiency: how many PutEvents calls handlers/lib/publisher.ts makes for a bulk of
// events, and how full each call is, against an EventBridge client that records every call.
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { makePublisher, PublishEntry } from "../handlers/lib/publisher";

export interface PublisherEfficiency {
  events: number;
  delivered: number;
  calls: number;
  retries: number;
  entriesPerCall: number;
  minEntriesPerCall: number;
  maxEntriesPerCall: number;
  /** Largest summed entry size of one call, bytes. */
  maxBytesPerCall: number;
}

/** A deterministic pseudo-random generator (mulberry32), so every run publishes the same bulk. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A bulk of record events whose payloads range from 200 B to 20 KB. */
export function bulkEntries(n: number, seed = 8): PublishEntry[] {
  const rnd = seeded(seed);
  return Array.from({ length: n }, (_, i) => ({
    Source: "switchyard.records",
    DetailType: i % 3 === 0 ? "RecordUpdated" : "RecordCreated",
    Detail: JSON.stringify({
      tenantId: `tenant-${i % 17}`,
      recordId: `rec-${i}`,
      recordVersion: 1 + (i % 5),
      correlationId: `corr-${i}`,
      payload: { blob: "x".repeat(200 + Math.floor(rnd() * 19800)) },
    }),
  }));
}

const size = (e: { Source?: string; DetailType?: string; Detail?: string }) =>
  Buffer.byteLength(e.Source ?? "") +
  Buffer.byteLength(e.DetailType ?? "") +
  Buffer.byteLength(e.Detail ?? "");

/**
 * Publishes `entries` through the publisher with a client whose PutEvents records each call and
 * answers like EventBridge: one result per entry, `throttleEvery`-th entries (across all calls)
 * failing with ThrottlingException, which the publisher retries.
 */
export async function publisherEfficiency(
  entries: PublishEntry[],
  throttleEvery = 0,
): Promise<PublisherEfficiency> {
  const client = new EventBridgeClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const mock = mockClient(client);
  let seen = 0;
  mock.on(PutEventsCommand).callsFake((input) => {
    let failed = 0;
    const results = (input.Entries ?? []).map(() => {
      seen++;
      if (throttleEvery > 0 && seen % throttleEvery === 0) {
        failed++;
        return { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" };
      }
      return { EventId: `ev-${seen}` };
    });
    return { FailedEntryCount: failed, Entries: results };
  });
  try {
    const publisher = makePublisher({ client, busName: "bench-bus", sleep: async () => undefined });
    const result = await publisher.publish(entries);
    const calls = mock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    const counts = calls.map((c) => c.length);
    return {
      events: entries.length,
      delivered: result.delivered,
      calls: calls.length,
      retries: result.retries,
      entriesPerCall: Math.round((counts.reduce((a, b) => a + b, 0) / calls.length) * 100) / 100,
      minEntriesPerCall: Math.min(...counts),
      maxEntriesPerCall: Math.max(...counts),
      maxBytesPerCall: Math.max(...calls.map((c) => c.reduce((n, e) => n + size(e), 0))),
    };
  } finally {
    mock.restore();
  }
}
