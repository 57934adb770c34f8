// Outbound webhooks in the local run: the real dispatcher archive, fed by the local SQS event source
// mapping, POSTs to the sample subscriber (verified here again with standardwebhooks); a failing
// endpoint walks the retry schedule, waited at --speed, into its DLQ with AttemptExhausted on the
// bus; `npm run outbound -- resend` against the run recovers it; a subscription whose host resolves
// to the metadata address is refused by the dispatcher, every attempt logged.
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { Webhook } from "standardwebhooks";
import { SwitchyardLocal } from "../../local/runtime";
import { outboundCliEnvironment, resendCommand } from "../../local/firstRun";
import { ReceivedDelivery, SAMPLE_SOURCE } from "../../local/sampleSubscriber";
import { awsCli } from "../support/awsCli";
import { parseSubscriptions } from "../../components/webhooks/outboundSpec";

const ROOT = path.join(__dirname, "..", "..");
/** Two hours of the schedule take a second. */
const SPEED = 1 / 7200;
/** Immediately, 5 s, then 10 h: the last wait takes 5 s at SPEED. */
const SCHEDULE = [0, 5, 36000];

async function until<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `npm run outbound -- <args>` (scripts/outbound.ts) against the run; its printed lines. */
function outboundCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/outbound.ts", ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("local runtime: outbound webhooks to the sample subscriber", function () {
  this.timeout(180_000);
  let local: SwitchyardLocal;
  let events: EventBridgeClient;
  const received = (sub: string, id: string) =>
    local.services.subscriber.subscriber.received.filter(
      (r) => r.subscription === sub && r.webhookId === id,
    );
  const put = async (detailType: string, detail: object) => {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: "switchyard-dev",
            Source: SAMPLE_SOURCE,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    expect(out.FailedEntryCount).to.equal(0);
    return `msg_${out.Entries![0].EventId!.replace(/-/g, "")}`;
  };
  const exhaustedOf = (messageId: string) =>
    local.bus.archive.find(
      (e: any) =>
        e["detail-type"] === "Switchyard.Outbound.AttemptExhausted" &&
        e.detail.messageId === messageId,
    ) as any;
  const cliEnv = () => outboundCliEnvironment(local.outbound!);
  let internalPing: Promise<string>;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: SPEED,
      basePort: 5150,
      configOverrides: { "switchyard:outboundRetrySchedule": JSON.stringify(SCHEDULE) },
      log: () => undefined,
    });
    events = new EventBridgeClient({
      endpoint: local.awsUrl,
      region: "eu-west-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    // The metadata-address subscription walks its whole schedule (5 s at this speed) while the
    // tests before the one that reads it run: only InternalPing matches it.
    internalPing = put("InternalPing", {});
    internalPing.catch(() => undefined);
  });
  after(async () => {
    events?.destroy();
    await local?.stop();
  });

  it("prints the sample subscriber, its subscriptions and the schedule as waited at --speed", () => {
    const banner = local.summary();
    const url = local.services.subscriber.url;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:51\d\d$/);
    expect(banner).to.include(`  sample subscriber (outbound webhooks): ${url} `);
    expect(banner).to.include(`    subscription sample -> ${url}/sample: `);
    expect(banner).to.include(`    subscription flaky -> ${url}/flaky: `);
    expect(banner).to.include(
      "    subscription internal -> http://metadata.switchyard.internal/latest/meta-data/: ",
    );
    expect(banner).to.include("retry schedule 0, 5, 36000 s, waited at --speed");
    expect(banner).to.include("as 0, 0.001, 5 s;");
  });

  it("delivers a matching event through the queue and the dispatcher, signed: standardwebhooks verifies it", async () => {
    const id = await put("SamplePing", { order: 42 });
    const [r] = await until(
      "the delivery",
      () => {
        const got = received("sample", id);
        return got.length ? got : undefined;
      },
      30_000,
    );
    expect(r.status).to.equal(204);
    expect(r.verified).to.equal(true);
    // Verified again here, independently of the subscriber, with the subscription's secret.
    const secret = local.program.config["switchyard:outboundSecretSample"];
    const headers = {
      "webhook-id": r.webhookId!,
      "webhook-timestamp": r.webhookTimestamp!,
      "webhook-signature": r.webhookSignature!,
    };
    expect(new Webhook(secret).verify(r.body, headers)).to.deep.include({
      type: "SamplePing",
      data: { order: 42 },
    });
    // A body changed on the way, or another subscription's secret, does not verify.
    expect(() => new Webhook(secret).verify(r.body.replace("42", "43"), headers)).to.throw();
    const other = local.program.config["switchyard:outboundSecretFlaky"];
    expect(() => new Webhook(other).verify(r.body, headers)).to.throw();
    // One delivery, one attempt, logged as succeeded.
    const history = await outboundCli(cliEnv(), ["attempts", id, "--table", local.outbound!.table]);
    expect(history.code, history.stderr).to.equal(0);
    const items = history.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(items.find((i) => i.kind === "delivery")).to.deep.include({
      status: "succeeded",
      attempts: 1,
    });
  });

  let flakyId: string;
  it("walks a failing endpoint through the schedule, waited at --speed, into its DLQ and AttemptExhausted", async () => {
    const sub = local.services.subscriber.subscriber;
    sub.failing = true;
    flakyId = await put("FlakyPing", { n: 1 });
    const exhausted = await until("AttemptExhausted", () => exhaustedOf(flakyId), 60_000);
    expect(exhausted.source).to.equal("switchyard.outbound");
    expect(exhausted.detail).to.deep.include({
      subscription: "flaky",
      messageId: flakyId,
      attempts: 3,
      lastStatusCode: 503,
    });
    const attempts = received("flaky", flakyId);
    expect(attempts.map((a: ReceivedDelivery) => a.status)).to.deep.equal([503, 503, 503]);
    expect(attempts.every((a) => a.verified)).to.equal(true);
    // 5 s waited as ~0.7 ms (then the next poll), 10 h as 5 s.
    const at = attempts.map((a) => Date.parse(a.at));
    expect(at[1] - at[0]).to.be.below(2000);
    expect(at[2] - at[1]).to.be.within(4750, 8000);
    const dlq = local.queues.get("switchyard-dev-outbound-flaky-dlq")!;
    const dead = dlq.map((m) => JSON.parse(m.Body)).find((b) => b.messageId === flakyId);
    expect(dead).to.deep.include({ subscription: "flaky", attempts: 3, lastStatusCode: 503 });
    expect(dead.event["detail-type"]).to.equal("FlakyPing");
    // Deleted from its queue once the dispatcher's invocation has returned.
    await until(
      "the flaky queue to empty",
      () => (local.queues.get("switchyard-dev-outbound-flaky")!.length === 0 ? true : undefined),
      5000,
    );
  });

  it("recovers it with npm run outbound -- resend once the endpoint recovers", async () => {
    expect(flakyId, "the exhausted message of the test before").to.be.a("string");
    const res = await fetch(`${local.services.subscriber.url}/flaky/recover`, { method: "POST" });
    expect(await res.json()).to.deep.equal({ failing: false });
    // The command the banner prints, run as printed (without its environment words).
    const words = resendCommand(local.outbound!, "flaky", flakyId);
    const args = words.slice(words.indexOf("--") + 1);
    const out = await outboundCli(cliEnv(), args);
    expect(out.code, out.stderr).to.equal(0);
    expect(JSON.parse(out.stdout.trim().split("\n").pop()!)).to.deep.equal({
      messageId: flakyId,
      subscription: "flaky",
      resent: true,
    });
    const ok = await until(
      "the resent delivery",
      () => received("flaky", flakyId).find((r) => r.status === 204),
      30_000,
    );
    expect(ok.verified).to.equal(true);
    const history = await outboundCli(cliEnv(), ["attempts", flakyId, ...args.slice(2, 4)]);
    const items = history.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(items.find((i) => i.kind === "delivery")).to.deep.include({
      status: "succeeded",
      attempts: 1,
    });
    expect(items.filter((i) => i.kind === "attempt").map((i) => i.outcome)).to.deep.equal([
      "failure",
      "failure",
      "failure",
      "success",
    ]);
  });

  it("serves ChangeMessageVisibility to the AWS CLI v2, scaled by --speed", async () => {
    const cli = (args: string[]) =>
      awsCli(["--endpoint-url", local.awsUrl, "--output", "json", ...args], {
        ...process.env,
        ...outboundCliEnvironment(local.outbound!),
      });
    const queue = `${local.awsUrl}/123456789012/switchyard-dev-outbound-sample-dlq`;
    expect(
      (await cli(["sqs", "send-message", "--queue-url", queue, "--message-body", "x"])).code,
    ).to.equal(0);
    const receive = async () =>
      JSON.parse(
        (await cli(["sqs", "receive-message", "--queue-url", queue, "--visibility-timeout", "60"]))
          .stdout || "{}",
      ).Messages ?? [];
    const [m] = await receive();
    expect(await receive()).to.deep.equal([]);
    // 18000 s of visibility is 2.5 seconds at this speed: long enough that a slow AWS CLI start on
    // a busy machine cannot let it lapse before the next receive, short enough to wait out.
    const changedAt = Date.now();
    const changed = await cli([
      "sqs",
      "change-message-visibility",
      "--queue-url",
      queue,
      "--receipt-handle",
      m.ReceiptHandle,
      "--visibility-timeout",
      "18000",
    ]);
    expect(changed.code, changed.stderr).to.equal(0);
    expect(await receive()).to.deep.equal([]);
    let visible: any[] = [];
    while (visible.length === 0 && Date.now() - changedAt < 20_000) visible = await receive();
    expect(visible.map((x: any) => x.Body)).to.deep.equal(["x"]);
    expect(Date.now() - changedAt).to.be.at.least(2_450);
    const bad = await cli([
      "sqs",
      "change-message-visibility",
      "--queue-url",
      queue,
      "--receipt-handle",
      "not-a-handle",
      "--visibility-timeout",
      "1",
    ]);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include("ReceiptHandleIsInvalid");
  });

  it("refuses a subscription whose host resolves to the metadata address, every attempt logged; loopback stays allowed", async () => {
    const id = await internalPing;
    const exhausted = await until("AttemptExhausted", () => exhaustedOf(id), 60_000);
    expect(exhausted.detail.subscription).to.equal("internal");
    expect(exhausted.detail.lastStatusCode).to.equal(null);
    expect(exhausted.detail.lastError).to.equal(
      "metadata.switchyard.internal resolves to 169.254.169.254, a metadata address: deliveries go to public addresses only",
    );
    const history = await outboundCli(cliEnv(), ["attempts", id, "--table", local.outbound!.table]);
    const attempts = history.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((i) => i.kind === "attempt");
    expect(attempts).to.have.length(3);
    for (const a of attempts)
      expect(a).to.deep.include({ outcome: "failure", failure: "blocked-address" });
    // Nothing reached a server: the subscriber got nothing for it.
    expect(local.services.subscriber.subscriber.received.some((r) => r.webhookId === id)).to.equal(
      false,
    );
    // A literal private address is refused earlier, when the config is read, in the local run too.
    for (const url of ["http://169.254.169.254/", "http://10.0.0.1/hook"])
      expect(() => parseSubscriptions([{ name: "x", url, events: ["A"] }], true)).to.throw(
        /address .*: deliveries go to public addresses only/,
      );
  });
});
