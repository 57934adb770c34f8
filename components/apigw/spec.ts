// Pure builders for the API Gateway REST APIs of Switchyard (JobsApi, RecordsGateway): route and
// path checks, the resource tree, execute-api ARNs, usage plan tiers and consumers, the redeploy
// hash and the JSON access log format. No resources are declared here.
import { createHash } from "crypto";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface Route {
  readonly method: HttpMethod;
  /** "/records", "/records/{recordId}" */
  readonly path: string;
}

export interface ThrottleLimits {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Bucket size: requests allowed in a burst. */
  readonly burstLimit: number;
}

export const QUOTA_PERIODS = ["DAY", "WEEK", "MONTH"] as const;

/** A usage plan tier: throttle, optional quota, optional per-method throttles. */
export interface UsageTier extends ThrottleLimits {
  /** Requests per `period`; no quota when absent. */
  readonly quota?: number;
  readonly period?: (typeof QUOTA_PERIODS)[number];
  /** Per-method overrides keyed "<resource path>/<METHOD>", e.g. "/records/POST". */
  readonly throttles?: Record<string, ThrottleLimits>;
}

/** What both REST API stages (jobs API, records gateway) turn on unless told otherwise. */
export const STAGE_DEFAULTS = {
  stageName: "v1",
  xrayTracing: true,
  metrics: true,
};

// API Gateway's account-level default is 10,000 requests/s with a burst of 5,000.
export const MAX_RATE_LIMIT = 10000;
export const MAX_BURST_LIMIT = 5000;

const SEGMENT = /^(?:[A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\})$/;

/** Throws unless `path` is "/" + segments of letters, digits, ._- or a {parameter}. */
export function checkPath(what: string, path: string): void {
  const segments = path.split("/").slice(1);
  if (!path.startsWith("/") || segments.length === 0 || segments.some((s) => !SEGMENT.test(s))) {
    throw new Error(
      `${what} must look like /records or /records/{recordId} (segments of letters, digits, . _ - or a {parameter}), got ${JSON.stringify(path)}`,
    );
  }
}

/** Parses "POST /records/batch" into a route. */
export function parseRoute(what: string, text: string): Route {
  const m = /^([A-Z]+) (\S+)$/.exec(text);
  if (!m || !(HTTP_METHODS as readonly string[]).includes(m[1])) {
    throw new Error(
      `${what} must be "<METHOD> <path>" with METHOD one of ${HTTP_METHODS.join(", ")}, got ${JSON.stringify(text)}`,
    );
  }
  checkPath(what, m[2]);
  return { method: m[1] as HttpMethod, path: m[2] };
}

/** Every resource path the routes need, parents before children ("/" excluded). */
export function resourcePaths(paths: string[]): string[] {
  const all = new Set<string>();
  for (const p of paths) {
    const segs = p.split("/").slice(1);
    for (let i = 1; i <= segs.length; i++) all.add("/" + segs.slice(0, i).join("/"));
  }
  return [...all].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Names of the {parameters} of a path. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

/** The key of a per-method throttle in a usage plan's api stage: "/records/POST". */
export function throttlePath(route: Route): string {
  return `${route.path}/${route.method}`;
}

/** The part of an execute-api ARN after the stage: "POST/jobs", "GET/jobs/*". */
export function executeApiPath(route: Route): string {
  return `${route.method}/${route.path.slice(1).replace(/\{[^}]+\}/g, "*")}`;
}

/** A logical-name-safe form of a route: "post-records-recordId". */
export function routeSlug(route: Route): string {
  return `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/** JSON with keys sorted at every level. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The Deployment's redeploy trigger: a sha256 of everything a deployment snapshots (routes,
 * methods, integrations, models, validators, authorizers). Any change gives a new deployment.
 */
export function redeployHash(spec: unknown): string {
  return createHash("sha256").update(canonical(spec)).digest("hex");
}

/**
 * The stage's access log line, one JSON object per request. Only ids, never key values: the
 * consumer's API key appears as its id, and no authorizer context (the records gateway's context
 * carries the upstream key) is logged.
 */
export const ACCESS_LOG_FIELDS: Record<string, string> = {
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  apiKeyId: "$context.identity.apiKeyId",
  principalId: "$context.authorizer.principalId",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integration.status",
  integrationLatency: "$context.integration.latency",
  errorType: "$context.error.responseType",
  wafStatus: "$context.waf.status",
  xrayTraceId: "$context.xrayTraceId",
};

/** The access log format: a JSON object whose values are quoted $context variables. */
export function accessLogFormat(): string {
  return JSON.stringify(ACCESS_LOG_FIELDS);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Validates {rateLimit, burstLimit}; `what` names it in errors. */
export function parseThrottle(what: string, v: unknown): ThrottleLimits {
  if (!isObject(v)) throw new Error(`${what} must be an object {"rateLimit":..,"burstLimit":..}`);
  const { rateLimit, burstLimit } = v;
  if (typeof rateLimit !== "number" || !(rateLimit > 0) || rateLimit > MAX_RATE_LIMIT) {
    throw new Error(
      `${what}.rateLimit must be a number above 0 and at most ${MAX_RATE_LIMIT}, got ${JSON.stringify(rateLimit)}`,
    );
  }
  if (
    typeof burstLimit !== "number" ||
    !Number.isInteger(burstLimit) ||
    burstLimit < 1 ||
    burstLimit > MAX_BURST_LIMIT
  ) {
    throw new Error(
      `${what}.burstLimit must be a whole number from 1 to ${MAX_BURST_LIMIT}, got ${JSON.stringify(burstLimit)}`,
    );
  }
  return { rateLimit, burstLimit };
}

const TIER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,29}$/;
const THROTTLE_KEY = new RegExp(`^(/[^/\\s]+)+/(${HTTP_METHODS.join("|")})$`);

/** Validates one tier. */
export function parseTier(name: string, v: unknown): UsageTier {
  const what = `tier "${name}"`;
  if (!TIER_NAME.test(name))
    throw new Error(`tier name ${JSON.stringify(name)} must be 1-30 letters, digits or hyphens`);
  const limits = parseThrottle(what, v);
  const t = v as Record<string, unknown>;
  const known = new Set(["rateLimit", "burstLimit", "quota", "period", "throttles"]);
  for (const k of Object.keys(t)) {
    if (!known.has(k))
      throw new Error(`${what}: unknown field "${k}" (allowed: ${[...known].join(", ")})`);
  }
  const tier: { -readonly [K in keyof UsageTier]: UsageTier[K] } = { ...limits };
  if (t.quota !== undefined || t.period !== undefined) {
    if (typeof t.quota !== "number" || !Number.isInteger(t.quota) || t.quota < 1) {
      throw new Error(
        `${what}.quota must be a whole number of requests of at least 1, got ${JSON.stringify(t.quota)}`,
      );
    }
    if (!(QUOTA_PERIODS as readonly unknown[]).includes(t.period)) {
      throw new Error(
        `${what}.period must be one of ${QUOTA_PERIODS.join(", ")} when quota is set, got ${JSON.stringify(t.period)}`,
      );
    }
    tier.quota = t.quota;
    tier.period = t.period as UsageTier["period"];
  }
  if (t.throttles !== undefined) {
    if (!isObject(t.throttles))
      throw new Error(`${what}.throttles must be an object keyed "/path/METHOD"`);
    const throttles: Record<string, ThrottleLimits> = {};
    for (const [key, lim] of Object.entries(t.throttles)) {
      if (!THROTTLE_KEY.test(key)) {
        throw new Error(
          `${what}.throttles key ${JSON.stringify(key)} must be "<resource path>/<METHOD>", e.g. "/records/POST"`,
        );
      }
      throttles[key] = parseThrottle(`${what}.throttles["${key}"]`, lim);
    }
    tier.throttles = throttles;
  }
  return tier;
}

/** Validates a tiers object {"standard": {...}, "partner": {...}}. */
export function parseTiers(v: unknown): Record<string, UsageTier> {
  if (!isObject(v) || Object.keys(v).length === 0) {
    throw new Error(
      'must be a JSON object of tiers, e.g. {"standard":{"rateLimit":100,"burstLimit":200,"quota":1000000,"period":"MONTH"}}',
    );
  }
  const out: Record<string, UsageTier> = {};
  for (const [name, tier] of Object.entries(v)) out[name] = parseTier(name, tier);
  return out;
}

const CONSUMER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;

/** Validates consumers {"acme": "standard"} against the tier names. */
/** Consumer name to tier name; each tier must be one of `tierNames` when given. */
export function parseConsumers(v: unknown, tierNames?: string[]): Record<string, string> {
  if (!isObject(v))
    throw new Error('must be a JSON object mapping consumer to tier, e.g. {"acme":"standard"}');
  const out: Record<string, string> = {};
  for (const [consumer, tier] of Object.entries(v)) {
    if (!CONSUMER_NAME.test(consumer)) {
      throw new Error(
        `consumer name ${JSON.stringify(consumer)} must be 1-40 letters, digits or hyphens`,
      );
    }
    if (typeof tier !== "string") {
      throw new Error(`consumer "${consumer}" must name a tier, got ${JSON.stringify(tier)}`);
    }
    if (tierNames && !tierNames.includes(tier)) {
      throw new Error(
        `consumer "${consumer}" names tier ${JSON.stringify(tier)}, which is not one of ${tierNames.join(", ")}`,
      );
    }
    out[consumer] = tier;
  }
  return out;
}

/** Validates a list of consumer names (each gets a key on one usage plan). */
export function parseConsumerList(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((c) => typeof c !== "string" || !CONSUMER_NAME.test(c))) {
    throw new Error(
      'must be a JSON list of consumer names (1-40 letters, digits or hyphens), e.g. ["ops"]',
    );
  }
  if (new Set(v).size !== v.length) throw new Error("must not name a consumer twice");
  return v as string[];
}

/** Checks that every per-method override of every tier names one of the API's routes. */
export function checkTierThrottles(tiers: Record<string, UsageTier>, routes: Route[]): void {
  const known = routes.map(throttlePath);
  for (const [name, tier] of Object.entries(tiers)) {
    for (const key of Object.keys(tier.throttles ?? {})) {
      if (!known.includes(key)) {
        throw new Error(
          `tier "${name}": throttle override "${key}" names no route of this API (routes: ${known.join(", ")})`,
        );
      }
    }
  }
}
