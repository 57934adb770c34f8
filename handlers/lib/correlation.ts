// The correlation id carried from a webhook to the bus event to the workflow, and onto every log
// line of the invocations on its way (Powertools Logger's `correlation_id`). No package imports:
// any handler can use it without bundling more than these lines.
import { randomUUID } from "crypto";

/** The header a caller may set to choose the correlation id (lowercase, as Function URLs pass it). */
export const CORRELATION_HEADER = "x-correlation-id";
/** Field of a bus event's `detail`, and of a workflow's execution input, that carries the id. */
export const CORRELATION_FIELD = "correlationId";
/** Headers read for a correlation id, in order. */
export const CORRELATION_HEADERS = [
  CORRELATION_HEADER,
  "x-request-id",
  "x-amzn-requestid",
] as const;

/**
 * What a correlation id may contain. EventBridge input transformers insert values without escaping,
 * so a `"` or `\` in an id would break the JSON a route builds; ids outside this set are replaced.
 */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}$/;

type Headers = Record<string, string | string[] | undefined | null>;

function header(headers: Headers | undefined | null, name: string): string | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) {
      const s = Array.isArray(v) ? v[0] : v;
      return typeof s === "string" ? s.trim() : undefined;
    }
  }
  return undefined;
}

/** `v` when it is a correlation id an input transformer can carry (CORRELATION_ID_PATTERN), else undefined. */
export function validCorrelationId(v: unknown): string | undefined {
  return typeof v === "string" && CORRELATION_ID_PATTERN.test(v) ? v : undefined;
}

/**
 * The correlation id of an invocation. Reads, in order:
 * - an HTTP event (Function URL, API Gateway): the `x-correlation-id`, `x-request-id` or
 *   `x-amzn-requestid` header, then `requestContext.requestId`;
 * - a bus event: `detail.correlationId`, then `detail.metadata.correlationId`, then the event `id`;
 * - a workflow input or any object: its top-level `correlationId`;
 * - a plain headers map: the headers above.
 * An id that is missing or not of CORRELATION_ID_PATTERN is replaced by a new UUID.
 */
export function correlationIdFrom(source: unknown, generate: () => string = randomUUID): string {
  if (source && typeof source === "object") {
    const s = source as Record<string, any>;
    if ("headers" in s || "requestContext" in s) {
      for (const h of CORRELATION_HEADERS) {
        const v = validCorrelationId(header(s.headers, h));
        if (v) return v;
      }
      const rid = validCorrelationId(s.requestContext?.requestId);
      if (rid) return rid;
    } else if (s.detail && typeof s.detail === "object" && ("detail-type" in s || "source" in s)) {
      const v =
        validCorrelationId(s.detail[CORRELATION_FIELD]) ??
        validCorrelationId(s.detail.metadata?.[CORRELATION_FIELD]) ??
        validCorrelationId(s.id);
      if (v) return v;
    } else if (CORRELATION_FIELD in s) {
      const v = validCorrelationId(s[CORRELATION_FIELD]);
      if (v) return v;
    } else {
      for (const h of CORRELATION_HEADERS) {
        const v = validCorrelationId(header(s as Headers, h));
        if (v) return v;
      }
    }
  }
  return generate();
}

/** What `correlate` needs of a logger: Powertools' Logger has both. */
export interface CorrelatedLogger {
  /** Drops the keys appended during the previous invocation (Powertools keeps them until reset). */
  resetKeys?(): void;
  /** Adds `correlation_id` to every following log line. */
  setCorrelationId?(value: unknown): void;
}

/**
 * Starts an invocation's log lines with its correlation id (`correlation_id`): the previous
 * invocation's appended keys are dropped first, so no line carries another request's id. Loggers
 * without these methods (test doubles) are left as they are. Returns the id.
 */
export function correlate(logger: CorrelatedLogger | undefined, id: string): string {
  logger?.resetKeys?.();
  logger?.setCorrelationId?.(id);
  return id;
}
