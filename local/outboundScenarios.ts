// The outbound part of `npm run demo`, against a running local Switchyard and its sample subscriber:
// a delivery received and verified here with `standardwebhooks`; a subscription whose host resolves
// to the instance metadata address, refused by the dispatcher (loopback to the sample subscriber is
// allowed in the local run, the metadata service never is); the failing endpoint walking the retry
// schedule into its DLQ with AttemptExhausted on the bus; its recovery with `npm run outbound --
// resend`. The walk needs the whole schedule at the run's --speed: when that is longer than
// WALK_BUDGET_S (Svix's 27.6 h at the default 0.05 is 83 min), it is walked on a second instance
// started for it at --speed 1/3600 (27.6 h in about 28 s), and the demo says so.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Webhook } from "standardwebhooks";
import { messageHistory } from "../scripts/outboundRecovery";
import { outboundCliEnvironment, resendCommand } from "./firstRun";
import type { ReceivedDelivery } from "./sampleSubscriber";
import { SAMPLE_SOURCE } from "./sampleSubscriber";
import { putEvent, type Outcome, type Target } from "./scenarios";
import { messageIdOf } from "../handlers/outbound/message";
import { LOCAL_CREDENTIALS } from "./credentials";
import { REGION } from "./account";

const ROOT = path.join(__dirname, "..");
/** Longest schedule walk (seconds at the run's speed) the demo waits for on the running instance. */
export const WALK_BUDGET_S = 90;
/** The speed of the instance started for the walk: an hour of the schedule takes a second. */
export const WALK_SPEED = "1/3600";

type OutboundTarget = NonNullable<Target["outbound"]>;

async function until<T>(
  f: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Puts a sample event (the local subscriptions select by detail type); its outbound message id. */
async function putSample(t: Target, detailType: string, detail: object): Promise<string> {
  return messageIdOf(await putEvent(t, detailType, detail, SAMPLE_SOURCE));
}

const receivedOf = async (o: OutboundTarget, id: string): Promise<ReceivedDelivery[]> =>
  ((await (await fetch(`${o.subscriberUrl}/received`)).json()) as ReceivedDelivery[]).filter(
    (r) => r.webhookId === id,
  );

/** The attempt log's items of a message, read through the run's endpoint as the recovery command does. */
async function history(t: Target, o: OutboundTarget, messageId: string): Promise<any[]> {
  const db = new DynamoDBClient({
    endpoint: t.aws,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    return await messageHistory(
      { doc: DynamoDBDocumentClient.from(db), table: o.table },
      messageId,
    );
  } finally {
    db.destroy();
  }
}

/** A delivery to `sample`, verified here with standardwebhooks and the subscription's secret. */
async function delivery(t: Target, o: OutboundTarget): Promise<Outcome> {
  const step = "outbound: delivery to the sample subscriber";
  const id = await putSample(t, "SamplePing", { demo: true });
  const got = await until(async () => (await receivedOf(o, id))[0], 20_000);
  if (!got) return { step, ok: false, detail: `${id} not received within 20 s` };
  let verdict: string;
  let ok = false;
  try {
    const payload = new Webhook(o.secrets.sample).verify(got.body, {
      "webhook-id": got.webhookId ?? "",
      "webhook-timestamp": got.webhookTimestamp ?? "",
      "webhook-signature": got.webhookSignature ?? "",
    }) as { type?: string };
    ok = got.status === 204 && payload.type === "SamplePing";
    verdict = `verified (type ${payload.type})`;
  } catch (e) {
    verdict = `NOT verified: ${(e as Error).message}`;
  }
  return {
    step,
    ok,
    detail: `webhook-id ${got.webhookId}, subscriber answered ${got.status}; standardwebhooks Webhook.verify: ${verdict}`,
  };
}

/** `internal`: its host resolves to 169.254.169.254; the dispatcher refuses it before connecting. */
async function privateAddress(t: Target, o: OutboundTarget): Promise<Outcome> {
  const step = "outbound: endpoint resolving to the metadata address refused";
  const id = await putSample(t, "InternalPing", {});
  const attempt = await until(
    async () => (await history(t, o, id)).find((i) => i.kind === "attempt"),
    20_000,
  );
  const reached = (await receivedOf(o, id)).length;
  return {
    step,
    ok: attempt?.failure === "blocked-address" && reached === 0,
    detail: attempt
      ? `${id} attempt ${attempt.attempt}: ${attempt.outcome}, ${attempt.failure}: ${attempt.error} (attempt log ${o.table}); loopback stays allowed (the sample subscriber got the delivery above)`
      : `no attempt of ${id} logged within 20 s`,
  };
}

/** The failing endpoint through the whole schedule, then the recovery command. */
async function walkAndResend(t: Target, o: OutboundTarget, where: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const control = async (p: string) => (await fetch(`${t.control}${p}`)).json() as Promise<any>;
  await fetch(`${o.subscriberUrl}/flaky/fail`, { method: "POST" });
  const started = Date.now();
  const id = await putSample(t, "FlakyPing", { demo: true });
  const waitMs = (o.retryScheduleSeconds.reduce((a, b) => a + b, 0) * o.speed + 30) * 1000;
  const exhausted = await until(
    async () =>
      ((await control("/events")) as any[]).find(
        (e) =>
          e["detail-type"] === "Switchyard.Outbound.AttemptExhausted" && e.detail.messageId === id,
      ),
    waitMs,
  );
  const flakyDlq = o.subscriptions.find((s) => s.name === "flaky")!.dlqName;
  const dead = ((await control(`/queues/${flakyDlq}`)) as any[]).some(
    (m) => JSON.parse(m.Body).messageId === id,
  );
  const attempts = await receivedOf(o, id);
  out.push({
    step: "outbound: failing endpoint walks the schedule into its DLQ",
    ok: Boolean(exhausted) && dead && attempts.length === o.retryScheduleSeconds.length,
    detail: `${where}: ${id}, ${attempts.length} attempts answered ${[...new Set(attempts.map((a) => a.status))].join("/")} over ${((Date.now() - started) / 1000).toFixed(1)} s (schedule ${o.retryScheduleSeconds.join(", ")} s at --speed ${+o.speed.toPrecision(3)}); DLQ ${flakyDlq}: ${dead ? "holds it" : "does not hold it"}; ${exhausted ? `Switchyard.Outbound.AttemptExhausted ${exhausted.id} on the bus (attempts ${exhausted.detail.attempts}, last status ${exhausted.detail.lastStatusCode})` : "no AttemptExhausted event"}`,
  });

  await fetch(`${o.subscriberUrl}/flaky/recover`, { method: "POST" });
  const words = resendCommand(o, "flaky", id);
  const args = words.slice(words.indexOf("--") + 1);
  const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/outbound.ts", ...args],
      { cwd: ROOT, env: { ...process.env, ...outboundCliEnvironment(o) }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    ),
  );
  const ok204 = await until(
    async () => (await receivedOf(o, id)).find((r) => r.status === 204 && r.verified),
    20_000,
  );
  out.push({
    step: "outbound: recovered with npm run outbound -- resend",
    ok: cli.code === 0 && Boolean(ok204),
    detail: `POST /flaky/recover, then \`npm run outbound -- ${args.join(" ")}\`: ${(cli.stdout.trim() || cli.stderr.trim()).split("\n").pop()}; ${ok204 ? `delivered again under ${id}, answered 204, verified` : "no successful delivery within 20 s"}`,
  });
  await fetch(`${o.subscriberUrl}/flaky/fail`, { method: "POST" });
  return out;
}

/** A second local run for the walk, in its own process at WALK_SPEED; stopped afterwards. */
async function startWalkInstance(): Promise<{ target: Target; child: ChildProcess; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-demo-walk-"));
  const endpoints = path.join(dir, "endpoints.json");
  const child = spawn(
    process.execPath,
    [
      require.resolve("ts-node/dist/bin.js"),
      "--transpile-only",
      "local/cli.ts",
      "--speed",
      WALK_SPEED,
      "--port",
      "0",
    ],
    {
      cwd: ROOT,
      env: { ...process.env, SWITCHYARD_ENDPOINTS_FILE: endpoints },
      stdio: "ignore",
    },
  );
  const target = await until(async () => {
    if (child.exitCode !== null) throw new Error(`the walk instance exited (${child.exitCode})`);
    return fs.existsSync(endpoints)
      ? (JSON.parse(fs.readFileSync(endpoints, "utf8")).target as Target)
      : undefined;
  }, 180_000);
  if (!target) {
    child.kill("SIGTERM");
    throw new Error("the walk instance did not start within 3 minutes");
  }
  return { target, child, dir };
}

export async function outboundScenarios(
  t: Target,
  log: (line: string) => void = () => undefined,
): Promise<Outcome[]> {
  const o = t.outbound;
  if (!o)
    return [{ step: "outbound", ok: false, detail: "the run declares no outbound subscriptions" }];
  const out = [await delivery(t, o), await privateAddress(t, o)];
  const walkSeconds = o.retryScheduleSeconds.reduce((a, b) => a + b, 0) * o.speed;
  if (walkSeconds <= WALK_BUDGET_S) {
    out.push(...(await walkAndResend(t, o, `this instance`)));
    return out;
  }
  log(
    `The schedule (${o.retryScheduleSeconds.join(", ")} s) takes ${Math.round(walkSeconds)} s at this instance's --speed ${+o.speed.toPrecision(3)}: walking it on a second instance started at --speed ${WALK_SPEED} instead...`,
  );
  const walk = await startWalkInstance();
  try {
    out.push(
      ...(await walkAndResend(
        walk.target,
        walk.target.outbound!,
        `instance at --speed ${WALK_SPEED}`,
      )),
    );
  } finally {
    const exited = new Promise((r) => walk.child.once("exit", r));
    walk.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 6000))]);
    fs.rmSync(walk.dir, { recursive: true, force: true });
  }
  return out;
}
