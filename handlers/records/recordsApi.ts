// The records API client of the ingestion functions: POST <endpoint>/api/v1/records with the key
// from Secrets Manager as X-API-Key, a per-record idempotency key, and retries of 429, 5xx,
// timeouts and network errors with backoff (Retry-After honoured), over node:http (handlers/lib/http.ts).
import { createHash } from "crypto";
import { HttpRequest, httpRequest } from "../lib/http";

export type OperationType = "upsert" | "delete";

/** One record to ingest, before it becomes the API's body. */
export interface IngestRecord {
  tenantId: string;
  recordId: string;
  recordVersion: number;
  operationType: OperationType;
  payload: unknown;
  /** Where the record comes from (the API's `database`): `switchyard.s3`, `switchyard.dynamodb`. */
  database: string;
  collection: string;
  sourceTimestamp: string;
}

/** The body of POST /api/v1/records (the same shape the RecordsForwarder's route builds). */
export interface RecordBody {
  tenantId: string;
  database: string;
  collection: string;
  recordId: string;
  recordVersion: number;
  operationType: OperationType;
  recordPayload: unknown;
  sourceTimestamp: string;
  idempotencyKey: string;
}

/** JSON with object keys sorted at every level and no whitespace: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The record's idempotency key: tenant, record id, version, operation and the SHA-256 of the
 * canonical payload. Redelivering a record (a retried invocation, an object uploaded twice) gives
 * the same key; a changed payload under the same version, or a delete of the version last
 * upserted, gives a new one.
 */
export function idempotencyKey(r: IngestRecord): string {
  return [
    r.tenantId,
    r.recordId,
    r.recordVersion,
    r.operationType,
    sha256Hex(canonicalJson(r.payload)),
  ].join(":");
}

export function toRecordBody(r: IngestRecord): RecordBody {
  return {
    tenantId: r.tenantId,
    database: r.database,
    collection: r.collection,
    recordId: r.recordId,
    recordVersion: r.recordVersion,
    operationType: r.operationType,
    recordPayload: r.payload,
    sourceTimestamp: r.sourceTimestamp,
    idempotencyKey: idempotencyKey(r),
  };
}

export interface RecordsClientOptions {
  /** The full URL: <recordsApiEndpoint>/api/v1/records. */
  url: string;
  /** The API key; `refresh` asks for a fresh read (after a 401/403, the key may have rotated). */
  apiKey: (refresh: boolean) => Promise<string>;
  /** The HTTP client; default handlers/lib/http.ts. */
  request?: HttpRequest;
  sleep?: (ms: number) => Promise<void>;
  /** Calls per record, the first included. Default 5. */
  maxAttempts?: number;
  /** Base of the exponential backoff with full jitter. Default 200 ms. */
  baseDelayMs?: number;
  /** Longest wait between attempts (also caps Retry-After). Default 5000 ms. */
  maxDelayMs?: number;
  /** Per-call timeout. Default 10000 ms. */
  timeoutMs?: number;
}

export interface SendOutcome {
  status: number;
  attempts: number;
  idempotencyKey: string;
}

/** A record the API did not take: its last status (0 = no answer) and the attempts made. */
export interface SendFailure extends Error {
  status: number;
  attempts: number;
  idempotencyKey: string;
}

function failure(message: string, status: number, attempts: number, key: string): SendFailure {
  // A plain Error with fields, which the batch reports name and log as they are.
  return Object.assign(new Error(message), {
    name: "RecordsApiError",
    status,
    attempts,
    idempotencyKey: key,
  });
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function makeRecordsClient(o: RecordsClientOptions) {
  const request = o.request ?? httpRequest;
  const sleep = o.sleep ?? realSleep;
  const maxAttempts = Math.max(1, o.maxAttempts ?? 5);
  const base = o.baseDelayMs ?? 200;
  const cap = o.maxDelayMs ?? 5000;
  const timeoutMs = o.timeoutMs ?? 10000;

  const backoff = (attempt: number, retryAfter: string | null): number => {
    const seconds =
      retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
    if (seconds !== undefined) return Math.min(cap, seconds * 1000);
    return Math.floor(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
  };

  return {
    async send(record: IngestRecord): Promise<SendOutcome> {
      const body = toRecordBody(record);
      const text = JSON.stringify(body);
      let refreshKey = false;
      let refreshed = false;
      let last = "";
      let lastStatus = 0;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        let retryAfter: string | null = null;
        try {
          const res = await request(o.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-api-key": await o.apiKey(refreshKey),
              "idempotency-key": body.idempotencyKey,
            },
            body: text,
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (res.ok)
            return { status: res.status, attempts: attempt, idempotencyKey: body.idempotencyKey };
          lastStatus = res.status;
          last = `records API answered ${res.status}: ${(await res.text().catch(() => "")).slice(0, 300)}`;
          if ((res.status === 401 || res.status === 403) && !refreshed) {
            // Read the secret again once: it may have been rotated since it was cached.
            refreshKey = refreshed = true;
            continue;
          }
          refreshKey = false;
          if (res.status !== 429 && res.status < 500)
            throw failure(last, res.status, attempt, body.idempotencyKey);
          retryAfter = res.headers.get("retry-after");
        } catch (err) {
          if ((err as SendFailure).name === "RecordsApiError") throw err;
          lastStatus = 0;
          last = `records API not reached: ${(err as Error).name}: ${(err as Error).message}`;
        }
        if (attempt < maxAttempts) await sleep(backoff(attempt, retryAfter));
      }
      throw failure(
        `${last} (after ${maxAttempts} attempts)`,
        lastStatus,
        maxAttempts,
        body.idempotencyKey,
      );
    },
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
