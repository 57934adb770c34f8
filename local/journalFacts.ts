// What the journal learns from the parts of the local run other than the bus, as pure functions of
// what those parts see: a webhook receiver's answer and the log records of that invocation, a
// function's Powertools record (an outbound attempt, a tenant ingress refusal), a message sent to
// or deleted from a queue, a state machine execution's step. The services call them and note the
// result in the journal (local/journal.ts).
import { OUTCOME_LOG_MESSAGES, SERVICES, OUTBOUND_SERVICE } from "../lib/contracts";
import type { FactRecord, WebhookEntry, JournalEntry } from "./journal";

/** A Powertools record's fields, or undefined for a line that is not one. */
export function powertoolsRecord(line: string): Record<string, any> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const r = JSON.parse(line);
    return r && typeof r === "object" && typeof r.message === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;

/** The correlation id a record carries (Powertools' `correlation_id`, else the field). */
function correlationOf(r: Record<string, any>): string | undefined {
  return str(r.correlation_id) ?? str(r.correlationId);
}

/**
 * The fact a function's log record states, when it states one the journal carries: an outbound
 * webhook attempt's outcome, or a tenant ingress refusal. A webhook receiver's verdict is noted
 * per request instead (webhookFact), where the answer's status is known too.
 */
export function factOfLogRecord(line: string): FactRecord | undefined {
  const r = powertoolsRecord(line);
  if (!r) return undefined;
  const M = OUTCOME_LOG_MESSAGES;
  if (r.service === OUTBOUND_SERVICE) {
    const outcome =
      r.message === M.outboundDelivered
        ? "delivered"
        : r.message === M.outboundAttemptFailed
          ? "failed"
          : r.message === M.outboundExhausted
            ? "exhausted"
            : undefined;
    if (!outcome || !str(r.subscription) || !str(r.messageId)) return undefined;
    const attempt = num(r.attempt) ?? num(r.attempts);
    const statusCode = num(r.statusCode);
    const error = str(r.error) ?? str(r.failure);
    return {
      kind: "outbound",
      subscription: str(r.subscription)!,
      messageId: str(r.messageId)!,
      outcome,
      ...(str(r.eventId) ? { eventId: str(r.eventId) } : {}),
      ...(attempt !== undefined ? { attempt } : {}),
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(error ? { error } : {}),
    };
  }
  if (r.service === SERVICES.tenantIngress && r.message === M.ingressRejected) {
    const correlationId = correlationOf(r);
    return {
      kind: "ingress-refusal",
      status: num(r.status) ?? 0,
      code: str(r.code) ?? "internal",
      reason: str(r.reason) ?? "",
      ...(str(r.tenant) ? { tenant: str(r.tenant) } : {}),
      ...(str(r.eventId) ? { eventId: str(r.eventId) } : {}),
      ...(correlationId ? { correlationId } : {}),
    };
  }
  return undefined;
}

/**
 * A webhook receiver's verdict on one delivery, from the status its Function URL answered, the
 * answer's body and the log records of that invocation: accepted or duplicate (2xx, as the
 * receiver logged it), refused (4xx) or failed (5xx), with the reason the receiver logged (else
 * the one it answered), and the events the delivery put on the bus (the journal's puts with its
 * correlation id, since the request started).
 */
export function webhookFact(a: {
  provider: string;
  function: string;
  status: number;
  responseBody?: string;
  logLines: string[];
  putsSince: JournalEntry[];
}): Omit<WebhookEntry, "seq" | "at"> {
  const M = OUTCOME_LOG_MESSAGES;
  const records = a.logLines.map(powertoolsRecord).filter((r) => r !== undefined);
  const said = (m: string) => records.find((r) => r.message === m);
  const outcome = said(M.webhookAccepted) ?? said(M.webhookDuplicate);
  const refusal = said(M.webhookRejected) ?? said(M.webhookContractRefused);
  const verdict: WebhookEntry["verdict"] =
    a.status >= 200 && a.status < 300
      ? said(M.webhookDuplicate)
        ? "duplicate"
        : "accepted"
      : a.status >= 400 && a.status < 500
        ? "refused"
        : "failed";
  let answered: string | undefined;
  try {
    const b = JSON.parse(a.responseBody ?? "");
    answered = str(b?.error) ?? str(b?.Message) ?? str(b?.message);
  } catch {
    answered = undefined;
  }
  const reason =
    verdict === "accepted" || verdict === "duplicate"
      ? undefined
      : (str(refusal?.reason) ?? str(refusal?.error) ?? answered ?? `HTTP ${a.status}`);
  const correlationId = str(outcome?.correlationId) ?? str(refusal?.correlationId);
  const deliveryId = str(outcome?.deliveryId) ?? str(refusal?.deliveryId);
  const put = correlationId
    ? a.putsSince.find((e) => e.kind === "put" && e.correlationId === correlationId)
    : undefined;
  return {
    kind: "webhook",
    provider: a.provider,
    function: a.function,
    status: a.status,
    verdict,
    ...(reason ? { reason } : {}),
    ...(deliveryId ? { deliveryId } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(put?.eventId ? { eventId: put.eventId } : {}),
  };
}

/**
 * The bus event a message carries, when it carries one: a dead letter's body is the event; an
 * outbound subscription's queued message holds it as `event`; a function's dead letter is its
 * invocation event.
 */
export function eventOfMessage(body: string): { eventId?: string; correlationId?: string } {
  let m: any;
  try {
    m = JSON.parse(body);
  } catch {
    return {};
  }
  const ev =
    m && typeof m === "object" && typeof m.id === "string" && "detail" in m
      ? m
      : m?.event && typeof m.event.id === "string"
        ? m.event
        : undefined;
  if (!ev) return {};
  const corr = str(ev.detail?.correlationId) ?? str(ev.detail?.metadata?.correlationId);
  return { eventId: ev.id, ...(corr ? { correlationId: corr } : {}) };
}

/** The event id and correlation id of a state machine execution's input, when it names them. */
export function eventOfInput(input: unknown): { eventId?: string; correlationId?: string } {
  const i = input as Record<string, any> | null;
  if (!i || typeof i !== "object") return {};
  const eventId =
    typeof i.id === "string" && "detail" in i ? i.id : (str(i.eventId) ?? str(i.event?.id));
  const corr =
    str(i.correlationId) ??
    str(i.detail?.correlationId) ??
    str(i.detail?.metadata?.correlationId) ??
    str(i.metadata?.correlationId);
  return {
    ...(eventId ? { eventId } : {}),
    ...(corr ? { correlationId: corr } : {}),
  };
}
