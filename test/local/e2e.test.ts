import { expect } from "chai";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SwitchyardLocal } from "../../local/runtime";
import {
  jobScenarios,
  recordScenarios,
  signedDelivery,
  Target,
  webhookScenarios,
  webhookVerificationScenarios,
} from "../../local/scenarios";

// The whole program served on ephemeral ports: what `npm start` runs and `npm run demo` drives.
describe("local runtime end to end (dev stack)", function () {
  this.timeout(180_000);
  let local: SwitchyardLocal;
  let target: Target;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      log: () => undefined,
    });
    target = await local.scenarioTarget();
  });
  after(async () => local?.stop());

  it("serves a Function URL per enabled provider and the jobs API", () => {
    expect(Object.keys(target.webhooks).sort()).to.deep.equal([
      "github",
      "hmac",
      "standard",
      "stripe",
      "twilio",
    ]);
    for (const w of Object.values(target.webhooks))
      expect(w.localUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/[a-z]+$/);
    expect(target.jobsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it("turns a signed GitHub delivery into one bus event that reaches its targets; forged and duplicate ones do not publish", async () => {
    const outcomes = await webhookScenarios({
      ...target,
      webhooks: { github: target.webhooks.github },
    });
    expect(outcomes.map((o) => [o.step, o.ok])).to.deep.equal([
      ["github: signed delivery", true],
      ["github: duplicate delivery", true],
      ["github: forged delivery", true],
    ]);
    const events = local.bus.archive.filter((e) => e.source === "switchyard.webhooks.github");
    expect(events).to.have.length(1);
    expect(events[0]["detail-type"]).to.equal("pull_request");
    // The dev stack's debug route is the target of every event: it received this one.
    expect(
      local.logLines.some((l) =>
        l.includes(`target switchyard-dev-debug/log delivered event ${events[0].id}`),
      ),
    ).to.equal(true);
  });

  it("rejects a GitHub delivery signed over another body, and an unknown path", async () => {
    const d = signedDelivery(
      "github",
      target.secrets.github,
      target.webhooks.github.publicUrl,
      "x",
    );
    const tampered = await fetch(target.webhooks.github.localUrl, {
      method: "POST",
      headers: d.headers,
      body: d.body.replace('"opened"', '"closed"'),
    });
    expect(tampered.status).to.equal(403);
    const unknown = await fetch(target.webhooks.github.localUrl.replace(/github$/, "gitlab"), {
      method: "POST",
      headers: d.headers,
      body: d.body,
    });
    expect(unknown.status).to.equal(404);
    const unsigned = await fetch(target.webhooks.github.localUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-delivery": "d-1" },
      body: "{}",
    });
    expect(unsigned.status).to.equal(401);
  });

  it("accepts signed deliveries of every other provider exactly once", async () => {
    const { github: _github, ...others } = target.webhooks;
    const outcomes = await webhookScenarios({ ...target, webhooks: others });
    expect(outcomes.filter((o) => !o.ok)).to.deep.equal([]);
    expect(outcomes).to.have.length(12);
  });

  it("forwards a record event to the records API and ends the verification workflow in the anchored notification", async () => {
    const outcomes = await recordScenarios(target);
    expect(outcomes.filter((o) => !o.ok)).to.deep.equal([]);
    const execution = [...local.sfn.executions.values()].at(-1)!;
    expect(execution.status).to.equal("SUCCEEDED");
    // The scenario's event carries no correlation id in its detail: the workflow uses the event id.
    expect(execution.path.slice(0, 4)).to.deep.equal([
      "PickCorrelationId",
      "UseEventId",
      "Prepare",
      "Ingest",
    ]);
    const input = execution.input as { correlationId: unknown; eventId: string };
    expect(input.correlationId).to.equal("");
    expect(
      local.bus.archive.some(
        (e) => e.id === input.eventId && e["detail-type"] === "RecordVerificationRequested",
      ),
    ).to.equal(true);
    expect((execution.output as any).record.correlationId).to.equal(input.eventId);
    expect(execution.path.at(-1)).to.equal("Anchored");
  });

  it("starts the verification workflow from a signed request to the HMAC receiver, carrying the caller's correlation id", async () => {
    expect(target.verificationWebhooks).to.deep.equal(["hmac", "standard"]);
    const outcomes = await webhookVerificationScenarios(target);
    expect(outcomes.map((o) => [o.step, o.ok])).to.deep.equal([
      ["hmac: verification request -> workflow", true],
    ]);
    const execution = [...local.sfn.executions.values()].at(-1)!;
    expect(execution.status).to.equal("SUCCEEDED");
    expect(execution.path.slice(0, 2)).to.deep.equal(["PickCorrelationId", "KeepCorrelationId"]);
    const input = execution.input as { correlationId: string; eventId: string };
    expect(input.correlationId).to.match(/^demo-[0-9a-f]{8}$/);
    const started = local.bus.archive.find((e) => e.id === input.eventId)!;
    expect(started.source).to.equal("switchyard.webhooks.hmac");
    expect((started.detail as { correlationId: string }).correlationId).to.equal(
      input.correlationId,
    );
    const matched = local.logLines
      .filter((l) => l.includes(`matched event ${started.id}`))
      .map((l) => l.trim());
    expect(matched.sort()).to.deep.equal([
      `rule switchyard-dev-debug matched event ${started.id}`,
      `rule switchyard-dev-verification-hmac matched event ${started.id}`,
    ]);
  });

  it("starts it from a Standard Webhooks envelope too: the request is the envelope's data", async () => {
    const outcomes = await webhookVerificationScenarios({
      ...target,
      verificationWebhooks: ["standard"],
    });
    expect(outcomes.map((o) => [o.step, o.ok])).to.deep.equal([
      ["standard: verification request -> workflow", true],
    ]);
    const execution = [...local.sfn.executions.values()].at(-1)!;
    const input = execution.input as { correlationId: string; eventId: string; database: string };
    expect(input.database).to.equal("billing");
    expect(local.bus.archive.find((e) => e.id === input.eventId)!.source).to.equal(
      "switchyard.webhooks.standard",
    );
  });

  it("processes a job submitted to the jobs API and serves its result", async () => {
    const outcomes = await jobScenarios(target);
    expect(outcomes.map((o) => [o.step, o.ok])).to.deep.equal([
      ["jobs API: unsigned POST /jobs", true],
      ["jobs API: signed POST /jobs", true],
      ["jobs API: GET /jobs/{id} after processing", true],
    ]);
  });

  it("sends each record of a JSON object dropped in the ingestion bucket to the records API", async () => {
    const out = local.program.outputs as any;
    const bucket: string = await new Promise((r) => out.ingestionBucketName.apply(r));
    const s3 = new S3Client({
      endpoint: local.awsUrl,
      region: "eu-west-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const records = [1, 2].map((v) => ({
      tenantId: "acme",
      collection: "orders",
      recordId: `o-${v}`,
      recordVersion: v,
      payload: { total: v * 10 },
    }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${out.ingestionPrefix}batch.json`,
        Body: JSON.stringify(records),
        ContentType: "application/json",
      }),
    );
    // Outside the prefix: no notification, nothing sent.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "elsewhere/batch.json",
        Body: JSON.stringify([{ ...records[0], recordId: "o-x" }]),
      }),
    );
    await local.drain();
    const calls = local.records!.calls.filter((c) => /^o-/.test(c.body?.recordId ?? ""));
    expect(calls.map((c) => [c.path, c.status, c.body.recordId]).sort()).to.deep.equal([
      ["/api/v1/records", 202, "o-1"],
      ["/api/v1/records", 202, "o-2"],
    ]);
    expect(local.queues.get("switchyard-dev-dlq")).to.have.length(0);
  });
});
