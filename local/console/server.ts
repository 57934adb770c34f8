// The console's server: the page (page.ts) rendered from the journal's view (view.ts), its script
// and style sheet (console.js, console.css beside this file), the rows each new journal entry
// changes as server-sent events, and the redrive of one dead letter (POST /dlq/redrive), which runs
// `npm run ops -- dlq redrive <id>`'s code against this run. The runtime listens on it behind
// guardServer, like every port of the local run.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { readRequestBody } from "../httpEvents";
import { EventJournal, journalSince } from "../journal";
import type { OpsContext } from "../../scripts/ops/context";
import type { RedriveResult } from "../../scripts/ops/redrive";
import { renderPage } from "./page";
import { ConsoleView, esc, RowUpdate, SECTIONS } from "./view";

/** The largest request body the console reads (a redrive form). */
export const CONSOLE_MAX_BODY_BYTES = 64 * 1024;

export interface ConsoleDeps {
  stack: string;
  journal: EventJournal;
  /** The declared queues, shown at depth 0 until a message comes. */
  queues: string[];
  /** The ops context of this run (`npm run ops -- --local`'s), for a redrive. */
  opsContext(print: (line: string) => void): Promise<OpsContext>;
}

const STATIC: Record<string, string> = {
  "/console.js": "text/javascript; charset=utf-8",
  "/console.css": "text/css; charset=utf-8",
};

// The page loads only its own script and style sheet: nothing an event carries can run.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** A dead letter's id as a redrive takes it: an event id or an SQS message id. */
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

export class ConsoleServer {
  private readonly view: ConsoleView;
  private readonly clients = new Set<(updates: RowUpdate[], seq: number) => void>();
  private readonly files = new Map<string, Buffer>();
  /** Redrives run one at a time: a redrive holds the DLQ's messages while it works. */
  private redriving: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConsoleDeps) {
    this.view = new ConsoleView(deps.queues);
    for (const e of deps.journal.since(0)) this.view.apply(e);
    deps.journal.subscribe((e) => {
      const updates = this.view.apply(e);
      for (const c of this.clients) c(updates, e.seq);
    });
    for (const f of Object.keys(STATIC))
      this.files.set(f, fs.readFileSync(path.join(__dirname, f.slice(1))));
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, {
        "content-type": type,
        "cache-control": "no-store",
        ...SECURITY_HEADERS,
      });
      res.end(body);
    };
    const json = (status: number, body: unknown) =>
      send(status, "application/json", JSON.stringify(body));
    if (url.pathname === "/dlq/redrive") {
      if (req.method !== "POST") {
        res.setHeader("allow", "POST");
        return json(405, { message: "POST a dead letter's id to redrive it" });
      }
      return this.redrive(req, res, json, send);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET");
      return json(405, { message: `${req.method} is not served here: GET the page` });
    }
    if (url.pathname === "/") {
      const filter = url.searchParams.get("id") ?? "";
      if (filter.length > 256) return json(400, { message: "id must be at most 256 characters" });
      return send(200, "text/html; charset=utf-8", renderPage(this.view, this.deps.stack, filter));
    }
    const file = this.files.get(url.pathname);
    if (file) return send(200, STATIC[url.pathname], file);
    if (url.pathname === "/stream") {
      const asked = journalSince(url, req);
      if ("error" in asked) return json(400, { message: asked.error });
      return this.stream(req, res, asked.since);
    }
    return json(404, { message: `no page ${url.pathname}: the console is at /` });
  }

  /**
   * The rows each new journal entry changes, as server-sent events (`id:` the entry's seq). A
   * client that missed entries (it rendered the page before them, or reconnects) first gets every
   * table whole.
   */
  private stream(req: http.IncomingMessage, res: http.ServerResponse, since: number): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...SECURITY_HEADERS,
    });
    const write = (event: string, data: unknown, seq: number) =>
      res.write(`id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (since !== this.view.seq)
      write(
        "reset",
        Object.fromEntries(SECTIONS.map((s) => [s.id, this.view.rows(s.id).join("")])),
        this.view.seq,
      );
    else res.write(": live\n\n");
    const client = (updates: RowUpdate[], seq: number) => write("rows", updates, seq);
    this.clients.add(client);
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    const end = () => {
      clearInterval(keepAlive);
      this.clients.delete(client);
    };
    req.socket.once("close", end);
    res.once("close", end);
  }

  /**
   * POST /dlq/redrive with `id` (form or JSON): `npm run ops -- dlq redrive <id>` against this
   * run. Answers JSON to the page's script, a small page to a plain form post.
   */
  private async redrive(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    json: (status: number, body: unknown) => void,
    send: (status: number, type: string, body: string) => void,
  ): Promise<void> {
    const body = (await readRequestBody(req)).toString("utf8");
    // Another site's page cannot make the browser redrive: only this page's own origin may post.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`)
      return json(403, {
        message: `a redrive is posted from the console's own page, not ${origin}`,
      });
    const type = String(req.headers["content-type"] ?? "")
      .split(";")[0]
      .trim();
    let id: unknown;
    if (type === "application/json") {
      try {
        id = (JSON.parse(body) as { id?: unknown } | null)?.id;
      } catch {
        return json(400, { message: 'the body is not JSON: send {"id": "<message id>"}' });
      }
    } else if (type === "application/x-www-form-urlencoded" || type === "") {
      id = new URLSearchParams(body).get("id") ?? undefined;
    } else
      return json(415, {
        message: `send the id as application/json or a form, not ${type}`,
      });
    if (typeof id !== "string" || !ID_PATTERN.test(id))
      return json(400, {
        message: "id must be a dead letter's event id or message id (1-256 printable characters)",
      });
    const lines: string[] = [];
    let results: RedriveResult[];
    try {
      // Loaded on the first redrive: `npm start` does not load the ops tools' SDK clients.
      const { redrive } = await import("../../scripts/ops/redrive");
      const { closeContext } = await import("../../scripts/ops/context");
      const run = this.redriving.then(async () => {
        const c = await this.deps.opsContext((l) => lines.push(l));
        try {
          return await redrive(c, { id });
        } finally {
          closeContext(c);
        }
      });
      this.redriving = run.catch(() => undefined);
      results = await run;
    } catch (e) {
      return json(500, { message: `the redrive failed: ${(e as Error).message}`, lines });
    }
    for (const r of results)
      this.deps.journal.note({
        kind: "redrive",
        messageId: r.messageId,
        outcome: r.outcome,
        detail: r.detail,
        ...(r.eventId ? { eventId: r.eventId } : {}),
        ...(r.targetArn ? { targetArn: r.targetArn } : {}),
      });
    const status = results.length ? 200 : 404;
    const answer = results.length
      ? { results, lines }
      : {
          message: `no dead letter ${id} in the hub's DLQs (already redriven, or held by another redrive)`,
          results,
          lines,
        };
    if (String(req.headers.accept ?? "").includes("application/json")) return json(status, answer);
    const said = results.length
      ? results.map((r) => `${r.outcome}: ${r.detail}`).join("; ")
      : (answer as { message: string }).message;
    return send(
      status,
      "text/html; charset=utf-8",
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redrive ${esc(id)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console.css"></head><body><main><h1>Redrive of ${esc(id)}</h1><p role="status">${esc(said)}</p><p><a href="/">Back to the console</a></p></main></body></html>`,
    );
  }
}
