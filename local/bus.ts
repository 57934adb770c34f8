// The local EventBridge: events put on a declared bus are archived, matched against the declared
// rules with the foundation's matcher, reshaped by the declared input transformers, and delivered
// to each target with its declared retry policy; what cannot be delivered goes to the declared DLQ
// with the attributes EventBridge sets. Nothing here is declared twice: rules and targets come
// from the resources the Pulumi program registered.
import { randomUUID } from "crypto";
import { compilePattern } from "../lib/eventPattern";
import { renderInputTransformer } from "../lib/inputTransformer";

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

  /** Validates and accepts PutEvents entries the way EventBridge answers them. */
  putEvents(entries: any[]): { FailedEntryCount: number; Entries: any[] } {
    const results: any[] = [];
    let failed = 0;
    for (const e of entries) {
      const busName = String(e.EventBusName ?? "default")
        .split("/")
        .pop()!;
      const reject = (code: string, message: string) => {
        failed++;
        results.push({ ErrorCode: code, ErrorMessage: message });
      };
      if (!this.busNames.includes(busName)) {
        reject("ResourceNotFoundException", `Event bus ${busName} does not exist.`);
        continue;
      }
      if (!e.Source || !e.DetailType || e.Detail === undefined) {
        reject("InvalidArgument", "Parameter(s) Source, DetailType and Detail must be specified.");
        continue;
      }
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail);
      } catch {
        reject("MalformedDetail", "Detail is malformed.");
        continue;
      }
      if (!detail || typeof detail !== "object" || Array.isArray(detail)) {
        reject("MalformedDetail", "Detail is malformed.");
        continue;
      }
      const event: BusEvent = {
        version: "0",
        id: randomUUID(),
        "detail-type": e.DetailType,
        source: e.Source,
        account: this.deps.account,
        time: e.Time
          ? new Date(typeof e.Time === "number" ? e.Time * 1000 : e.Time)
              .toISOString()
              .replace(/\.\d{3}Z$/, "Z")
          : new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: this.deps.region,
        resources: e.Resources ?? [],
        detail,
      };
      results.push({ EventId: event.id });
      this.accept(busName, event);
    }
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Re-puts archived events with `replay-name`, as an archive replay does. */
  replay(replayName: string, from: Date, to: Date): number {
    const events = this.archive.filter((e) => new Date(e.time) >= from && new Date(e.time) <= to);
    for (const e of events) this.accept(this.busNames[0], { ...e, "replay-name": replayName });
    return events.length;
  }

  private accept(busName: string, event: BusEvent): void {
    if (!event["replay-name"]) this.archive.push(event);
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
