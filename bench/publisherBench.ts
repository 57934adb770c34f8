// Publisher efficiency: how many PutEvents calls handlers/lib/publisher.ts makes for a bulk of
// events, and how full each call is, against an EventBridge client that records every call.
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import {
  DEFAULT_MAX_ENTRY_BYTES,
  entrySize,
  makePublisher,
  MAX_ENTRIES_PER_CALL,
  PublishEntry,
} from "../handlers/lib/publisher";
import { REGION } from "../local/account";

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
  /** Summed entry size of every call, retries included, over the calls. */
  bytesPerCall: number;
  /** Calls with more than 10 entries or more than 256 KB of entries: EventBridge refuses them. */
  oversizedCalls: number;
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

const size = (e: PublishEntry) => entrySize(e);

/**
 * A bulk whose entry sizes force size-based splitting: half small (0.2-20 KB), a quarter medium
 * (20-100 KB), a quarter large (100 KB up to the 256 KB entry limit), shuffled. Every entry fits
 * one PutEvents call on its own (entrySize <= 262144), so all of them can be delivered.
 */
export function mixedBulkEntries(n: number, seed = 11): PublishEntry[] {
  const rnd = seeded(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
  return Array.from({ length: n }, (_, i) => {
    const kind = rnd();
    const target =
      kind < 0.5
        ? between(200, 20 * 1024)
        : kind < 0.75
          ? between(20 * 1024, 100 * 1024)
          : between(100 * 1024, DEFAULT_MAX_ENTRY_BYTES + 1);
    // A record event as its contract (lib/eventSchemas/records.ts) has it, padded to its size.
    const detail = (blob: string) =>
      JSON.stringify({
        tenantId: `tenant-${i % 17}`,
        recordId: `rec-${i}`,
        recordVersion: 1 + (i % 5),
        payload: { blob },
      });
    const entry = {
      Source: "switchyard.records",
      DetailType: i % 3 === 0 ? "RecordUpdated" : "RecordCreated",
      Detail: detail(""),
    };
    entry.Detail = detail("x".repeat(Math.max(0, target - entrySize(entry))));
    return entry;
  });
}

/**
 * The fewest PutEvents calls any publisher could need for these entry sizes, as a lower bound:
 * the larger of ceil(n / 10) (entries per call) and Martello and Toth's L2 bound for packing the
 * sizes into calls of `maxBytes`. L2 takes, for each threshold k <= maxBytes / 2, the entries over
 * maxBytes / 2 (no two share a call: each needs its own) plus the calls the entries of at least k
 * bytes still need once the room left beside those large ones is used up; the true optimum (an
 * NP-hard packing) is at least this. It is exact when count or one large-entry class decides.
 */
export function callsLowerBound(
  sizes: readonly number[],
  maxEntries = MAX_ENTRIES_PER_CALL,
  maxBytes = DEFAULT_MAX_ENTRY_BYTES,
): number {
  if (sizes.some((s) => s > maxBytes))
    throw new Error(`callsLowerBound: an entry is over ${maxBytes} bytes and fits no call`);
  if (sizes.length === 0) return 0;
  const byCount = Math.ceil(sizes.length / maxEntries);
  const half = maxBytes / 2;
  const thresholds = [0, ...new Set(sizes.filter((s) => s <= half))];
  let l2 = 0;
  for (const k of thresholds) {
    let large = 0; // over maxBytes - k: nothing of size >= k fits beside them
    let mid = 0; // over half, up to maxBytes - k
    let midBytes = 0;
    let smallBytes = 0; // from k to half
    for (const s of sizes) {
      if (s > maxBytes - k) large++;
      else if (s > half) {
        mid++;
        midBytes += s;
      } else if (s >= k) smallBytes += s;
    }
    const room = mid * maxBytes - midBytes;
    l2 = Math.max(l2, large + mid + Math.max(0, Math.ceil((smallBytes - room) / maxBytes)));
  }
  return Math.max(byCount, l2);
}

/**
 * The fewest calls that keep the entries in the order given, each call a run of consecutive
 * entries (at most 10, at most `maxBytes`): filling each call until the next entry does not fit is
 * optimal here, since any run of a call that fits also fits with fewer entries (an exchange
 * argument: the greedy call ends no earlier than any other's, call by call). The publisher keeps
 * its callers' order (a record's events go out in the order they happened), so this is its optimum.
 */
export function inOrderFewestCalls(
  sizes: readonly number[],
  maxEntries = MAX_ENTRIES_PER_CALL,
  maxBytes = DEFAULT_MAX_ENTRY_BYTES,
): number {
  let calls = 0;
  let entries = maxEntries;
  let bytes = maxBytes;
  for (const s of sizes) {
    if (s > maxBytes)
      throw new Error(`inOrderFewestCalls: an entry is over ${maxBytes} bytes and fits no call`);
    if (entries === maxEntries || bytes + s > maxBytes) {
      calls++;
      entries = 0;
      bytes = 0;
    }
    entries++;
    bytes += s;
  }
  return calls;
}

/**
 * Calls a first-fit-decreasing packing needs (largest entry first into the first call with room for
 * its bytes and an eleventh-free slot): an achievable count, so the optimum lies between
 * callsLowerBound and this. The publisher keeps the order it is given, which FFD does not.
 */
export function firstFitDecreasingCalls(
  sizes: readonly number[],
  maxEntries = MAX_ENTRIES_PER_CALL,
  maxBytes = DEFAULT_MAX_ENTRY_BYTES,
): number {
  const calls: Array<{ bytes: number; entries: number }> = [];
  for (const s of [...sizes].sort((a, b) => b - a)) {
    const fit = calls.find((c) => c.entries < maxEntries && c.bytes + s <= maxBytes);
    if (fit) {
      fit.bytes += s;
      fit.entries++;
    } else calls.push({ bytes: s, entries: 1 });
  }
  return calls.length;
}

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
    region: REGION,
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
    const bytes = calls.map((c) => c.reduce((n, e) => n + size(e as PublishEntry), 0));
    return {
      events: entries.length,
      delivered: result.delivered,
      calls: calls.length,
      retries: result.retries,
      entriesPerCall: Math.round((counts.reduce((a, b) => a + b, 0) / calls.length) * 100) / 100,
      minEntriesPerCall: Math.min(...counts),
      maxEntriesPerCall: Math.max(...counts),
      maxBytesPerCall: Math.max(...bytes),
      bytesPerCall: Math.round(bytes.reduce((a, b) => a + b, 0) / calls.length),
      oversizedCalls: calls.filter(
        (c, i) => c.length > MAX_ENTRIES_PER_CALL || bytes[i] > DEFAULT_MAX_ENTRY_BYTES,
      ).length,
    };
  } finally {
    mock.restore();
  }
}
