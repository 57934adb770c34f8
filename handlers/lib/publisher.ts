// The one EventBridge publisher of every Switchyard handler: each entry checked against its event
// contract (lib/eventSchemas), batches of at most 10 entries within the bus size limit (entry size
// computed as AWS does), retries of only the failed entries with exponential backoff and full
// jitter, and a report of everything that could not be delivered. Nothing is dropped silently:
// each entry ends in `delivered` or `failed`, a refused one with its reason as EventBridge reports
// a per-entry error, so the caller's failure path (batch item failure, DLQ, 5xx) handles it.
import {
  ContractIndex,
  detailProblems,
  EventContract,
  indexContracts,
  schemaName,
  SWITCHYARD_CONTRACTS,
} from "../../lib/eventSchemas";
import { sdkEventBridge } from "./lazy";

export interface PublishEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Resources?: string[];
  Time?: Date;
  TraceHeader?: string;
}

export interface FailedEntry {
  entry: PublishEntry;
  errorCode: string;
  errorMessage: string;
}

export interface PublishResult {
  /** Entries EventBridge accepted. */
  delivered: number;
  /** Entries that were not accepted, with the last error AWS (or the size check) gave. */
  failed: FailedEntry[];
  /** PutEvents calls made, retries included. */
  calls: number;
  /** Calls that were retries (of a whole batch or of its failed entries). */
  retries: number;
}

export interface PublisherOptions {
  /** An EventBridgeClient (anything with its `send`). */
  client: { send(command: any): Promise<any> };
  /** Name or ARN of the bus every entry goes to. */
  busName: string;
  /** Largest summed entry size of one call, and of one entry. Default 262144 (256 KB). */
  maxEntryBytes?: number;
  /** Calls per batch including the first. Default 4. */
  maxAttempts?: number;
  /** Base of the exponential backoff with full jitter, in ms. Default 50. */
  baseDelayMs?: number;
  /** Waits between attempts (tests pass a fake). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The event contracts entries are checked against before PutEvents. Default SWITCHYARD_CONTRACTS
   * (lib/eventSchemas); a caller whose configuration names more sources passes those too.
   */
  contracts?: readonly EventContract[];
  /**
   * An entry whose (source, detail-type) no contract names: `refuse` it (default, error code
   * UnknownContract) or `pass-through` unchecked, for a caller that forwards events it does not own.
   */
  unknownContracts?: "refuse" | "pass-through";
}

/** Error codes of entries the publisher refuses before PutEvents (never retried). */
export const CONTRACT_ERRORS = {
  /** The detail is not JSON (EventBridge's own code for it). */
  malformed: "MalformedDetail",
  /** The detail breaks its contract's schema. */
  violation: "SchemaViolation",
  /** No contract names the entry's source and detail-type. */
  unknown: "UnknownContract",
} as const;

/** What the publisher made of one entry's contract, before sending it. */
export interface ContractVerdict {
  entry: PublishEntry;
  /** The contract the entry was checked against; absent when none names it. */
  contract?: EventContract;
  /** The refusal, or undefined when the entry goes on to PutEvents. */
  refused?: FailedEntry;
}

const observers = new Set<(v: ContractVerdict) => void>();

/**
 * Calls `observer` with every entry any publisher of this process is given, and its verdict. For
 * tests (test/support/publishedEvents.ts checks every event the handler suites publish); returns
 * the function that stops observing.
 */
export function observeContracts(observer: (v: ContractVerdict) => void): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** The contract an entry is checked against and, if it is refused, why. */
export function checkContract(
  index: ContractIndex,
  entry: PublishEntry,
  unknownContracts: "refuse" | "pass-through" = "refuse",
): ContractVerdict {
  const contract = index.find(entry.Source, entry.DetailType);
  if (!contract) {
    if (unknownContracts === "pass-through") return { entry };
    return {
      entry,
      refused: {
        entry,
        errorCode: CONTRACT_ERRORS.unknown,
        errorMessage: `no event contract names source "${entry.Source}" with detail-type "${entry.DetailType}" (lib/eventSchemas)`,
      },
    };
  }
  const problems = detailProblems(contract, entry.Detail);
  if (problems.length === 0) return { entry, contract };
  const malformed = problems[0] === "$: detail is not valid JSON";
  return {
    entry,
    contract,
    refused: {
      entry,
      errorCode: malformed ? CONTRACT_ERRORS.malformed : CONTRACT_ERRORS.violation,
      errorMessage: malformed
        ? "detail is not valid JSON"
        : `detail does not conform to ${schemaName(contract)}: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`,
    },
  };
}

let defaultIndex: ContractIndex | undefined;

/**
 * The verdict a publisher with the default contracts (SWITCHYARD_CONTRACTS) gives an entry, for a
 * caller that must refuse an entry before it is stored to be published later (the webhook receiver).
 */
export function checkSwitchyardContract(entry: PublishEntry): ContractVerdict {
  return checkContract((defaultIndex ??= indexContracts(SWITCHYARD_CONTRACTS)), entry);
}

/** At most this many entries per PutEvents call (an EventBridge quota). */
export const MAX_ENTRIES_PER_CALL = 10;
export const DEFAULT_MAX_ENTRY_BYTES = 262144;
/** Longest single backoff, whatever the attempt. */
const MAX_DELAY_MS = 5000;

/** Per-entry error codes EventBridge documents as retryable (and their aliases seen in the wild). */
export const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "InternalFailure",
  "InternalException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
]);

/** Whole-call errors worth retrying: throttling, 5xx, timeouts and network faults. */
const RETRYABLE_CALL_ERRORS: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "InternalException",
  "InternalFailure",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
]);

/**
 * Size of a PutEvents entry as EventBridge computes it: UTF-8 bytes of Source, DetailType, Detail
 * and each Resources entry, plus 14 when Time is set (TraceHeader does not count).
 */
export function entrySize(e: PublishEntry): number {
  let size = e.Time !== undefined && e.Time !== null ? 14 : 0;
  size += Buffer.byteLength(e.Source ?? "", "utf8");
  size += Buffer.byteLength(e.DetailType ?? "", "utf8");
  if (e.Detail !== undefined && e.Detail !== null) size += Buffer.byteLength(e.Detail, "utf8");
  for (const r of e.Resources ?? []) {
    if (r !== undefined && r !== null) size += Buffer.byteLength(r, "utf8");
  }
  return size;
}

/** Whether a rejected PutEvents call is transient. */
export function isRetryableCallError(err: unknown): boolean {
  const e = err as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (!e || typeof e !== "object") return false;
  if (e.name && RETRYABLE_CALL_ERRORS.has(e.name)) return true;
  if (e.code && RETRYABLE_NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/** Packs entries into batches of at most 10 whose summed size is at most `maxBytes`, in order. */
export function toBatches<T>(items: T[], sizeOf: (t: T) => number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = sizeOf(item);
    if (current.length > 0 && (current.length === MAX_ENTRIES_PER_CALL || bytes + s > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makePublisher(o: PublisherOptions): {
  publish(entries: PublishEntry[]): Promise<PublishResult>;
} {
  const maxEntryBytes = o.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const maxAttempts = Math.max(1, o.maxAttempts ?? 4);
  const baseDelayMs = o.baseDelayMs ?? 50;
  const sleep = o.sleep ?? realSleep;
  if (!o.busName) throw new Error("makePublisher: busName is required (the event bus name or ARN)");
  const contracts = o.contracts
    ? indexContracts(o.contracts)
    : (defaultIndex ??= indexContracts(SWITCHYARD_CONTRACTS));
  const unknownContracts = o.unknownContracts ?? "refuse";

  // Full jitter: a uniform wait in [0, min(cap, base * 2^(attempt-1))].
  const backoff = (attempt: number) =>
    Math.floor(Math.random() * Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** (attempt - 1)));

  return {
    async publish(entries: PublishEntry[]): Promise<PublishResult> {
      const result: PublishResult = { delivered: 0, failed: [], calls: 0, retries: 0 };
      const sendable: Array<{ entry: PublishEntry; size: number }> = [];
      for (const entry of entries) {
        const verdict = checkContract(contracts, entry, unknownContracts);
        for (const observe of observers) observe(verdict);
        if (verdict.refused) {
          result.failed.push(verdict.refused);
          continue;
        }
        const size = entrySize(entry);
        if (size > maxEntryBytes) {
          result.failed.push({
            entry,
            errorCode: "EntryTooLarge",
            errorMessage: `entry is ${size} bytes, more than the bus limit of ${maxEntryBytes} bytes`,
          });
        } else {
          sendable.push({ entry, size });
        }
      }

      for (const batch of toBatches(sendable, (x) => x.size, maxEntryBytes)) {
        let pending = batch.map((x) => x.entry);
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (attempt > 1) {
            result.retries++;
            await sleep(backoff(attempt - 1));
          }
          const last = attempt >= maxAttempts;
          result.calls++;
          let response: {
            FailedEntryCount?: number;
            Entries?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
          };
          try {
            response = await o.client.send(
              new (sdkEventBridge().PutEventsCommand)({
                Entries: pending.map((e) => ({
                  EventBusName: o.busName,
                  Source: e.Source,
                  DetailType: e.DetailType,
                  Detail: e.Detail,
                  ...(e.Resources ? { Resources: e.Resources } : {}),
                  ...(e.Time ? { Time: e.Time } : {}),
                  ...(e.TraceHeader ? { TraceHeader: e.TraceHeader } : {}),
                })),
              }),
            );
          } catch (err) {
            if (!last && isRetryableCallError(err)) continue;
            const e = err as Error;
            for (const entry of pending) {
              result.failed.push({
                entry,
                errorCode: e?.name || "Error",
                errorMessage: e?.message || String(err),
              });
            }
            break;
          }

          const answers = response?.Entries ?? [];
          const retry: PublishEntry[] = [];
          pending.forEach((entry, i) => {
            const a = answers[i];
            if (a && !a.ErrorCode && (a.EventId !== undefined || !response.FailedEntryCount)) {
              result.delivered++;
              return;
            }
            if (!a) {
              // AWS answers one result per entry, in order; without one the entry's fate is
              // unknown only if the call reported failures.
              if (!response?.FailedEntryCount) {
                result.delivered++;
                return;
              }
              if (!last) retry.push(entry);
              else
                result.failed.push({
                  entry,
                  errorCode: "MissingResultEntry",
                  errorMessage: "PutEvents returned no result for this entry",
                });
              return;
            }
            const code = a.ErrorCode ?? "UnknownError";
            if (!last && RETRYABLE_ENTRY_CODES.has(code)) retry.push(entry);
            else result.failed.push({ entry, errorCode: code, errorMessage: a.ErrorMessage ?? "" });
          });
          pending = retry;
        }
      }
      return result;
    },
  };
}
