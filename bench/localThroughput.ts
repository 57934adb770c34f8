// Local throughput: starts the local runtime for a stack (as the end-to-end test does) and drives
// three paths through it on this machine, counting every delivery, event and job it sends:
//   1. signed webhook deliveries to one Function URL at 1, 10 and 50 concurrent keep-alive clients;
//   2. PutEvents (the AWS SDK, batches of 10) on the hub bus until each event is delivered by a
//      declared route (the debug route's log target, the records route's API destination);
//   3. jobs submitted to the jobs API (SigV4-signed) and polled with GET until a terminal state.
// Figures, not targets. `npx ts-node --transpile-only bench/localThroughput.ts` prints the tables;
// knobs as options (or THROUGHPUT_* variables when run alone).
import "../local/polyfills";
import * as http from "http";
import { createHash, randomUUID } from "crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { arnFor } from "../local/mocks";
import { SwitchyardLocal } from "../local/runtime";
import type { MotoScope } from "../local/services/moto";
import { signedDelivery, signedFetch, Target } from "../local/scenarios";
import { RECORDS_SOURCE } from "../components/records/recordPayload";
import { TERMINAL } from "../handlers/jobs/jobStore";
import { nowMs, percentile } from "./stats";
import { table } from "./stats";
import { REGION } from "../local/account";
import { LOCAL_CREDENTIALS } from "../local/credentials";

export interface ThroughputOptions {
  /** Stack whose program is served. Default "dev". */
  stack?: string;
  /** First local port of the runtime (it takes about 10). Default 47200. */
  basePort?: number;
  /** Webhook deliveries per concurrency level. Default 200. */
  deliveries?: number;
  /** Events put on the bus and awaited at the debug route. Default 1000. */
  events?: number;
  /** Record events put on the bus and awaited at the records API (its API destination). Default 20. */
  records?: number;
  /** Jobs submitted and polled to a terminal state. Default 60. */
  jobs?: number;
  /** Concurrent webhook clients, one level each. Default [1, 10, 50]. */
  concurrency?: number[];
  /** Webhook provider whose receiver is driven. Default "github". */
  provider?: string;
  /** Concurrent job clients (each submits, then polls its job). Default 10. */
  jobClients?: number;
  /** Concurrent PutEvents callers. Default 4. */
  publishers?: number;
  /** Time bound of each phase (a level, a route, the jobs): no new request after it. Default 30 s. */
  phaseMs?: number;
  /** What is applied to moto_server at start (`npm start --moto`). Default "all", as npm start. */
  moto?: MotoScope;
}

/** One concurrency level of webhook deliveries. */
export interface WebhookLevel {
  provider: string;
  /** The concurrency level asked for. */
  level: number;
  /** Concurrent clients (keep-alive connections): the level, at most the deliveries. */
  clients: number;
  /** Connections opened: at most `clients` when keep-alive holds. */
  connections: number;
  /** Deliveries planned. */
  planned: number;
  /** Deliveries sent (fewer than planned only if the phase ran out of time). */
  sent: number;
  ok2xx: number;
  /** Answers outside 2xx, by status. */
  non2xx: Record<string, number>;
  /** Requests that got no answer (connection error, 15 s timeout). */
  errors: number;
  /** Distinct deliveries of this level whose event reached the bus, after the runtime drained. */
  published: number;
  /** Events on the bus beyond one per delivery (a duplicate publish). */
  duplicates: number;
  /** First request start to last response end. */
  seconds: number;
  perSecond: number;
  /** Request start to response end (body read), per delivery. */
  p50Ms: number;
  p99Ms: number;
}

/** Events put on the bus and awaited at one route's target. */
export interface RouteDelivery {
  route: string;
  target: string;
  /** The target's declared rate limit (API destinations), else undefined. */
  rateLimitPerSecond?: number;
  events: number;
  putCalls: number;
  /** Entries PutEvents refused (FailedEntryCount) or calls that failed. */
  failedEntries: number;
  /** Events the runtime reported delivered by this target (its `target ... delivered` line). */
  delivered: number;
  /** For the records route: the records API's 2xx answers for these events. */
  observedAtTarget?: number;
  /** First put's start to the last event's delivery. */
  seconds: number;
  perSecond: number;
  /** Start of the PutEvents call carrying the event to its delivery, per event. */
  p50Ms: number;
  p99Ms: number;
}

export interface JobsFigures {
  clients: number;
  planned: number;
  submitted: number;
  /** POST /jobs answers other than 202 with a jobId (or no answer), by status. */
  submitRefused: Record<string, number>;
  succeeded: number;
  failed: number;
  /** Submitted jobs with no terminal state within the phase's time. */
  unfinished: number;
  /** SUCCEEDED jobs whose result is not the checksum of their input. */
  wrongResults: number;
  /** GET /jobs/{id} calls made while polling. */
  polls: number;
  pollIntervalMs: number;
  /** First submit's start to the last terminal GET's end. */
  seconds: number;
  perSecond: number;
  /** Submit start to the end of the first GET that shows a terminal state, per job. */
  p50Ms: number;
  p99Ms: number;
}

export interface ThroughputResult {
  stack: string;
  /** Program evaluation and serving, until the runtime answers. */
  startupMs: number;
  /** Untimed requests first sent so each path's function processes and clients exist. */
  warmup: { deliveries: number; events: number; jobs: number };
  webhooks: WebhookLevel[];
  putEvents: RouteDelivery[];
  jobs: JobsFigures;
  /** The runtime's own lines for failed, dropped or dead-lettered work during the run. */
  runtimeFailures: string[];
  totalMs: number;
}

export const THROUGHPUT_DEFAULTS = {
  stack: "dev",
  basePort: 47200,
  deliveries: 200,
  events: 1000,
  records: 20,
  jobs: 60,
  concurrency: [1, 10, 50],
  provider: "github",
  jobClients: 10,
  publishers: 4,
  phaseMs: 30_000,
  moto: "all" as MotoScope,
};

const REQUEST_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 20;
const BATCH = 10;
const WARMUP_DELIVERIES = 3;
/** Lines the runtime prints for work that did not succeed (bus, Lambda, APIs, workflows, DLQ). */
const FAILURE_LINE = / failed|error:|dropped | to DLQ |on-failure destination|not served locally/i;
const DELIVERED_LINE = /^\s*target (\S+) delivered event (\S+)/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p = (samples: number[], q: number) => (samples.length ? percentile(samples, q) : NaN);
const rate = (n: number, seconds: number) => (seconds > 0 ? n / seconds : 0);

function checkCount(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${name} must be an integer 1-${max}, got ${v}`);
}

/**
 * Watches the runtime's hop lines: when each event was delivered by each route target, and the
 * lines of failed work. The bus may deliver an event before its PutEvents answer is read, so
 * deliveries are kept by event id and joined with the puts afterwards.
 */
export class HopWatch {
  readonly delivered = new Map<string, Map<string, number>>();
  readonly failures: string[] = [];
  private watched = new Set<string>();

  watch(routeTarget: string): void {
    this.watched.add(routeTarget);
    this.delivered.set(routeTarget, new Map());
  }

  line(l: string): void {
    const m = DELIVERED_LINE.exec(l);
    if (m) {
      if (this.watched.has(m[1])) this.delivered.get(m[1])!.set(m[2], nowMs());
      return;
    }
    if (FAILURE_LINE.test(l)) this.failures.push(l.trim());
  }
}

interface Answer {
  status: number;
  body: string;
  /** Whether the request went over a connection an earlier request had opened (keep-alive). */
  reused: boolean;
}

/** POST over a keep-alive agent; resolves with status and body once the body is read. */
function post(
  agent: http.Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            reused: req.reusedSocket,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `worker` on `clients` concurrent loops that take indexes 0..n-1 until `stopAt`. */
async function pool(
  clients: number,
  n: number,
  stopAt: number,
  worker: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(clients, n) }, async () => {
      while (next < n && nowMs() < stopAt) await worker(next++);
    }),
  );
  return Math.min(next, n);
}

/** Distinct markers of `source` events on the bus, and how many events each had. */
function markersOnBus(local: SwitchyardLocal, source: string, prefix: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const e of local.bus.archive) {
    if (e.source !== source) continue;
    const m = /"marker":"([^"]+)"/.exec(JSON.stringify(e.detail));
    if (m && m[1].startsWith(prefix)) seen.set(m[1], (seen.get(m[1]) ?? 0) + 1);
  }
  return seen;
}

async function webhookLevel(
  local: SwitchyardLocal,
  target: Target,
  provider: string,
  clients: number,
  n: number,
  runId: string,
  phaseMs: number,
): Promise<WebhookLevel> {
  const hook = target.webhooks[provider];
  const prefix = `${runId}-c${clients}-`;
  // Signed before the clock starts: each delivery distinct (its own id and marker).
  const deliveries = Array.from({ length: n }, (_, i) =>
    signedDelivery(provider, target.secrets[provider], hook.publicUrl, `${prefix}${i}`),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const non2xx: Record<string, number> = {};
  let ok2xx = 0;
  let errors = 0;
  let connections = 0;
  const t0 = nowMs();
  let last = t0;
  const sent = await pool(clients, n, t0 + phaseMs, async (i) => {
    const d = deliveries[i];
    const start = nowMs();
    try {
      const a = await post(agent, hook.localUrl, d.headers, d.body);
      const end = nowMs();
      last = Math.max(last, end);
      latencies.push(end - start);
      if (!a.reused) connections++;
      if (a.status >= 200 && a.status < 300) ok2xx++;
      else non2xx[a.status] = (non2xx[a.status] ?? 0) + 1;
    } catch {
      errors++;
    }
  });
  agent.destroy();
  await local.drain();
  const onBus = markersOnBus(local, `switchyard.webhooks.${provider}`, prefix);
  const seconds = (last - t0) / 1000;
  return {
    provider,
    level: clients,
    clients: Math.min(clients, n),
    connections,
    planned: n,
    sent,
    ok2xx,
    non2xx,
    errors,
    published: onBus.size,
    duplicates: [...onBus.values()].reduce((s, c) => s + c - 1, 0),
    seconds,
    perSecond: rate(latencies.length, seconds),
    p50Ms: p(latencies, 50),
    p99Ms: p(latencies, 99),
  };
}

interface RouteSpec {
  rule: string;
  targetId: string;
  entry: (i: number) => {
    Source: string;
    DetailType: string;
    Detail: string;
    EventBusName: string;
  };
}

async function putAndAwait(
  local: SwitchyardLocal,
  eb: EventBridgeClient,
  watch: HopWatch,
  route: RouteSpec,
  n: number,
  publishers: number,
  phaseMs: number,
): Promise<RouteDelivery> {
  const key = `${route.rule}/${route.targetId}`;
  watch.watch(key);
  const delivered = watch.delivered.get(key)!;
  const putAt = new Map<string, number>();
  let failedEntries = 0;
  let putCalls = 0;
  const batches = Math.ceil(n / BATCH);
  const t0 = nowMs();
  const stopAt = t0 + phaseMs;
  await pool(publishers, batches, stopAt, async (b) => {
    const entries = Array.from({ length: Math.min(BATCH, n - b * BATCH) }, (_, j) =>
      route.entry(b * BATCH + j),
    );
    const start = nowMs();
    putCalls++;
    try {
      const out = await eb.send(new PutEventsCommand({ Entries: entries }));
      failedEntries += out.FailedEntryCount ?? 0;
      for (const e of out.Entries ?? []) if (e.EventId) putAt.set(e.EventId, start);
    } catch {
      failedEntries += entries.length;
    }
  });
  // Every accepted event delivered, or the phase's time is up.
  while (nowMs() < stopAt && [...putAt.keys()].some((id) => !delivered.has(id))) await sleep(10);
  const latencies: number[] = [];
  let last = t0;
  for (const [id, at] of putAt) {
    const done = delivered.get(id);
    if (done === undefined) continue;
    latencies.push(done - at);
    last = Math.max(last, done);
  }
  const seconds = (last - t0) / 1000;
  const targetArn = local.bus.targets.find(
    (t) => t.ruleName === route.rule && t.id === route.targetId,
  )?.arn;
  const destination = local.program.resources.find(
    (r) =>
      r.type === "aws:cloudwatch/eventApiDestination:EventApiDestination" &&
      arnFor(r.type, r.name, r.inputs) === targetArn,
  );
  return {
    route: route.rule,
    target: route.targetId,
    rateLimitPerSecond: destination?.inputs.invocationRateLimitPerSecond,
    events: n,
    putCalls,
    failedEntries,
    delivered: latencies.length,
    seconds,
    perSecond: rate(latencies.length, seconds),
    p50Ms: p(latencies, 50),
    p99Ms: p(latencies, 99),
  };
}

async function jobsEndToEnd(
  jobsUrl: string,
  n: number,
  clients: number,
  runId: string,
  phaseMs: number,
): Promise<JobsFigures> {
  const latencies: number[] = [];
  const submitRefused: Record<string, number> = {};
  let submitted = 0;
  let succeeded = 0;
  let failed = 0;
  let unfinished = 0;
  let wrongResults = 0;
  let polls = 0;
  const t0 = nowMs();
  let last = t0;
  const stopAt = t0 + phaseMs;
  await pool(clients, n, stopAt, async (i) => {
    const text = `${runId}-job-${i}`;
    const start = nowMs();
    let jobId: string | undefined;
    try {
      const res = await signedFetch(
        `${jobsUrl}/jobs`,
        "POST",
        JSON.stringify({ type: "checksum", input: { text } }),
      );
      const body = (await res.json().catch(() => ({}))) as { jobId?: string };
      if (res.status === 202 && body.jobId) jobId = body.jobId;
      else submitRefused[res.status] = (submitRefused[res.status] ?? 0) + 1;
    } catch {
      submitRefused.error = (submitRefused.error ?? 0) + 1;
    }
    if (!jobId) return;
    submitted++;
    // Polls may run past the phase's end (bounded by it plus a request timeout): a job
    // submitted in time is followed to its end.
    while (nowMs() < stopAt + REQUEST_TIMEOUT_MS) {
      polls++;
      let job: { status?: string; result?: unknown } = {};
      try {
        const got = await signedFetch(`${jobsUrl}/jobs/${jobId}`, "GET");
        job = (await got.json()) as typeof job;
      } catch {
        // An unanswered poll is retried like any other.
      }
      if (TERMINAL.includes(job.status as (typeof TERMINAL)[number])) {
        const end = nowMs();
        latencies.push(end - start);
        last = Math.max(last, end);
        if (job.status === "SUCCEEDED") {
          succeeded++;
          const expected = createHash("sha256").update(text).digest("hex");
          if (!JSON.stringify(job.result ?? {}).includes(expected)) wrongResults++;
        } else failed++;
        return;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    unfinished++;
  });
  const seconds = (last - t0) / 1000;
  return {
    clients: Math.min(clients, n),
    planned: n,
    submitted,
    submitRefused,
    succeeded,
    failed,
    unfinished,
    wrongResults,
    polls,
    pollIntervalMs: POLL_INTERVAL_MS,
    seconds,
    perSecond: rate(latencies.length, seconds),
    p50Ms: p(latencies, 50),
    p99Ms: p(latencies, 99),
  };
}

/** Starts the runtime for the stack, drives the three paths, stops the runtime (also on failure). */
export async function benchLocalThroughput(
  opts: ThroughputOptions = {},
): Promise<ThroughputResult> {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: typeof THROUGHPUT_DEFAULTS = { ...THROUGHPUT_DEFAULTS, ...given };
  checkCount("deliveries", o.deliveries, 10_000);
  checkCount("events", o.events, 20_000);
  checkCount("records", o.records, 1_000);
  checkCount("jobs", o.jobs, 2_000);
  checkCount("jobClients", o.jobClients, 100);
  checkCount("publishers", o.publishers, 50);
  checkCount("phaseMs", o.phaseMs, 600_000);
  if (o.basePort !== 0) checkCount("basePort", o.basePort, 65_000);
  for (const c of o.concurrency) checkCount("concurrency", c, 200);

  const watch = new HopWatch();
  const runId = `tput-${randomUUID().slice(0, 8)}`;
  const started = nowMs();
  const local = await SwitchyardLocal.start({
    stack: o.stack,
    basePort: o.basePort,
    speed: 0.01,
    moto: o.moto,
    log: (l) => watch.line(l),
  });
  let eb: EventBridgeClient | undefined;
  try {
    const target = await local.scenarioTarget();
    const startupMs = nowMs() - started;
    if (!target.webhooks[o.provider])
      throw new Error(
        `stack ${o.stack} serves no ${o.provider} receiver; providers: ${Object.keys(target.webhooks).sort().join(", ")}`,
      );
    if (!target.jobsUrl) throw new Error(`stack ${o.stack} serves no jobs API`);
    eb = new EventBridgeClient({
      endpoint: local.awsUrl,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });

    // Warm-up, untimed: the receiver's process and its SDK clients, the SDK's first call, the
    // jobs functions. Their outcomes are still checked with the rest.
    const warmAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const hook = target.webhooks[o.provider];
    for (let i = 0; i < WARMUP_DELIVERIES; i++) {
      const d = signedDelivery(
        o.provider,
        target.secrets[o.provider],
        hook.publicUrl,
        `${runId}-warm-${i}`,
      );
      const a = await post(warmAgent, hook.localUrl, d.headers, d.body);
      if (a.status < 200 || a.status >= 300)
        watch.failures.push(`warm-up delivery answered ${a.status}: ${a.body.slice(0, 200)}`);
    }
    warmAgent.destroy();
    const warmEvent = {
      EventBusName: target.busName,
      Source: "switchyard.bench",
      DetailType: "ThroughputWarmup",
      Detail: JSON.stringify({ runId }),
    };
    const warmPut = await eb.send(new PutEventsCommand({ Entries: [warmEvent] }));
    if (warmPut.FailedEntryCount)
      watch.failures.push(`warm-up PutEvents refused: ${JSON.stringify(warmPut.Entries)}`);
    const warmJob = await jobsEndToEnd(target.jobsUrl, 1, 1, `${runId}-warm`, o.phaseMs);
    if (warmJob.succeeded !== 1)
      watch.failures.push(`warm-up job did not succeed: ${JSON.stringify(warmJob)}`);
    await local.drain();

    const webhooks: WebhookLevel[] = [];
    for (const c of o.concurrency)
      webhooks.push(
        await webhookLevel(local, target, o.provider, c, o.deliveries, runId, o.phaseMs),
      );

    const putEvents: RouteDelivery[] = [];
    const bus = target.busName;
    const ruleTarget = (rule: string) => local.bus.targets.find((t) => t.ruleName === rule)?.id;
    const debugTarget = ruleTarget(`${bus}-debug`);
    if (debugTarget)
      putEvents.push(
        await putAndAwait(
          local,
          eb,
          watch,
          {
            rule: `${bus}-debug`,
            targetId: debugTarget,
            entry: (i) => ({
              EventBusName: bus,
              Source: "switchyard.bench",
              DetailType: "ThroughputProbe",
              Detail: JSON.stringify({ runId, seq: i }),
            }),
          },
          o.events,
          o.publishers,
          o.phaseMs,
        ),
      );
    const recordsTarget = ruleTarget(`${bus}-records`);
    if (recordsTarget) {
      const recordIds = new Set<string>();
      const row = await putAndAwait(
        local,
        eb,
        watch,
        {
          rule: `${bus}-records`,
          targetId: recordsTarget,
          entry: (i) => {
            const recordId = `${runId}-rec-${i}`;
            recordIds.add(recordId);
            return {
              EventBusName: bus,
              Source: RECORDS_SOURCE,
              DetailType: "RecordCreated",
              Detail: JSON.stringify({
                tenantId: "bench",
                recordId,
                recordVersion: 1,
                payload: { seq: i },
              }),
            };
          },
        },
        o.records,
        o.publishers,
        o.phaseMs,
      );
      if (local.records)
        row.observedAtTarget = local.records.calls.filter(
          (c) => c.status >= 200 && c.status < 300 && recordIds.has(c.body?.recordId),
        ).length;
      putEvents.push(row);
    }

    const jobs = await jobsEndToEnd(target.jobsUrl, o.jobs, o.jobClients, runId, o.phaseMs);
    await local.drain();
    return {
      stack: o.stack,
      startupMs,
      warmup: { deliveries: WARMUP_DELIVERIES, events: 1, jobs: 1 },
      webhooks,
      putEvents,
      jobs,
      runtimeFailures: watch.failures,
      totalMs: nowMs() - started,
    };
  } finally {
    eb?.destroy();
    await local.stop();
  }
}

const ms = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(1));
const per = (v: number) => v.toFixed(1);
const statuses = (s: Record<string, number>) =>
  Object.keys(s).length
    ? Object.entries(s)
        .map(([k, v]) => `${v}x${k}`)
        .join(" ")
    : "0";

/** The result as the tables the bench prints, each saying what it timed. */
export function formatThroughput(r: ThroughputResult): string {
  const out: string[] = [];
  out.push(
    `Local throughput, stack ${r.stack}: runtime up in ${(r.startupMs / 1000).toFixed(1)} s; ` +
      `untimed warm-up of ${r.warmup.deliveries} deliveries, ${r.warmup.events} event, ${r.warmup.jobs} job`,
  );
  out.push(
    `\nWebhook deliveries to one Function URL (${r.webhooks[0]?.provider}), signed and distinct, over keep-alive connections;` +
      `\nlatency: request start to response end; rate: first request start to last response end`,
  );
  out.push(
    table(
      [
        "clients",
        "connections",
        "sent",
        "2xx",
        "non-2xx",
        "no answer",
        "on bus",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
      ],
      r.webhooks.map((w) => [
        w.clients,
        w.connections,
        `${w.sent}/${w.planned}`,
        w.ok2xx,
        statuses(w.non2xx),
        w.errors,
        `${w.published}${w.duplicates ? ` +${w.duplicates} dup` : ""}`,
        per(w.perSecond),
        ms(w.p50Ms),
        ms(w.p99Ms),
      ]),
    ),
  );
  out.push(
    `\nPutEvents (AWS SDK, batches of ${BATCH}) to delivered by the route's target;` +
      `\nlatency: start of the PutEvents call to the runtime's delivery; rate: first put to last delivery`,
  );
  out.push(
    table(
      [
        "route/target",
        "events",
        "calls",
        "refused",
        "delivered",
        "at target",
        "events/s",
        "p50 ms",
        "p99 ms",
      ],
      r.putEvents.map((e) => [
        `${e.route}/${e.target}${e.rateLimitPerSecond ? ` (declared ${e.rateLimitPerSecond}/s)` : ""}`,
        e.events,
        e.putCalls,
        e.failedEntries,
        e.delivered,
        e.observedAtTarget ?? "-",
        per(e.perSecond),
        ms(e.p50Ms),
        ms(e.p99Ms),
      ]),
    ),
  );
  const j = r.jobs;
  out.push(
    `\nJobs (checksum, SigV4-signed POST /jobs, then GET /jobs/{id} every ${j.pollIntervalMs} ms);` +
      `\nlatency: submit start to the end of the first GET showing a terminal state; rate: first submit to last terminal`,
  );
  out.push(
    table(
      [
        "clients",
        "submitted",
        "refused",
        "succeeded",
        "failed",
        "unfinished",
        "wrong",
        "polls",
        "jobs/s",
        "p50 ms",
        "p99 ms",
      ],
      [
        [
          j.clients,
          `${j.submitted}/${j.planned}`,
          statuses(j.submitRefused),
          j.succeeded,
          j.failed,
          j.unfinished,
          j.wrongResults,
          j.polls,
          per(j.perSecond),
          ms(j.p50Ms),
          ms(j.p99Ms),
        ],
      ],
    ),
  );
  out.push(
    `\nRuntime failures (failed, dropped or dead-lettered work): ${r.runtimeFailures.length}` +
      r.runtimeFailures
        .slice(0, 10)
        .map((l) => `\n  ${l}`)
        .join(""),
  );
  out.push(`Total ${(r.totalMs / 1000).toFixed(1)} s`);
  return out.join("\n");
}

if (require.main === module) {
  // Interrupted: exit through process.exit, whose exit hook stops moto_server (a signal's default
  // exit would leave it running); the function processes end when their channel closes.
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));
  const env = (k: string) => (process.env[k] ? Number(process.env[k]) : undefined);
  benchLocalThroughput({
    stack: process.env.THROUGHPUT_STACK,
    basePort: env("THROUGHPUT_BASE_PORT"),
    deliveries: env("THROUGHPUT_DELIVERIES"),
    events: env("THROUGHPUT_EVENTS"),
    records: env("THROUGHPUT_RECORDS"),
    jobs: env("THROUGHPUT_JOBS"),
  }).then(
    (r) => {
      console.log(formatThroughput(r));
      process.exit(0);
    },
    (e) => {
      console.error(`local throughput bench could not run: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
