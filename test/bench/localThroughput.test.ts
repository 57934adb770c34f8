import { expect } from "chai";
import * as net from "net";
import {
  benchLocalThroughput,
  formatThroughput,
  HopWatch,
  ThroughputResult,
} from "../../bench/localThroughput";

const BASE_PORT = 47300;

/** Whether 127.0.0.1:port can be listened on again (the runtime closed it). */
/**
 * Whether nothing listens on `port` any more: a connection is refused. (Binding it would also fail
 * while another test's outgoing connection happens to use it as its local, ephemeral port.)
 */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

// The local throughput bench with tiny counts: every delivery, event and job it sends is
// accounted for, and the runtime it started is stopped.
describe("local throughput bench (dev stack, tiny counts)", function () {
  this.timeout(120_000);
  let r: ThroughputResult;

  before(async () => {
    r = await benchLocalThroughput({
      basePort: BASE_PORT,
      deliveries: 12,
      events: 25,
      records: 3,
      jobs: 4,
      jobClients: 2,
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
    });
  });

  it("answers every signed delivery 2xx at each concurrency level, and each reaches the bus once", () => {
    expect(r.webhooks.map((w) => [w.level, w.clients])).to.deep.equal([
      [1, 1],
      [10, 10],
      [50, 12],
    ]);
    for (const w of r.webhooks) {
      expect(w, `level ${w.level}`).to.include({
        provider: "github",
        planned: 12,
        sent: 12,
        ok2xx: 12,
        errors: 0,
        published: 12,
        duplicates: 0,
      });
      expect(w.non2xx).to.deep.equal({});
      expect(w.connections, "keep-alive: one connection per client").to.be.at.most(w.clients);
      expect(w.perSecond).to.be.greaterThan(0);
      expect(w.p50Ms).to.be.greaterThan(0).and.at.most(w.p99Ms);
    }
  });

  it("sees every event put on the bus delivered by the debug route and the records API", () => {
    expect(r.putEvents.map((e) => [e.route, e.target, e.rateLimitPerSecond])).to.deep.equal([
      ["switchyard-dev-debug", "log", undefined],
      ["switchyard-dev-records", "records-api", 10],
    ]);
    const [debug, records] = r.putEvents;
    expect(debug).to.include({ events: 25, putCalls: 3, failedEntries: 0, delivered: 25 });
    expect(records).to.include({
      events: 3,
      putCalls: 1,
      failedEntries: 0,
      delivered: 3,
      observedAtTarget: 3,
    });
    for (const e of r.putEvents) {
      expect(e.perSecond).to.be.greaterThan(0);
      expect(e.p50Ms).to.be.at.least(0).and.at.most(e.p99Ms);
    }
  });

  it("follows every submitted job to SUCCEEDED with its checksum", () => {
    expect(r.jobs).to.include({
      clients: 2,
      planned: 4,
      submitted: 4,
      succeeded: 4,
      failed: 0,
      unfinished: 0,
      wrongResults: 0,
    });
    expect(r.jobs.submitRefused).to.deep.equal({});
    expect(r.jobs.polls).to.be.at.least(4);
    expect(r.jobs.p50Ms).to.be.greaterThan(0).and.at.most(r.jobs.p99Ms);
  });

  it("reports no failed, dropped or dead-lettered work in the runtime", () => {
    expect(r.runtimeFailures).to.deep.equal([]);
    expect(r.warmup).to.deep.equal({ deliveries: 3, events: 1, jobs: 1 });
  });

  it("prints a table per path", () => {
    const text = formatThroughput(r);
    expect(text).to.include("deliveries/s");
    expect(text).to.include("switchyard-dev-records/records-api (declared 10/s)");
    expect(text).to.include("jobs/s");
    expect(text).to.include("Runtime failures (failed, dropped or dead-lettered work): 0");
    // Each table's rows have a cell per header (columns are two or more spaces apart).
    const lines = text.split("\n");
    const cells = (l: string) => l.trim().split(/\s{2,}/).length;
    const headers = lines.filter((l) => /^(clients|route\/target) /.test(l));
    expect(headers).to.have.length(3);
    for (const h of headers) {
      const row = lines[lines.indexOf(h) + 2];
      expect(cells(row), row).to.equal(cells(h));
    }
  });

  it("stops the runtime: its ports are free again", async () => {
    for (let port = BASE_PORT; port < BASE_PORT + 10; port++)
      expect(await portFree(port), `port ${port}`).to.equal(true);
  });

  it("refuses a count out of range before starting anything", async () => {
    const err = await benchLocalThroughput({ basePort: BASE_PORT, jobs: 0 }).catch((e) => e);
    expect(err.message).to.equal("jobs must be an integer 1-2000, got 0");
  });

  it("stops the runtime when a phase fails", async () => {
    const err = await benchLocalThroughput({
      basePort: BASE_PORT,
      provider: "gitlab",
      moto: "engine",
    }).catch((e) => e);
    expect(err.message).to.equal(
      "stack dev serves no gitlab receiver; providers: github, hmac, standard, stripe, twilio",
    );
    for (let port = BASE_PORT; port < BASE_PORT + 10; port++)
      expect(await portFree(port), `port ${port}`).to.equal(true);
  });

  it("counts the runtime's lines for failed work, and delivery lines of watched targets only", () => {
    const w = new HopWatch();
    w.watch("hub-debug/log");
    w.line("  target hub-debug/log delivered event e-1");
    w.line("  target hub-records/records-api delivered event e-2");
    w.line("  target hub-records/records-api failed event e-3: 500 API destination answered 500");
    w.line(
      "  function hub-webhooks-github error: Sandbox.Timedout: Task timed out after 10 seconds",
    );
    w.line("  target hub-records/records-api sent event e-4 to DLQ hub-dlq (400)");
    w.line("  function hub-jobs-failed ran (async, request 1234abcd)");
    expect([...w.delivered.get("hub-debug/log")!.keys()]).to.deep.equal(["e-1"]);
    expect(w.failures).to.have.length(3);
  });
});
