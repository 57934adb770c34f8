// The local EventBridge: events put on a declared bus are archived, matched against the declared
// rules with the foundation's matcher, reshaped by the declared input transformers, and delivered
// to each target with its declared retry policy; what cannot be delivered goes to the declared DLQ
// with the attributes EventBridge sets. Nothing here is declared twice: rules and targets come
// from the resources the Pulumi program registered.
import { randomUUID } from "crypto";
import { compilePattern } from "../lib/eventPattern";
import { evaluateJsonPath, renderInputTransformer } from "../lib/inputTransformer";
import { entrySize, MAX_ENTRIES_PER_CALL } from "../handlers/lib/publisher";
import { AwsError } from "./awsEndpoint";
import { EventJournal } from "./journal";

export interface LocalRule {
  name: string;
  arn: string;
  busName: string;
  pattern: Record<string, unknown>;
  enabled: boolean;
}

/** What decides the input a target receives (a target's Input, InputPath or InputTransformer). */
export interface TargetInputSpec {
  inputTransformer?: { inputPaths?: Record<string, string>; inputTemplate: string };
  input?: string;
  inputPath?: string;
}

export interface LocalTarget extends TargetInputSpec {
  ruleName: string;
  busName: string;
  id: string;
  arn: string;
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
  /** Where each put and each delivery outcome is recorded (the control port serves it). */
  journal?: EventJournal;
}

/**
 * The input EventBridge sends a target for an event: its input transformer rendered with
 * lib/inputTransformer.ts, else its constant Input, else the part of the event its InputPath
 * selects, else the whole event. Throws when a transformer cannot be rendered. The local bus and
 * `npm run ops` (match, dlq redrive) both call this.
 */
export function renderTargetInput(
  rule: { arn: string; name: string },
  t: TargetInputSpec,
  event: object,
  ingestionTime: string,
): string {
  if (t.inputTransformer)
    return renderInputTransformer(
      {
        inputPathsMap: t.inputTransformer.inputPaths,
        inputTemplate: t.inputTransformer.inputTemplate,
      },
      event,
      { ruleArn: rule.arn, ruleName: rule.name, ingestionTime },
    );
  if (t.input !== undefined) return t.input;
  if (t.inputPath !== undefined)
    return JSON.stringify(evaluateJsonPath(event, t.inputPath) ?? null);
  return JSON.stringify(event);
}

/** A rule an event matched, with what each of its targets would receive. */
export interface RoutedRule {
  rule: LocalRule;
  targets: Array<{ target: LocalTarget; input: string } | { target: LocalTarget; error: string }>;
}

/** A replay as DescribeReplay reports it. */
export interface LocalReplay {
  ReplayName: string;
  ReplayArn: string;
  State: "STARTING" | "RUNNING" | "COMPLETED" | "FAILED";
  StateReason?: string;
  EventSourceArn: string;
  Destination: { Arn: string; FilterArns?: string[] };
  EventStartTime: number;
  EventEndTime: number;
  EventLastReplayedTime?: number;
  ReplayStartTime: number;
  ReplayEndTime?: number;
}

export class LocalBus {
  public readonly archive: BusEvent[] = [];
  /** The bus each archived event was put on: a replay re-puts it there. */
  private readonly archivedOn = new WeakMap<BusEvent, string>();
  private readonly replays = new Map<string, LocalReplay>();
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
   * archived from (or only those of `busName`), where the rules that accept replays see it (only
   * those of `filterArns` when given, as a replay's Destination.FilterArns). Returns how many
   * events it re-put.
   */
  replay(
    replayName: string,
    from: Date,
    to: Date,
    busName?: string,
    filterArns?: string[],
  ): number {
    return this.replayEvents(replayName, from, to, busName, filterArns).count;
  }

  private replayEvents(
    replayName: string,
    from: Date,
    to: Date,
    busName?: string,
    filterArns?: string[],
  ): { count: number; done: Promise<unknown> } {
    const events = this.archive.filter(
      (e) =>
        new Date(e.time) >= from &&
        new Date(e.time) <= to &&
        (busName === undefined || this.archivedOn.get(e) === busName),
    );
    const only = filterArns?.length ? new Set(filterArns) : undefined;
    const deliveries = events.flatMap((e) =>
      this.accept(
        this.archivedOn.get(e) ?? this.busNames[0],
        { ...e, "replay-name": replayName },
        only,
      ),
    );
    return { count: events.length, done: Promise.allSettled(deliveries) };
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
      Destination?: { Arn?: unknown; FilterArns?: unknown };
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
    const filter = request.Destination?.FilterArns;
    if (
      filter !== undefined &&
      filter !== null &&
      (!Array.isArray(filter) || filter.some((f) => typeof f !== "string"))
    )
      throw serializationError("Expected list of strings for FilterArns");
    const filterArns = (filter ?? undefined) as string[] | undefined;
    for (const arn of filterArns ?? [])
      if (!this.rules.some((r) => r.arn === arn && r.busName === source))
        throw new AwsError(
          "ValidationException",
          `Parameter Destination.FilterArns is not valid. Reason: Rule ${arn} does not exist on event bus ${source}.`,
        );
    if (this.replays.has(name))
      throw new AwsError("ResourceAlreadyExistsException", `Replay ${name} already exists.`);
    const replay: LocalReplay = {
      ReplayName: name,
      ReplayArn: `arn:aws:events:${this.deps.region}:${this.deps.account}:replay/${name}`,
      State: "RUNNING",
      StateReason: "Replay is running",
      EventSourceArn: String(request.EventSourceArn),
      Destination: { Arn: destination, ...(filterArns ? { FilterArns: filterArns } : {}) },
      EventStartTime: from.getTime() / 1000,
      EventEndTime: to.getTime() / 1000,
      ReplayStartTime: Date.now() / 1000,
    };
    this.replays.set(name, replay);
    const { done } = this.replayEvents(name, from, to, source, filterArns);
    // Completed once every event it re-put has been delivered or dead-lettered, as DescribeReplay
    // then reports it.
    const finished = done.then(() => {
      replay.State = "COMPLETED";
      replay.StateReason = "Replay completed";
      replay.ReplayEndTime = Date.now() / 1000;
      replay.EventLastReplayedTime = to.getTime() / 1000;
    });
    this.inflight.add(finished);
    void finished.finally(() => this.inflight.delete(finished));
    return {
      ReplayArn: replay.ReplayArn,
      State: "STARTING",
      StateReason: "Replay is starting",
      ReplayStartTime: replay.ReplayStartTime,
    };
  }

  /** DescribeReplay: a replay started on this bus, by name. */
  describeReplay(request: { ReplayName?: unknown }): LocalReplay {
    const name = String(request.ReplayName ?? "");
    const replay = this.replays.get(name);
    if (!replay) throw new AwsError("ResourceNotFoundException", `Replay ${name} does not exist.`);
    return { ...replay };
  }

  /**
   * The enabled rules of `busName` that `event` matches, each with what its targets would receive:
   * what the bus delivers, and what `npm run ops -- match` prints.
   */
  route(
    busName: string,
    event: BusEvent,
    ingestionTime = new Date().toISOString(),
    only?: Set<string>,
  ): RoutedRule[] {
    const out: RoutedRule[] = [];
    for (const rule of this.rules) {
      if (rule.busName !== busName || !rule.enabled) continue;
      if (only && !only.has(rule.arn)) continue;
      if (!this.matchers.get(rule.arn)!(event)) continue;
      out.push({
        rule,
        targets: this.targets
          .filter((x) => x.ruleName === rule.name && x.busName === busName)
          .map((target) => {
            try {
              return { target, input: renderTargetInput(rule, target, event, ingestionTime) };
            } catch (e) {
              return { target, error: (e as Error).message };
            }
          }),
      });
    }
    return out;
  }

  /** Archives (unless replayed), matches and starts the deliveries of one event; returns them. */
  private accept(busName: string, event: BusEvent, only?: Set<string>): Promise<void>[] {
    if (!event["replay-name"]) {
      this.archive.push(event);
      this.archivedOn.set(event, busName);
    }
    this.deps.log(
      `bus ${busName}: event ${event.id} ${event.source}/${event["detail-type"]}${event["replay-name"] ? ` (replay ${event["replay-name"]})` : ""}`,
    );
    const routed = this.route(busName, event, new Date().toISOString(), only);
    this.deps.journal?.record(busName, event, {
      kind: "put",
      outcome: routed.length ? "matched" : "unmatched",
      rules: routed.map((r) => r.rule.name),
    });
    const started: Promise<void>[] = [];
    for (const { rule, targets } of routed) {
      this.deps.log(`  rule ${rule.name} matched event ${event.id}`);
      for (const t of targets) {
        const p = this.deliverWithRetries(rule, t.target, event, t).finally(() =>
          this.inflight.delete(p),
        );
        this.inflight.add(p);
        started.push(p);
      }
    }
    return started;
  }

  private async deliverWithRetries(
    rule: LocalRule,
    t: LocalTarget,
    event: BusEvent,
    rendered: { input: string } | { error: string },
  ): Promise<void> {
    const started = Date.now();
    if ("error" in rendered) return this.toDlq(rule, t, event, "InvalidInput", rendered.error, 0);
    const input = rendered.input;
    const maxAgeMs = t.retryPolicy.maximumEventAgeInSeconds * 1000;
    const journal = (what: {
      outcome: "delivered" | "retrying";
      attempt: number;
      error?: { code: string; message: string };
    }) =>
      this.deps.journal?.record(t.busName, event, {
        kind: "delivery",
        rule: rule.name,
        target: t.id,
        targetArn: t.arn,
        ...what,
      });
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.deliver(t, input, event);
        this.deps.log(
          `  target ${rule.name}/${t.id} delivered event ${event.id}${attempt ? ` after ${attempt} retries` : ""}`,
        );
        journal({ outcome: "delivered", attempt: attempt + 1 });
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
        journal({
          outcome: "retrying",
          attempt: attempt + 1,
          error: { code: err.code, message: err.message },
        });
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
    const journal = (outcome: "dead-lettered" | "dropped") =>
      this.deps.journal?.record(t.busName, event, {
        kind: "delivery",
        outcome,
        rule: rule.name,
        target: t.id,
        targetArn: t.arn,
        attempt: attempts,
        error: { code, message },
        ...(t.deadLetterArn ? { deadLetterQueue: t.deadLetterArn.split(":").pop() } : {}),
      });
    if (!t.deadLetterArn) {
      this.deps.log(
        `  target ${rule.name}/${t.id} dropped event ${event.id} after ${attempts} attempts (no DLQ)`,
      );
      journal("dropped");
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
    journal("dead-lettered");
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
