// Outbound webhook subscriptions as the stack declares them (`switchyard:outboundSubscriptions`),
// checked before anything is declared: names, endpoints, event selections, rate limits, headers,
// the retry schedule. Pure (no Pulumi), so the config table, its docs and the component agree.
import * as net from "net";
import { validatePattern } from "../../lib/eventPattern";
import { classifyAddress } from "../../handlers/outbound/address";
import {
  MAX_RETRY_DELAY_SECONDS,
  OUTBOUND_DEFAULTS,
  RESERVED_HEADERS,
} from "../../handlers/outbound/settings";

export {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  OUTBOUND_DEFAULTS,
} from "../../handlers/outbound/settings";

/** One subscription: where to POST which events. */
export interface SubscriptionSpec {
  /** 1-20 lowercase letters, digits, hyphens: names the queues, the route and the secret key. */
  readonly name: string;
  /** The endpoint: https:// (http:// only in the local run). */
  readonly url: string;
  /** Which events: a list of detail types, or an EventBridge event pattern. */
  readonly events: string[] | Record<string, unknown>;
  /** Deliveries per second to this endpoint. Default unlimited. */
  readonly rateLimitPerSecond?: number;
  /** Extra request headers (not the signature's, content type, host, length, user agent). */
  readonly headers?: Record<string, string>;
}

export const SUBSCRIPTION_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The config key of a subscription's signing secret: `outboundSecret` + its name in PascalCase. */
export function outboundSecretKey(subscription: string): string {
  return (
    "outboundSecret" +
    subscription
      .split("-")
      .filter((p) => p !== "")
      .map((p) => p[0].toUpperCase() + p.slice(1))
      .join("")
  );
}

/** The event pattern of a subscription's route. */
export function subscriptionPattern(events: SubscriptionSpec["events"]): Record<string, unknown> {
  return Array.isArray(events) ? { "detail-type": [...events] } : { ...events };
}

/** Checks one endpoint URL; `allowHttp` only in the local run. */
export function checkEndpointUrl(what: string, url: unknown, allowHttp = false): string {
  let u: URL | undefined;
  try {
    u = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    u = undefined;
  }
  if (!u || !(u.protocol === "https:" || (allowHttp && u.protocol === "http:")))
    throw new Error(
      `${what} must be an https:// URL${allowHttp ? " (or http:// in the local run)" : ""}, got ${JSON.stringify(url)}`,
    );
  if (u.username || u.password)
    throw new Error(
      `${what} must not carry credentials (user:password@): the URL is plain config and part of the dispatcher's code; receivers authenticate deliveries by their signature`,
    );
  if (u.hash) throw new Error(`${what} must not have a #fragment, got ${JSON.stringify(url)}`);
  // Checked again at every delivery, on the resolved address; an address literal can be refused now.
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const cls = net.isIP(host)
    ? classifyAddress(host)
    : host === "localhost" || host.endsWith(".localhost")
      ? "loopback"
      : undefined;
  if (cls && !(allowHttp && cls === "loopback"))
    throw new Error(
      `${what} names a ${cls} address (${u.hostname}): deliveries go to public addresses only`,
    );
  return url as string;
}

/** Reads `switchyard:outboundSubscriptions`: throws a message that says what to change. */
export function parseSubscriptions(v: unknown, allowHttp = false): SubscriptionSpec[] {
  if (!Array.isArray(v))
    throw new Error(
      'must be a JSON list of subscriptions such as [{"name":"billing","url":"https://...","events":["OrderPlaced"]}]',
    );
  const seen = new Set<string>();
  const secretKeys = new Map<string, string>();
  return v.map((raw, i) => {
    const at = `entry ${i}`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      throw new Error(`${at} must be an object with name, url and events`);
    const s = raw as Record<string, unknown>;
    const known = ["name", "url", "events", "rateLimitPerSecond", "headers"];
    const unknown = Object.keys(s).filter((k) => !known.includes(k));
    if (unknown.length > 0)
      throw new Error(
        `${at} has unknown field(s) ${unknown.join(", ")}; known: ${known.join(", ")}`,
      );
    if (typeof s.name !== "string" || !SUBSCRIPTION_NAME.test(s.name))
      throw new Error(
        `${at}: name must be 1-20 lowercase letters, digits or hyphens starting with a letter, got ${JSON.stringify(s.name)}`,
      );
    const name = s.name;
    if (seen.has(name)) throw new Error(`subscription "${name}" is declared twice`);
    seen.add(name);
    const key = outboundSecretKey(name);
    if (secretKeys.has(key))
      throw new Error(
        `subscriptions "${secretKeys.get(key)}" and "${name}" would share the secret key ${key}: rename one`,
      );
    secretKeys.set(key, name);
    const where = `subscription "${name}"`;
    checkEndpointUrl(`${where} url`, s.url, allowHttp);
    const events = s.events;
    if (Array.isArray(events)) {
      if (events.length === 0 || events.some((e) => typeof e !== "string" || e === ""))
        throw new Error(
          `${where} events must be a non-empty list of detail types or an EventBridge event pattern object`,
        );
    } else if (events && typeof events === "object") {
      if (Object.keys(events).length === 0)
        throw new Error(
          `${where} events: an empty pattern matches nothing on EventBridge; name a field, e.g. {"source":["shop.orders"]}`,
        );
      try {
        validatePattern(events);
      } catch (e) {
        throw new Error(`${where} events is not a valid event pattern: ${(e as Error).message}`, {
          cause: e,
        });
      }
    } else {
      throw new Error(
        `${where} events must be a list of detail types or an EventBridge event pattern object, got ${JSON.stringify(events)}`,
      );
    }
    const rate = s.rateLimitPerSecond;
    if (
      rate !== undefined &&
      (!Number.isInteger(rate) || (rate as number) < 1 || (rate as number) > 1000)
    )
      throw new Error(
        `${where} rateLimitPerSecond must be a whole number from 1 to 1000, got ${JSON.stringify(rate)}`,
      );
    const headers = s.headers;
    if (headers !== undefined) {
      if (!headers || typeof headers !== "object" || Array.isArray(headers))
        throw new Error(`${where} headers must be an object of header name to string value`);
      for (const [h, value] of Object.entries(headers)) {
        if (!HEADER_NAME.test(h)) throw new Error(`${where} headers: "${h}" is not a header name`);
        if (RESERVED_HEADERS.includes(h.toLowerCase()))
          throw new Error(`${where} headers: "${h}" is set by Switchyard itself; remove it`);
        if (typeof value !== "string" || /[\r\n\0]/.test(value))
          throw new Error(`${where} headers: "${h}" must be a string without line breaks`);
      }
    }
    return {
      name,
      url: s.url as string,
      events: events as SubscriptionSpec["events"],
      ...(rate !== undefined ? { rateLimitPerSecond: rate as number } : {}),
      ...(headers !== undefined ? { headers: headers as Record<string, string> } : {}),
    };
  });
}

/** Reads a retry schedule: delays in seconds before each attempt, the first usually 0. */
export function parseRetrySchedule(v: unknown): number[] {
  if (
    !Array.isArray(v) ||
    v.length < 1 ||
    v.length > 50 ||
    v.some((d) => !Number.isInteger(d) || d < 0 || d > MAX_RETRY_DELAY_SECONDS)
  )
    throw new Error(
      `must be a JSON list of 1-50 whole numbers of seconds from 0 to ${MAX_RETRY_DELAY_SECONDS} (a retry waits as the message's SQS visibility timeout, at most 12 h), e.g. [0,5,300,1800,7200,18000,36000,36000]`,
    );
  return v as number[];
}

/** Checks the secret value of a subscription (a Standard Webhooks secret: whsec_ + base64). */
export function checkSigningSecret(value: string): void {
  const b64 = value.startsWith("whsec_") ? value.slice("whsec_".length) : undefined;
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || Buffer.from(b64, "base64").length < 24)
    throw new Error(
      'must be a Standard Webhooks secret: "whsec_" followed by the base64 of 24 to 64 random bytes',
    );
}

/** Defaults of the component's tuning arguments. */
export const OUTBOUND_COMPONENT_DEFAULTS = {
  retryScheduleSeconds: [...OUTBOUND_DEFAULTS.retryScheduleSeconds],
  requestTimeoutSeconds: OUTBOUND_DEFAULTS.requestTimeoutMs / 1000,
  maxResponseBytes: OUTBOUND_DEFAULTS.maxResponseBytes,
  disableAfterSeconds: OUTBOUND_DEFAULTS.disableAfterSeconds,
  attemptLogTtlDays: OUTBOUND_DEFAULTS.attemptLogTtlDays,
  parkSeconds: OUTBOUND_DEFAULTS.parkSeconds,
  batchSize: 10,
  memorySize: 256,
  logRetentionDays: 30,
  allowHttp: false,
  protect: false,
};
