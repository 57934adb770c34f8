// A built-in stand-in of the external records (anchoring) API, for local runs and tests:
//   POST /api/v1/records        -> 202 { recordHash }  (sha256 of the canonical payload)
//   POST /api/v1/verify/record  -> 200 { verified, anchoredOnChain, recordHash, proofUrl }
// A record counts as anchored once its accumulation window has passed since it was accepted.
// Requests without the configured X-API-Key get 401, as the real service answers.
import { createHash } from "crypto";
import * as http from "http";
import {
  CLIENT_TIMEOUTS,
  guardServer,
  readRequestBody,
  REST_API_MAX_BODY_BYTES,
} from "./httpEvents";

/** JSON with object keys sorted at every depth: the same record always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export function recordHash(payload: unknown): string {
  return createHash("sha256").update(canonicalJson(payload)).digest("hex");
}

export interface StoredRecord {
  key: string;
  recordHash: string;
  acceptedAt: number;
  body: any;
}

export interface RecordsStandInOptions {
  apiKey: string;
  /** Milliseconds before an accepted record is anchored (the service's window is 60 s). */
  anchorAfterMs: number;
  log?: (line: string) => void;
  /** Overrides the timeouts applied to clients (CLIENT_TIMEOUTS). */
  clientTimeouts?: Partial<typeof CLIENT_TIMEOUTS>;
}

export class RecordsStandIn {
  public readonly records = new Map<string, StoredRecord>();
  public readonly calls: Array<{ path: string; status: number; body: any }> = [];
  private server?: http.Server;
  public url = "";

  constructor(private readonly opts: RecordsStandInOptions) {}

  private static recordKey(b: any): string {
    return [b.tenantId ?? b.tenant, b.database, b.collection, b.recordId].join("/");
  }

  async start(port = 0): Promise<string> {
    this.server = guardServer(
      http.createServer((req, res) => this.handle(req, res)),
      {
        name: "records API stand-in",
        maxBodyBytes: REST_API_MAX_BODY_BYTES,
        timeouts: this.opts.clientTimeouts,
        log: this.opts.log,
      },
    );
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => resolve());
    });
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    let parsed: any;
    const reply = (status: number, out: unknown) => {
      this.calls.push({ path: req.url ?? "", status, body: parsed });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
    };
    if (req.headers["x-api-key"] !== this.opts.apiKey)
      return reply(401, { message: "invalid or missing X-API-Key" });
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return reply(400, { message: "body is not JSON" });
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      return reply(400, { message: "body must be a JSON object" });
    if (req.method !== "POST") return reply(405, { message: "method not allowed" });
    if (req.url === "/api/v1/records") {
      const missing = ["tenantId", "database", "collection", "recordId", "recordPayload"].filter(
        (k) => parsed[k] === undefined,
      );
      if (missing.length) return reply(400, { message: `missing fields: ${missing.join(", ")}` });
      const key = RecordsStandIn.recordKey(parsed);
      const hash = recordHash(parsed.recordPayload);
      const existing = this.records.get(key);
      if (!existing || existing.recordHash !== hash) {
        this.records.set(key, { key, recordHash: hash, acceptedAt: Date.now(), body: parsed });
      }
      this.opts.log?.(`records API: accepted ${key} (${hash.slice(0, 12)})`);
      return reply(202, {
        recordHash: hash,
        status: "accepted",
        idempotencyKey: parsed.idempotencyKey,
      });
    }
    if (req.url === "/api/v1/verify/record") {
      const key = RecordsStandIn.recordKey(parsed);
      const rec = this.records.get(key);
      const payload = parsed.recordPayload ?? parsed.payload;
      if (!rec) return reply(404, { message: `no record ${key}` });
      const matches = payload === undefined || recordHash(payload) === rec.recordHash;
      const anchored = Date.now() - rec.acceptedAt >= this.opts.anchorAfterMs;
      return reply(200, {
        verified: matches && anchored,
        anchoredOnChain: anchored,
        recordHash: rec.recordHash,
        proofUrl: anchored ? `https://explorer.local/tx/${rec.recordHash.slice(0, 32)}` : null,
      });
    }
    return reply(404, { message: `no route ${req.url}` });
  }

  /** Stops listening and cuts the connections still open (keep-alive or mid-request). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  }
}
