// The control port: a read-only JSON view of the local state (queues, notifications, executions,
// records, events, the bus's event journal), plus POST /drain and POST /replay for tests and the
// demo.
import * as http from "http";
import { journalSince, streamJournal } from "../journal";
import { Runtime } from "./context";

export class ControlService {
  constructor(
    private readonly rt: Runtime,
    /** Waits until every event, invocation and execution started so far has finished. */
    private readonly drain: () => Promise<void>,
  ) {}

  /**
   * GET /state, /queues/<name>, /topics, /executions, /records, /events, /logs (lines kept per
   * function), /logs/<function>[?requestId=...], /hops/<event id> (the run's lines that name the
   * event: its bus, rules, targets, replays), /journal[?since=<seq>], /journal/stream
   * (server-sent events); POST /drain, POST /replay?name=.
   */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { sqs, sns, stepFunctions, records, eventBridge, functionUrls, restApis, lambda } =
      this.rt.services;
    const url = new URL(req.url ?? "/", "http://local");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body, null, 2));
    };
    const parts = url.pathname.split("/").filter(Boolean);
    if (req.method === "POST" && parts[0] === "drain") {
      await this.drain();
      return send(200, { drained: true });
    }
    if (req.method === "POST" && parts[0] === "replay") {
      const n = eventBridge.bus.replay(
        url.searchParams.get("name") ?? `replay-${Date.now()}`,
        new Date(0),
        new Date(),
      );
      return send(200, { replayed: n });
    }
    switch (parts[0]) {
      case "journal": {
        const asked = journalSince(url, req);
        if ("error" in asked) return send(400, { message: asked.error });
        const journal = eventBridge.journal;
        if (parts[1] === "stream" && parts.length === 2)
          return streamJournal(journal, req, res, asked.since);
        if (parts.length > 1) return send(404, { message: `unknown path ${url.pathname}` });
        return send(200, { lastSeq: journal.lastSeq, entries: journal.since(asked.since) });
      }
      case "queues":
        if (parts[1])
          return sqs.queues.has(parts[1])
            ? send(200, sqs.queues.get(parts[1]))
            : send(404, { message: `no queue ${parts[1]}` });
        return send(200, Object.fromEntries([...sqs.queues].map(([k, v]) => [k, v.length])));
      case "topics":
        return send(200, Object.fromEntries(sns.topics));
      case "executions":
        return send(
          200,
          [...stepFunctions.sfn.executions.values()].map(({ done: _done, ...e }) => e),
        );
      case "records":
        return send(
          200,
          records.standIn
            ? { calls: records.standIn.calls, records: [...records.standIn.records.values()] }
            : { message: "external records API" },
        );
      case "events":
        return send(200, eventBridge.bus.archive);
      case "hops":
        if (!parts[1]) return send(400, { message: "GET /hops/<event id>" });
        return send(
          200,
          this.rt.logLines.filter((l) => l.includes(decodeURIComponent(parts[1]))),
        );
      case "logs": {
        if (!parts[1])
          return send(
            200,
            Object.fromEntries(
              [...lambda.lambdas.functions.keys()].map((n) => [n, lambda.logs.get(n)?.length ?? 0]),
            ),
          );
        const name = decodeURIComponent(parts[1]);
        if (!lambda.lambdas.functions.has(name))
          return send(404, { message: `no function ${name}` });
        const requestId = url.searchParams.get("requestId");
        const kept = lambda.logs.get(name) ?? [];
        return send(200, requestId ? kept.filter((r) => r.requestId?.startsWith(requestId)) : kept);
      }
      case undefined:
      case "state":
        return send(200, {
          stack: this.rt.program.stack,
          aws: this.rt.awsUrl,
          functionUrls: functionUrls.urls,
          apis: restApis.urls,
          queues: Object.fromEntries([...sqs.queues].map(([k, v]) => [k, v.length])),
          events: eventBridge.bus.archive.length,
          executions: stepFunctions.sfn.executions.size,
        });
      default:
        return send(404, { message: `unknown path ${url.pathname}` });
    }
  }
}
