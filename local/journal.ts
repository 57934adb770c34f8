// The twin's event journal: what the local run did with each event, in order. The bus's entries:
// one when an event is put on a bus (with the rules it matched), one per delivery outcome of each
// target (delivered, retrying, dead-lettered, dropped). Beside them, what the rest of the run did
// that an operator follows an event through: each webhook delivery's verdict, each state machine
// execution's path, each outbound webhook attempt, each queue's depth as messages come and go, the
// tenant ingress's refusals and the console's redrives. The control port serves it as JSON
// (`GET /journal?since=<seq>`) and as server-sent events (`GET /journal/stream`); `npm run ops --
// tail --local` prints it, and the console (local/console/) shows it: the one source both read.
import type * as http from "http";
import { validCorrelationId, CORRELATION_FIELD } from "../handlers/lib/correlation";

/** What happened to one target's delivery of an event. */
export type DeliveryOutcome = "delivered" | "retrying" | "dead-lettered" | "dropped";

interface EntryBase {
  /** Increasing from 1; `since=<seq>` returns the entries after it. */
  seq: number;
  /** When the twin recorded it (ISO 8601, milliseconds). */
  at: string;
  eventId: string;
  /** The event's own `time`. */
  eventTime: string;
  /** `detail.correlationId` or `detail.metadata.correlationId`, when the event carries one. */
  correlationId?: string;
  bus: string;
  source: string;
  detailType: string;
  /** The replay that re-put this event, for replayed events. */
  replayName?: string;
}

/** An event put on a bus: the rules it matched (none: `unmatched`). */
export interface PutEntry extends EntryBase {
  kind: "put";
  outcome: "matched" | "unmatched";
  rules: string[];
  /** The event's detail as JSON, its first DETAIL_PREVIEW_CHARS characters (the console shows it). */
  detail?: string;
}

/** How much of an event's detail a put entry keeps. */
export const DETAIL_PREVIEW_CHARS = 2048;

/** One outcome of one target's delivery of an event. */
export interface DeliveryEntry extends EntryBase {
  kind: "delivery";
  outcome: DeliveryOutcome;
  rule: string;
  /** The target's id in its rule, and its ARN. */
  target: string;
  targetArn: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Why the attempt failed (retrying, dead-lettered, dropped). */
  error?: { code: string; message: string };
  /** The queue a dead-lettered event went to. */
  deadLetterQueue?: string;
}

/** What every entry that is not the bus's carries. */
interface FactBase {
  seq: number;
  at: string;
  /** The bus event it concerns, when known. */
  eventId?: string;
  correlationId?: string;
}

/** A webhook receiver's answer to one delivery (its Function URL's request). */
export interface WebhookEntry extends FactBase {
  kind: "webhook";
  provider: string;
  /** The receiver function. */
  function: string;
  /** The HTTP status the sender got. */
  status: number;
  /** accepted (published), duplicate (seen before), refused (4xx) or failed (5xx: the sender retries). */
  verdict: "accepted" | "duplicate" | "refused" | "failed";
  /** Why it was refused or failed, as the receiver logged it (or answered it). */
  reason?: string;
  deliveryId?: string;
}

/** A state machine execution: started, each state entered, then its end. */
export interface ExecutionEntry extends FactBase {
  kind: "execution";
  stateMachine: string;
  executionArn: string;
  name: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  /** The state entered (for a `state` step). */
  state?: string;
  /** The states entered so far, in order. */
  path: string[];
  step: "started" | "state" | "ended";
  error?: string;
}

/** One attempt of the outbound webhook dispatcher to deliver a message to a subscription. */
export interface OutboundEntry extends FactBase {
  kind: "outbound";
  subscription: string;
  messageId: string;
  /** delivered, failed (retried later), exhausted (to the subscription's DLQ). */
  outcome: "delivered" | "failed" | "exhausted";
  attempt?: number;
  statusCode?: number;
  error?: string;
}

/** A queue's depth after a message was sent to it or deleted from it. */
export interface QueueEntry extends FactBase {
  kind: "queue";
  queue: string;
  change: "sent" | "deleted";
  messageId: string;
  depth: number;
  /** A dead letter's rule, target and error (EventBridge's message attributes). */
  deadLetter?: { ruleArn?: string; targetArn?: string; errorCode?: string; errorMessage?: string };
}

/** An event the tenant ingress refused (and sent to its rejected queue). */
export interface IngressRefusalEntry extends FactBase {
  kind: "ingress-refusal";
  tenant?: string;
  status: number;
  code: string;
  reason: string;
}

/** A dead letter redriven from the console (the same code as `npm run ops -- dlq redrive`). */
export interface RedriveEntry extends FactBase {
  kind: "redrive";
  messageId: string;
  targetArn?: string;
  outcome: string;
  detail: string;
}

/** The bus's entries. */
export type BusEntry = PutEntry | DeliveryEntry;
export type FactEntry =
  WebhookEntry | ExecutionEntry | OutboundEntry | QueueEntry | IngressRefusalEntry | RedriveEntry;
export type JournalEntry = BusEntry | FactEntry;

/** What the bus says about an event; the journal adds seq, at and the event's fields. */
export type JournalRecord = Omit<PutEntry, keyof EntryBase> | Omit<DeliveryEntry, keyof EntryBase>;

/** What the rest of the run says; the journal adds seq and at. */
export type FactRecord = FactEntry extends infer E
  ? E extends FactEntry
    ? Omit<E, "seq" | "at">
    : never
  : never;

/** The parts of a bus event an entry names. */
export interface JournaledEvent {
  id: string;
  time: string;
  source: string;
  "detail-type": string;
  detail: unknown;
  "replay-name"?: string;
}

/** How many entries the journal keeps (the oldest go first); `since` older than that starts later. */
export const JOURNAL_CAPACITY = 20_000;

export class EventJournal {
  private readonly entries: JournalEntry[] = [];
  private nextSeq = 1;
  private readonly listeners = new Set<(e: JournalEntry) => void>();

  constructor(private readonly capacity = JOURNAL_CAPACITY) {}

  /** The seq of the latest entry (0 before the first). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  record(bus: string, event: JournaledEvent, what: JournalRecord): JournalEntry {
    const detail = event.detail as Record<string, any> | undefined;
    const correlationId =
      validCorrelationId(detail?.[CORRELATION_FIELD]) ??
      validCorrelationId(detail?.metadata?.[CORRELATION_FIELD]);
    const entry = {
      seq: this.nextSeq++,
      at: new Date().toISOString(),
      eventId: event.id,
      eventTime: event.time,
      ...(correlationId ? { correlationId } : {}),
      bus,
      source: event.source,
      detailType: event["detail-type"],
      ...(event["replay-name"] ? { replayName: event["replay-name"] } : {}),
      ...what,
      ...(what.kind === "put"
        ? { detail: JSON.stringify(event.detail ?? null).slice(0, DETAIL_PREVIEW_CHARS) }
        : {}),
    } as JournalEntry;
    return this.add(entry);
  }

  /** Records what a part of the run other than the bus did (a webhook's verdict, a queue's depth). */
  note(fact: FactRecord): JournalEntry {
    const entry = { seq: this.nextSeq++, at: new Date().toISOString(), ...fact } as JournalEntry;
    if (entry.correlationId !== undefined && !validCorrelationId(entry.correlationId))
      delete entry.correlationId;
    return this.add(entry);
  }

  private add(entry: JournalEntry): JournalEntry {
    this.entries.push(entry);
    if (this.entries.length > this.capacity)
      this.entries.splice(0, this.entries.length - this.capacity);
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /** The entries after `seq` (all kept ones for 0), at most `limit`. */
  since(seq: number, limit = Infinity): JournalEntry[] {
    const first = this.entries.findIndex((e) => e.seq > seq);
    if (first < 0) return [];
    return this.entries.slice(first, first + limit);
  }

  /** Calls `listener` with each entry recorded from now on; returns the unsubscribe. */
  subscribe(listener: (e: JournalEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Serves the journal as server-sent events: the entries after `since`, then each new one as it is
 * recorded (`id:` its seq, so a reconnecting client's Last-Event-ID resumes after it); a comment
 * every 15 s keeps proxies from closing an idle stream. The control port and the console serve it.
 */
export function streamJournal(
  journal: EventJournal,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  since: number,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  let last = since;
  const write = (e: { seq: number }) => {
    if (e.seq <= last) return;
    last = e.seq;
    res.write(`id: ${e.seq}\nevent: entry\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const unsubscribe = journal.subscribe(write);
  for (const e of journal.since(since)) write(e);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  const end = () => {
    clearInterval(keepAlive);
    unsubscribe();
  };
  req.socket.once("close", end);
  res.once("close", end);
}

/**
 * The `since` a journal request asks for (`?since=`, else a reconnecting EventSource's
 * Last-Event-ID, else 0), or the reason it is not a sequence number.
 */
export function journalSince(
  url: URL,
  req: http.IncomingMessage,
): { since: number } | { error: string } {
  const raw = url.searchParams.get("since") ?? req.headers["last-event-id"] ?? "0";
  const since = Number(raw);
  if (!/^\d+$/.test(String(raw)) || !Number.isSafeInteger(since))
    return {
      error: `since must be a journal sequence number (0 or more), got ${JSON.stringify(raw)}`,
    };
  return { since };
}
