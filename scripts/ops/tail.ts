// `tail`: the bus's events as they flow. Locally, the twin's event journal (its control port's
// /journal/stream: each put with the rules it matched, each target's outcome). On AWS, the debug
// route's log group (every event of the bus, replays included), where the stack has one; EventBridge
// logs no rule or target outcome there, so those lines name the event only.
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { BusEntry, JournalEntry } from "../../local/journal";
import { OpsContext } from "./context";

export interface TailArgs {
  /** Stop after this many entries (default: run until interrupted). */
  count?: number;
  /** Locally: start after this journal seq (default: from now). On AWS: this time. */
  since?: string;
  json?: boolean;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Locally: every journal entry (webhooks, executions, queues, ...), not only the bus's. */
  all?: boolean;
}

/** Whether an entry is the bus's own (a put or a target's outcome). */
export function isBusEntry(e: JournalEntry): e is BusEntry {
  return e.kind === "put" || e.kind === "delivery";
}

/** One line for a journal entry. */
export function journalLine(e: JournalEntry): string {
  const corr = e.correlationId ? ` correlation ${e.correlationId}` : "";
  const ev = e.eventId ? ` event ${e.eventId}` : "";
  switch (e.kind) {
    case "webhook":
      return `${e.at} webhook ${e.provider} ${e.verdict} (${e.status})${e.reason ? `: ${e.reason}` : ""}${e.deliveryId ? ` delivery ${e.deliveryId}` : ""}${corr}`;
    case "execution":
      return `${e.at} execution ${e.stateMachine} ${e.name} ${e.step === "state" ? `entered ${e.state}` : e.status}${e.step === "ended" ? ` via ${e.path.join(" > ")}` : ""}${e.error ? `: ${e.error}` : ""}${ev}${corr}`;
    case "outbound":
      return `${e.at} outbound ${e.subscription} ${e.outcome} message ${e.messageId}${e.attempt ? ` attempt ${e.attempt}` : ""}${e.statusCode ? ` (${e.statusCode})` : ""}${e.error ? `: ${e.error}` : ""}${ev}`;
    case "queue":
      return `${e.at} queue ${e.queue} ${e.change} ${e.messageId}: depth ${e.depth}${ev}`;
    case "ingress-refusal":
      return `${e.at} ingress refused ${e.tenant ?? "?"} ${e.status} ${e.code}: ${e.reason}${ev}${corr}`;
    case "redrive":
      return `${e.at} redrive ${e.outcome} message ${e.messageId}${ev}: ${e.detail}`;
  }
  const replay = e.replayName ? ` (replay ${e.replayName})` : "";
  if (e.kind === "put")
    return `${e.at} put ${e.eventId} ${e.source}/${e.detailType}${replay}${corr} on ${e.bus}: ${e.rules.length ? `matched ${e.rules.join(", ")}` : "matched no rule"}`;
  const err = e.error ? `: ${e.error.code} ${e.error.message}` : "";
  return `${e.at}   ${e.outcome} ${e.eventId} ${e.rule}/${e.target} attempt ${e.attempt}${err}${e.deadLetterQueue ? ` -> ${e.deadLetterQueue}` : ""}`;
}

export async function tail(c: OpsContext, a: TailArgs): Promise<JournalEntry[] | number> {
  return c.controlUrl ? tailJournal(c, c.controlUrl, a) : tailDebugLogGroup(c, a);
}

async function tailJournal(c: OpsContext, control: string, a: TailArgs): Promise<JournalEntry[]> {
  let since = a.since;
  if (since === undefined) {
    const now = (await (
      await fetch(`${control}/journal?since=${Number.MAX_SAFE_INTEGER}`)
    ).json()) as {
      lastSeq: number;
    };
    since = String(now.lastSeq);
  }
  const abort = new AbortController();
  const timer = a.seconds ? setTimeout(() => abort.abort(), a.seconds * 1000) : undefined;
  const seen: JournalEntry[] = [];
  try {
    const res = await fetch(`${control}/journal/stream?since=${encodeURIComponent(since)}`, {
      signal: abort.signal,
    });
    if (!res.ok) throw new Error(`the twin's journal answered ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        if (!data) continue;
        const entry = JSON.parse(data) as JournalEntry;
        if (!a.all && !isBusEntry(entry)) continue;
        seen.push(entry);
        c.print(a.json ? JSON.stringify(entry) : journalLine(entry));
        if (a.count && seen.length >= a.count) {
          abort.abort();
          return seen;
        }
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

async function tailDebugLogGroup(c: OpsContext, a: TailArgs): Promise<number> {
  const group = c.outputs.debugLogGroupName;
  if (!group)
    throw new Error(
      `stack ${c.stack} has no debug route, so no log group receives the bus's events: set switchyard:debugRoute true and pulumi up, or use the dashboard's rule metrics and npm run ops -- dlq list`,
    );
  c.print(`tailing ${group} (the debug route: each event of the bus; no rule or target outcomes)`);
  let start = a.since ? new Date(a.since).getTime() : Date.now();
  if (Number.isNaN(start)) throw new Error(`--since must be an ISO time on AWS, got ${a.since}`);
  const seen = new Set<string>();
  const deadline = a.seconds ? Date.now() + a.seconds * 1000 : Infinity;
  let count = 0;
  while (Date.now() < deadline) {
    let token: string | undefined;
    do {
      const out = await c.clients.logs.send(
        new FilterLogEventsCommand({ logGroupName: group, startTime: start, nextToken: token }),
      );
      for (const e of out.events ?? []) {
        if (seen.has(e.eventId!)) continue;
        seen.add(e.eventId!);
        start = Math.max(start, e.timestamp ?? start);
        count++;
        if (a.json) c.print(e.message ?? "");
        else {
          let ev: any = {};
          try {
            ev = JSON.parse(e.message ?? "{}");
          } catch {
            // Printed as it is below.
          }
          c.print(
            ev.id
              ? `${new Date(e.timestamp ?? 0).toISOString()} event ${ev.id} ${ev.source}/${ev["detail-type"]}${ev["replay-name"] ? ` (replay ${ev["replay-name"]})` : ""}`
              : (e.message ?? ""),
          );
        }
        if (a.count && count >= a.count) return count;
      }
      token = out.nextToken;
    } while (token);
    await new Promise((r) => setTimeout(r, c.pollMs));
  }
  return count;
}
