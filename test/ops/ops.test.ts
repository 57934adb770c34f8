// npm run ops against a running twin (`npm start` as a process, its records API a test server that
// fails on demand): a dead-lettered record event listed with EventBridge's attributes, redriven to
// its one target once (a dry run changes nothing, a second run and a duplicate dead letter deliver
// nothing), `match` against what the bus delivers, a replay reaching only the routes that accept
// replays, and `tail` following the journal.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { main } from "../../scripts/ops";
import type { DeadLetter } from "../../scripts/ops/dlq";
import type { RedriveResult } from "../../scripts/ops/redrive";
import type { MatchedRule } from "../../scripts/ops/match";
import type { BusEntry, JournalEntry } from "../../local/journal";
import { isBusEntry } from "../../scripts/ops/tail";
import { fastDeadLetterArgs, startTwin, TwinProcess } from "../local/twinProcess";
import { REDRIVE_LEDGER } from "../../lib/contracts";
import { deadLetterMessage } from "../../handlers/webhooks/relay";

// This suite's ports: the twin from 5300, the records API test server on 5480.
const BASE_PORT = 5300;
const RECORDS_PORT = 5480;

describe("npm run ops against the running twin", function () {
  this.timeout(240_000);
  let twin: TwinProcess;
  let records: http.Server;
  let recordsDown = true;
  const received: Array<{ body: string; apiKey?: string }> = [];
  let endpoints: { target: { aws: string; control: string }; outputs: Record<string, any> };
  let clientConfig: any;
  let dir: string;
  let endpointsFile: string;

  const ops = async (...argv: string[]) => {
    const lines: string[] = [];
    const result = await main([...argv, "--local", "--endpoints", endpointsFile], (l) =>
      lines.push(l),
    );
    return { result, lines };
  };
  // The bus's entries (the journal also holds queues, webhooks, executions).
  const journal = async (since = 0): Promise<BusEntry[]> =>
    (
      ((await (await fetch(`${endpoints.target.control}/journal?since=${since}`)).json()) as any)
        .entries as JournalEntry[]
    ).filter(isBusEntry);
  const lastSeq = async (): Promise<number> =>
    ((await (await fetch(`${endpoints.target.control}/journal?since=0`)).json()) as any).lastSeq;
  const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = 90_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const put = async (detail: object, time?: Date) => {
    const events = new EventBridgeClient(clientConfig);
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: endpoints.outputs.busName,
            Source: "switchyard.records",
            DetailType: "RecordCreated",
            Detail: JSON.stringify(detail),
            ...(time ? { Time: time } : {}),
          },
        ],
      }),
    );
    events.destroy();
    return out.Entries![0].EventId!;
  };
  const dlqDepth = async () =>
    ((await (await fetch(`${endpoints.target.control}/queues/switchyard-dev-dlq`)).json()) as any[])
      .length;

  before(async () => {
    records = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ body, apiKey: req.headers["x-api-key"] as string | undefined });
        res.writeHead(recordsDown ? 500 : 202, { "content-type": "application/json" });
        res.end(recordsDown ? '{"message":"down"}' : '{"recordHash":"abc"}');
      });
    });
    await new Promise<void>((r) => records.listen(RECORDS_PORT, "127.0.0.1", r));
    twin = await startTwin(
      BASE_PORT,
      {},
      /^Ready /m,
      120_000,
      fastDeadLetterArgs(`http://127.0.0.1:${RECORDS_PORT}`),
    );
    endpointsFile = path.join(twin.tmpDir, "endpoints.json");
    await until("the endpoints file", async () =>
      fs.existsSync(endpointsFile) ? true : undefined,
    );
    endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8"));
    clientConfig = {
      endpoint: endpoints.target.aws,
      region: "eu-west-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-test-"));
  });

  after(async () => {
    if (twin) {
      process.kill(-twin.pid, "SIGTERM");
      await twin.exited(10_000);
      fs.rmSync(twin.tmpDir, { recursive: true, force: true });
    }
    await new Promise((r) => records?.close(r));
  });

  const record = { tenantId: "acme", recordId: "r-42", recordVersion: 3, payload: { total: 12.5 } };
  const time = new Date("2026-11-30T10:00:00Z");
  // What the records route's transformer makes of `record` (components/records/recordPayload.ts).
  const expectedBody = JSON.stringify({
    tenantId: "acme",
    database: "switchyard.records",
    collection: "RecordCreated",
    recordId: "r-42",
    recordVersion: 3,
    operationType: "upsert",
    recordPayload: { total: 12.5 },
    sourceTimestamp: "2026-11-30T10:00:00Z",
    idempotencyKey: "acme:r-42:3",
  });
  let eventId: string;

  it("dead-letters a record event whose API destination answers 500, with EventBridge's attributes", async () => {
    eventId = await put(record, time);
    const dead = await until("the dead letter", async () =>
      (await journal()).find(
        (e) => e.eventId === eventId && e.kind === "delivery" && e.outcome === "dead-lettered",
      ),
    );
    expect(dead).to.include({
      rule: "switchyard-dev-records",
      target: "records-api",
      attempt: 186,
    });
    // The first attempt and 185 retries, each with the transformer's output.
    expect(received).to.have.length(186);
    expect(new Set(received.map((r) => r.body))).to.deep.equal(new Set([expectedBody]));

    const { result } = await ops("dlq", "list", "--json");
    const letters = result as DeadLetter[];
    expect(letters).to.have.length(1);
    expect(letters[0].event!.id).to.equal(eventId);
    expect(letters[0]).to.include({
      ruleArn: endpoints.outputs.routeRuleArns.records,
      targetArn: endpoints.outputs.recordsDestinationArn,
      errorCode: "500",
      errorMessage: "API destination answered 500",
      exhaustedRetryCondition: "MaximumRetryAttempts",
      retryAttempts: 185,
    });
    // Listing leaves the message in the queue, visible.
    expect(await dlqDepth()).to.equal(1);
    const shown = await ops("dlq", "show", eventId);
    expect(shown.lines.join("\n")).to.include(`input the target receives:\n${expectedBody}`);
  });

  it("a dry run delivers, deletes and records nothing", async () => {
    recordsDown = false;
    received.length = 0;
    const { result, lines } = await ops("dlq", "redrive", "--dry-run");
    expect((result as RedriveResult[]).map((r) => [r.eventId, r.outcome, r.input])).to.deep.equal([
      [eventId, "would-redrive", expectedBody],
    ]);
    expect(lines.at(-1)).to.match(/^dry run: 1 would be redriven/);
    expect(received).to.have.length(0);
    expect(await dlqDepth()).to.equal(1);
    const db = new DynamoDBClient(clientConfig);
    const items = await db.send(
      new ScanCommand({ TableName: endpoints.outputs.redriveLedgerTableName }),
    );
    db.destroy();
    expect(items.Items).to.have.length(0);
  });

  it("redrives the event to the one target that failed, with its input, and to nothing else", async () => {
    const seq = await lastSeq();
    const { result } = await ops("dlq", "redrive", "--rule", "records");
    expect((result as RedriveResult[]).map((r) => [r.eventId, r.outcome])).to.deep.equal([
      [eventId, "redriven"],
    ]);
    expect(received.map((r) => r.body)).to.deep.equal([expectedBody]);
    expect(received[0].apiKey).to.be.a("string").and.not.equal("");
    expect(await dlqDepth()).to.equal(0);
    // Nothing went through the bus: no rule and no other target saw the event again.
    expect((await journal(seq)).filter((e) => e.eventId === eventId)).to.deep.equal([]);
    const db = new DynamoDBClient(clientConfig);
    const items = await db.send(
      new ScanCommand({ TableName: endpoints.outputs.redriveLedgerTableName }),
    );
    db.destroy();
    expect(items.Items!.map((i) => [i[REDRIVE_LEDGER.key].S, i.status.S])).to.deep.equal([
      [`${eventId}|${endpoints.outputs.recordsDestinationArn}`, "delivered"],
    ]);
  });

  it("a second redrive, and a duplicate dead letter of the event, deliver nothing", async () => {
    const again = await ops("dlq", "redrive");
    expect(again.result).to.deep.equal([]);
    // The same dead letter twice (SQS delivers at least once): the ledger knows it was delivered.
    const sqs = new SQSClient(clientConfig);
    const attrs = (v: string) => ({ DataType: "String", StringValue: v });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: endpoints.outputs.dlqUrl,
        MessageBody: JSON.stringify({
          version: "0",
          id: eventId,
          "detail-type": "RecordCreated",
          source: "switchyard.records",
          account: "123456789012",
          time: "2026-11-30T10:00:00Z",
          region: "eu-west-1",
          resources: [],
          detail: record,
        }),
        MessageAttributes: {
          RULE_ARN: attrs(endpoints.outputs.routeRuleArns.records),
          TARGET_ARN: attrs(endpoints.outputs.recordsDestinationArn),
          ERROR_CODE: attrs("500"),
          ERROR_MESSAGE: attrs("API destination answered 500"),
          EXHAUSTED_RETRY_CONDITION: attrs("MaximumRetryAttempts"),
          RETRY_ATTEMPTS: attrs("185"),
        },
      }),
    );
    sqs.destroy();
    const dup = await ops("dlq", "redrive");
    expect((dup.result as RedriveResult[]).map((r) => [r.eventId, r.outcome])).to.deep.equal([
      [eventId, "already-redriven"],
    ]);
    expect(received).to.have.length(1);
    expect(await dlqDepth()).to.equal(0);
  });

  it("a claim left in doubt by a crashed redrive is not delivered until released", async () => {
    recordsDown = true;
    received.length = 0;
    const other = await put({ ...record, recordId: "r-43" }, time);
    await until("the second dead letter", async () =>
      (await journal()).find((e) => e.eventId === other && e.outcome === "dead-lettered"),
    );
    recordsDown = false;
    received.length = 0;
    // What a redrive that crashed after its claim, before recording the outcome, leaves behind.
    const db = new DynamoDBClient(clientConfig);
    await db.send(
      new PutItemCommand({
        TableName: endpoints.outputs.redriveLedgerTableName,
        Item: {
          [REDRIVE_LEDGER.key]: { S: `${other}|${endpoints.outputs.recordsDestinationArn}` },
          status: { S: "delivering" },
          runId: { S: "crashed-run" },
          claimedAt: { S: new Date().toISOString() },
        },
      }),
    );
    db.destroy();
    const doubt = await ops("dlq", "redrive");
    expect((doubt.result as RedriveResult[]).map((r) => [r.eventId, r.outcome])).to.deep.equal([
      [other, "in-doubt"],
    ]);
    expect(received).to.have.length(0);
    expect(await dlqDepth()).to.equal(1);
    expect((await ops("dlq", "release", other)).result).to.equal(1);
    const redriven = await ops("dlq", "redrive");
    expect((redriven.result as RedriveResult[]).map((r) => r.outcome)).to.deep.equal(["redriven"]);
    expect(received).to.have.length(1);
  });

  it("puts a webhook delivery the relay dead-lettered back onto the bus, once", async () => {
    // The message the webhook relay sends for a delivery the bus refused for good, built by the
    // relay's own function (handlers/webhooks/relay.ts), into the hub DLQ it names.
    const id = "switchyard.webhooks.hmac#relay-dead-letter-1";
    const detail = {
      provider: "hmac",
      deliveryId: "wh-dead-1",
      correlationId: "corr-dead-1",
      eventType: "record.noted",
      // Its event time: before the window this suite's replay test replays.
      receivedAt: "2026-11-29T09:00:00.000Z",
      headers: {},
      payload: { tenantId: "acme", recordId: "r-77", recordVersion: 1 },
    };
    const message = deadLetterMessage(
      { eventBusArn: endpoints.outputs.busArn, deadLetterQueueUrl: endpoints.outputs.dlqUrl },
      {
        id,
        entry: {
          Source: "switchyard.webhooks.hmac",
          DetailType: "record.noted",
          Detail: JSON.stringify(detail),
        },
      },
      { errorCode: "AccessDeniedException", errorMessage: "not authorized (while IAM settled)" },
    );
    const sqs = new SQSClient(clientConfig);
    await sqs.send(new SendMessageCommand(message));
    sqs.destroy();
    const listed = ((await ops("dlq", "list", "--json")).result as DeadLetter[]).find(
      (d) => d.event?.id === id,
    );
    expect(listed).to.deep.include({
      targetArn: endpoints.outputs.busArn,
      ruleArn: undefined,
      errorCode: "AccessDeniedException",
      errorMessage: "not authorized (while IAM settled)",
      retryAttempts: 0,
    });
    const seq = await lastSeq();
    const { result } = await ops("dlq", "redrive", id);
    expect((result as RedriveResult[]).map((r) => [r.eventId, r.outcome])).to.deep.equal([
      [id, "redriven"],
    ]);
    const put = await until("the redriven delivery on the bus", async () =>
      (await journal(seq)).find((e) => e.kind === "put" && e.correlationId === "corr-dead-1"),
    );
    expect(put).to.include({ source: "switchyard.webhooks.hmac", detailType: "record.noted" });
    expect(JSON.parse((put as { detail: string }).detail)).to.deep.equal(detail);
    expect(await dlqDepth()).to.equal(0);
    // Redriven once: the ledger holds it, a second run finds nothing to do.
    expect((await ops("dlq", "redrive")).result).to.deep.equal([]);
  });

  it("match prints the rules the bus matches and exactly the input each target receives", async () => {
    const event = {
      version: "0",
      id: "11111111-2222-3333-4444-555555555555",
      "detail-type": "RecordCreated",
      source: "switchyard.records",
      account: "123456789012",
      time: "2026-11-30T10:00:00Z",
      region: "eu-west-1",
      resources: [],
      detail: record,
    };
    const file = path.join(dir, "event.json");
    fs.writeFileSync(file, JSON.stringify(event));
    const lines: string[] = [];
    const matched = (await main(["match", "--event", file, "--stack", "dev"], (l) =>
      lines.push(l),
    )) as MatchedRule[];
    expect(matched.map((r) => [r.rule, r.targets.map((t) => [t.id, t.input])])).to.deep.equal([
      ["switchyard-dev-debug", [["log", JSON.stringify(event)]]],
      ["switchyard-dev-records", [["records-api", expectedBody]]],
    ]);
    // The twin's bus, given the same event, delivers the same rules and the same body.
    received.length = 0;
    const seq = await lastSeq();
    const id = await put(record, time);
    const delivered = await until("the delivery", async () => {
      const entries = (await journal(seq)).filter((e) => e.eventId === id);
      return entries.filter((e) => e.kind === "delivery").length === 2 ? entries : undefined;
    });
    const putEntry = delivered.find((e) => e.kind === "put")!;
    expect(putEntry.kind === "put" && putEntry.rules).to.deep.equal(matched.map((r) => r.rule));
    expect(received.map((r) => r.body)).to.deep.equal([expectedBody]);
  });

  it("replay reports completion, and replayed events reach only the routes that accept replays", async () => {
    // The archive holds this suite's record events, put with `time` as their event time.
    const from = new Date(time.getTime() - 60_000);
    const to = new Date(Date.now() + 60_000);
    const refused = await ops(
      "replay",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--route",
      "records",
    ).catch((e: Error) => e);
    expect((refused as Error).message).to.match(
      /route records does not accept replayed events.*switchyard-dev-debug/,
    );
    received.length = 0;
    const seq = await lastSeq();
    const { result, lines } = await ops(
      "replay",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--name",
      "ops-test",
    );
    expect(result).to.deep.equal({ name: "ops-test", state: "COMPLETED" });
    expect(lines[0]).to.include("seen by switchyard-dev-debug");
    expect(lines.at(-1)).to.match(/^replay ops-test: COMPLETED/);
    const replayed = (await journal(seq)).filter((e) => e.replayName === "ops-test");
    const puts = replayed.filter((e) => e.kind === "put");
    // The three record events this suite put so far, each matched by the debug route alone.
    expect(puts.length).to.equal(3);
    for (const e of replayed) {
      if (e.kind === "put") expect(e.rules).to.deep.equal(["switchyard-dev-debug"]);
      else expect(e).to.include({ rule: "switchyard-dev-debug", outcome: "delivered" });
    }
    expect(received).to.have.length(0);
  });

  it("tail shows a put event with the rules it matched", async () => {
    const tailing = ops("tail", "--count", "1", "--json", "--seconds", "30");
    await new Promise((r) => setTimeout(r, 500));
    const id = await put({ ...record, recordId: "r-44" }, time);
    const { result, lines } = await tailing;
    const [entry] = result as JournalEntry[];
    expect(entry).to.deep.include({
      kind: "put",
      eventId: id,
      source: "switchyard.records",
      detailType: "RecordCreated",
      outcome: "matched",
      rules: ["switchyard-dev-debug", "switchyard-dev-records"],
    });
    expect(JSON.parse(lines[0])).to.deep.equal(entry);
  });
});
