// A local HTTP stand-in of the records API (node:http on 127.0.0.1, an ephemeral port) whose
// answers a test scripts per record: 429 and 5xx first, then 202, or a permanent 4xx.
import * as http from "http";
import { AddressInfo } from "net";

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Call {
  /** The status the stand-in answered. */
  status: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export class ScriptedRecordsApi {
  public readonly calls: Call[] = [];
  public url = "";
  private server?: http.Server;
  private readonly seen = new Map<string, number>();

  /** `answer` gets the parsed body and how many times this record id was called before. */
  constructor(
    private readonly apiKey: () => string,
    private readonly answer: (body: any, previousCalls: number) => Answer = () => ({ status: 202 }),
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => {
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        let a: Answer;
        if (req.method !== "POST" || req.url !== "/api/v1/records")
          a = { status: 404, body: { message: "not found" } };
        else if (req.headers["x-api-key"] !== this.apiKey())
          a = { status: 401, body: { message: "invalid API key" } };
        else {
          const id = String(body?.recordId);
          const n = this.seen.get(id) ?? 0;
          this.seen.set(id, n + 1);
          a = this.answer(body, n);
        }
        this.calls.push({
          status: a.status,
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body,
        });
        res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
        res.end(JSON.stringify(a.body ?? { accepted: a.status < 300 }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** The statuses answered to one record's calls, in order. */
  statusesOf(recordId: string): number[] {
    return this.calls.filter((c) => c.body?.recordId === recordId).map((c) => c.status);
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
