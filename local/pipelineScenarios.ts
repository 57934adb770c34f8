// What `npm run demo` shows of the data paths besides webhooks and jobs: a tenant's document through
// the ingress (its change event published), an S3 object with one bad record (the rest ingested,
// the bad one reported to the hub's DLQ), a call through the records gateway, the DLQ read with the
// AWS CLI as an operator reads it, and an archive replay started with the AWS CLI whose event
// reaches the route that takes replays. Each step says what it expected and what happened.
import { execFile } from "child_process";
import * as fs from "fs";
import { randomUUID } from "crypto";
import { ACCOUNT, REGION } from "./mocks";
import { CLI_ENVIRONMENT, DemoTenant, dlqReceiveArgs } from "./firstRun";
import type { Outcome, Target } from "./scenarios";
import { INGRESS_SOURCE } from "../lib/tenantRules";
import { LOCAL_CREDENTIALS } from "./credentials";

/** What these scenarios need to know about the running instance, besides `Target`'s. */
export interface PipelineTarget {
  demoTenant?: DemoTenant;
  ingestionBucket?: string;
  ingestionPrefix?: string;
  /** The records gateway's local stage URL and one consumer's key. */
  gateway?: { url: string; consumer: string; key: string };
  /** The hub's DLQ, as a queue URL on the local endpoint. */
  dlqUrl?: string;
  archiveArn?: string;
  busArn?: string;
}

/** The instance's pieces these scenarios use, read from a run (SwitchyardLocal). */
export interface PipelineSource {
  awsUrl: string;
  demoTenant?: DemoTenant;
  program: { outputs: unknown };
  apiUrls: Record<string, string>;
  restApis: Record<string, { apiKeys: Record<string, string> }>;
}

function outputValue<T>(v: unknown): Promise<T | undefined> {
  return new Promise((r) =>
    v && typeof (v as any).apply === "function" ? (v as any).apply((x: T) => r(x)) : r(v as T),
  );
}

export async function pipelineTarget(run: PipelineSource): Promise<PipelineTarget> {
  const out = run.program.outputs as Record<string, unknown>;
  const dlqName = (await outputValue<string>(out.dlqUrl))?.split("/").pop();
  const archiveName = await outputValue<string>(out.archiveName);
  const gatewayName = Object.keys(run.restApis).find((n) => n.endsWith("-records-gw"));
  const firstKey = gatewayName ? Object.entries(run.restApis[gatewayName].apiKeys)[0] : undefined;
  return {
    demoTenant: run.demoTenant,
    ingestionBucket: await outputValue<string>(out.ingestionBucketName),
    ingestionPrefix: await outputValue<string>(out.ingestionPrefix),
    gateway:
      gatewayName && firstKey
        ? { url: run.apiUrls[gatewayName], consumer: firstKey[0], key: firstKey[1] }
        : undefined,
    dlqUrl: dlqName ? `${run.awsUrl}/${ACCOUNT}/${dlqName}` : undefined,
    archiveArn: archiveName
      ? `arn:aws:events:${REGION}:${ACCOUNT}:archive/${archiveName}`
      : undefined,
    busArn: await outputValue<string>(out.busArn),
  };
}

async function control<T = any>(t: Target, path: string, method = "GET"): Promise<T> {
  const res = await fetch(`${t.control}${path}`, { method });
  return (await res.json()) as T;
}

const drain = (t: Target) => control(t, "/drain", "POST");

async function putEvents(t: Target, entries: object[]): Promise<string[]> {
  const res = await fetch(t.aws, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSEvents.PutEvents",
    },
    body: JSON.stringify({ Entries: entries }),
  });
  const body = (await res.json()) as any;
  if (body.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(body.Entries)}`);
  return body.Entries.map((e: any) => e.EventId);
}

/** The AWS CLI v2 (Debian's awscli) where it is installed, else the `aws` on PATH. */
export const AWS_CLI = fs.existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws";

/** A shell word: quoted when it holds anything but safe characters. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs the AWS CLI against the local endpoint, printing the command first; parses its JSON. */
function awsCli(t: Target, args: string[], say: (line: string) => void): Promise<any> {
  const argv = ["--endpoint-url", t.aws, "--output", "json", ...args];
  say(`$ aws ${argv.map(shellWord).join(" ")}`);
  return new Promise((resolve, reject) =>
    execFile(
      AWS_CLI,
      argv,
      { env: { ...process.env, ...CLI_ENVIRONMENT, AWS_PAGER: "" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`aws ${args.slice(0, 2).join(" ")}: ${stderr || err}`));
        try {
          resolve(stdout.trim() ? JSON.parse(stdout) : {});
        } catch {
          reject(new Error(`aws ${args.slice(0, 2).join(" ")} printed no JSON: ${stdout}`));
        }
      },
    ),
  );
}

/** A tenant's document through the ingress rule, function and table; its change event published. */
export async function tenantScenarios(t: Target): Promise<Outcome[]> {
  const tenant = t.pipeline?.demoTenant;
  if (!tenant)
    return [{ step: "tenant ingress", ok: false, detail: "the stack has no tenant with ingress" }];
  const id = `demo-${randomUUID().slice(0, 8)}`;
  await putEvents(t, [
    {
      EventBusName: tenant.busName,
      Source: INGRESS_SOURCE,
      DetailType: "doc.POST",
      Detail: JSON.stringify({
        tenant: tenant.tenant,
        rootSchema: "doc",
        api_key: tenant.apiKey,
        payload: { id, text: "from npm run demo" },
      }),
    },
  ]);
  await drain(t);
  const events = await control<any[]>(t, "/events");
  const change = events.find(
    (e) => e.source === "switchyard.output" && e.detail?.payload?.id === id,
  );
  return [
    {
      step: "tenant ingress -> data table -> change event",
      ok: change?.["detail-type"] === "doc.POST" && change?.detail?.tenant === tenant.tenant,
      detail: change
        ? `tenant ${tenant.tenant} document ${id}: change event ${change.source}/${change["detail-type"]} ${change.id}`
        : `no change event for document ${id}`,
    },
  ];
}

/** The last S3 ingestion object's key, for the DLQ step to find its report. */
const INGESTION_SOURCE = "switchyard.records.s3-ingestion";

/**
 * An object of three records, the middle one invalid, written to the ingestion bucket: the two
 * good ones reach the records API, the bad one is reported to the hub's DLQ with its index.
 */
export async function ingestionScenarios(t: Target): Promise<Outcome[]> {
  const p = t.pipeline;
  if (!p?.ingestionBucket)
    return [{ step: "S3 ingestion", ok: false, detail: "no ingestion bucket is served" }];
  const run = randomUUID().slice(0, 8);
  const ids = [`inv-${run}-a`, `inv-${run}-bad`, `inv-${run}-c`];
  const records = [
    { tenantId: "acme", recordId: ids[0], recordVersion: 1, payload: { total: 10 } },
    // No recordVersion: the function refuses this record and reports it.
    { tenantId: "acme", recordId: ids[1], payload: { total: 20 } },
    { tenantId: "acme", recordId: ids[2], recordVersion: 1, payload: { total: 30 } },
  ];
  const key = `${p.ingestionPrefix ?? ""}demo-${run}.json`;
  // Loaded here, not with the runtime: only the demo's ingestion path puts an object.
  const { PutObjectCommand, S3Client } =
    require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
  const s3 = new S3Client({
    endpoint: t.aws,
    region: REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: p.ingestionBucket, Key: key, Body: JSON.stringify(records) }),
    );
  } finally {
    s3.destroy();
  }
  await drain(t);
  const calls = ((await control(t, "/records")).calls ?? []) as any[];
  const ingested = ids.filter((id) =>
    calls.some((c) => c.body?.recordId === id && c.status === 202),
  );
  const dlqName = p.dlqUrl?.split("/").pop() ?? "";
  const dead = (await control<any[]>(t, `/queues/${encodeURIComponent(dlqName)}`)) ?? [];
  const reports = (Array.isArray(dead) ? dead : [])
    .map((m) => JSON.parse(m.Body))
    .filter((r) => r.source === INGESTION_SOURCE && r.key === key);
  return [
    {
      step: "S3 ingestion: good records -> records API",
      ok: ingested.length === 2 && ingested.includes(ids[0]) && ingested.includes(ids[2]),
      detail: `s3://${p.ingestionBucket}/${key}: ${ingested.length} of 3 records ingested (${ingested.join(", ") || "none"})`,
    },
    {
      step: "S3 ingestion: bad record -> report on the DLQ",
      ok: reports.length === 1 && reports[0].index === 1 && reports[0].recordId === ids[1],
      detail: reports.length
        ? reports.map((r) => `record ${r.index} (${r.recordId}): ${r.error}`).join("; ")
        : "no report on the DLQ",
    },
  ];
}

/** A record through the records gateway: the consumer's key, the usage plan, the upstream key. */
export async function gatewayScenarios(t: Target): Promise<Outcome[]> {
  const g = t.pipeline?.gateway;
  if (!g) return [{ step: "records gateway", ok: false, detail: "no records gateway is served" }];
  const recordId = `gw-${randomUUID().slice(0, 8)}`;
  const res = await fetch(`${g.url}/records`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": g.key },
    body: JSON.stringify({
      tenantId: "acme",
      database: "crm",
      collection: "invoices",
      recordId,
      recordVersion: 1,
      recordPayload: { total: 1 },
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { recordHash?: string };
  const calls = ((await control(t, "/records")).calls ?? []) as any[];
  const call = calls.find((c) => c.body?.recordId === recordId);
  return [
    {
      step: "records gateway: POST /records with a consumer key",
      ok: res.status === 202 && call?.status === 202 && Boolean(body.recordHash),
      detail: `HTTP ${res.status} for consumer ${g.consumer}, records API answered ${call?.status ?? "nothing"}, recordHash ${body.recordHash?.slice(0, 16) ?? "-"}...`,
    },
  ];
}

/** The hub's DLQ read with the AWS CLI, message attributes included, as an operator reads it. */
export async function deadLetterScenarios(
  t: Target,
  say: (line: string) => void,
): Promise<Outcome[]> {
  const url = t.pipeline?.dlqUrl;
  if (!url) return [{ step: "DLQ with the AWS CLI", ok: false, detail: "no hub DLQ" }];
  const out = await awsCli(t, dlqReceiveArgs(url), say);
  const messages = (out.Messages ?? []) as any[];
  const report = messages.find(
    (m) => m.MessageAttributes?.source?.StringValue === INGESTION_SOURCE,
  );
  for (const m of messages)
    say(
      `  ${m.MessageId}: ${Object.entries(m.MessageAttributes ?? {})
        .map(([k, v]: [string, any]) => `${k}=${v.StringValue}`)
        .join(" ")} ${m.Body.slice(0, 120)}`,
    );
  return [
    {
      step: "DLQ read with aws sqs receive-message",
      ok: Boolean(report) && typeof report.Attributes?.ApproximateReceiveCount === "string",
      detail: `${messages.length} message(s); ${report ? `an ingestion report (source=${INGESTION_SOURCE}) for ${JSON.parse(report.Body).recordId}` : "no ingestion report"}`,
    },
  ];
}

/**
 * A marker event archived, then replayed from the archive with `aws events start-replay`: the
 * replayed copy (it carries `replay-name`) reaches the route that takes replays, not the live ones.
 */
export async function replayScenarios(t: Target, say: (line: string) => void): Promise<Outcome[]> {
  const p = t.pipeline;
  if (!p?.archiveArn || !p.busArn)
    return [{ step: "archive replay", ok: false, detail: "no archive is served" }];
  const start = new Date(Date.now() - 1000);
  const [eventId] = await putEvents(t, [
    {
      EventBusName: t.busName,
      Source: "switchyard.demo",
      DetailType: "ReplayMarker",
      Detail: JSON.stringify({ marker: randomUUID() }),
    },
  ]);
  await drain(t);
  const before = await control<string[]>(t, `/hops/${eventId}`);
  await new Promise((r) => setTimeout(r, 1100));
  const name = `demo-${randomUUID().slice(0, 8)}`;
  const started = await awsCli(
    t,
    [
      "events",
      "start-replay",
      "--replay-name",
      name,
      "--event-source-arn",
      p.archiveArn,
      "--destination",
      `Arn=${p.busArn}`,
      "--event-start-time",
      start.toISOString(),
      "--event-end-time",
      new Date().toISOString(),
    ],
    say,
  );
  await drain(t);
  const after = (await control<string[]>(t, `/hops/${eventId}`)).slice(before.length);
  const replayed = after.some((l) => l.includes(`(replay ${name})`));
  const delivered = after.filter((l) => l.includes(`delivered event ${eventId}`));
  return [
    {
      step: "archive replay with aws events start-replay",
      ok: started.State === "STARTING" && replayed && delivered.length > 0,
      detail: `replay ${name} ${started.State ?? "not started"}; event ${eventId} ${replayed ? "replayed" : "not replayed"}${delivered.length ? `, then ${delivered.map((l) => l.trim().split(" delivered")[0]).join(", ")}` : ", reached no route"}`,
    },
  ];
}

export async function pipelineScenarios(
  t: Target,
  say: (line: string) => void = (l) => console.log(l),
): Promise<Outcome[]> {
  return [
    ...(await tenantScenarios(t)),
    ...(await ingestionScenarios(t)),
    ...(await gatewayScenarios(t)),
    ...(await deadLetterScenarios(t, say)),
    ...(await replayScenarios(t, say)),
  ];
}
