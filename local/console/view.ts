// The console's view of the journal: each journal entry folded into the item it concerns (a bus
// event with its rules and each target's latest outcome, a webhook delivery, an execution and its
// path, an outbound message and its attempts, a queue's depth, a dead letter still in its queue, a
// tenant ingress refusal, a redrive), and each item rendered as one table row of escaped HTML. The
// page (page.ts) renders every row at once; the stream sends the rows an entry changed. Rendering
// lives here only, on the server: the browser's script inserts the rows it is sent.
import type { JournalEntry } from "../journal";

/** The page's tables, in the order the page shows them. */
export const SECTIONS = [
  { id: "events", title: "Events on the bus", columns: ["Event", "Rules matched", "Targets"] },
  {
    id: "webhooks",
    title: "Webhook deliveries",
    columns: ["Delivery", "Verdict", "Event"],
  },
  {
    id: "executions",
    title: "State machine executions",
    columns: ["Execution", "Status", "Path through the states"],
  },
  {
    id: "outbound",
    title: "Outbound webhook deliveries",
    columns: ["Message", "Outcome", "Attempts"],
  },
  { id: "queues", title: "Queues", columns: ["Queue", "Depth"] },
  {
    id: "deadLetters",
    title: "Dead letters",
    columns: ["Dead letter", "Rule and target", "Error", "Redrive"],
  },
  {
    id: "refusals",
    title: "Tenant ingress refusals",
    columns: ["Event", "Tenant", "Refusal"],
  },
  { id: "redrives", title: "Redrives", columns: ["Dead letter", "Outcome"] },
] as const;
export type SectionId = (typeof SECTIONS)[number]["id"];

/** How many items each table keeps (the oldest go first). */
export const ITEMS_PER_SECTION = 300;

/** Text or an attribute value made safe to place in HTML: every value rendered goes through it. */
export function esc(v: unknown): string {
  return String(v ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A link that filters the page to one id (the script filters in place; without it, a reload). */
export function idLink(id: string | undefined, label?: string): string {
  if (!id) return "";
  return `<a class="id" href="/?id=${esc(encodeURIComponent(id))}" data-follow="${esc(id)}">${label ? `${esc(label)} ` : ""}<code>${esc(id)}</code></a>`;
}

const time = (at: string) => `<time datetime="${esc(at)}">${esc(at.slice(11, 23) || at)}</time>`;
const badge = (outcome: string) => `<span class="badge ${esc(outcome)}">${esc(outcome)}</span>`;

/** One row to insert, replace or remove. */
export interface RowUpdate {
  section: SectionId;
  /** The row's element id. */
  id: string;
  /** The row (`<tr>...</tr>`); absent when the row is removed. */
  html?: string;
}

interface Item {
  key: string;
  section: SectionId;
  domId: string;
  /** Every id the row can be followed by (event, correlation, message, delivery ids). */
  ids: Set<string>;
  render(): string;
}

export class ConsoleView {
  private readonly items = new Map<string, Item>();
  private readonly order = new Map<SectionId, string[]>();
  private nextDomId = 1;
  /** The journal seq the view has folded in. */
  public seq = 0;

  constructor(queues: string[] = []) {
    for (const q of queues) this.queue(q, 0);
  }

  /** Folds an entry in; returns the rows it changed. */
  apply(e: JournalEntry): RowUpdate[] {
    this.seq = Math.max(this.seq, e.seq);
    const changed: Item[] = [];
    const removed: RowUpdate[] = [];
    const touch = (i: Item | undefined) => i && changed.push(i);
    switch (e.kind) {
      case "put":
      case "delivery":
        touch(this.busEvent(e));
        break;
      case "webhook":
        touch(
          this.add(`webhook:${e.seq}`, "webhooks", [e.eventId, e.correlationId, e.deliveryId], () =>
            webhookRow(e),
          ),
        );
        break;
      case "execution": {
        const key = `execution:${e.executionArn}`;
        const item = this.items.get(key) ?? this.add(key, "executions", [], () => "");
        for (const id of [e.eventId, e.correlationId]) if (id) item.ids.add(id);
        item.render = () => executionRow(e);
        touch(item);
        break;
      }
      case "outbound": {
        const key = `outbound:${e.subscription}:${e.messageId}`;
        const existing = this.items.get(key) as (Item & { attempts?: (typeof e)[] }) | undefined;
        const item =
          existing ??
          (this.add(key, "outbound", [e.eventId, e.messageId], () => "") as Item & {
            attempts?: (typeof e)[];
          });
        item.attempts = [...(item.attempts ?? []), e];
        const attempts = item.attempts;
        item.render = () => outboundRow(attempts);
        touch(item);
        break;
      }
      case "queue": {
        touch(this.queue(e.queue, e.depth));
        if (e.deadLetter && e.change === "sent")
          touch(
            this.add(
              `dead:${e.messageId}`,
              "deadLetters",
              [e.eventId, e.correlationId, e.messageId],
              () => deadLetterRow(e),
            ),
          );
        if (e.change === "deleted") {
          const gone = this.remove(`dead:${e.messageId}`);
          if (gone) removed.push(gone);
        }
        break;
      }
      case "ingress-refusal":
        touch(
          this.add(`refusal:${e.seq}`, "refusals", [e.eventId, e.correlationId], () =>
            refusalRow(e),
          ),
        );
        break;
      case "redrive":
        // The event's row says it was redriven, beside the outcome that dead-lettered it.
        touch(this.redriven(e));
        touch(
          this.add(`redrive:${e.seq}`, "redrives", [e.eventId, e.messageId], () => redriveRow(e)),
        );
        break;
    }
    // Items pushed out of a full table are removed from the page too.
    for (const keys of this.order.values())
      while (keys.length > ITEMS_PER_SECTION) {
        const gone = this.remove(keys[0]);
        if (gone) removed.push(gone);
        else keys.shift();
      }
    return [
      ...removed,
      ...[...new Set(changed)]
        .filter((i) => this.items.get(i.key) === i)
        .map((i) => ({ section: i.section, id: i.domId, html: this.row(i) })),
    ];
  }

  /** Every row of a section, newest first; those `filter` does not name are hidden. */
  rows(section: SectionId, filter = ""): string[] {
    return [...(this.order.get(section) ?? [])].reverse().map((k) => {
      const item = this.items.get(k)!;
      return this.row(item, filter !== "" && section !== "queues" && !item.ids.has(filter));
    });
  }

  private row(i: Item, hidden = false): string {
    return `<tr id="${esc(i.domId)}" data-ids="${esc([...i.ids].join(" "))}"${hidden ? " hidden" : ""}>${i.render()}</tr>`;
  }

  private add(
    key: string,
    section: SectionId,
    ids: Array<string | undefined>,
    render: () => string,
  ): Item {
    const existing = this.items.get(key);
    if (existing) {
      existing.render = render;
      for (const id of ids) if (id) existing.ids.add(id);
      return existing;
    }
    const item: Item = {
      key,
      section,
      domId: `row-${this.nextDomId++}`,
      ids: new Set(ids.filter((x): x is string => Boolean(x))),
      render,
    };
    this.items.set(key, item);
    const keys = this.order.get(section) ?? [];
    keys.push(key);
    this.order.set(section, keys);
    return item;
  }

  private remove(key: string): RowUpdate | undefined {
    const item = this.items.get(key);
    if (!item) return undefined;
    this.items.delete(key);
    const keys = this.order.get(item.section)!;
    keys.splice(keys.indexOf(key), 1);
    return { section: item.section, id: item.domId };
  }

  private queue(name: string, depth: number): Item {
    return this.add(
      `queue:${name}`,
      "queues",
      [],
      () => `<th scope="row">${esc(name)}</th><td class="depth">${esc(depth)}</td>`,
    );
  }

  private redriven(e: Extract<JournalEntry, { kind: "redrive" }>): Item | undefined {
    const item = this.items.get(`event:${e.eventId}:`) as
      (Item & { redrives?: Array<typeof e> }) | undefined;
    if (!item || !e.eventId) return undefined;
    item.redrives = [...(item.redrives ?? []), e];
    return item;
  }

  /** A bus event: its put (rules matched) and each target's latest outcome. */
  private busEvent(e: Extract<JournalEntry, { kind: "put" | "delivery" }>): Item {
    const key = `event:${e.eventId}:${e.replayName ?? ""}`;
    type EventItem = Item & {
      put?: Extract<JournalEntry, { kind: "put" }>;
      first: JournalEntry & { kind: "put" | "delivery" };
      targets: Map<string, Extract<JournalEntry, { kind: "delivery" }>>;
    };
    let item = this.items.get(key) as EventItem | undefined;
    if (!item) {
      item = this.add(key, "events", [e.eventId, e.correlationId], () => "") as EventItem;
      item.first = e;
      item.targets = new Map();
    }
    if (e.kind === "put") item.put = e;
    else item.targets.set(`${e.rule}/${e.target}`, e);
    const it = item as EventItem & { redrives?: Array<Extract<JournalEntry, { kind: "redrive" }>> };
    item.render = () =>
      eventRow(it.put ?? it.first, it.put, [...it.targets.values()], it.redrives ?? []);
    return item;
  }
}

function eventCell(
  e: { eventId?: string; at: string; correlationId?: string },
  what: string,
): string {
  return `<td>${time(e.at)} ${what}<br>${idLink(e.eventId, "event")}${e.correlationId ? `<br>${idLink(e.correlationId, "correlation")}` : ""}</td>`;
}

function eventRow(
  first: Extract<JournalEntry, { kind: "put" | "delivery" }>,
  put: Extract<JournalEntry, { kind: "put" }> | undefined,
  targets: Array<Extract<JournalEntry, { kind: "delivery" }>>,
  redrives: Array<Extract<JournalEntry, { kind: "redrive" }>>,
): string {
  const what = `<strong>${esc(first.source)}</strong> / ${esc(first.detailType)}${first.replayName ? ` <span class="note">replay ${esc(first.replayName)}</span>` : ""}`;
  const detail = put?.detail
    ? `<details><summary>detail</summary><pre>${esc(put.detail)}</pre></details>`
    : "";
  const rules = put
    ? put.rules.length
      ? `<ul>${put.rules.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`
      : `<span class="note">no rule matched</span>`
    : "";
  const outcomes = targets.length
    ? `<ul>${[
        ...targets.map(
          (t) =>
            `<li>${esc(t.rule)} → ${esc(t.target)}: ${badge(t.outcome)} attempt ${esc(t.attempt)}${t.error ? ` <span class="error">${esc(t.error.code)} ${esc(t.error.message)}</span>` : ""}${t.deadLetterQueue ? ` to ${esc(t.deadLetterQueue)}` : ""}</li>`,
        ),
        ...redrives.map((r) => `<li>redrive: ${badge(r.outcome)} ${esc(r.detail)}</li>`),
      ].join("")}</ul>`
    : "";
  return `${eventCell(first, what + detail)}<td>${rules}</td><td>${outcomes}</td>`;
}

function webhookRow(e: Extract<JournalEntry, { kind: "webhook" }>): string {
  return `<td>${time(e.at)} <strong>${esc(e.provider)}</strong>${e.deliveryId ? `<br>delivery <code>${esc(e.deliveryId)}</code>` : ""}${e.correlationId ? `<br>${idLink(e.correlationId, "correlation")}` : ""}</td><td>${badge(e.verdict)} HTTP ${esc(e.status)}${e.reason ? `<br><span class="error">${esc(e.reason)}</span>` : ""}</td><td>${idLink(e.eventId, "event")}</td>`;
}

function executionRow(e: Extract<JournalEntry, { kind: "execution" }>): string {
  return `<td>${time(e.at)} <strong>${esc(e.stateMachine)}</strong><br><code>${esc(e.name)}</code>${e.eventId ? `<br>${idLink(e.eventId, "event")}` : ""}${e.correlationId ? `<br>${idLink(e.correlationId, "correlation")}` : ""}</td><td>${badge(e.status.toLowerCase())}${e.error ? `<br><span class="error">${esc(e.error)}</span>` : ""}</td><td><ol class="path">${e.path.map((s) => `<li>${esc(s)}</li>`).join("")}</ol></td>`;
}

function outboundRow(attempts: Array<Extract<JournalEntry, { kind: "outbound" }>>): string {
  const last = attempts[attempts.length - 1];
  return `<td>${time(last.at)} <strong>${esc(last.subscription)}</strong><br>message <code>${esc(last.messageId)}</code>${last.eventId ? `<br>${idLink(last.eventId, "event")}` : ""}</td><td>${badge(last.outcome)}</td><td><ol>${attempts
    .map(
      (a) =>
        `<li>${time(a.at)} ${badge(a.outcome)}${a.statusCode ? ` HTTP ${esc(a.statusCode)}` : ""}${a.error ? ` <span class="error">${esc(a.error)}</span>` : ""}</li>`,
    )
    .join("")}</ol></td>`;
}

function deadLetterRow(e: Extract<JournalEntry, { kind: "queue" }>): string {
  const d = e.deadLetter ?? {};
  const rule = d.ruleArn?.split("/").pop() ?? "?";
  return `<td>${time(e.at)} queue <strong>${esc(e.queue)}</strong><br>message <code>${esc(e.messageId)}</code>${e.eventId ? `<br>${idLink(e.eventId, "event")}` : ""}</td><td>${esc(rule)} → <code>${esc(d.targetArn ?? "?")}</code></td><td><span class="error">${esc(d.errorCode ?? "")} ${esc(d.errorMessage ?? "")}</span></td><td><form method="post" action="/dlq/redrive" class="redrive"><input type="hidden" name="id" value="${esc(e.messageId)}"><button type="submit">Redrive<span class="visually-hidden"> message ${esc(e.messageId)}</span></button></form></td>`;
}

function refusalRow(e: Extract<JournalEntry, { kind: "ingress-refusal" }>): string {
  return `<td>${time(e.at)} ${idLink(e.eventId, "event")}${e.correlationId ? `<br>${idLink(e.correlationId, "correlation")}` : ""}</td><td>${esc(e.tenant ?? "?")}</td><td>${badge("refused")} ${esc(e.status)} ${esc(e.code)}<br><span class="error">${esc(e.reason)}</span></td>`;
}

function redriveRow(e: Extract<JournalEntry, { kind: "redrive" }>): string {
  return `<td>${time(e.at)} message <code>${esc(e.messageId)}</code>${e.eventId ? `<br>${idLink(e.eventId, "event")}` : ""}</td><td>${badge(e.outcome)} ${esc(e.detail)}</td>`;
}
