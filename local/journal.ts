// The bus's event journal: what the local EventBridge did with each event, in order. One entry when
// an event is put on a bus (with the rules it matched), one per delivery outcome of each target
// (delivered, retrying, dead-lettered, dropped). The control port serves it as JSON
// (`GET /journal?since=<seq>`) and as server-sent events (`GET /journal/stream`); `npm run ops --
// tail --local` prints it, and a web console can follow it the same way.
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
}

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

export type JournalEntry = PutEntry | DeliveryEntry;

/** What the bus says about an event; the journal adds seq, at and the event's fields. */
export type JournalRecord = Omit<PutEntry, keyof EntryBase> | Omit<DeliveryEntry, keyof EntryBase>;

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
    } as JournalEntry;
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
