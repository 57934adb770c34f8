// Helpers shared by the jobs handlers: environment checks at cold start, API Gateway proxy
// responses, header lookup, and the logger interface (Powertools' Logger satisfies it).
import { createHash } from "crypto";
import { requireEnv } from "../lib/env";
import { LoggerLike, SILENT } from "../lib/logger";

// The jobs handlers take the shared logger interface from here, with the other helpers.
export { SILENT };
export type { LoggerLike };

// The jobs handlers import requireEnv from here, with the other helpers.
export { requireEnv };

/** Reads a whole-number environment variable within [min, max]. */
export function intEnv(name: string, min: number, max: number): number {
  const raw = requireEnv(name);
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || v < min || v > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return v;
}

export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): ProxyResult {
  return {
    statusCode,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

/** A request header, looked up case-insensitively (API Gateway keeps the client's casing). */
export function header(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === wanted) return v;
  }
  return undefined;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
