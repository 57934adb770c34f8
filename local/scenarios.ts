// What `npm run demo` and the end-to-end test do against a running local Switchyard: a signed
// delivery per enabled webhook provider, a forged one, a duplicate, a record event (forwarded and
// verified) and a job. Each step says what it expected and what happened.
import { randomUUID, createHash } from "crypto";
import {
  providerModule,
  SignedDelivery,
  VERIFICATION_REQUEST_PATHS,
  VerificationRequestProvider,
} from "../handlers/webhooks/providers";
import { executeApiSigner } from "./sigv4";
import type { PipelineTarget } from "./pipelineScenarios";
import type { OutboundInfo } from "./firstRun";
import { REGION } from "./account";

/** What a scenario needs to know about the running instance. */
export interface Target {
  aws: string;
  control: string;
  /** Provider to [public URL the sender signs, local URL to post to]. */
  webhooks: Record<string, { publicUrl: string; localUrl: string }>;
  /** Webhook secrets by provider. */
  secrets: Record<string, string>;
  busName: string;
  jobsUrl?: string;
  /** Providers whose signed verification requests start the workflow (switchyard:verificationWebhookProviders). */
  verificationWebhooks?: string[];
  /** What the tenant, ingestion, gateway, DLQ and replay scenarios use (local/pipelineScenarios.ts). */
  pipeline?: PipelineTarget;
  /** The sample subscriber and the outbound subscriptions, with the local ones' signing secrets. */
  outbound?: OutboundInfo & { secrets: Record<string, string> };
}

export interface Outcome {
  step: string;
  ok: boolean;
  detail: string;
}

async function control<T = any>(t: Target, path: string, method = "GET"): Promise<T> {
  const res = await fetch(`${t.control}${path}`, { method });
  return (await res.json()) as T;
}

const drain = (t: Target) => control(t, "/drain", "POST");

async function eventsFrom(t: Target, source: string): Promise<any[]> {
  return (await control<any[]>(t, "/events")).filter((e) => e.source === source);
}

/**
 * A signed request as each provider sends it (its module's sample delivery, signed as the
 * provider signs), posted to `publicUrl`: the URL the sender signs.
 */
export function signedDelivery(
  provider: string,
  secret: string,
  publicUrl: string,
  marker: string,
): SignedDelivery {
  const m = providerModule(provider);
  const nowSeconds = Math.floor(Date.now() / 1000);
  return m.sign(secret, { ...m.sample(marker, randomUUID()), url: publicUrl, nowSeconds });
}

/** The local URL to post a signed delivery to: the query the sender signed goes with it. */
function localTarget(localUrl: string, d: SignedDelivery): string {
  const query = new URL(d.url).search;
  return query ? `${localUrl.split("?")[0]}${query}` : localUrl;
}

async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
}

export async function webhookScenarios(t: Target): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const [provider, w] of Object.entries(t.webhooks)) {
    const source = `switchyard.webhooks.${provider}`;
    const marker = `demo-${randomUUID().slice(0, 8)}`;
    const before = (await eventsFrom(t, source)).length;
    const d = signedDelivery(provider, t.secrets[provider], w.publicUrl, marker);
    const first = await post(localTarget(w.localUrl, d), d.headers, d.body);
    await drain(t);
    const after = await eventsFrom(t, source);
    const published = after.slice(before).filter((e) => JSON.stringify(e.detail).includes(marker));
    out.push({
      step: `${provider}: signed delivery`,
      ok: first.status === 200 && published.length === 1,
      detail: `HTTP ${first.status}, ${published.length} event(s) ${source}/${published[0]?.["detail-type"] ?? "-"} on the bus`,
    });

    const dup = await post(localTarget(w.localUrl, d), d.headers, d.body);
    await drain(t);
    const afterDup = (await eventsFrom(t, source)).filter((e) =>
      JSON.stringify(e.detail).includes(marker),
    );
    out.push({
      step: `${provider}: duplicate delivery`,
      ok: dup.status === 200 && afterDup.length === 1,
      detail: `HTTP ${dup.status}, still ${afterDup.length} event on the bus`,
    });

    // Forged: the same delivery signed with a wrong secret.
    const forgedMarker = `forged-${randomUUID().slice(0, 8)}`;
    // A secret of the provider's format (a Standard Webhooks key must be base64), not its own.
    const wrong = providerModule(provider).secret.generate(() =>
      Buffer.from("not-the-secret-at-all-123"),
    );
    const f = signedDelivery(provider, wrong, w.publicUrl, forgedMarker);
    const forged = await post(localTarget(w.localUrl, f), f.headers, f.body);
    await drain(t);
    const forgedEvents = (await eventsFrom(t, source)).filter((e) =>
      JSON.stringify(e.detail).includes(forgedMarker),
    );
    out.push({
      step: `${provider}: forged delivery`,
      ok: forged.status === 403 && forgedEvents.length === 0,
      detail: `HTTP ${forged.status}, ${forgedEvents.length} events on the bus`,
    });
  }
  return out;
}

/** Puts one event on the run's bus through the AWS endpoint; its EventBridge event id. */
export async function putEvent(
  t: Target,
  detailType: string,
  detail: object,
  source = "switchyard.records",
): Promise<string> {
  const res = await fetch(t.aws, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSEvents.PutEvents",
    },
    body: JSON.stringify({
      Entries: [
        {
          EventBusName: t.busName,
          Source: source,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  });
  const body = (await res.json()) as any;
  if (body.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(body.Entries)}`);
  return body.Entries[0].EventId;
}

export async function recordScenarios(t: Target): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const recordId = `inv-${randomUUID().slice(0, 8)}`;
  await putEvent(t, "RecordCreated", {
    tenantId: "acme",
    recordId,
    recordVersion: 1,
    payload: { total: 120, currency: "EUR" },
  });
  await drain(t);
  const records = await control(t, "/records");
  const call = (records.calls ?? []).find((c: any) => c.body?.recordId === recordId);
  out.push({
    step: "record event -> records API (API destination)",
    ok: call?.status === 202 && call.body.idempotencyKey === `acme:${recordId}:1`,
    detail: call
      ? `POST /api/v1/records answered ${call.status}, idempotencyKey ${call.body.idempotencyKey}`
      : "the records API was not called",
  });

  const verifyId = `inv-${randomUUID().slice(0, 8)}`;
  await putEvent(t, "RecordVerificationRequested", {
    tenantId: "acme",
    database: "billing",
    collection: "invoices",
    recordId: verifyId,
    recordVersion: 1,
    payload: { total: 99 },
  });
  await drain(t);
  const topics = await control<Record<string, any[]>>(t, "/topics");
  const note = Object.values(topics)
    .flat()
    .find((m) => m.Message.includes(verifyId));
  const outcome = note?.MessageAttributes?.outcome?.StringValue;
  out.push({
    step: "record verification workflow",
    ok: outcome === "anchored",
    detail: note ? `notification "${note.Subject}" with outcome=${outcome}` : "no notification",
  });
  return out;
}

/**
 * A record verification request signed as a sender of `provider` sends it (its module says how:
 * the generic HMAC sender posts the request as the JSON body with the correlation id signed; a
 * Standard Webhooks sender the spec's envelope, the request as `data`, the message id the
 * correlation id).
 */
export function signedVerificationRequest(
  provider: VerificationRequestProvider,
  secret: string,
  request: Record<string, unknown>,
  correlationId: string,
): { headers: Record<string, string>; body: string } {
  const m = providerModule(provider);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const d = m.sign(secret, {
    ...m.verificationRequests!.delivery(request, {
      eventType: "RecordVerificationRequested",
      correlationId,
      uuid: randomUUID(),
      nowSeconds,
    }),
    url: `https://localhost/${provider}`,
    nowSeconds,
  });
  return { headers: d.headers, body: d.body };
}

/** A verification request delivered to a webhook receiver starts the workflow with the caller's correlation id. */
export async function webhookVerificationScenarios(t: Target): Promise<Outcome[]> {
  const provider = (Object.keys(VERIFICATION_REQUEST_PATHS) as VerificationRequestProvider[]).find(
    (p) => t.verificationWebhooks?.includes(p) && t.webhooks[p],
  );
  if (!provider) return [];
  const recordId = `inv-${randomUUID().slice(0, 8)}`;
  const correlationId = `demo-${randomUUID().slice(0, 8)}`;
  const request = {
    tenantId: "acme",
    database: "billing",
    collection: "invoices",
    recordId,
    recordVersion: 1,
    payload: { total: 7 },
  };
  const d = signedVerificationRequest(provider, t.secrets[provider], request, correlationId);
  const res = await post(t.webhooks[provider].localUrl, d.headers, d.body);
  await drain(t);
  const topics = await control<Record<string, any[]>>(t, "/topics");
  const note = Object.values(topics)
    .flat()
    .find((m) => m.Message.includes(recordId));
  const message = note ? JSON.parse(note.Message) : undefined;
  return [
    {
      step: `${provider}: verification request -> workflow`,
      ok:
        res.status === 200 &&
        message?.outcome === "anchored" &&
        message?.correlationId === correlationId,
      detail: message
        ? `HTTP ${res.status}, notification outcome=${message.outcome}, correlationId ${message.correlationId}`
        : `HTTP ${res.status}, no notification`,
    },
  ];
}

/** A request signed with SigV4 for execute-api, as a caller holding the role's credentials sends it. */
export async function signedFetch(url: string, method: string, body?: string): Promise<Response> {
  const u = new URL(url);
  const signer = executeApiSigner(REGION);
  const query: Record<string, string> = {};
  for (const [k, v] of u.searchParams) query[k] = v;
  const headers: Record<string, string> = {
    host: u.host,
    ...(body ? { "content-type": "application/json" } : {}),
  };
  const signed = await signer.sign({
    method,
    protocol: u.protocol,
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    query,
    headers,
    body,
  } as any);
  return fetch(url, { method, headers: (signed as any).headers, body });
}

export async function jobScenarios(t: Target): Promise<Outcome[]> {
  if (!t.jobsUrl) return [{ step: "jobs API", ok: false, detail: "no jobs API is served" }];
  const out: Outcome[] = [];
  const unsigned = await fetch(`${t.jobsUrl}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  out.push({
    step: "jobs API: unsigned POST /jobs",
    ok: unsigned.status === 403,
    detail: `HTTP ${unsigned.status}`,
  });
  const body = JSON.stringify({ type: "checksum", input: { text: "hello switchyard" } });
  const res = await signedFetch(`${t.jobsUrl}/jobs`, "POST", body);
  const submitted = (await res.json()) as any;
  out.push({
    step: "jobs API: signed POST /jobs",
    ok: res.status === 202 && Boolean(submitted.jobId),
    detail: `HTTP ${res.status}, job ${submitted.jobId}, Location ${res.headers.get("location")}`,
  });
  await drain(t);
  const got = await signedFetch(`${t.jobsUrl}/jobs/${submitted.jobId}`, "GET");
  const job = (await got.json()) as any;
  const expected = createHash("sha256").update("hello switchyard").digest("hex");
  const digest = JSON.stringify(job.result ?? {});
  out.push({
    step: "jobs API: GET /jobs/{id} after processing",
    ok: got.status === 200 && job.status === "SUCCEEDED" && digest.includes(expected),
    detail: `HTTP ${got.status}, status ${job.status}, result ${digest.slice(0, 80)}`,
  });
  return out;
}

export async function allScenarios(t: Target): Promise<Outcome[]> {
  return [
    ...(await webhookScenarios(t)),
    ...(await recordScenarios(t)),
    ...(await webhookVerificationScenarios(t)),
    ...(await jobScenarios(t)),
  ];
}
