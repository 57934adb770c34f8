// The local EventBridge: events put on a declared bus are archived, matched against the declared
// rules with the foundation's matcher, reshaped by the declared input transformers, and delivered
// to each target with its declared retry policy; what cannot be delivered goes to the declared DLQ
// with the attributes EventBridge sets. Nothing here is declared twice: rules and targets come
// from the resources the Pulumi program registered.
import { randomUUID } from "crypto";
import { compilePattern } from "../lib/eventPattern";
import { renderInputTransformer } from "../lib/inputTransformer";
import { entrySize, MAX_ENTRIES_PER_CALL } from "../handlers/lib/publisher";
import { AwsError } from "./awsEndpoint";

export interface LocalRule {
  name: string;
  arn: string;
  busName: string;
  pattern: Record<string, unknown>;
  enabled: boolean;
}

export interface LocalTarget {
  ruleName: string;
  busName: string;
  id: string;
  arn: string;
  inputTransformer?: { inputPaths?: Record<string, string>; inputTemplate: string };
  input?: string;
  inputPath?: string;
  retryPolicy: { maximumRetryAttempts: number; maximumEventAgeInSeconds: number };
  deadLetterArn?: string;
  headerParameters?: Record<string, string>;
}

export interface BusEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  "replay-name"?: string;
}

/** A delivery failure; `retryable` false sends the event to the DLQ at once (as for a 4xx). */
export class DeliveryError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly retryable = true,
  ) {
    super(message);
  }
}

export interface BusDeps {
  account: string;
  region: string;
  /** Delivers one rendered input to a target ARN; throws DeliveryError on failure. */
  deliver(target: LocalTarget, input: string, event: BusEvent): Promise<void>;
  /** Sends a dead letter: the original event with EventBridge's message attributes. */
  deadLetter(queueArn: string, body: string, attributes: Record<string, string>): Promise<void>;
  /** One line per hop, for the user. */
  log(line: string): void;
  /** Scales retry backoff (1 = EventBridge's own pace; tests use a small factor). */
  retryDelayMs(attempt: number): number;
  maxEntryBytes: number;
}

export class LocalBus {
  public readonly archive: BusEvent[] = [];
  /** The bus each archived event was put on: a replay re-puts it there. */
  private readonly archivedOn = new WeakMap<BusEvent, string>();
  /** The replays started, by name: what DescribeReplay answers. */
  private readonly replays = new Map<string, Record<string, unknown>>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly matchers = new Map<string, (event: object) => boolean>();

  constructor(
    public readonly rules: LocalRule[],
    public readonly targets: LocalTarget[],
    private readonly deps: BusDeps,
    public readonly busNames: string[],
  ) {
    for (const r of rules) this.matchers.set(r.arn, compilePattern(r.pattern));
  }

  /**
   * Validates and accepts PutEvents entries the way EventBridge answers them. Whole-request faults
   * (entry count, summed size, an unknown bus, a field of the wrong type) reject the call with an
   * AwsError before any entry is published, so a client's retry cannot duplicate one; an entry
   * missing a field or with a malformed Detail fails alone, reported in Entries[i] and
   * FailedEntryCount while the others are published. (Entries stay loosely typed for the
   * runtime's callers, which read a failed entry's ErrorCode.)
   */
  putEvents(entries: unknown): { FailedEntryCount: number; Entries: any[] } {
    const list = validatePutEventsRequest(entries, this.deps.maxEntryBytes);
    const buses = list.map((e) => busNameOf(e.EventBusName));
    for (const b of buses) {
      if (!this.busNames.includes(b))
        throw new AwsError("ResourceNotFoundException", `Event bus ${b} does not exist.`);
    }
    const checked = list.map((e) => checkEntry(e));
    const results: PutEventsResultEntry[] = [];
    let failed = 0;
    checked.forEach((c, i) => {
      if ("ErrorCode" in c) {
        failed++;
        results.push(c);
        return;
      }
      const e = list[i];
      const event: BusEvent = {
        version: "0",
        id: randomUUID(),
        "detail-type": e.DetailType!,
        source: e.Source!,
        account: this.deps.account,
        time: eventTime(e.Time),
        region: this.deps.region,
        resources: e.Resources ?? [],
        detail: c.detail,
      };
      results.push({ EventId: event.id });
      this.accept(buses[i], event);
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  /**
   * Re-puts archived events with `replay-name`, as an archive replay does: each onto the bus it was
   * archived from (or only those of `busName`), where the rules that accept replays see it.
   */
  replay(replayName: string, from: Date, to: Date, busName?: string): number {
    const events = this.archive.filter(
      (e) =>
        new Date(e.time) >= from &&
        new Date(e.time) <= to &&
        (busName === undefined || this.archivedOn.get(e) === busName),
    );
    for (const e of events)
      this.accept(this.archivedOn.get(e) ?? this.busNames[0], { ...e, "replay-name": replayName });
    return events.length;
  }

  /**
   * StartReplay: the archive's events between the two times, re-put onto the archive's source bus.
   * `archives` maps an archive name to the bus it archives (the declared EventArchive resources).
   */
  startReplay(
    request: {
      ReplayName?: unknown;
      EventSourceArn?: unknown;
      EventStartTime?: unknown;
      EventEndTime?: unknown;
      Destination?: { Arn?: unknown };
    },
    archives: Map<string, string>,
  ): { ReplayArn: string; State: string; StateReason: string; ReplayStartTime: number } {
    const name = String(request.ReplayName ?? "");
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name))
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${name}' at 'replayName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    const archiveName = String(request.EventSourceArn ?? "")
      .split("/")
      .pop()!;
    const source = archives.get(archiveName);
    if (source === undefined)
      throw new AwsError(
        "ValidationException",
        `Parameter EventSourceArn is not valid. Reason: Archive ${archiveName} does not exist.`,
      );
    const destination = String(request.Destination?.Arn ?? "");
    if (!/:event-bus\//.test(destination))
      throw new AwsError(
        "ValidationException",
        "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.",
      );
    if (busNameOf(destination) !== source)
      throw new AwsError(
        "ValidationException",
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
      );
    const from = timestamp(request.EventStartTime, "EventStartTime");
    const to = timestamp(request.EventEndTime, "EventEndTime");
    if (from > to)
      throw new AwsError(
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
      );
    if (this.replays.has(name))
      throw new AwsError("ResourceAlreadyExistsException", `Replay ${name} already exists.`);
    const started = Date.now() / 1000;
    const replayArn = `arn:aws:events:${this.deps.region}:${this.deps.account}:replay/${name}`;
    // The archived events are re-put at once: the replay has completed when StartReplay answers.
    const count = this.replay(name, from, to, source);
    this.replays.set(name, {
      ReplayName: name,
      ReplayArn: replayArn,
      State: "COMPLETED",
      StateReason: `Replayed ${count} events`,
      EventSourceArn: String(request.EventSourceArn),
      Destination: { Arn: destination },
      EventStartTime: from.getTime() / 1000,
      EventEndTime: to.getTime() / 1000,
      EventLastReplayedTime: Date.now() / 1000,
      ReplayStartTime: started,
      ReplayEndTime: Date.now() / 1000,
    });
    return {
      ReplayArn: replayArn,
      State: "STARTING",
      StateReason: "Replay is starting",
      ReplayStartTime: started,
    };
  }

  /** DescribeReplay: a replay StartReplay started. */
  describeReplay(request: { ReplayName?: unknown }): Record<string, unknown> {
    const replay = this.replays.get(String(request.ReplayName ?? ""));
    if (!replay)
      throw new AwsError(
        "ResourceNotFoundException",
        `Replay ${String(request.ReplayName)} does not exist.`,
      );
    return replay;
  }

  private accept(busName: string, event: BusEvent): void {
    if (!event["replay-name"]) {
      this.archive.push(event);
      this.archivedOn.set(event, busName);
    }
    this.deps.log(
      `bus ${busName}: event ${event.id} ${event.source}/${event["detail-type"]}${event["replay-name"] ? ` (replay ${event["replay-name"]})` : ""}`,
    );
    for (const rule of this.rules) {
      if (rule.busName !== busName || !rule.enabled) continue;
      if (!this.matchers.get(rule.arn)!(event)) continue;
      this.deps.log(`  rule ${rule.name} matched event ${event.id}`);
      for (const t of this.targets.filter(
        (x) => x.ruleName === rule.name && x.busName === busName,
      )) {
        const p = this.deliverWithRetries(rule, t, event).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    }
  }

  private render(rule: LocalRule, t: LocalTarget, event: BusEvent): string {
    if (t.inputTransformer) {
      return renderInputTransformer(
        {
          inputPathsMap: t.inputTransformer.inputPaths,
          inputTemplate: t.inputTransformer.inputTemplate,
        },
        event,
        {
          ruleArn: rule.arn,
          ruleName: rule.name,
          ingestionTime: new Date().toISOString(),
        },
      );
    }
    if (t.input !== undefined) return t.input;
    return JSON.stringify(event);
  }

  private async deliverWithRetries(
    rule: LocalRule,
    t: LocalTarget,
    event: BusEvent,
  ): Promise<void> {
    const started = Date.now();
    let input: string;
    try {
      input = this.render(rule, t, event);
    } catch (e) {
      return this.toDlq(rule, t, event, "InvalidInput", (e as Error).message, 0);
    }
    const maxAgeMs = t.retryPolicy.maximumEventAgeInSeconds * 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.deliver(t, input, event);
        this.deps.log(
          `  target ${rule.name}/${t.id} delivered event ${event.id}${attempt ? ` after ${attempt} retries` : ""}`,
        );
        return;
      } catch (e) {
        const err =
          e instanceof DeliveryError
            ? e
            : new DeliveryError("SDK_CLIENT_ERROR", (e as Error).message);
        const delay = this.deps.retryDelayMs(attempt);
        const exhausted =
          !err.retryable ||
          attempt >= t.retryPolicy.maximumRetryAttempts ||
          Date.now() - started + delay > maxAgeMs;
        this.deps.log(
          `  target ${rule.name}/${t.id} failed event ${event.id}: ${err.code} ${err.message}${exhausted ? "" : ", will retry"}`,
        );
        if (exhausted) return this.toDlq(rule, t, event, err.code, err.message, attempt + 1);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async toDlq(
    rule: LocalRule,
    t: LocalTarget,
    event: BusEvent,
    code: string,
    message: string,
    attempts: number,
  ) {
    if (!t.deadLetterArn) {
      this.deps.log(
        `  target ${rule.name}/${t.id} dropped event ${event.id} after ${attempts} attempts (no DLQ)`,
      );
      return;
    }
    await this.deps.deadLetter(t.deadLetterArn, JSON.stringify(event), {
      RULE_ARN: rule.arn,
      TARGET_ARN: t.arn,
      ERROR_CODE: code,
      ERROR_MESSAGE: message,
      EXHAUSTED_RETRY_CONDITION:
        attempts > t.retryPolicy.maximumRetryAttempts ? "MaximumRetryAttempts" : "NonRetryable",
      RETRY_ATTEMPTS: String(Math.max(0, attempts - 1)),
    });
    this.deps.log(
      `  target ${rule.name}/${t.id} sent event ${event.id} to DLQ ${t.deadLetterArn.split(":").pop()} (${code})`,
    );
  }

  /** Resolves when every delivery started so far has finished (delivered or dead-lettered). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}

/** One PutEvents request entry as the wire carries it (AWS JSON 1.1). */
export interface PutEventsRequestEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: number | string;
  TraceHeader?: string;
}

/** One entry of PutEvents' answer: EventId when published, ErrorCode and ErrorMessage when not. */
export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}
const STRING_FIELDS = ["Source", "DetailType", "Detail", "EventBusName", "TraceHeader"] as const;

/** The bus name of an EventBusName (a name or an ARN); absent means the account's default bus. */
export function busNameOf(nameOrArn: unknown): string {
  return String(nameOrArn ?? "default")
    .split("/")
    .pop()!;
}

function serializationError(message: string): AwsError {
  return new AwsError("SerializationException", message);
}

/**
 * PutEvents' whole-request checks, in EventBridge's order: the wire types (a value of the wrong
 * JSON type is a SerializationException, as the service's deserializer answers), the 1-10 entry
 * count (Coral's validation message), then the summed entry size computed as EventBridge does
 * (handlers/lib/publisher.ts' entrySize: one entry over 256 KB makes the request over it too).
 */
export function validatePutEventsRequest(
  entries: unknown,
  maxEntryBytes: number,
): PutEventsRequestEntry[] {
  if (entries === undefined || entries === null)
    throw new AwsError(
      "ValidationException",
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  if (!Array.isArray(entries)) throw serializationError("Expected list for Entries");
  for (const e of entries) {
    if (!e || typeof e !== "object" || Array.isArray(e))
      throw serializationError("Expected structure for PutEventsRequestEntry");
    for (const f of STRING_FIELDS) {
      const v = (e as Record<string, unknown>)[f];
      if (v !== undefined && v !== null && typeof v !== "string")
        throw serializationError(`Expected string for ${f}`);
    }
    const r = (e as PutEventsRequestEntry).Resources;
    if (
      r !== undefined &&
      r !== null &&
      (!Array.isArray(r) || r.some((x) => typeof x !== "string"))
    )
      throw serializationError("Expected list of strings for Resources");
    const t = (e as PutEventsRequestEntry).Time;
    if (t !== undefined && t !== null && typeof t !== "number" && typeof t !== "string")
      throw serializationError("Expected timestamp for Time");
    if (t !== undefined && t !== null && Number.isNaN(toDate(t).getTime()))
      throw serializationError(`Invalid timestamp for Time: ${String(t)}`);
  }
  if (entries.length < 1 || entries.length > MAX_ENTRIES_PER_CALL)
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_ENTRIES_PER_CALL}`}`,
    );
  const list = entries as PutEventsRequestEntry[];
  for (const [i, e] of list.entries()) {
    const name = e.EventBusName;
    if (
      name !== undefined &&
      name !== null &&
      !/^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[.\-_A-Za-z0-9]+$/.test(
        name,
      )
    )
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${name}' at 'entries.${i + 1}.member.eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+`,
      );
  }
  const total = list.reduce(
    (sum, e) =>
      sum +
      entrySize({
        Source: e.Source ?? "",
        DetailType: e.DetailType ?? "",
        Detail: e.Detail ?? "",
        Resources: e.Resources ?? undefined,
        Time: e.Time === undefined || e.Time === null ? undefined : toDate(e.Time),
      }),
    0,
  );
  if (total > maxEntryBytes)
    throw new AwsError(
      "ValidationException",
      "Total size of the entries in the request is over the limit.",
    );
  return list;
}

/** Per-entry checks EventBridge reports in Entries[i] (the messages AWS returns). */
function checkEntry(
  e: PutEventsRequestEntry,
): { detail: unknown } | { ErrorCode: string; ErrorMessage: string } {
  const missing = (field: string) => ({
    ErrorCode: "InvalidArgument",
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  });
  if (!e.Source) return missing("Source");
  if (!e.DetailType) return missing("DetailType");
  if (!e.Detail) return missing("Detail");
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail);
  } catch {
    return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
  }
  if (!detail || typeof detail !== "object" || Array.isArray(detail))
    return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
  return { detail };
}

/** A wire timestamp: epoch seconds (AWS JSON's default) or an ISO-8601 string. */
function toDate(t: number | string): Date {
  return new Date(
    typeof t === "number" ? t * 1000 : /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : t,
  );
}

function timestamp(t: unknown, field: string): Date {
  if (t === undefined || t === null)
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value null at '${field[0].toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  if (typeof t !== "number" && typeof t !== "string")
    throw serializationError(`Expected timestamp for ${field}`);
  const d = toDate(t);
  if (Number.isNaN(d.getTime())) throw serializationError(`Invalid timestamp for ${field}`);
  return d;
}

function eventTime(t: number | string | undefined): string {
  const d = t === undefined || t === null ? new Date() : toDate(t);
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
