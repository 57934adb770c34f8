// The console that `npm start` serves, in a real browser (Debian's chromium driven by
// playwright-core, one browser for the file): a signed webhook delivery appears live with the
// rules its event matched; a record event whose API destination fails lands in the DLQ and is
// redriven from the page, reaching the records API once; a verification execution shows its path
// through the states; what an event carries is shown as text, never run; the page logs no error.
// The twin runs as `npm start` does (a process), its records API a test server that fails on
// demand. Screenshots go to test/artifacts/ (git-ignored).
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { randomUUID } from "crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { chromium, Browser, Page } from "playwright-core";
import { signedVerificationRequest } from "../../local/scenarios";
import type { JournalEntry } from "../../local/journal";
import { fastDeadLetterArgs, startTwin, TwinProcess } from "./twinProcess";

// This suite's ports: the twin from 5900, the records API test server on 6090.
const BASE_PORT = 5900;
const RECORDS_PORT = 6090;
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = path.join(__dirname, "..", "artifacts");

describe("local: the console in a browser", function () {
  this.timeout(240_000);
  let twin: TwinProcess;
  let records: http.Server;
  let recordsDown = false;
  const received: string[] = [];
  let browser: Browser;
  let page: Page;
  let consoleUrl: string;
  let endpoints: {
    target: {
      aws: string;
      control: string;
      busName: string;
      webhooks: Record<string, { localUrl: string }>;
      secrets: Record<string, string>;
    };
  };
  const pageErrors: string[] = [];

  const journal = async (): Promise<JournalEntry[]> =>
    ((await (await fetch(`${endpoints.target.control}/journal?since=0`)).json()) as any).entries;
  const put = async (source: string, detailType: string, detail: object) => {
    const events = new EventBridgeClient({
      endpoint: endpoints.target.aws,
      region: "eu-west-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      const out = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: endpoints.target.busName,
              Source: source,
              DetailType: detailType,
              Detail: JSON.stringify(detail),
            },
          ],
        }),
      );
      return out.Entries![0].EventId!;
    } finally {
      events.destroy();
    }
  };
  const screenshot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `console-${name}.png`), fullPage: true });

  before(async () => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    records = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        if (req.url?.startsWith("/api/v1/verify")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              verified: true,
              anchoredOnChain: true,
              recordHash: "abc",
              proofUrl: "https://explorer.local/tx/abc",
            }),
          );
          return;
        }
        received.push(body);
        res.writeHead(recordsDown ? 500 : 202, { "content-type": "application/json" });
        res.end(recordsDown ? '{"message":"down"}' : '{"recordHash":"abc"}');
      });
    });
    await new Promise<void>((r) => records.listen(RECORDS_PORT, "127.0.0.1", r));
    const [tw, br] = await Promise.all([
      startTwin(
        BASE_PORT,
        {},
        /^Ready /m,
        120_000,
        fastDeadLetterArgs(`http://127.0.0.1:${RECORDS_PORT}`),
      ),
      chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }),
    ]);
    twin = tw;
    browser = br;
    const file = path.join(twin.tmpDir, "endpoints.json");
    for (let i = 0; !fs.existsSync(file) && i < 100; i++)
      await new Promise((r) => setTimeout(r, 100));
    endpoints = JSON.parse(fs.readFileSync(file, "utf8"));
    const port = twin.ports.get("console");
    expect(port, "the banner prints the console's URL").to.be.a("number");
    consoleUrl = `http://127.0.0.1:${port}`;
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${consoleUrl}/`);
    await page.getByText("Live: new events appear as they happen.").waitFor();
  });

  after(async () => {
    await browser?.close();
    if (twin) {
      process.kill(-twin.pid, "SIGTERM");
      await twin.exited(10_000);
      fs.rmSync(twin.tmpDir, { recursive: true, force: true });
    }
    await new Promise((r) => records?.close(r));
  });

  const correlationId = `console-${randomUUID().slice(0, 8)}`;
  let webhookEventId: string;

  it("shows a signed webhook delivery as it arrives, with the rules its event matched", async () => {
    const request = {
      tenantId: "acme",
      database: "billing",
      collection: "invoices",
      recordId: `inv-${randomUUID().slice(0, 8)}`,
      recordVersion: 1,
      payload: { total: 7 },
    };
    const d = signedVerificationRequest(
      "hmac",
      endpoints.target.secrets.hmac,
      request,
      correlationId,
    );
    const res = await fetch(endpoints.target.webhooks.hmac.localUrl, {
      method: "POST",
      headers: d.headers,
      body: d.body,
    });
    expect(res.status).to.equal(200);

    // Live: the page was loaded before the delivery.
    const row = page.locator("#rows-webhooks tr", { hasText: correlationId });
    await row.waitFor();
    await row.locator("td:nth-child(3) a[data-follow]").waitFor();
    expect(await row.locator("td:nth-child(2)").innerText()).to.match(/^accepted\s+HTTP 200/);
    webhookEventId = (await row
      .locator("td:nth-child(3) a[data-follow]")
      .getAttribute("data-follow"))!;

    // Its event, with the rules the bus matched (as the journal says).
    const putEntry = (await journal()).find(
      (e) => e.kind === "put" && e.eventId === webhookEventId,
    );
    expect(putEntry?.kind === "put" && putEntry.rules).to.have.length.above(0);
    const eventRow = page.locator("#rows-events tr", { hasText: webhookEventId });
    const rules = await eventRow.locator("td:nth-child(2) li").allInnerTexts();
    expect(rules).to.deep.equal(putEntry?.kind === "put" ? putEntry.rules : []);

    // Clicking the correlation id follows it: only rows that carry it stay shown.
    await row.locator(`a[data-follow="${correlationId}"]`).click();
    expect(await page.inputValue("#filter")).to.equal(correlationId);
    expect(new URL(page.url()).searchParams.get("id")).to.equal(correlationId);
    const shown = await page.locator("tbody:not(#rows-queues) > tr:not([hidden])").all();
    expect(shown.length).to.be.at.least(2);
    for (const r of shown)
      expect((await r.getAttribute("data-ids"))!.split(" ")).to.include(correlationId);
    await screenshot("webhook-delivery");
  });

  it("shows the state machine execution the delivery started, with its path through the states", async () => {
    const row = page.locator("#rows-executions tr", { hasText: correlationId });
    await row.waitFor();
    await row.locator(".badge.succeeded").waitFor({ timeout: 60_000 });
    const ended = (await journal()).find(
      (e) => e.kind === "execution" && e.step === "ended" && e.correlationId === correlationId,
    );
    expect(ended?.kind === "execution" && ended.status).to.equal("SUCCEEDED");
    const states = await row.locator("ol.path li").allInnerTexts();
    expect(states).to.deep.equal(ended?.kind === "execution" ? ended.path : []);
    expect(states).to.include.members(["Ingest", "Verify"]);
    await screenshot("execution");
  });

  it("redrives a dead-lettered event from the page: the outcome shows, the target receives it once", async () => {
    await page.getByRole("link", { name: "Show everything" }).click();
    recordsDown = true;
    const recordId = `r-${randomUUID().slice(0, 8)}`;
    const eventId = await put("switchyard.records", "RecordCreated", {
      tenantId: "acme",
      recordId,
      recordVersion: 1,
      payload: { total: 1 },
    });
    const dead = page.locator("#rows-deadLetters tr", { hasText: eventId });
    await dead.waitFor({ timeout: 90_000 });
    const eventRow = page.locator("#rows-events tr", { hasText: eventId });
    expect(await eventRow.locator(".badge.dead-lettered").count()).to.equal(1);
    const dlqDepth = page.locator("#rows-queues tr", { hasText: "switchyard-dev-dlq" });
    expect(await dlqDepth.locator("td.depth").innerText()).to.equal("1");
    expect(received.filter((b) => b.includes(recordId))).to.have.length(186);

    recordsDown = false;
    received.length = 0;
    await dead.getByRole("button", { name: /Redrive/ }).click();
    const result = page.locator("#redrive-result");
    await result.filter({ hasText: /redriven/ }).waitFor();
    expect(await result.innerText()).to.match(/^redriven: records-api: /);
    await dead.waitFor({ state: "detached" });
    await page.locator("#rows-redrives tr", { hasText: eventId }).waitFor();
    // The event's row says so, beside the outcome that dead-lettered it.
    await eventRow.locator("li", { hasText: /^redrive: redriven/ }).waitFor();
    expect(await dlqDepth.locator("td.depth").innerText()).to.equal("0");
    // Once, and only to the target that failed it.
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((b) => b.includes(recordId))).to.have.length(1);
    expect(received).to.have.length(1);
    await screenshot("redrive");
  });

  it("shows what an event carries as text: markup in it never runs", async () => {
    const marker = randomUUID().slice(0, 8);
    const eventId = await put(
      "switchyard.console-test",
      `<img src=x onerror="window.__pwned='${marker}'">`,
      {
        note: `<script>window.__pwned='${marker}'</script>`,
        quote: `"'><b>bold</b>`,
      },
    );
    const row = page.locator("#rows-events tr", { hasText: eventId });
    await row.waitFor();
    expect(await row.innerText()).to.include(`<img src=x onerror="window.__pwned='${marker}'">`);
    await row.locator("summary").click();
    expect(await row.locator("pre").innerText()).to.include(
      `<script>window.__pwned='${marker}'</script>`,
    );
    // Rendered by the server too (a reload), and in neither case turned into elements.
    await page.reload();
    await page.getByText("Live: new events appear as they happen.").waitFor();
    for (const sel of ["script", "img", "b"])
      expect(await page.locator(`main ${sel}`).count(), sel).to.equal(0);
    expect(await page.evaluate("typeof window.__pwned")).to.equal("undefined");
    const html = await (await fetch(`${consoleUrl}/`)).text();
    expect(html).to.include(`&lt;script&gt;window.__pwned=`);
    expect(html).not.to.include("<script>window.__pwned");
  });

  it("answers bad input with a 4xx and a reason, and keeps serving", async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${consoleUrl}/dlq/redrive`, { method: "POST", headers, body });
    const cases: Array<[Promise<Response>, number, RegExp]> = [
      [post("{", { "content-type": "application/json" }), 400, /not JSON/],
      [post("id=", { "content-type": "application/x-www-form-urlencoded" }), 400, /id must be/],
      [
        post(`id=${"x".repeat(300)}`, { "content-type": "application/x-www-form-urlencoded" }),
        400,
        /id must be/,
      ],
      [post("id=x", { "content-type": "text/xml" }), 415, /application\/json/],
      [
        post("id=x", {
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://evil.example",
        }),
        403,
        /own page/,
      ],
      [fetch(`${consoleUrl}/stream?since=abc`), 400, /since must be/],
      [fetch(`${consoleUrl}/nope`), 404, /console is at/],
      [fetch(`${consoleUrl}/`, { method: "DELETE" }), 405, /GET the page/],
      [fetch(`${consoleUrl}/%E0%A4%A`), 400, /percent-encoding/],
    ];
    for (const [res, status, reason] of cases) {
      const r = await res;
      const text = await r.text();
      expect(r.status, text).to.equal(status);
      expect(text).to.match(reason);
    }
    // An id no dead letter has: 404 with the reason, nothing redriven.
    const none = await post(JSON.stringify({ id: "no-such-message" }), {
      "content-type": "application/json",
      accept: "application/json",
    });
    expect(none.status).to.equal(404);
    expect(((await none.json()) as { message: string }).message).to.match(/no dead letter/);
    expect((await fetch(`${consoleUrl}/`)).status).to.equal(200);
  });

  it("has logged no error in the browser", () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
